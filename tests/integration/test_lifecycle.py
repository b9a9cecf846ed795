"""The demo's lifecycle end to end: trained, registered, approved, served, invoked."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from sagestack import demo
from tests.integration.conftest import DEPLOYMENT, ENDPOINT

pytestmark = pytest.mark.integration


def runtime(state: demo.DemoState):
    assert state.endpoint is not None
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=state.endpoint.url,
        region_name=state.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_pipeline_registered_a_package_above_the_threshold(lifecycle: demo.DemoState) -> None:
    assert lifecycle.execution is not None and lifecycle.execution.succeeded
    names = [record.name for record in lifecycle.execution.steps]
    assert names[0] == "Preprocess" and names[-1] == "RegisterModel"
    metric = DEPLOYMENT.model.gate_metric
    assert lifecycle.execution.metrics[metric] >= DEPLOYMENT.gate_threshold
    assert lifecycle.package["ModelApprovalStatus"] == "Approved"


def test_dev_pins_the_package_with_the_baseline_it_recorded(lifecycle: demo.DemoState) -> None:
    """The baseline preprocess.py wrote travels with the package into the pin."""
    pin = lifecycle.config.serving.model
    assert pin is not None and pin.arn == lifecycle.package["ModelPackageArn"]
    execution_id = lifecycle.execution.execution_id
    assert pin.baseline_uri is not None and pin.baseline_uri.endswith(f"/{execution_id}/baseline/")
    names = {key.rsplit("/", 1)[1] for key in lifecycle.storage.list_keys(pin.baseline_uri)}
    assert {"statistics.json", "constraints.json"} <= names


def test_endpoint_answered_through_boto3(lifecycle: demo.DemoState) -> None:
    predictions = lifecycle.predictions["predictions"]
    assert len(predictions) == demo.INVOCATION_ROWS
    for prediction in predictions:
        assert 0.0 <= prediction["probability"] <= 1.0
        assert prediction["label"] == int(prediction["probability"] >= 0.5)


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("application/xml", "<row/>", "content type"),
        ("text/csv", "", "empty"),
        ("text/csv", "1.0,2.0,3.0", "features"),
        ("text/csv", ",".join(["abc"] * 30), "not a number"),
    ],
)
def test_bad_requests_get_a_4xx_that_says_why(
    lifecycle: demo.DemoState, content_type: str, body: str, message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime(lifecycle).invoke_endpoint(
            EndpointName=ENDPOINT, ContentType=content_type, Body=body
        )
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert 400 <= status < 500
    assert message in str(raised.value).lower()


def test_endpoint_still_serves_after_bad_requests(lifecycle: demo.DemoState) -> None:
    rows = demo.test_rows(lifecycle)
    response = runtime(lifecycle).invoke_endpoint(
        EndpointName=ENDPOINT, ContentType="text/csv", Body=rows[0]
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_evaluation_report_was_fetched(lifecycle: demo.DemoState) -> None:
    assert lifecycle.report_dir is not None
    page = (lifecycle.report_dir / "report.html").read_text()
    assert "<img" in page and "data:image/png;base64," in page
    assert (lifecycle.report_dir / "evaluation.json").stat().st_size > 0


def test_batch_pipeline_wrote_one_prediction_per_row(lifecycle: demo.DemoState) -> None:
    (key,) = lifecycle.batch_outputs
    assert key.endswith("demo.csv.out")
    bucket = f"sagestack-dev-ml-artifacts-{lifecycle.config.account}-{lifecycle.region}"
    body = lifecycle.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    lines = body.strip().splitlines()
    assert len(lines) == demo.INVOCATION_ROWS
    for line in lines:
        probability, label = line.split(",")
        assert 0.0 <= float(probability) <= 1.0 and label in ("0", "1")


def test_promotion_pinned_the_package_and_its_baseline_for_staging(
    lifecycle: demo.DemoState,
) -> None:
    """`sagestack promote --to staging` passed every gate against the emulator."""
    assert lifecycle.staging is not None
    pin, dev_pin = lifecycle.staging.serving.model, lifecycle.config.serving.model
    assert pin is not None and dev_pin is not None
    assert (pin.arn, pin.baseline_uri) == (dev_pin.arn, dev_pin.baseline_uri)
    diff = lifecycle.log("promote-diff").read_text(encoding="utf-8")
    assert diff.startswith("cdk diff of staging (offline, current pin → new pin):")
    assert "AWS::SageMaker::Endpoint" in diff and "AWS::SageMaker::MonitoringSchedule" in diff
