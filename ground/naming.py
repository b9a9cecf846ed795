"""Physical names of what the platform creates, in one place, so stacks and tools agree, and
the length limits AWS puts on them.

Every model's names start with its prefix `sagestack-<environment>-<model>`: with environment
and model names of at most 16 characters each, the longest prefix is 43 characters, and every
suffix below keeps its name within its limit (`length_problems` checks it for each model).
"""

from __future__ import annotations

TRAINING = "training"
TUNING = "tuning"
PIPELINE_KINDS = (TRAINING, TUNING)
BATCH_TRANSFORM = "batch-transform"
SERVERLESS = "serverless"
# Suffixes of a model's role names (IAM role names: at most 64 characters).
ROLE_SUFFIXES = (
    "-training-processing",
    "-training-pipeline",
    "-training-trigger",
    "-training-alerts",
    "-training-job",
    "-batch-transform",
    "-batch-schedule",
    "-data-quality",
    "-model-quality",
    "-retrain",
    "-model",
)
# (what, longest suffix after the model prefix, limit) for the names that are tight.
NAME_LIMITS = (
    ("IAM role", max(ROLE_SUFFIXES, key=len), 64),
    ("monitoring schedule", "-model-quality", 63),
    ("EventBridge rule", "-dq-violations", 64),
    ("model package group", "", 63),
    ("pipeline", f"-{BATCH_TRANSFORM}", 256),
)


# A model's stacks in its environment's stage, by construct id `<model>-<kind>`.
MODEL_STACKS = ("training", "serving", "monitoring")


def model_stack_id(model: str, kind: str) -> str:
    return f"{model}-{kind}"


def model_of_stack_id(stack_id: str) -> str | None:
    """The model a stack belongs to (`cancer-serving` -> `cancer`); None for shared stacks."""
    for kind in MODEL_STACKS:
        if stack_id.endswith(f"-{kind}"):
            return stack_id.removesuffix(f"-{kind}")
    return None


def model_prefix(environment_prefix: str, model: str) -> str:
    """`sagestack-dev` + `churn` -> `sagestack-dev-churn`."""
    return f"{environment_prefix}-{model}"


def pipeline_name(prefix: str, kind: str) -> str:
    """`sagestack-dev-churn` + `tuning` -> `sagestack-dev-churn-tuning`."""
    return f"{prefix}-{kind}"


def pipeline_kind(name: str) -> str | None:
    """`sagestack-dev-churn-tuning` -> `tuning`; None for pipelines that do not train."""
    return next((kind for kind in PIPELINE_KINDS if name.endswith(f"-{kind}")), None)


def instance_slug(instance_type: str) -> str:
    """`ml.m5.xlarge` -> `m5-xlarge`: an instance type as a name part."""
    return instance_type.removeprefix("ml.").replace(".", "-")


def endpoint_name(prefix: str, instance_type: str | None) -> str:
    """`<prefix>-serverless`, or `<prefix>-<instance slug>` on instances (`...-m5-large`).

    UpdateEndpoint fails when it changes the instance type of a variant registered for
    autoscaling (developer guide, "Update endpoints that use auto scaling"), and an
    instance-based endpoint cannot become serverless ("Serverless Inference", exclusions).
    Naming the endpoint after its hardware turns either change into a new endpoint, with a
    new scalable target, that CloudFormation creates before deleting the old one: one deploy.
    """
    return f"{prefix}-{instance_slug(instance_type) if instance_type else SERVERLESS}"


def endpoint_name_parameter(prefix: str) -> str:
    """The SSM parameter holding the model's current endpoint name, `/<prefix>/endpoint-name`."""
    return f"/{prefix}/endpoint-name"


def length_problems(prefix: str, endpoint: str) -> list[str]:
    """The names of this model that would be longer than AWS allows (none: all fit)."""
    problems = [
        f"the {what} name {prefix}{suffix} is longer than {limit} characters"
        for what, suffix, limit in NAME_LIMITS
        if len(prefix + suffix) > limit
    ]
    if len(endpoint) > 63:
        problems.append(f"the endpoint name {endpoint} is longer than 63 characters")
    return problems


# A model's Model Monitor schedules, by kind: `<prefix>-<kind>`, with rules and alarms
# `<prefix>-<short>-violations` and `<prefix>-<short>-failed`.
DATA_QUALITY = "data-quality"
MODEL_QUALITY = "model-quality"
MONITOR_SHORT_NAMES = {DATA_QUALITY: "dq", MODEL_QUALITY: "mq"}


def monitor_rule_name(prefix: str, kind: str, outcome: str) -> str:
    """`<prefix>`, `data-quality`, `violations` -> `<prefix>-dq-violations`."""
    return f"{prefix}-{MONITOR_SHORT_NAMES[kind]}-{outcome}"


def new_data_rule_name(prefix: str) -> str:
    """The rule that matches new raw data of a model (a retraining signal)."""
    return f"{prefix}-new-data"
