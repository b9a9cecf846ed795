"""Every model's pipeline definitions in every environment, as the synthesized templates carry
them: what differs between models follows from their declaration (problem type, family, data,
gate, hyperparameters, ranges), and everything they write stays under their own prefixes."""

from __future__ import annotations

import copy
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from ground.config import load_environment
from ground.config.loader import CONFIG_DIR
from ground.config.model import parameter_name
from ground.container import family_code, load_metric_definitions
from ground.families import FAMILIES
from ground.pipeline.invariants import job_security_violations
from ground.pipeline.jobs import JobSecurity
from ground.pipeline.walk import iter_steps
from ml_constructs.pipeline.code_bundle import tarball_bytes
from ml_constructs.pipeline.training_definition import (
    PipelineImages,
    TrainingPipelineSpec,
    training_pipeline_definitions,
)
from tests.training.conftest import EVERY, EVERY_IDS, MODELS

ROOT = Path(__file__).resolve().parents[2]
JOB_TYPES = {"Processing", "Training", "Tuning"}
STEP_NAMES = ["Preprocess", "{job}", "Evaluate", "CheckGate"]
# The committed models' gates: (layout path, comparison).
GATES = {
    "cancer": ("binary_classification_metrics.auc.value", "GreaterThanOrEqualTo"),
    "wine": ("multiclass_classification_metrics.weighted_f1.value", "GreaterThanOrEqualTo"),
    "diabetes": ("regression_metrics.r2.value", "GreaterThanOrEqualTo"),
}
OBJECTIVES = {
    "cancer": {"Type": "Maximize", "MetricName": "validation:auc"},
    "wine": {"Type": "Maximize", "MetricName": "validation:accuracy"},
    "diabetes": {"Type": "Minimize", "MetricName": "validation:rmse"},
}


def _steps(definition: dict) -> dict[str, dict]:
    return {step["Name"]: step for step in iter_steps(definition["Steps"])}


def _parameters(definition: dict) -> dict[str, dict]:
    return {item["Name"]: item for item in definition["Parameters"]}


def _uris(value: object) -> list[str]:
    """Every s3:// string in a definition."""
    text = json.dumps(value)
    return [part.split('"')[0] for part in text.split('"s3://')[1:]]


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_every_job_has_kms_vpc_isolation_and_encryption(
    pipelines, tuning_pipelines, env, model
) -> None:
    definitions = [pipelines[(env, model)].definition, tuning_pipelines[(env, model)].definition]
    jobs = [s for d in definitions for s in iter_steps(d["Steps"]) if s["Type"] in JOB_TYPES]
    assert {s["Type"] for s in jobs} == JOB_TYPES
    assert [job_security_violations(d) for d in definitions] == [[], []]


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_training_and_tuning_are_two_flat_pipelines(
    pipelines, tuning_pipelines, env, model
) -> None:
    """No condition step inside another: train-or-tune is which pipeline one starts."""
    for source, job in (
        (pipelines[(env, model)], "Train"),
        (tuning_pipelines[(env, model)], "Tune"),
    ):
        steps = source.definition["Steps"]
        assert [s["Name"] for s in steps] == [name.format(job=job) for name in STEP_NAMES]
        branches = steps[-1]["Arguments"]
        nested = [s["Type"] for s in branches["IfSteps"] + branches["ElseSteps"]]
        assert nested == ["RegisterModel", "Fail"]
        assert source.model_package_group == f"sagestack-{env}-{model}"


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_everything_a_run_writes_is_under_the_models_own_prefixes(
    pipelines, tuning_pipelines, deployments, env, model
) -> None:
    deployment = deployments[(env, model)]
    account = deployment.environment.account
    artifacts = f"sagestack-{env}-ml-artifacts-{account}-eu-west-1/"
    for source in (pipelines[(env, model)], tuning_pipelines[(env, model)]):
        own = source.pipeline_name
        allowed = [f"{artifacts}{area}/{own}" for area in ("pipelines", "models", "checkpoints")]
        allowed += [f"sagestack-{env}-raw-data-{account}-eu-west-1/raw/{model}/"]
        allowed += [f"cdk-hnb659fds-assets-{account}-eu-west-1/"]
        uris = _uris(source.definition)
        assert uris and all(any(uri.startswith(a) for a in allowed) for uri in uris), uris
        for other in MODELS:
            if other != model:
                assert f"-{other}-" not in json.dumps(source.definition)


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
    definition = copy.deepcopy(pipelines[("dev", "cancer")].definition)
    train = _steps(definition)["Train"]["Arguments"]
    *parents, last = path
    for part in parents:
        train = train[part]
    del train[last]
    assert [v for v in job_security_violations(definition) if "'Train'" in v]


def test_the_invariant_check_fails_closed_on_unknown_job_types(pipelines) -> None:
    definition = copy.deepcopy(pipelines[("dev", "cancer")].definition)
    definition["Steps"].append({"Name": "Spark", "Type": "EMR", "Arguments": {}})
    assert any("'EMR' is not known" in v for v in job_security_violations(definition))


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_parameters_and_their_defaults_come_from_the_merged_config(
    pipelines, deployments, env, model
) -> None:
    deployment = deployments[(env, model)]
    config = deployment.training
    parameters = _parameters(pipelines[(env, model)].definition)
    assert parameters["InputDataUrl"]["DefaultValue"] == (
        f"s3://sagestack-{env}-raw-data-{deployment.environment.account}-eu-west-1/raw/{model}/"
    )
    assert parameters["GateThreshold"] == {
        "Name": "GateThreshold",
        "Type": "Float",
        "DefaultValue": deployment.gate_threshold,
    }
    assert parameters["TrainingInstanceType"]["DefaultValue"] == config.instance_type
    assert parameters["TrainingInstanceCount"]["DefaultValue"] == config.instance_count
    assert parameters["ProcessingInstanceType"]["DefaultValue"] == config.processing_instance_type
    assert parameters["MaxRuntimeSeconds"]["DefaultValue"] == config.max_runtime_seconds
    assert "UseTuning" not in parameters
    assert ("MaxWaitSeconds" in parameters) is config.use_spot
    for name, value in deployment.hyperparameters.items():
        assert parameters[parameter_name(name)]["DefaultValue"] == str(value), name


def test_per_environment_hyperparameters_and_gates_reach_the_definition(pipelines) -> None:
    dev = _parameters(pipelines[("dev", "cancer")].definition)
    prod = _parameters(pipelines[("prod", "cancer")].definition)
    assert (dev["NumRound"]["DefaultValue"], prod["NumRound"]["DefaultValue"]) == ("300", "500")
    assert (dev["GateThreshold"]["DefaultValue"], prod["GateThreshold"]["DefaultValue"]) == (
        0.9,
        0.95,
    )
    wine = _parameters(pipelines[("prod", "wine")].definition)
    assert "NumRound" not in wine and wine["NEstimators"]["DefaultValue"] == "200"


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_training_runs_the_models_family_with_spot_checkpoints_and_metrics(
    pipelines, deployments, env, model
) -> None:
    deployment = deployments[(env, model)]
    config = deployment.training
    train = _steps(pipelines[(env, model)].definition)["Train"]["Arguments"]
    assert train["EnableManagedSpotTraining"] is config.use_spot
    assert ("MaxWaitTimeInSeconds" in train["StoppingCondition"]) is config.use_spot
    checkpoints = str(train["CheckpointConfig"]["S3Uri"])
    assert f"/checkpoints/sagestack-{env}-{model}-training" in checkpoints
    family = deployment.model.family
    files = family_code(ROOT / "training_code", family, FAMILIES)
    definitions = load_metric_definitions(files["metrics.py"])
    specification = train["AlgorithmSpecification"]
    assert specification["MetricDefinitions"] == definitions
    framework = FAMILIES[family].framework.replace("sklearn", "scikit-learn")
    assert f"/sagemaker-{framework}:" in specification["TrainingImage"]
    hyperparameters = train["HyperParameters"]
    assert hyperparameters["sagemaker_program"] == '"train.py"'
    assert hyperparameters["problem_type"] == f'"{deployment.model.problem_type}"'
    estimator = deployment.model.estimator
    assert hyperparameters.get("estimator") == (f'"{estimator}"' if estimator else None)
    code = [c for c in train["InputDataConfig"] if c["ChannelName"] == "code"]
    assert code and code[0]["DataSource"]["S3DataSource"]["S3Uri"].startswith(
        "s3://cdk-hnb659fds-assets-"
    )


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_preprocessing_and_evaluation_follow_the_models_data_and_problem(
    pipelines, deployments, env, model
) -> None:
    deployment = deployments[(env, model)]
    steps = _steps(pipelines[(env, model)].definition)
    preprocess = steps["Preprocess"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    expected = ["--target-column", "target", "--problem-type", deployment.model.problem_type]
    if deployment.model.data.positive_class:
        expected += ["--positive-class", deployment.model.data.positive_class]
    assert preprocess == expected
    evaluate = steps["Evaluate"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert evaluate == ["--problem-type", deployment.model.problem_type]


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_tuning_is_bayesian_over_the_models_ranges_toward_its_objective(
    tuning_pipelines, deployments, env, model
) -> None:
    deployment = deployments[(env, model)]
    tuning = deployment.training.tuning
    tune = _steps(tuning_pipelines[(env, model)].definition)["Tune"]["Arguments"]
    job = tune["HyperParameterTuningJobConfig"]
    assert job["Strategy"] == "Bayesian"
    assert job["HyperParameterTuningJobObjective"] == OBJECTIVES[model]
    assert job["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": tuning.max_jobs,
        "MaxParallelTrainingJobs": tuning.max_parallel_jobs,
    }
    ranges = {r["Name"]: (kind, r) for kind, rs in job["ParameterRanges"].items() for r in rs}
    assert set(ranges) == set(deployment.model.tuning_ranges)
    for name, declared in deployment.model.tuning_ranges.items():
        kind, found = ranges[name]
        assert kind == f"{declared.kind.capitalize()}ParameterRanges"
        assert float(found["MinValue"]) == declared.min
        assert float(found["MaxValue"]) == declared.max
    training = tune["TrainingJobDefinition"]
    assert not set(ranges) & set(training["StaticHyperParameters"])
    # The objective is one of the metrics the training job reports.
    names = {m["Name"] for m in training["AlgorithmSpecification"]["MetricDefinitions"]}
    assert OBJECTIVES[model]["MetricName"] in names


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_steps_retry_throttling_and_capacity_errors(pipelines, env, model) -> None:
    for step in iter_steps(pipelines[(env, model)].definition["Steps"]):
        if step["Type"] in JOB_TYPES:
            kinds = {k for policy in step["RetryPolicies"] for k in policy["ExceptionType"]}
            assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"} <= kinds, step["Name"]


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_caching_follows_config(pipelines, deployments, env, model) -> None:
    preprocess = _steps(pipelines[(env, model)].definition)["Preprocess"]
    assert ("CacheConfig" in preprocess) is deployments[(env, model)].training.cache_steps


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_register_or_fail_on_the_models_gate_into_its_own_group(
    pipelines, deployments, env, model
) -> None:
    deployment = deployments[(env, model)]
    steps = _steps(pipelines[(env, model)].definition)
    check = steps["CheckGate"]["Arguments"]
    (condition,) = check["Conditions"]
    path, comparison = GATES[model]
    assert condition["Type"] == comparison
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == path
    assert condition["RightValue"] == {"Get": "Parameters.GateThreshold"}
    assert [s["Name"] for s in check["IfSteps"]] == ["RegisterModel"]
    assert [(s["Name"], s["Type"]) for s in check["ElseSteps"]] == [("BelowGate", "Fail")]
    register = check["IfSteps"][0]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["ModelPackageGroupName"] == f"sagestack-{env}-{model}"
    model_config = deployment.model
    assert {
        key: register["CustomerMetadataProperties"][key]
        for key in ("model", "team", "problem_type", "family")
    } == {
        "model": model,
        "team": model_config.team,
        "problem_type": model_config.problem_type,
        "family": model_config.family,
    }
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
    message = json.dumps(check["ElseSteps"][0]["Arguments"]["ErrorMessage"])
    metric = path.split(".")[1]
    assert f'"{metric} "' in message and "Parameters.GateThreshold" in message
    assert ("at least" if comparison == "GreaterThanOrEqualTo" else "at most") in message
    assert steps["Evaluate"]["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]


def test_an_error_metric_gate_registers_at_most_the_threshold(tmp_path: Path) -> None:
    """rmse is an `at_most` metric: the condition flips to LessThanOrEqualTo (no committed model
    gates on one, so the definition is built in-process from a copied config)."""
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    path = config_dir / "models" / "diabetes.yaml"
    data = yaml.safe_load(path.read_text())
    data["gate"] = {"metric": "rmse", "threshold": 60.0}
    path.write_text(yaml.safe_dump(data))
    deployment = load_environment("staging", config_dir).model("diabetes")
    spec = TrainingPipelineSpec(
        deployment=deployment,
        raw_data_uri="s3://raw/raw/diabetes/",
        artifacts_bucket="artifacts",
        security=JobSecurity("arn:aws:kms:eu-west-1:1:key/k", ("subnet-1",), ("sg-1",)),
        processing_role_arn="arn:aws:iam::1:role/p",
        training_role_arn="arn:aws:iam::1:role/t",
        images=PipelineImages("pre", "train", "eval", "infer"),
        sourcedir_url="s3://assets/code.gz",
        metric_definitions=({"Name": "validation:rmse", "Regex": "rmse=(.*)"},),
    )
    for name, definition in training_pipeline_definitions(spec).items():
        check = _steps(definition)["CheckGate"]["Arguments"]
        (condition,) = check["Conditions"]
        assert condition["Type"] == "LessThanOrEqualTo", name
        assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "regression_metrics.rmse.value"
        assert _parameters(definition)["GateThreshold"]["DefaultValue"] == 60.0
        message = json.dumps(check["ElseSteps"][0]["Arguments"]["ErrorMessage"])
        assert "at most GateThreshold" in message


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_familys_code_tarball_is_reproducible(family: str) -> None:
    files = family_code(ROOT / "training_code", family, FAMILIES)
    first = tarball_bytes(files)
    assert first == tarball_bytes(files)
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as archive:
        members = archive.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and "train.py" in names and "common.py" in names
    assert {(m.mtime, m.uid, m.gid) for m in members} == {(0, 0, 0)}
    assert first[:2] == b"\x1f\x8b" and first[4:8] == bytes(4), "gzip header mtime is 0"
    assert not [n for n in names if "__pycache__" in n]
    assert not [n for n in names if n.split("/")[0] in FAMILIES], "no family folder ships"
