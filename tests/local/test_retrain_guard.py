"""The retraining guard as deployed: the RetrainGuard construct and a violations rule,
synthesized in a bare stack under the compliance packs, created in the emulator by
CloudFormation, and driven by events through the deployed rules and alarm (event_routing).

At most `max_runs` starts per window: a signal starts retraining only after a whole period
(window / max_runs) without signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns

from ground.config.training import RetrainGuard as RetrainGuardConfig
from ml_constructs.retrain_guard import RetrainGuard
from sagestack.local import emulator
from sagestack.local.event_routing import EventRouter, event
from tests.inprocess import compliant_stack

PREFIX = "sagestack-dev-cancer"
SIGNAL = f"{PREFIX}-dq-violations"
PIPELINE = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/sagestack-dev-cancer-training"
SCHEDULE = "arn:aws:sagemaker:eu-west-1:123456789012:monitoring-schedule/x"
T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _template(outdir: str) -> dict:
    application, stack = compliant_stack(outdir, "guard")
    events.Rule(
        stack,
        "Violations",
        rule_name=SIGNAL,
        event_pattern=events.EventPattern(
            source=["aws.sagemaker"],
            detail_type=["SageMaker Processing Job State Change"],
            detail={
                "ProcessingJobStatus": ["Completed"],
                "ExitMessage": [{"prefix": "CompletedWithViolations"}],
                "MonitoringScheduleArn": [SCHEDULE],
            },
        ),
    )
    RetrainGuard(
        stack,
        "Guard",
        prefix=PREFIX,
        signal_rules=[SIGNAL],
        config=RetrainGuardConfig(max_runs=2, window_hours=24),
        pipeline_arn=PIPELINE,
        parameters={"InputDataUrl": "s3://raw/raw/cancer/"},
        topic=sns.Topic.from_topic_arn(
            stack, "Alerts", "arn:aws:sns:eu-west-1:123456789012:sagestack-dev-alerts"
        ),
    )
    template = dict(application.synth().get_stack_by_name("guard").template)
    for bootstrap_check in ("Parameters", "Rules"):  # the CDK bootstrap's version check
        template.pop(bootstrap_check, None)
    return template


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory):
    import json

    template = _template(str(tmp_path_factory.mktemp("guard-out")))
    with emulator.running(Path(tmp_path_factory.mktemp("guard-emulator"))) as server:
        cloudformation = server.client("cloudformation", "eu-west-1")
        cloudformation.create_stack(
            StackName="guard",
            TemplateBody=json.dumps(template),
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        status = cloudformation.describe_stacks(StackName="guard")["Stacks"][0]["StackStatus"]
        assert status == "CREATE_COMPLETE"
        yield EventRouter(
            server.client("events", "eu-west-1"), server.client("cloudwatch", "eu-west-1")
        )


def _violations(at: datetime, message: str = "CompletedWithViolations: 2 violation(s)") -> dict:
    detail = {
        "ProcessingJobStatus": "Completed",
        "ExitMessage": message,
        "MonitoringScheduleArn": SCHEDULE,
    }
    return event(
        "aws.sagemaker",
        "SageMaker Processing Job State Change",
        detail,
        at,
        "123456789012",
        "eu-west-1",
    )


def test_signals_start_at_most_max_runs_per_window(router: EventRouter) -> None:
    clean = router.route(_violations(T0 - timedelta(hours=1), "Completed: no violations"), T0)
    assert clean.matched == [] and clean.starts == []

    first = router.route(_violations(T0), T0)
    assert first.matched == [SIGNAL, f"{PREFIX}-retrain"]
    assert first.alarmed == [f"{PREFIX}-retrain-guard"]
    (start,) = first.starts
    assert start.pipeline_arn == PIPELINE
    assert start.parameters == {"InputDataUrl": "s3://raw/raw/cancer/"}
    assert start.role_arn and start.role_arn.endswith(f"role/{PREFIX}-retrain")

    # Signals every hour for the next 11 hours: the alarm stays in ALARM, nothing starts.
    for hour in range(1, 12):
        held = router.route(_violations(T0 + timedelta(hours=hour)), T0 + timedelta(hours=hour))
        assert held.starts == [] and held.held == [f"{PREFIX}-retrain-guard"], hour

    # 12 h (window 24 h / 2 runs) after the last signal, the alarm was back to OK: a new start.
    later = T0 + timedelta(hours=11 + 12, minutes=1)
    again = router.route(_violations(later), later)
    assert len(again.starts) == 1
