"""One Model Monitor run on this machine, from what was deployed, as the schedule would run it.

The schedule `<prefix>-<kind>` and its job definition are read back from the emulator; so are
the endpoint's data capture destination, the baseline, the ground truth and the output
location. The run scores the window the schedule's run at `at` would (data quality: the hour
before it; model quality: [at + StartTimeOffset, at + EndTimeOffset), labels up to `at`), writes
statistics.json and constraint_violations.json to `<output>/<endpoint>/<schedule>/yyyy/mm/dd/hh/`
as Model Monitor does (model-monitor-interpreting-results.html), and sends the processing job's
state change through the deployed rules and alarms (event_routing), which may start pipelines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ground.config import ModelDeployment
from ground.layout import split_s3_uri
from ground.naming import DATA_QUALITY, MODEL_QUALITY
from sagestack.local.deployed_model import DeployedModelError, served_capture
from sagestack.local.event_routing import EventRouter, PipelineStart, Routing, event
from sagestack.local.pipeline.executor import ExecutionResult
from sagestack.monitoring import run_data_quality, run_model_quality, write_reports
from sagestack.monitoring.capture import Rejection

KINDS = {"data": DATA_QUALITY, "model": MODEL_QUALITY}
# ModelQualityAppSpecification.ProblemType -> the platform's problem types
PROBLEM_TYPES = {
    "BinaryClassification": "binary",
    "MulticlassClassification": "multiclass",
    "Regression": "regression",
}
PROCESSING_STATE_CHANGE = "SageMaker Processing Job State Change"
HOUR = timedelta(hours=1)


class MonitorError(Exception):
    """What was deployed does not allow the run; the message says what to deploy or fix."""


@dataclass(frozen=True)
class Clients:
    """boto3 clients of the emulator (or an account)."""

    sagemaker: Any
    s3: Any
    events: Any
    cloudwatch: Any


@dataclass
class MonitorRun:
    """What one run saw, wrote and set off."""

    schedule: str
    kind: str
    window: tuple[datetime, datetime]
    report_uri: str
    records: int  # capture records read
    scored: int  # rows analysed (data) or labeled predictions (model)
    violations: list[dict]
    rejected: list[Rejection]
    status: str  # the processing job's: Completed or Failed
    exit_message: str
    routing: Routing
    executions: list[tuple[PipelineStart, ExecutionResult]] = field(default_factory=list)


def next_run_time(now: datetime) -> datetime:
    """The schedule's next hourly run after `now` (it scores the hour `now` is in)."""
    return now.replace(minute=0, second=0, microsecond=0) + HOUR


def parse_offset(text: str) -> timedelta:
    """`-PT48H`, `-P1DT2H30M` (ISO 8601, as StartTimeOffset/EndTimeOffset are written)."""
    match = re.fullmatch(r"(-?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", text)
    if not match or text in ("P", "-P"):
        raise MonitorError(f"time offset {text!r} is not an ISO 8601 duration such as -PT1H")
    sign = -1 if match[1] else 1
    days, hours, minutes = (int(group or 0) for group in match.groups()[1:])
    return sign * timedelta(days=days, hours=hours, minutes=minutes)


def run_monitor(
    clients: Clients, deployment: ModelDeployment, kind: str, at: datetime
) -> MonitorRun:
    """Run the model's `kind` (ground.naming) schedule as its run at `at` would; the pipelines
    its outcome reaches are in `.routing.starts` (start_pipelines runs them)."""
    schedule_name = f"{deployment.prefix}-{kind}"
    schedule = _described(
        lambda: clients.sagemaker.describe_monitoring_schedule(
            MonitoringScheduleName=schedule_name
        ),
        f"no monitoring schedule {schedule_name} is deployed; enable monitoring."
        f"{'model_monitor' if kind == DATA_QUALITY else 'model_quality'} for "
        f"{deployment.name} in {deployment.environment.name}, pin a package and deploy its "
        "monitoring stack",
    )
    definition_name = schedule["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]
    if kind == DATA_QUALITY:
        job = clients.sagemaker.describe_data_quality_job_definition(
            JobDefinitionName=definition_name
        )
        job_input = job["DataQualityJobInput"]["EndpointInput"]
        output = job["DataQualityJobOutputConfig"]
    else:
        job = clients.sagemaker.describe_model_quality_job_definition(
            JobDefinitionName=definition_name
        )
        job_input = job["ModelQualityJobInput"]["EndpointInput"]
        output = job["ModelQualityJobOutputConfig"]
    endpoint_name = job_input["EndpointName"]
    capture_uri = _capture_uri(clients.sagemaker, endpoint_name, deployment.environment.region)
    window = _window(kind, job_input, at)
    captured = _hour_files(clients.s3, capture_uri, *window)
    if kind == DATA_QUALITY:
        baseline = job["DataQualityBaselineConfig"]
        result = run_data_quality(
            captured,
            _json(clients.s3, baseline["StatisticsResource"]["S3Uri"]),
            _json(clients.s3, baseline["ConstraintsResource"]["S3Uri"]),
        )
        report, scored, rejected = result.report, result.rows, result.rejected
        records = result.requests
    else:
        truth_uri = job["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"]
        constraints_uri = job["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"]
        problem = PROBLEM_TYPES[job["ModelQualityAppSpecification"]["ProblemType"]]
        model_result = run_model_quality(
            captured,
            _hour_files(clients.s3, truth_uri, window[0], at),
            problem,
            _json(clients.s3, constraints_uri),
        )
        report, scored = model_result.report, model_result.labeled
        rejected, records = model_result.rejected, model_result.requests
    report_uri = "/".join(
        (
            output["MonitoringOutputs"][0]["S3Output"]["S3Uri"].rstrip("/"),
            endpoint_name,
            schedule_name,
            at.strftime("%Y/%m/%d/%H"),
        )
    )
    bucket, prefix = split_s3_uri(report_uri)
    write_reports(
        lambda name, body: clients.s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=body),
        report.statistics,
        report.violations,
    )
    violations = list(report.violations.get("violations", []))
    status, message = _outcome(scored, violations)
    sent = event(
        "aws.sagemaker",
        PROCESSING_STATE_CHANGE,
        {
            "ProcessingJobName": f"model-monitoring-{at:%Y%m%d%H}-{deployment.prefix}"[:63],
            "ProcessingJobStatus": status,
            "ExitMessage": message,
            "MonitoringScheduleArn": schedule["MonitoringScheduleArn"],
            "RoleArn": job["RoleArn"],
        },
        at,
        deployment.environment.account,
        deployment.environment.region,
    )
    routing = EventRouter(clients.events, clients.cloudwatch).route(sent, at)
    return MonitorRun(
        schedule_name,
        kind,
        window,
        report_uri,
        records,
        scored,
        violations,
        rejected,
        status,
        message,
        routing,
    )


def start_pipelines(
    run: MonitorRun, start_pipeline: Callable[[PipelineStart], ExecutionResult]
) -> None:
    """Start what the run's outcome reached, as EventBridge would; recorded in the run."""
    run.executions = [(start, start_pipeline(start)) for start in run.routing.starts]


def _outcome(scored: int, violations: list[dict]) -> tuple[str, str]:
    """The processing job's status and exit message, as Model Monitor ends its jobs."""
    if not scored:
        return "Failed", "Job inputs had no data to analyze in the window"
    if violations:
        return "Completed", f"CompletedWithViolations: {len(violations)} violation(s) found"
    return "Completed", "Completed: Job completed successfully with no violations."


def _described(call: Callable[[], dict], missing: str) -> dict:
    try:
        return call()
    except ClientError as error:
        raise MonitorError(missing) from error


def _capture_uri(sagemaker: Any, endpoint_name: str, region: str) -> str:
    """Where the endpoint's variant writes its captures: `<destination>/<endpoint>/<variant>`."""
    try:
        capture = served_capture(sagemaker, endpoint_name, region, s3_endpoint_url=None)
    except DeployedModelError as error:
        raise MonitorError(f"the monitored endpoint: {error}") from error
    if capture is None:
        raise MonitorError(
            f"endpoint {endpoint_name} captures no data (its endpoint config has no "
            "DataCaptureConfig); serve it from an instance variant with data capture"
        )
    return f"{capture.destination}/{endpoint_name}/{capture.variant}"


def _window(kind: str, endpoint_input: dict, at: datetime) -> tuple[datetime, datetime]:
    if kind == DATA_QUALITY:
        return at - HOUR, at
    start = endpoint_input.get("StartTimeOffset", "-PT1H")
    end = endpoint_input.get("EndTimeOffset", "-PT0H")
    return at + parse_offset(start), at + parse_offset(end)


def _hour_files(s3: Any, base_uri: str, start: datetime, end: datetime) -> list[tuple[str, bytes]]:
    """The objects under `base_uri`/yyyy/mm/dd/hh/ for the hours that overlap [start, end)."""
    bucket, prefix = split_s3_uri(base_uri.rstrip("/") + "/")
    files = []
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        hour_prefix = f"{prefix}{hour:%Y/%m/%d/%H}/"
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=hour_prefix):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                files.append((item["Key"], body))
        hour += HOUR
    return files


def _json(s3: Any, uri: str) -> dict:
    bucket, key = split_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        raise MonitorError(f"{uri} cannot be read: {error}") from error
    return dict(json.loads(body))
