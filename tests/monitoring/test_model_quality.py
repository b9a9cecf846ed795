"""Model Monitor model quality of every pinned model in prod (staging's pin names no run)."""

from __future__ import annotations

import pytest

from ground.images import model_monitor_image
from tests.monitoring.schedules import object_grants, role_statements, schedule_named
from tests.serving.pinned import MODELS, dumps, only, prod_baseline, resources

PROBLEM = {
    "cancer": "BinaryClassification",
    "wine": "MulticlassClassification",
    "diabetes": "Regression",
}
# serving.py's CSV answers: binary `probability,label`, multiclass `label,p...`, regression value
COLUMNS = {
    "cancer": {
        "InferenceAttribute": "1",
        "ProbabilityAttribute": "0",
        "ProbabilityThresholdAttribute": 0.5,
    },
    "wine": {"InferenceAttribute": "0"},
    "diabetes": {"InferenceAttribute": "0"},
}
ARTIFACTS = "sagestack-prod-ml-artifacts-345678901234-eu-west-1"


def _job(pinned, model: str) -> dict:
    return only(
        pinned.raw("prod", f"{model}-monitoring"), "AWS::SageMaker::ModelQualityJobDefinition"
    )


@pytest.mark.parametrize("model", MODELS)
def test_staging_has_no_model_quality_monitor(pinned, model: str) -> None:
    template = pinned.raw("staging", f"{model}-monitoring")
    assert not resources(template, "AWS::SageMaker::ModelQualityJobDefinition")


@pytest.mark.parametrize("model", MODELS)
def test_job_merges_captured_predictions_with_the_models_ground_truth(
    pinned, environments, model
) -> None:
    job = _job(pinned, model)
    app = job["ModelQualityAppSpecification"]
    assert app["ProblemType"] == PROBLEM[model]
    assert app["ImageUri"] == model_monitor_image("eu-west-1")
    endpoint = job["ModelQualityJobInput"]["EndpointInput"]
    name = environments["prod"].model(model).endpoint_name
    assert endpoint["EndpointName"] == job["EndpointName"] == name
    assert {k: v for k, v in endpoint.items() if "Attribute" in k} == COLUMNS[model]
    # config/prod.yaml: labels arrive within 24 h, each run scores 24 h of predictions.
    assert (endpoint["StartTimeOffset"], endpoint["EndTimeOffset"]) == ("-PT48H", "-PT24H")
    truth = job["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"]
    assert truth == f"s3://{ARTIFACTS}/ground-truth/{model}"
    constraints = job["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"]
    run = prod_baseline(model).removesuffix("baseline/")
    assert constraints == f"{run}evaluation/model_quality_constraints.json"
    (report,) = job["ModelQualityJobOutputConfig"]["MonitoringOutputs"]
    assert report["S3Output"]["S3Uri"] == f"s3://{ARTIFACTS}/monitoring/{model}/model-quality"


@pytest.mark.parametrize("model", MODELS)
def test_job_runs_isolated_within_half_an_hour(pinned, model) -> None:
    job = _job(pinned, model)
    assert job["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert "DataKey" in dumps(job["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"])
    assert "DataKey" in dumps(job["ModelQualityJobOutputConfig"]["KmsKeyId"])
    # Hourly model-quality jobs: MaxRuntimeInSeconds at most 1800
    # (model-monitor-model-quality-schedule.html).
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] <= 1800
    template = pinned.raw("prod", f"{model}-monitoring")
    schedule = schedule_named(template, f"sagestack-prod-{model}-model-quality")
    config = schedule["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "ModelQuality"
    assert config["ScheduleConfig"]["ScheduleExpression"] == "cron(0 * ? * * *)"


@pytest.mark.parametrize("model", MODELS)
def test_role_reads_captures_ground_truth_and_constraints_and_writes_its_reports(
    pinned, model
) -> None:
    template = pinned.raw("prod", f"{model}-monitoring")
    name = f"sagestack-prod-{model}-model-quality"
    statements = role_statements(template, name)
    objects = object_grants(statements)
    run = prod_baseline(model).removeprefix("s3://").removesuffix("baseline/")
    assert objects == {
        f"arn:aws:s3:::{run}evaluation/*": "s3:GetObject",
        f"arn:aws:s3:::{ARTIFACTS}/data-capture/{model}/*": "s3:GetObject",
        f"arn:aws:s3:::{ARTIFACTS}/ground-truth/{model}/*": "s3:GetObject",
        f"arn:aws:s3:::{ARTIFACTS}/monitoring/{model}/model-quality/*": [
            "s3:AbortMultipartUpload",
            "s3:GetObject",
            "s3:PutObject",
        ],
    }
    metrics = next(s for s in statements if s.get("Sid") == "MonitorMetrics")
    assert metrics["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "aws/sagemaker/Endpoints/model-metrics"}
    }
