"""Pipeline definitions against the contract: every broken form found before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.contract.pipeline import ExecutionContext, definition_findings, property_type
from ground.pipeline.evaluation import ExpressionError
from sagestack.local.pipeline.executor import DefinitionError, Executor
from sagestack.storage import LocalStorage
from tests.contract.conftest import parameter, step

CONTEXT = ExecutionContext("sagestack-dev-cancer-training", "eu-west-1", "123456789012")


def _found(definition: dict, **kwargs) -> str:
    return "\n".join(map(str, definition_findings(definition, CONTEXT, **kwargs)))


def test_the_synthesized_pipelines_are_accepted(dev_pipelines: dict[str, dict]) -> None:
    assert set(dev_pipelines) == {
        f"sagestack-dev-{model}-{kind}"
        for model in ("cancer", "diabetes", "wine")
        for kind in ("training", "tuning")
    }
    for name, definition in dev_pipelines.items():
        assert definition_findings(definition, ExecutionContext(name, "eu-west-1")) == []


def test_an_empty_container_argument_list_is_found(training: dict) -> None:
    step(training, "Evaluate")["Arguments"]["AppSpecification"]["ContainerArguments"] = []
    assert (
        "step 'Evaluate': CreateProcessingJob AppSpecification.ContainerArguments: "
        "length 0 is below the minimum 1 (got [])" in _found(training)
    )


def test_a_nested_condition_step_is_found(training: dict) -> None:
    check = step(training, "CheckGate")
    training["Steps"].remove(check)
    training["Steps"].append(
        {
            "Name": "Outer",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
                "IfSteps": [check],
                "ElseSteps": [],
            },
        }
    )
    found = _found(training)
    assert "condition step 'CheckGate' is nested in condition step 'Outer'" in found
    assert "no-nested-condition" in found and "step-type-condition" in found


def test_a_get_of_a_missing_step_output_or_property_is_found(training: dict) -> None:
    channels = step(training, "Train")["Arguments"]["InputDataConfig"]
    channels[0]["DataSource"]["S3DataSource"]["S3Uri"] = {
        "Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    channels[1]["DataSource"]["S3DataSource"]["S3Uri"] = {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['valid'].S3Output.S3Uri"
    }
    step(training, "Evaluate")["Arguments"]["ProcessingInputs"][1]["S3Input"]["S3Uri"] = {
        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifact"
    }
    found = _found(training)
    assert "no step 'Prepare'" in found
    assert "has no item named 'valid' (items: baseline, test, train, validation)" in found
    assert "ModelArtifacts has no member 'S3ModelArtifact'" in found


def test_property_types_come_from_the_describe_answers(training: dict) -> None:
    steps = {s["Name"]: s for s in training["Steps"]}
    assert property_type(steps, "Steps.Train.ModelArtifacts.S3ModelArtifacts") == "string"
    assert (
        property_type(steps, "Steps.Train.FinalMetricDataList['validation:auc'].Value") == "float"
    )
    assert property_type(steps, "Steps.CheckGate.Outcome") == "boolean"
    with pytest.raises(ExpressionError, match="Outcome"):
        property_type(steps, "Steps.CheckGate.Result")


def test_a_parameter_of_the_wrong_type_for_its_member_is_found(training: dict) -> None:
    parameter(training, "TrainingInstanceCount").update(Type="String", DefaultValue="1")
    assert "ResourceConfig.InstanceCount: expects a integer, not a str" in _found(training)


def test_spot_needs_a_wait_longer_than_the_run_time(training: dict) -> None:
    parameter(training, "MaxWaitSeconds")["DefaultValue"] = 600
    found = _found(training)
    assert (
        "StoppingCondition.MaxWaitTimeInSeconds: must be larger than MaxRuntimeInSeconds (3600)"
        in found
    )
    assert "spot-wait-covers-runtime" in found
    del step(training, "Train")["Arguments"]["CheckpointConfig"]
    assert "CheckpointConfig.S3Uri: is required with managed spot training" in _found(training)


def test_a_fail_step_is_a_leaf_and_property_files_name_outputs(training: dict) -> None:
    check = step(training, "CheckGate")
    fail = check["Arguments"]["ElseSteps"][0]["Name"]
    step(training, "Train")["DependsOn"] = [fail]
    step(training, "Evaluate")["PropertyFiles"][0]["OutputName"] = "report"
    found = _found(training)
    assert f"step 'Train' depends on Fail step '{fail}'" in found
    assert "names output 'report', which the step does not write" in found


def test_retry_policies_use_documented_exception_types(training: dict) -> None:
    step(training, "Train")["RetryPolicies"][0]["ExceptionType"] = ["SageMaker.TIMEOUT"]
    step(training, "Train")["RetryPolicies"][0]["IntervalSeconds"] = 86400
    found = _found(training)
    assert "unsupported exception types" in found and "['SageMaker.TIMEOUT']" in found
    assert "IntervalSeconds: must be 1..43200" in found


def _executor(definition: dict, tmp_path: Path, registry: object = None) -> Executor:
    return Executor(
        definition,
        pipeline_name="sagestack-dev-cancer-training",
        region="eu-west-1",
        account="123456789012",
        storage=LocalStorage(tmp_path / "store"),
        registry=registry,  # type: ignore[arg-type]
        workdir=tmp_path / "runs",
        echo=lambda _line: None,
    )


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"TrainingInstanceType": "ml.m5.huge"}, "ResourceConfig.InstanceType: is not one of the"),
        ({"ProcessingInstanceType": "ml."}, "ClusterConfig.InstanceType: is not one of the"),
        ({"MaxRuntimeSeconds": "90000"}, "must be larger than MaxRuntimeInSeconds (90000)"),
        ({"ProcessingInstanceCount": "0"}, "ClusterConfig.InstanceCount: is below the minimum 1"),
        ({"InputDataUrl": "raw/"}, "S3Uri: does not match the pattern"),
    ],
)
def test_the_executor_refuses_a_bad_run_before_anything_starts(
    training: dict, tmp_path: Path, override: dict, expected: str
) -> None:
    executor = _executor(training, tmp_path)
    with pytest.raises(DefinitionError) as caught:
        executor.run(override)
    assert "AWS would refuse this run; nothing was started" in str(caught.value)
    assert expected in str(caught.value)
    assert not (tmp_path / "store").exists() and not (tmp_path / "runs").exists()


def test_the_executor_refuses_a_broken_definition_when_it_is_built(
    training: dict, tmp_path
) -> None:
    step(training, "Evaluate")["Arguments"]["AppSpecification"]["ContainerArguments"] = []
    with pytest.raises(
        DefinitionError, match="ContainerArguments: length 0 is below the minimum 1"
    ):
        _executor(training, tmp_path)


class _Registry:
    """Registers anything; a transform would ask for the model's data, which must not happen."""

    def register(self, arguments: dict) -> str:
        return "arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/1"

    def model_data_url(self, model_name: str) -> str:
        raise AssertionError(f"the transform of {model_name} started")


def test_a_step_refused_at_run_time_never_starts(tmp_path: Path) -> None:
    """ModelName comes from a step property, unknown until run time: a package ARN is not a
    model name, and the Transform step is refused once the value is known."""
    register = {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": "g",
            "InferenceSpecification": {
                "Containers": [{"Image": "i", "ModelDataUrl": "s3://b/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        },
    }
    transform = {
        "Name": "Score",
        "Type": "Transform",
        "Arguments": {
            "ModelName": {"Get": "Steps.Register.ModelPackageArn"},
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in/"}}
            },
            "TransformOutput": {"S3OutputPath": "s3://b/out/"},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
    }
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [register, transform]}
    result = _executor(definition, tmp_path, _Registry()).run()
    assert result.status == "Failed" and result.failed_step == "Score"
    assert "AWS would refuse this request; the step did not start" in str(result.failure_reason)
    assert "CreateTransformJob ModelName: does not match the pattern" in str(result.failure_reason)
