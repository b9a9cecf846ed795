"""Retraining on signals, at most N runs per window: an alarm between the signals and the
pipeline.

The signals are EventBridge rules (new raw data, Model Monitor violations), named, that need no
target: EventBridge counts each rule's matches in `AWS/Events MatchedEvents`. An alarm sums them
over a period of window / N and goes into ALARM when a period holds any signal; a rule on the
alarm's change into ALARM starts the pipeline. The alarm only goes into ALARM again after a
whole period without signals, so starts are at least one period apart: at most N per window,
however many signals arrive. The retrained package lands as PendingManualApproval (the
pipeline's RegisterModel step): promotion stays a human, reviewed step.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from ground.config.training import RetrainGuard as RetrainGuardConfig
from ml_constructs.platform_role import PlatformRole
from ml_constructs.role_target import RoleTarget

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


def signal_metric(rule_name: str, period: Duration) -> cloudwatch.Metric:
    """How many events `rule_name` matched per period (published with or without a target)."""
    return cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name="MatchedEvents",
        dimensions_map={"RuleName": rule_name},
        statistic="Sum",
        period=period,
        label=rule_name,
    )


class RetrainGuard(Construct):
    """`<prefix>-retrain-guard` alarm over `signal_rules`, and the `<prefix>-retrain` rule that
    starts `pipeline_arn` with `parameters` when the alarm goes into ALARM (and tells `topic`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        signal_rules: list[str],
        config: RetrainGuardConfig,
        pipeline_arn: str,
        parameters: dict[str, str],
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        period = Duration.seconds(config.period_seconds)
        metrics = {f"s{i}": signal_metric(name, period) for i, name in enumerate(signal_rules)}
        # FILL: a rule with no match in a period publishes nothing, and a sum with a missing
        # term would be missing too.
        signals = cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({key}, 0)" for key in metrics),
            using_metrics=metrics,
            period=period,
            label="retraining signals",
        )
        self.alarm_name = f"{prefix}-retrain-guard"
        self.alarm = signals.create_alarm(
            self,
            "Alarm",
            alarm_name=self.alarm_name,
            alarm_description=(
                f"Retraining signals of {prefix} ({', '.join(signal_rules)}): going into ALARM "
                f"starts retraining; at most {config.max_runs} run(s) per {config.window_hours} h"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        # The team hears of every retraining the guard lets through.
        self.alarm.add_alarm_action(actions.SnsAction(topic))
        role = PlatformRole(
            self,
            "Role",
            role_name=f"{prefix}-retrain",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"EventBridge: starts {prefix}'s retraining when its guard alarm fires",
        )
        role.allow(["sagemaker:StartPipelineExecution"], [pipeline_arn])
        self.rule_name = f"{prefix}-retrain"
        rule = events.Rule(
            self,
            "Rule",
            rule_name=self.rule_name,
            description=f"Retrains {prefix} when {self.alarm_name} goes into ALARM",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=[ALARM_STATE_CHANGE],
                resources=[self.alarm.alarm_arn],
                detail={"state": {"value": ["ALARM"]}},
            ),
            targets=[RoleTarget(pipeline_arn, role.immutable)],
        )
        # The L2 target config has no SageMaker pipeline parameters: set them on the L1 rule.
        cfn_rule = rule.node.default_child
        assert isinstance(cfn_rule, events.CfnRule)
        cfn_rule.add_property_override(
            "Targets.0.SageMakerPipelineParameters",
            {
                "PipelineParameterList": [
                    {"Name": name, "Value": value} for name, value in sorted(parameters.items())
                ]
            },
        )
