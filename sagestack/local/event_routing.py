"""What EventBridge and CloudWatch do with an event, done with the deployed rules and alarms.

An event (a monitoring job's state change) goes to every rule of the default bus whose pattern
matches it (EventBridge's TestEventPattern, on the emulator); each match is counted in
`AWS/Events MatchedEvents` for the rule, as EventBridge publishes it. An alarm over those
counts is evaluated at the event's time: it goes into ALARM when its last period holds a match
and it was not already in ALARM, that is, when no earlier match fell within the period (with
`notBreaching` missing data, an alarm returns to OK after a whole period without matches). A
change into ALARM is itself an event ("CloudWatch Alarm State Change") routed the same way.
What reaches a SageMaker pipeline target comes back as a PipelineStart (ARN, role,
parameters) for the caller to run, as EventBridge would start it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

EVENTS_NAMESPACE = "AWS/Events"
MATCHED = "MatchedEvents"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


@dataclass(frozen=True)
class PipelineStart:
    """A SageMaker pipeline target reached by an event: what EventBridge would start."""

    rule: str
    pipeline_arn: str
    role_arn: str | None
    parameters: dict[str, str]

    @property
    def pipeline_name(self) -> str:
        return self.pipeline_arn.rsplit("/", 1)[1]


@dataclass
class Routing:
    """What an event did: the rules it matched, the alarms that went into ALARM, the
    alarms that were already there (the guard holding), and the pipelines to start."""

    matched: list[str] = field(default_factory=list)
    alarmed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    starts: list[PipelineStart] = field(default_factory=list)


def event(
    source: str,
    detail_type: str,
    detail: dict,
    at: datetime,
    account: str,
    region: str,
    resources: list[str] | None = None,
) -> dict[str, Any]:
    """An event as EventBridge delivers it."""
    return {
        "version": "0",
        "id": f"local-{at.timestamp():.0f}",
        "source": source,
        "detail-type": detail_type,
        "account": account,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": resources or [],
        "detail": detail,
    }


class EventRouter:
    """Routes events through the rules and alarms deployed on the emulator."""

    def __init__(self, events: Any, cloudwatch: Any) -> None:
        self.events = events
        self.cloudwatch = cloudwatch

    def route(self, sent: dict[str, Any], at: datetime, routing: Routing | None = None) -> Routing:
        routing = routing or Routing()
        for rule in self._rules():
            pattern = rule.get("EventPattern")
            if not pattern or rule.get("State", "ENABLED") != "ENABLED":
                continue
            matches = self.events.test_event_pattern(EventPattern=pattern, Event=json.dumps(sent))
            if not matches["Result"]:
                continue
            routing.matched.append(rule["Name"])
            self._count(rule["Name"], at)
            routing.starts += self._pipeline_targets(rule["Name"])
            self._evaluate_alarms(rule["Name"], at, sent, routing)
        return routing

    def _rules(self) -> list[dict[str, Any]]:
        paginator = self.events.get_paginator("list_rules")
        return [rule for page in paginator.paginate() for rule in page["Rules"]]

    def _count(self, rule: str, at: datetime) -> None:
        self.cloudwatch.put_metric_data(
            Namespace=EVENTS_NAMESPACE,
            MetricData=[
                {
                    "MetricName": MATCHED,
                    "Dimensions": [{"Name": "RuleName", "Value": rule}],
                    "Timestamp": at,
                    "Value": 1.0,
                    "Unit": "Count",
                }
            ],
        )

    def _pipeline_targets(self, rule: str) -> list[PipelineStart]:
        targets = self.events.list_targets_by_rule(Rule=rule)["Targets"]
        return [
            PipelineStart(
                rule,
                target["Arn"],
                target.get("RoleArn"),
                {
                    p["Name"]: p["Value"]
                    for p in target.get("SageMakerPipelineParameters", {}).get(
                        "PipelineParameterList", []
                    )
                },
            )
            for target in targets
            if ":pipeline/" in target["Arn"]
        ]

    def _evaluate_alarms(self, rule: str, at: datetime, sent: dict, routing: Routing) -> None:
        for alarm in self.cloudwatch.describe_alarms()["MetricAlarms"]:
            periods = _rule_periods(alarm)
            if rule not in periods:
                continue
            period = timedelta(seconds=periods[rule])
            earlier = sum(self._matches(name, at - period, at) for name in periods) - 1
            if earlier > 0:  # a match within the period: the alarm is in ALARM already
                routing.held.append(alarm["AlarmName"])
                continue
            self.cloudwatch.set_alarm_state(
                AlarmName=alarm["AlarmName"],
                StateValue="ALARM",
                StateReason=f"{rule} matched {sent['detail-type']} at {sent['time']}",
            )
            routing.alarmed.append(alarm["AlarmName"])
            change = event(
                "aws.cloudwatch",
                ALARM_STATE_CHANGE,
                {
                    "alarmName": alarm["AlarmName"],
                    "state": {"value": "ALARM", "reason": f"{rule} matched"},
                    "previousState": {"value": "OK"},
                },
                at,
                sent["account"],
                sent["region"],
                [alarm["AlarmArn"]],
            )
            self.route(change, at, routing)

    def _matches(self, rule: str, start: datetime, end: datetime) -> float:
        """Matches of `rule` counted in (start, end]."""
        answer = self.cloudwatch.get_metric_statistics(
            Namespace=EVENTS_NAMESPACE,
            MetricName=MATCHED,
            Dimensions=[{"Name": "RuleName", "Value": rule}],
            StartTime=start + timedelta(seconds=1),
            EndTime=end + timedelta(seconds=1),
            Period=max(60, int((end - start).total_seconds())),
            Statistics=["Sum"],
        )
        return float(sum(point["Sum"] for point in answer["Datapoints"]))


def _rule_periods(alarm: dict[str, Any]) -> dict[str, int]:
    """The rules whose MatchedEvents `alarm` watches, with the period of each."""
    found: dict[str, int] = {}
    stats = [q["MetricStat"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
    if alarm.get("MetricName"):
        stats.append(
            {
                "Metric": {
                    "Namespace": alarm.get("Namespace"),
                    "MetricName": alarm["MetricName"],
                    "Dimensions": alarm.get("Dimensions", []),
                },
                "Period": alarm.get("Period"),
            }
        )
    for stat in stats:
        metric = stat["Metric"]
        if metric.get("Namespace") != EVENTS_NAMESPACE or metric.get("MetricName") != MATCHED:
            continue
        for dimension in metric.get("Dimensions", []):
            if dimension["Name"] == "RuleName":
                found[dimension["Value"]] = int(stat["Period"])
    return found
