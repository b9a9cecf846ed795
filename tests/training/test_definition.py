"""Each environment's pipeline definition, as the synthesized template carries it."""

from __future__ import annotations

import copy
import io
import tarfile
from pathlib import Path

import pytest

from ground.container import load_metric_definitions
from ground.pipeline.invariants import job_security_violations
from ground.pipeline.walk import iter_steps
from ml_constructs.pipeline.code_bundle import tarball_bytes
from tests.training.conftest import ENVIRONMENTS

ROOT = Path(__file__).resolve().parents[2]
JOB_TYPES = {"Processing", "Training", "Tuning"}


def _steps(definition: dict) -> dict[str, dict]:
    return {step["Name"]: step for step in iter_steps(definition["Steps"])}


def _parameters(definition: dict) -> dict[str, dict]:
    return {item["Name"]: item for item in definition["Parameters"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_job_has_kms_vpc_isolation_and_encryption(pipelines, tuning_pipelines, env) -> None:
    definitions = [pipelines[env].definition, tuning_pipelines[env].definition]
    jobs = [s for d in definitions for s in iter_steps(d["Steps"]) if s["Type"] in JOB_TYPES]
    assert {s["Type"] for s in jobs} == JOB_TYPES
    assert [job_security_violations(d) for d in definitions] == [[], []]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_training_and_tuning_are_two_flat_pipelines(pipelines, tuning_pipelines, env) -> None:
    """No condition step inside another: train-or-tune is which pipeline one starts."""
    for source, job in ((pipelines[env], "Train"), (tuning_pipelines[env], "Tune")):
        steps = source.definition["Steps"]
        assert [s["Name"] for s in steps] == ["Preprocess", job, "Evaluate", "CheckRocAuc"]
        branches = steps[-1]["Arguments"]
        nested = [s["Type"] for s in branches["IfSteps"] + branches["ElseSteps"]]
        assert nested == ["RegisterModel", "Fail"]


@pytest.mark.parametrize(
    "path",
    [
        ("EnableNetworkIsolation",),
        ("EnableInterContainerTrafficEncryption",),
        ("VpcConfig", "Subnets"),
        ("VpcConfig", "SecurityGroupIds"),
        ("ResourceConfig", "VolumeKmsKeyId"),
        ("OutputDataConfig", "KmsKeyId"),
    ],
)
def test_the_invariant_check_catches_each_missing_setting(pipelines, path) -> None:
    definition = copy.deepcopy(pipelines["dev"].definition)
    train = _steps(definition)["Train"]["Arguments"]
    *parents, last = path
    for part in parents:
        train = train[part]
    del train[last]
    assert [v for v in job_security_violations(definition) if "'Train'" in v]


def test_the_invariant_check_fails_closed_on_unknown_job_types(pipelines) -> None:
    definition = copy.deepcopy(pipelines["dev"].definition)
    definition["Steps"].append({"Name": "Spark", "Type": "EMR", "Arguments": {}})
    assert any("'EMR' is not known" in v for v in job_security_violations(definition))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_parameters_and_their_defaults_come_from_config(pipelines, configs, env: str) -> None:
    config = configs[env].training
    parameters = _parameters(pipelines[env].definition)
    assert parameters["InputDataUrl"]["DefaultValue"] == (
        f"s3://sagestack-{env}-raw-data-{configs[env].account}-eu-west-1/raw/"
    )
    assert parameters["MinRocAuc"] == {
        "Name": "MinRocAuc",
        "Type": "Float",
        "DefaultValue": config.min_roc_auc,
    }
    assert parameters["TrainingInstanceType"]["DefaultValue"] == config.instance_type
    assert parameters["TrainingInstanceCount"]["DefaultValue"] == config.instance_count
    assert parameters["ProcessingInstanceType"]["DefaultValue"] == config.processing_instance_type
    assert parameters["MaxRuntimeSeconds"]["DefaultValue"] == config.max_runtime_seconds
    assert "UseTuning" not in parameters
    assert ("MaxWaitSeconds" in parameters) is config.use_spot
    assert parameters["NumRound"]["DefaultValue"] == str(config.hyperparameters["num_round"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_training_uses_spot_checkpoints_and_the_scripts_metrics(pipelines, configs, env) -> None:
    config = configs[env].training
    train = _steps(pipelines[env].definition)["Train"]["Arguments"]
    assert train["EnableManagedSpotTraining"] is config.use_spot
    assert ("MaxWaitTimeInSeconds" in train["StoppingCondition"]) is config.use_spot
    assert f"checkpoints/sagestack-{env}-training" in str(train["CheckpointConfig"]["S3Uri"])
    definitions = load_metric_definitions(ROOT / "training_code")
    assert train["AlgorithmSpecification"]["MetricDefinitions"] == definitions
    assert "validation:auc" in {item["Name"] for item in definitions}
    assert train["HyperParameters"]["sagemaker_program"] == '"train.py"'
    code = [c for c in train["InputDataConfig"] if c["ChannelName"] == "code"]
    assert code and code[0]["DataSource"]["S3DataSource"]["S3Uri"].startswith(
        "s3://cdk-hnb659fds-assets-"
    )


def test_tuning_is_bayesian_over_the_configured_ranges(tuning_pipelines, configs) -> None:
    config = configs["staging"].training.tuning
    tune = _steps(tuning_pipelines["staging"].definition)["Tune"]["Arguments"]
    job = tune["HyperParameterTuningJobConfig"]
    assert job["Strategy"] == "Bayesian"
    assert job["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "validation:auc",
    }
    assert job["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": config.max_jobs,
        "MaxParallelTrainingJobs": config.max_parallel_jobs,
    }
    ranges = job["ParameterRanges"]
    names = {r["Name"] for kind in ranges.values() for r in kind}
    assert names == set(config.ranges)
    assert not names & set(tune["TrainingJobDefinition"]["StaticHyperParameters"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_steps_retry_throttling_and_capacity_errors(pipelines, env: str) -> None:
    for step in iter_steps(pipelines[env].definition["Steps"]):
        if step["Type"] in JOB_TYPES:
            kinds = {k for policy in step["RetryPolicies"] for k in policy["ExceptionType"]}
            assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"} <= kinds, step["Name"]


def test_caching_follows_config(pipelines, configs) -> None:
    for env in ENVIRONMENTS:
        preprocess = _steps(pipelines[env].definition)["Preprocess"]
        expected = configs[env].training.cache_steps
        assert ("CacheConfig" in preprocess) is expected, env


def test_register_or_fail_on_the_roc_auc_threshold(pipelines) -> None:
    steps = _steps(pipelines["dev"].definition)
    check = steps["CheckRocAuc"]["Arguments"]
    (condition,) = check["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert (
        condition["LeftValue"]["Std:JsonGet"]["Path"] == "binary_classification_metrics.auc.value"
    )
    assert condition["RightValue"] == {"Get": "Parameters.MinRocAuc"}
    assert [s["Type"] for s in check["IfSteps"]] == ["RegisterModel"]
    assert [s["Type"] for s in check["ElseSteps"]] == ["Fail"]
    register = check["IfSteps"][0]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["ModelPackageGroupName"] == "sagestack-dev-models"
    metrics = register["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]["Std:Join"]
    assert metrics["Values"][-1] == "evaluation.json"
    # The package records preprocess.py's baseline, which promotion pins for Model Monitor.
    baseline = register["DriftCheckBaselines"]["ModelDataQuality"]
    for part, file_name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json")):
        uri = baseline[part]["S3Uri"]["Std:Join"]
        assert uri["Values"] == [
            {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"},
            file_name,
        ]
    # Network-isolated endpoints read the serving code from the model, never from S3.
    (container,) = register["InferenceSpecification"]["Containers"]
    assert container["Environment"] == {
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    }
    message = str(check["ElseSteps"][0]["Arguments"]["ErrorMessage"])
    assert "ROC-AUC" in message and "Parameters.MinRocAuc" in message
    evaluate = steps["Evaluate"]
    assert evaluate["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]


def test_code_tarball_is_reproducible(tmp_path: Path) -> None:
    first = tarball_bytes(ROOT / "training_code")
    assert first == tarball_bytes(ROOT / "training_code")
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as archive:
        members = archive.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and "train.py" in names and "common.py" in names
    assert {(m.mtime, m.uid, m.gid) for m in members} == {(0, 0, 0)}
    assert first[:2] == b"\x1f\x8b" and first[4:8] == bytes(4), "gzip header mtime is 0"
    assert not [n for n in names if "__pycache__" in n]
