"""A model's monitoring resources in a template: schedules by name, a role's statements and
the S3 objects they grant."""

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


def role_statements(template: dict, policy_name: str) -> list[dict]:
    """The statements of the managed policy `policy_name` (a PlatformRole's, named as its role)."""
    return [
        statement
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values()
        if policy["Properties"]["ManagedPolicyName"] == policy_name
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def object_grants(statements: list[dict]) -> dict[str, object]:
    """S3 object ARNs (with a key part) -> the actions granted on them."""
    return {
        resource: statement["Action"]
        for statement in statements
        for resource in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if isinstance(resource, str) and resource.startswith("arn:aws:s3:::") and "/" in resource
    }
