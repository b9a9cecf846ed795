"""A model-quality run on this machine, from what is deployed in the emulator: the schedule
(created by CloudFormation), its job definition, the endpoint's capture destination, the
ground truth and the constraints, read back and scored over the window the offsets give."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ground.config import load_environment
from ground.naming import MODEL_QUALITY
from sagestack.local import emulator
from sagestack.local.data_capture import CaptureConfig, CaptureWriter
from sagestack.local.monitor import MonitorError, parse_offset, run_monitor
from sagestack.local.monitor_commands import emulator_clients

REGION = "eu-west-1"
BUCKET = "artifacts"
DEPLOYMENT = load_environment("dev").model("diabetes")
ENDPOINT = DEPLOYMENT.endpoint_name
SCHEDULE = f"{DEPLOYMENT.prefix}-model-quality"
AT = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
# Each run at T scores predictions of [T - 4 h, T - 1 h) (labels may take an hour).
START, END = "-PT4H", "-PT1H"
ROLE = "arn:aws:iam::123456789012:role/sagestack-dev-diabetes-model-quality"


def _deploy(server: emulator.Emulator) -> None:
    sagemaker = server.client("sagemaker", REGION)
    sagemaker.create_model(
        ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "123.dkr.ecr/i:1"}
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{BUCKET}/data-capture/diabetes",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="c")
    definition = {
        "Type": "AWS::SageMaker::ModelQualityJobDefinition",
        "Properties": {
            "EndpointName": ENDPOINT,
            "RoleArn": ROLE,
            "ModelQualityAppSpecification": {"ImageUri": "i", "ProblemType": "Regression"},
            "ModelQualityBaselineConfig": {
                "ConstraintsResource": {"S3Uri": f"s3://{BUCKET}/run/evaluation/mq.json"}
            },
            "ModelQualityJobInput": {
                "EndpointInput": {
                    "EndpointName": ENDPOINT,
                    "LocalPath": "/opt/ml/processing/input/endpoint",
                    "InferenceAttribute": "0",
                    "StartTimeOffset": START,
                    "EndTimeOffset": END,
                },
                "GroundTruthS3Input": {"S3Uri": f"s3://{BUCKET}/ground-truth/diabetes"},
            },
            "ModelQualityJobOutputConfig": {
                "MonitoringOutputs": [
                    {
                        "S3Output": {
                            "LocalPath": "/opt/ml/processing/output",
                            "S3Uri": f"s3://{BUCKET}/monitoring/diabetes/model-quality",
                        }
                    }
                ]
            },
            "JobResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 20,
                }
            },
        },
    }
    schedule = {
        "Type": "AWS::SageMaker::MonitoringSchedule",
        "Properties": {
            "MonitoringScheduleName": SCHEDULE,
            "EndpointName": ENDPOINT,
            "MonitoringScheduleConfig": {
                "MonitoringJobDefinitionName": {
                    "Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "Definition"}]}]
                },
                "MonitoringType": "ModelQuality",
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            },
        },
    }
    server.client("cloudformation", REGION).create_stack(
        StackName="monitoring",
        TemplateBody=json.dumps({"Resources": {"Definition": definition, "Schedule": schedule}}),
    )


def _truth(inference_id: str, value: float) -> bytes:
    record = {
        "groundTruthData": {"data": f"{value}", "encoding": "CSV"},
        "eventMetadata": {"eventId": inference_id},
        "eventVersion": "0",
    }
    return (json.dumps(record) + "\n").encode()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory):
    """An endpoint with captures 2 h and 6 h before AT (in and out of the window), labels for
    them, and constraints allowing a mean absolute error up to 10."""
    with emulator.running(Path(tmp_path_factory.mktemp("mq-emulator"))) as server:
        s3 = server.client("s3", REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        _deploy(server)
        constraints = {
            "version": 0.0,
            "regression_constraints": {
                "mae": {"threshold": 10.0, "comparison_operator": "GreaterThanThreshold"}
            },
        }
        s3.put_object(Bucket=BUCKET, Key="run/evaluation/mq.json", Body=json.dumps(constraints))
        config = CaptureConfig(ENDPOINT, f"s3://{BUCKET}/data-capture/diabetes", 100)

        def put(bucket: str, key: str, body: bytes) -> None:
            s3.put_object(Bucket=bucket, Key=key, Body=body)

        for hours_before, error in ((2, 25.0), (6, 0.0)):
            when = AT - timedelta(hours=hours_before)
            writer = CaptureWriter(config, put, lambda: 0.0, lambda when=when: when)
            for i in range(20):
                identifier = f"{hours_before}-{i}"
                truth = 100.0 + i
                writer.record(
                    b"0.1,0.2", "text/csv", f"{truth + error}\n".encode(), "text/csv", identifier
                )
                key = f"ground-truth/diabetes/{when:%Y/%m/%d/%H}/{identifier}.jsonl"
                s3.put_object(Bucket=BUCKET, Key=key, Body=_truth(identifier, truth))
        yield server


def test_the_window_is_the_schedules_offsets() -> None:
    assert parse_offset("-PT4H") == -timedelta(hours=4)
    assert parse_offset("-P1DT2H30M") == -timedelta(days=1, hours=2, minutes=30)
    with pytest.raises(MonitorError, match="not an ISO 8601 duration"):
        parse_offset("4 hours")


def test_predictions_in_the_window_are_scored_against_their_labels(deployed) -> None:
    run = run_monitor(emulator_clients(deployed, REGION), DEPLOYMENT, MODEL_QUALITY, AT)
    assert run.window == (AT - timedelta(hours=4), AT - timedelta(hours=1))
    assert (run.records, run.scored) == (20, 20)  # the 6 h old ones are outside the window
    (violation,) = run.violations
    assert violation["metric_name"] == "mae"
    assert violation["constraint_check_type"] == "GreaterThanThreshold"
    assert run.status == "Completed" and run.exit_message.startswith("CompletedWithViolations")
    assert run.report_uri == (
        f"s3://{BUCKET}/monitoring/diabetes/model-quality/{ENDPOINT}/{SCHEDULE}/2026/12/03/12"
    )
    s3 = deployed.client("s3", REGION)
    statistics = json.loads(
        s3.get_object(
            Bucket=BUCKET, Key=run.report_uri.split(f"{BUCKET}/")[1] + "/statistics.json"
        )["Body"].read()
    )
    assert statistics["regression_metrics"]["mae"]["value"] == pytest.approx(25.0)


def test_a_window_without_predictions_fails_the_job_as_model_monitor_does(deployed) -> None:
    later = AT + timedelta(days=2)
    run = run_monitor(emulator_clients(deployed, REGION), DEPLOYMENT, MODEL_QUALITY, later)
    assert run.status == "Failed" and run.violations == []
