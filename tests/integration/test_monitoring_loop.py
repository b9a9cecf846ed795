"""The monitoring loop of the lifecycle, on what dev deployed for the watched model: its
endpoint captured every request, the data-quality schedule's runs found no drift in held-out
traffic and found the shifted feature, the deployed rule and guard started one retraining run
whose package awaits approval, and the guard held the next signal."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from ground.naming import MODEL_QUALITY
from sagestack import demo
from sagestack.demo_watch import SHIFTED_COLUMN, WATCHED
from sagestack.local import emulator
from sagestack.local.monitor import next_run_time, run_monitor
from sagestack.local.monitor_commands import emulator_clients


def _objects(server: emulator.Emulator, region: str, uri: str) -> dict[str, bytes]:
    s3 = server.client("s3", region)
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_every_request_was_captured_in_the_documented_format(
    lifecycle: demo.DemoState, running_emulator: emulator.Emulator
) -> None:
    deployment = lifecycle.models[WATCHED].deployment
    clean, drifted, held = lifecycle.watched
    config = running_emulator.client("sagemaker", lifecycle.region).describe_endpoint_config(
        EndpointConfigName=running_emulator.client("sagemaker", lifecycle.region).describe_endpoint(
            EndpointName=deployment.endpoint_name
        )["EndpointConfigName"]
    )
    capture = config["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 100
    variant = config["ProductionVariants"][0]["VariantName"]
    files = _objects(
        running_emulator,
        lifecycle.region,
        f"{capture['DestinationS3Uri']}/{deployment.endpoint_name}/{variant}/",
    )
    records = [json.loads(line) for body in files.values() for line in body.splitlines()]
    # held-out rows, the same rows shifted, and shifted once more, all within the hour (and
    # the one request of the invoke phase before them)
    batch = drifted.records - clean.records
    assert batch > 50 and held.records - drifted.records == batch
    assert len(records) >= held.records  # later tests of the session invoke it too
    for record in records:
        assert set(record) == {"captureData", "eventMetadata", "eventVersion"}
        assert record["captureData"]["endpointInput"]["encoding"] == "CSV"
        assert record["captureData"]["endpointInput"]["mode"] == "INPUT"
        assert record["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
        assert {"eventId", "inferenceId", "inferenceTime"} <= set(record["eventMetadata"])


def test_held_out_traffic_raised_no_violation(lifecycle: demo.DemoState) -> None:
    clean = lifecycle.watched[0]
    assert clean.status == "Completed" and clean.violations == []
    assert clean.routing.matched == [] and clean.executions == []
    assert clean.scored >= clean.records > 50  # a request may hold several rows


def test_the_shifted_feature_is_named_and_the_report_is_where_model_monitor_writes_it(
    lifecycle: demo.DemoState, running_emulator: emulator.Emulator
) -> None:
    drifted = lifecycle.watched[1]
    drift = [v for v in drifted.violations if v["constraint_check_type"] == "baseline_drift_check"]
    assert [v["feature_name"] for v in drift] == [f"_c{SHIFTED_COLUMN}"]
    deployment = lifecycle.models[WATCHED].deployment
    at = drifted.window[1]
    assert drifted.report_uri.endswith(
        f"/monitoring/{WATCHED}/data-quality/{deployment.endpoint_name}/"
        f"{deployment.prefix}-data-quality/{at:%Y/%m/%d/%H}"
    )
    files = _objects(running_emulator, lifecycle.region, drifted.report_uri + "/")
    names = {key.rsplit("/", 1)[1] for key in files}
    assert names == {"statistics.json", "constraint_violations.json"}
    (violations,) = [body for key, body in files.items() if key.endswith("violations.json")]
    # the guard's run of the same hour wrote the folder last
    assert json.loads(violations)["violations"] == lifecycle.watched[-1].violations


def test_the_deployed_rule_and_guard_started_one_retraining_awaiting_approval(
    lifecycle: demo.DemoState, running_emulator: emulator.Emulator
) -> None:
    deployment = lifecycle.models[WATCHED].deployment
    drifted, held = lifecycle.watched[1:]
    assert drifted.routing.matched == [
        f"{deployment.prefix}-dq-violations",
        f"{deployment.prefix}-retrain",
    ]
    assert f"{deployment.prefix}-retrain-guard" in drifted.routing.alarmed
    ((start, result),) = drifted.executions
    assert start.pipeline_name == f"{deployment.prefix}-training"
    training = f"{deployment.prefix}-training"
    assert start.parameters == {"InputDataUrl": demo.input_location(lifecycle, training)}
    assert result.succeeded and result.model_package_arn
    package = running_emulator.client("sagemaker", lifecycle.region).describe_model_package(
        ModelPackageName=result.model_package_arn
    )
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert result.model_package_arn.endswith("/2")  # after the approved version 1
    # Still drifting, the schedule's run again: the guard (1 run a day) holds.
    assert held.violations and held.executions == []
    assert f"{deployment.prefix}-retrain-guard" in held.routing.held


def test_monitor_run_command_reports_and_exits_3_on_violations(
    lifecycle: demo.DemoState, running_emulator: emulator.Emulator
) -> None:
    at = lifecycle.watched[1].window[1]
    command = [sys.executable, "-m", "sagestack.cli", "local", "monitor", "run"]
    command += ["--model", WATCHED, "--at", at.isoformat(), "--no-retrain"]
    command += ["--state-dir", str(lifecycle.emulator_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 3, done.stderr
    prefix = lifecycle.models[WATCHED].deployment.prefix
    assert f"{prefix}-data-quality: " in done.stdout
    assert f"baseline_drift_check _c{SHIFTED_COLUMN}:" in done.stdout
    assert "/constraint_violations.json" in done.stdout
    assert "already in ALARM (no new start)" in done.stdout
    assert "starts" not in done.stdout


def test_monitor_run_without_an_emulator_says_so_in_one_line(tmp_path) -> None:
    command = [sys.executable, "-m", "sagestack.cli", "local", "monitor", "run"]
    command += ["--model", WATCHED, "--state-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert (
        done.stderr.startswith("sagestack: no emulator is running") and done.stderr.count("\n") == 1
    )


def test_model_quality_run_needs_a_deployed_schedule(
    lifecycle: demo.DemoState, running_emulator: emulator.Emulator
) -> None:
    from sagestack.local.monitor import MonitorError

    deployment = lifecycle.models[WATCHED].deployment
    clients = emulator_clients(running_emulator, lifecycle.region)
    with pytest.raises(MonitorError, match=r"no monitoring schedule .*-model-quality is deployed"):
        run_monitor(clients, deployment, MODEL_QUALITY, next_run_time(datetime.now(UTC)))
