"""Finding a model's monitoring schedule (and its job definition) by name in a template."""

from __future__ import annotations

from tests.serving.pinned import resources


def schedule_id_named(template: dict, name: str) -> str:
    (logical_id,) = (
        logical_id
        for logical_id, schedule in resources(
            template, "AWS::SageMaker::MonitoringSchedule"
        ).items()
        if schedule["Properties"]["MonitoringScheduleName"] == name
    )
    return logical_id


def schedule_named(template: dict, name: str) -> dict:
    return template["Resources"][schedule_id_named(template, name)]["Properties"]
