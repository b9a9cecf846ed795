"""The gates of a promotion: approved, good enough for the target, monitorable, served before.

Each gate returns a result with a reason instead of raising, so that a refusal lists every
gate that failed at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from botocore.exceptions import BotoCoreError, ClientError

from ground.config import ModelDeployment
from ground.layout import BASELINE_CONSTRAINTS_FILE, BASELINE_STATISTICS_FILE
from sagestack.promotion.aws import AwsTarget
from sagestack.promotion.candidate import Candidate
from sagestack.storage import StorageError, split_uri

APPROVED = "Approved"
# Error codes that mean "these credentials may not look", not "the answer is no".
UNCHECKABLE_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "NotImplemented",
        "InternalFailure",
    }
)
UNHEALTHY_ENDPOINT_STATES = frozenset({"Creating", "Failed", "OutOfService", "Deleting"})


class Outcome(Enum):
    PASSED = "passed"
    FAILED = "FAILED"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class CheckResult:
    gate: str
    outcome: Outcome
    detail: str

    def line(self) -> str:
        return f"  {self.gate}: {self.outcome.value}: {self.detail}"


def check_approved(candidate: Candidate) -> CheckResult:
    status = candidate.package.get("ModelApprovalStatus", "(none)")
    if status == APPROVED:
        return CheckResult("approved", Outcome.PASSED, f"{candidate.label} is Approved")
    return CheckResult(
        "approved",
        Outcome.FAILED,
        f"{candidate.label} is {status}, not Approved; a reviewer approves it with `aws "
        f"sagemaker update-model-package --model-package-arn {candidate.arn} "
        "--model-approval-status Approved`",
    )


def _read_evaluation(uri: str, candidate: Candidate, aws: AwsTarget) -> dict:
    bucket, key = split_uri(uri)
    body = aws.client("s3", candidate.region).get_object(Bucket=bucket, Key=key)["Body"].read()
    return json.loads(body)


def check_metrics(candidate: Candidate, target: ModelDeployment, aws: AwsTarget) -> CheckResult:
    """Does the package's evaluation meet the target's gate (the model's metric, the target's
    threshold)?"""
    layout = target.problem.layout
    statistics = (
        candidate.package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
    )
    uri = statistics.get("S3Uri")
    if not uri:
        return CheckResult(
            "metrics",
            Outcome.FAILED,
            f"{candidate.label} records no ModelMetrics.ModelQuality.Statistics; register it "
            "through the training pipeline, which attaches evaluation.json",
        )
    try:
        metrics = _read_evaluation(uri, candidate, aws)[layout]
    except (BotoCoreError, ClientError, StorageError, ValueError, KeyError, TypeError) as error:
        return CheckResult(
            "metrics",
            Outcome.FAILED,
            f"cannot read {layout} from {uri}: {error!r}; the gate needs them to compare "
            "with the threshold",
        )
    passed, text = _verdict(metrics, target, uri)
    return CheckResult("metrics", Outcome.PASSED if passed else Outcome.FAILED, text)


def _verdict(metrics: dict, target: ModelDeployment, uri: str) -> tuple[bool, str]:
    metric = target.model.gate_metric
    threshold = target.gate_threshold
    at_least = target.problem.gate_metrics[metric] == "at_least"
    value = (metrics.get(metric) or {}).get("value")
    if not isinstance(value, int | float):
        return False, f"{metric} is missing from {uri}"
    requirement = (
        f"{target.environment.name}'s gate ({'at least' if at_least else 'at most'} {threshold})"
    )
    if (value < threshold) if at_least else (value > threshold):
        return False, f"{metric} {value:.4f} does not meet {requirement}"
    return True, f"{metric} {value:.4f} meets {requirement}"


def monitors(deployment: ModelDeployment) -> bool:
    """Does the model run Model Monitor there (and so need the pinned package's baseline)?"""
    return deployment.monitoring.model_monitor.enabled and not deployment.serving.is_serverless


def check_baseline(candidate: Candidate, target: ModelDeployment, aws: AwsTarget) -> CheckResult:
    """Does the package carry the data-quality baseline the target's Model Monitor needs?"""
    folder = candidate.baseline_uri
    environment = target.environment.name
    if not monitors(target):
        detail = f"{environment} runs no Model Monitor for {target.name}"
        return CheckResult(
            "baseline", Outcome.PASSED, f"{detail}; pinned with it: {folder or 'none'}"
        )
    if target.monitoring.model_monitor.baseline_uri:
        return CheckResult(
            "baseline",
            Outcome.PASSED,
            f"{environment} monitors against its own monitoring.model_monitor.baseline_uri "
            f"{target.monitoring.model_monitor.baseline_uri}",
        )
    if folder is None:
        return CheckResult(
            "baseline",
            Outcome.FAILED,
            f"{candidate.label} records no DriftCheckBaselines.ModelDataQuality with "
            f"{BASELINE_STATISTICS_FILE} and {BASELINE_CONSTRAINTS_FILE} in one folder, and "
            f"{environment}'s Model Monitor needs them; register it through the training "
            "pipeline, which records preprocess.py's baseline",
        )
    s3 = aws.client("s3", candidate.region)
    for file in (BASELINE_STATISTICS_FILE, BASELINE_CONSTRAINTS_FILE):
        try:
            bucket, key = split_uri(folder + file)
            s3.head_object(Bucket=bucket, Key=key)
        except (BotoCoreError, ClientError, StorageError) as error:
            return CheckResult(
                "baseline",
                Outcome.FAILED,
                f"cannot read {folder}{file}, the baseline {candidate.label} records: "
                f"{error}; {environment}'s Model Monitor would fail on every run",
            )
    return CheckResult("baseline", Outcome.PASSED, f"{folder} holds the data-quality baseline")


def _served_packages(sagemaker, endpoint: dict) -> set[str]:
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    served = set()
    for variant in config.get("ProductionVariants", []):
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        containers = [model.get("PrimaryContainer", {}), *model.get("Containers", [])]
        served |= {c["ModelPackageName"] for c in containers if c.get("ModelPackageName")}
    return served


def check_served(candidate: Candidate, deployment: ModelDeployment, aws: AwsTarget) -> CheckResult:
    """Does the previous environment's endpoint of the model serve the candidate right now?"""
    name = deployment.endpoint_name
    previous = deployment.environment
    if aws.emulator is None:
        caller, why = aws.caller_account(previous.region)
        if caller is None:
            return CheckResult("served", Outcome.NOT_CHECKED, why)
        if caller != previous.account:
            return CheckResult(
                "served",
                Outcome.NOT_CHECKED,
                f"{name} is in {previous.name}'s account {previous.account} and these "
                f"credentials are for {caller}; promote with credentials of {previous.account} "
                "to check it",
            )
    sagemaker = aws.client("sagemaker", previous.region)
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
        served = _served_packages(sagemaker, endpoint)
    except ClientError as error:
        code = error.response["Error"].get("Code", "")
        message = error.response["Error"].get("Message", str(error))
        if code in UNCHECKABLE_CODES:
            return CheckResult("served", Outcome.NOT_CHECKED, f"{code}: {message}")
        return CheckResult(
            "served",
            Outcome.FAILED,
            f"{previous.name}'s endpoint {name} cannot be read ({message}): the candidate has "
            f"not been served there; deploy {previous.name} with it pinned first",
        )
    except BotoCoreError as error:
        return CheckResult("served", Outcome.NOT_CHECKED, f"{aws.label} unreachable: {error}")
    status = endpoint.get("EndpointStatus", "?")
    if candidate.arn.lower() not in {arn.lower() for arn in served}:
        return CheckResult(
            "served",
            Outcome.FAILED,
            f"{name} serves {', '.join(sorted(served)) or 'no model package'}, not "
            f"{candidate.arn}; deploy {previous.name} with the candidate pinned first",
        )
    if status in UNHEALTHY_ENDPOINT_STATES:
        return CheckResult(
            "served", Outcome.FAILED, f"{name} has the candidate but is {status}; fix it first"
        )
    return CheckResult("served", Outcome.PASSED, f"{name} serves it ({status})")


def run_checks(
    candidate: Candidate, previous: ModelDeployment, target: ModelDeployment, aws: AwsTarget
) -> list[CheckResult]:
    return [
        check_approved(candidate),
        check_metrics(candidate, target, aws),
        check_baseline(candidate, target, aws),
        check_served(candidate, previous, aws),
    ]
