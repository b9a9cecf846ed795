"""Physical names of what the platform creates, in one place, so stacks and tools agree."""

from __future__ import annotations

TRAINING = "training"
TUNING = "tuning"
PIPELINE_KINDS = (TRAINING, TUNING)


def pipeline_name(name_prefix: str, kind: str) -> str:
    """`sagestack-dev` + `tuning` -> `sagestack-dev-tuning`."""
    return f"{name_prefix}-{kind}"


def pipeline_kind(name: str) -> str | None:
    """`sagestack-dev-tuning` -> `tuning`; None for pipelines that do not train."""
    return next((kind for kind in PIPELINE_KINDS if name.endswith(f"-{kind}")), None)


def instance_slug(instance_type: str) -> str:
    """`ml.m5.xlarge` -> `m5-xlarge`: an instance type as a name part."""
    return instance_type.removeprefix("ml.").replace(".", "-")


def endpoint_name(name_prefix: str, instance_type: str | None) -> str:
    """`<prefix>-endpoint` when serverless, `<prefix>-endpoint-<instance slug>` on instances.

    UpdateEndpoint fails when it changes the instance type of a variant registered for
    autoscaling (developer guide, "Update endpoints that use auto scaling"), and an
    instance-based endpoint cannot become serverless ("Serverless Inference", exclusions).
    Naming the endpoint after its hardware turns either change into a new endpoint, with a
    new scalable target, that CloudFormation creates before deleting the old one: one deploy.
    """
    base = f"{name_prefix}-endpoint"
    return f"{base}-{instance_slug(instance_type)}" if instance_type else base


def endpoint_name_parameter(name_prefix: str) -> str:
    """The SSM parameter holding the current endpoint name, e.g. `/sagestack-dev/endpoint-name`."""
    return f"/{name_prefix}/endpoint-name"
