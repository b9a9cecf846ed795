"""The emulator's monitoring loop: Model Monitor and alarm resources from CloudFormation,
and EventBridge's TestEventPattern.

moto's SageMaker API has data- and model-quality job definitions but its CloudFormation engine
skips them; it has no monitoring schedules at all; its CloudWatch API has alarms that its
engine skips. The monitoring loop runs on what was deployed (`sagestack local monitor run`
reads the schedule, its job definition and the guard alarm back), so these models create them
from the templates, and DescribeMonitoringSchedule / ListMonitoringSchedules answer for the
schedules. moto's EventBridge has no TestEventPattern (the local loop asks it which deployed
rules an event matches): it answers here with moto's own pattern matcher, the one its PutEvents
uses. Importing this module registers the models (moto finds them by subclassing);
`add_monitoring_apis` adds the API actions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.events.models import EventPattern
from moto.events.responses import EventsHandler
from moto.sagemaker.exceptions import ResourceNotFound
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from sagestack.local.emulator_resources import EmulatedResource


def _pascal_to_snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class _JobDefinition(EmulatedResource):
    """A Model Monitor job definition created through moto's own API; `Ref` and the ARN
    attribute give its ARN (CloudFormation's JobDefinitionArn), as the schedule reads it."""

    KIND: ClassVar[str]  # data_quality | model_quality: moto's method names
    NAME_PROPERTY = "JobDefinitionName"
    REF = "arn"
    ATTRIBUTES = (("JobDefinitionArn", "arn"),)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = dict(cloudformation_json["Properties"])
        properties.pop("EndpointName", None)
        name = properties.pop("JobDefinitionName", resource_name)[:63]
        arguments = {_pascal_to_snake(key): value for key, value in properties.items()}
        arguments.setdefault("tags", [])
        backend = sagemaker_backends[account_id][region_name]
        create = getattr(backend, f"create_{cls.KIND}_job_definition")
        if cls.KIND == "data_quality":
            arguments["account_id"] = account_id
        else:
            arguments.setdefault("model_quality_baseline_config", None)
            arguments.setdefault("network_config", None)
            arguments.setdefault("stopping_condition", None)
        created = create(job_definition_name=name, **arguments)
        arn = created["JobDefinitionArn"] if isinstance(created, dict) else created
        return cls(name, arn)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        backend = sagemaker_backends[account_id][region_name]
        definitions = getattr(backend, f"{cls.KIND}_job_definitions")
        definitions.pop(resource_name.rsplit("/", 1)[-1], None)


class EmulatedDataQualityJobDefinition(_JobDefinition, CloudFormationModel):
    CFN_TYPE = "AWS::SageMaker::DataQualityJobDefinition"
    KIND = "data_quality"


class EmulatedModelQualityJobDefinition(_JobDefinition, CloudFormationModel):
    CFN_TYPE = "AWS::SageMaker::ModelQualityJobDefinition"
    KIND = "model_quality"


@dataclass
class MonitoringSchedule:
    """What DescribeMonitoringSchedule answers, from the template's properties."""

    name: str
    arn: str
    endpoint_name: str | None
    config: dict[str, Any]
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "MonitoringScheduleArn": self.arn,
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": self.config.get("MonitoringType", "DataQuality"),
            "CreationTime": self.created.isoformat(),
            "LastModifiedTime": self.created.isoformat(),
            "MonitoringScheduleConfig": self.config,
        }
        if self.endpoint_name:
            described["EndpointName"] = self.endpoint_name
        return described


_SCHEDULES: dict[tuple[str, str], dict[str, MonitoringSchedule]] = {}


def schedules(account_id: str, region_name: str) -> dict[str, MonitoringSchedule]:
    """The monitoring schedules of one account and region, by name."""
    return _SCHEDULES.setdefault((account_id, region_name), {})


class EmulatedMonitoringSchedule(EmulatedResource, CloudFormationModel):
    """`AWS::SageMaker::MonitoringSchedule`; `Ref` and MonitoringScheduleArn give its ARN."""

    CFN_TYPE = "AWS::SageMaker::MonitoringSchedule"
    NAME_PROPERTY = "MonitoringScheduleName"
    REF = "arn"
    ATTRIBUTES = (("MonitoringScheduleArn", "arn"),)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedMonitoringSchedule:
        properties = cloudformation_json["Properties"]
        name = cls.name_in(cloudformation_json, resource_name)
        arn = f"arn:aws:sagemaker:{region_name}:{account_id}:monitoring-schedule/{name.lower()}"
        schedules(account_id, region_name)[name] = MonitoringSchedule(
            name, arn, properties.get("EndpointName"), properties["MonitoringScheduleConfig"]
        )
        return cls(name, arn)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        schedules(account_id, region_name).pop(
            cls.name_in(cloudformation_json, resource_name), None
        )


def _describe_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("MonitoringScheduleName")
    schedule = schedules(self.current_account, self.region).get(name)
    if schedule is None:
        raise ResourceNotFound(message=f"Monitoring schedule {name} does not exist")
    return ActionResult(schedule.describe())


def _list_monitoring_schedules(self: SageMakerResponse) -> ActionResult:
    endpoint = self._get_param("EndpointName")
    summaries = [
        {
            key: value
            for key, value in schedule.describe().items()
            if key != "MonitoringScheduleConfig"
        }
        for schedule in schedules(self.current_account, self.region).values()
        if endpoint is None or schedule.endpoint_name == endpoint
    ]
    return ActionResult({"MonitoringScheduleSummaries": summaries})


def _test_event_pattern(self: EventsHandler) -> tuple[str, dict[str, str]]:
    pattern = EventPattern.load(self._get_param("EventPattern"))
    matched = pattern.matches_event(json.loads(self._get_param("Event")))
    return json.dumps({"Result": matched}), self.response_headers


def add_monitoring_apis() -> None:
    # moto dispatches an action to the response method of its snake_case name.
    setattr(EventsHandler, "test_event_pattern", _test_event_pattern)  # noqa: B010
    setattr(SageMakerResponse, "describe_monitoring_schedule", _describe_monitoring_schedule)  # noqa: B010
    setattr(SageMakerResponse, "list_monitoring_schedules", _list_monitoring_schedules)  # noqa: B010


def _metric_query(query: dict[str, Any]) -> MetricDataQuery:
    stat = query.get("MetricStat")
    metric_stat = None
    if stat:
        metric = stat["Metric"]
        metric_stat = MetricStat(
            metric=Metric(
                metric_name=metric["MetricName"],
                namespace=metric.get("Namespace"),
                dimensions=[Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])],
            ),
            period=stat.get("Period"),
            stat=stat.get("Stat"),
            unit=stat.get("Unit"),
        )
    return MetricDataQuery(
        query_id=query["Id"],
        label=query.get("Label", ""),
        period=query.get("Period"),  # type: ignore[arg-type]  # moto's API passes None too
        return_data=str(query.get("ReturnData", True)).lower(),
        expression=query.get("Expression"),
        metric_stat=metric_stat,
    )


class EmulatedAlarm(EmulatedResource, CloudFormationModel):
    """`AWS::CloudWatch::Alarm` through moto's PutMetricAlarm; `Ref` gives its name."""

    CFN_TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = (("Arn", "arn"),)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedAlarm:
        p = cloudformation_json["Properties"]
        name = cls.name_in(cloudformation_json, resource_name)
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=p.get("Period"),
            threshold=float(p.get("Threshold", 0)),
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription", ""),
            dimensions=list(p.get("Dimensions", [])),
            alarm_actions=list(p.get("AlarmActions", [])),
            metric_data_queries=[_metric_query(q) for q in p.get("Metrics", [])] or None,
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            ok_actions=list(p.get("OKActions", [])),
            insufficient_data_actions=list(p.get("InsufficientDataActions", [])),
            treat_missing_data=p.get("TreatMissingData"),
        )
        return cls(name, alarm.alarm_arn)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        name = cls.name_in(cloudformation_json, resource_name)
        cloudwatch_backends[account_id][region_name].delete_alarms([name])
