"""The demo's lifecycle end to end, for every model: trained, registered, approved, served,
invoked, batch-scored; one promoted to staging."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from sagestack import demo
from sagestack.local.endpoint import READY_PREFIX
from tests.integration.conftest import MODEL, MODELS

pytestmark = pytest.mark.integration
SAGESTACK = str(Path(sys.executable).with_name("sagestack"))  # the installed command


def runtime(run: demo.ModelRun, region: str):
    assert run.endpoint is not None
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=run.endpoint.url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_the_three_models_differ_in_family_and_problem_type(lifecycle: demo.DemoState) -> None:
    kinds = {
        (r.deployment.model.family, r.deployment.model.problem_type)
        for r in lifecycle.models.values()
    }
    assert len(kinds) == len(MODELS) == 3
    assert {problem for _, problem in kinds} == {"binary", "multiclass", "regression"}
    assert {family for family, _ in kinds} == {"xgboost", "sklearn"}


@pytest.mark.parametrize("model", MODELS)
def test_pipeline_registered_a_package_above_its_gate(
    lifecycle: demo.DemoState, model: str
) -> None:
    run = lifecycle.models[model]
    assert run.execution is not None and run.execution.succeeded
    names = [record.name for record in run.execution.steps]
    assert names[0] == "Preprocess" and names[-1] == "RegisterModel"
    deployment = run.deployment
    measured = run.execution.metrics[deployment.model.gate_metric]
    at_least = deployment.problem.gate_metrics[deployment.model.gate_metric] == "at_least"
    if at_least:
        assert measured >= deployment.gate_threshold
    else:
        assert measured <= deployment.gate_threshold
    assert run.package["ModelApprovalStatus"] == "Approved"
    assert run.package["ModelPackageGroupName"] == deployment.registry_group


@pytest.mark.parametrize("model", MODELS)
def test_dev_pins_the_package_with_the_baseline_it_recorded(
    lifecycle: demo.DemoState, model: str
) -> None:
    """The baseline preprocess.py wrote travels with the package into the pin."""
    run = lifecycle.models[model]
    pin = run.deployment.serving.model
    assert pin is not None and pin.arn == run.package["ModelPackageArn"]
    assert run.execution is not None
    execution_id = run.execution.execution_id
    assert pin.baseline_uri is not None and pin.baseline_uri.endswith(f"/{execution_id}/baseline/")
    assert lifecycle.storage is not None
    names = {key.rsplit("/", 1)[1] for key in lifecycle.storage.list_keys(pin.baseline_uri)}
    assert {"statistics.json", "constraints.json"} <= names


@pytest.mark.parametrize("model", MODELS)
def test_endpoint_answered_through_boto3_in_the_problem_types_shape(
    lifecycle: demo.DemoState, model: str
) -> None:
    run = lifecycle.models[model]
    predictions = run.predictions["predictions"]
    assert len(predictions) == demo.INVOCATION_ROWS
    problem = run.deployment.model.problem_type
    for prediction in predictions:
        if problem == "binary":
            assert 0.0 <= prediction["probability"] <= 1.0
            assert prediction["label"] == int(prediction["probability"] >= 0.5)
        elif problem == "multiclass":
            probabilities = prediction["probabilities"]
            assert abs(sum(probabilities.values()) - 1) < 1e-5
            assert prediction["label"] == max(probabilities, key=probabilities.get)
        else:
            assert set(prediction) == {"value"}


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
    run = lifecycle.models[MODEL]
    with pytest.raises(ClientError) as raised:
        runtime(run, lifecycle.region).invoke_endpoint(
            EndpointName=run.deployment.endpoint_name, ContentType=content_type, Body=body
        )
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert 400 <= status < 500
    assert message in str(raised.value).lower()


def test_endpoint_still_serves_after_bad_requests(lifecycle: demo.DemoState) -> None:
    run = lifecycle.models[MODEL]
    response = runtime(run, lifecycle.region).invoke_endpoint(
        EndpointName=run.deployment.endpoint_name, ContentType="text/csv", Body=run.rows[0]
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("model", MODELS)
def test_evaluation_report_was_fetched(lifecycle: demo.DemoState, model: str) -> None:
    report_dir = lifecycle.models[model].report_dir
    assert report_dir is not None
    page = (report_dir / "report.html").read_text()
    assert "<img" in page and "data:image/png;base64," in page
    layout = lifecycle.models[model].deployment.problem.layout
    assert layout in json.loads((report_dir / "evaluation.json").read_text())


@pytest.mark.parametrize("model", MODELS)
def test_batch_pipeline_wrote_one_prediction_per_row(lifecycle: demo.DemoState, model: str) -> None:
    run = lifecycle.models[model]
    (key,) = run.batch_outputs
    assert key.endswith("demo.csv.out") and f"/{model}/" in key
    config = lifecycle.environment.config
    bucket = f"sagestack-dev-ml-artifacts-{config.account}-{lifecycle.region}"
    body = lifecycle.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    lines = body.strip().splitlines()
    assert len(lines) == demo.INVOCATION_ROWS
    width = {"binary": 2, "multiclass": 1 + 3, "regression": 1}[run.deployment.model.problem_type]
    assert all(len(line.split(",")) == width for line in lines)


def test_promotion_pinned_the_package_and_its_baseline_for_staging(
    lifecycle: demo.DemoState,
) -> None:
    """`sagestack promote --to staging --model cancer` passed every gate against the emulator;
    the other models' staging pins are untouched."""
    assert lifecycle.staging is not None
    pin = lifecycle.staging.model(MODEL).serving.model
    dev_pin = lifecycle.models[MODEL].deployment.serving.model
    assert pin is not None and dev_pin is not None
    assert (pin.arn, pin.baseline_uri) == (dev_pin.arn, dev_pin.baseline_uri)
    others = [d for d in lifecycle.staging.models if d.name != MODEL]
    assert others and all(d.serving.model is None for d in others)
    diff = lifecycle.log("promote-diff").read_text(encoding="utf-8")
    assert diff.startswith(f"cdk diff of staging ({MODEL}) (offline, current pin → new pin):")
    # The real CDK CLI's diff: the pin brings the model's serving and monitoring stacks, with
    # the endpoint of the pinned package, and nothing of the other models.
    assert "AWS::SageMaker::Endpoint" in diff and "AWS::SageMaker::MonitoringSchedule" in diff
    for kind in ("serving", "monitoring"):
        assert f"Stack staging/{MODEL}-{kind} (sagestack-staging-{MODEL}-{kind})" in diff
    for other in MODELS:
        if other != MODEL:
            assert f"staging/{other}-" not in diff


def test_local_serve_of_a_model_serves_what_its_deployed_endpoint_serves(
    lifecycle: demo.DemoState,
) -> None:
    """`sagestack local serve --model wine`: endpoint → config → model → package, from the
    emulator, answering under the endpoint's name only."""
    run = lifecycle.models["wine"]
    command = [SAGESTACK, "local", "serve", "--model", "wine"]
    command += ["--port", "0", "--state-dir", str(lifecycle.emulator_dir)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith(READY_PREFIX), line
        client = boto3.client(
            "sagemaker-runtime",
            endpoint_url=line.removeprefix(READY_PREFIX).strip(),
            region_name=lifecycle.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        answer = client.invoke_endpoint(
            EndpointName=run.deployment.endpoint_name,
            ContentType="text/csv",
            Accept="application/json",
            Body="\n".join(run.rows),
        )
        assert json.loads(answer["Body"].read()) == run.predictions
        with pytest.raises(ClientError, match="of account 123456789012 not found"):
            client.invoke_endpoint(EndpointName="other", ContentType="text/csv", Body="1")
    finally:
        child.terminate()
        child.wait(30)


def test_local_serve_of_a_model_needs_a_running_emulator(tmp_path) -> None:
    command = [SAGESTACK, "local", "serve", "--model", "wine"]
    result = subprocess.run(
        [*command, "--state-dir", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("sagestack: no emulator is running")
    assert len(result.stderr.strip().splitlines()) == 1
