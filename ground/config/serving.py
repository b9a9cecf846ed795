"""The `serving` section: which model package to serve, and how."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from ground.config.base import Section
from ground.config.values import (
    EndpointInstanceType,
    S3Folder,
    ScheduleExpression,
    TransformInstanceType,
)

PACKAGE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(?P<version>[1-9]\d*)$"
)
GROUP_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
LOG_RETENTION_DAYS = Literal[7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653]


def _group(pattern: re.Pattern[str], text: str, name: str) -> str:
    """A named group of a match the validators already guaranteed."""
    match = pattern.match(text)
    if match is None:
        raise ValueError(f"{text!r} does not match {pattern.pattern}")
    return match[name]


class ModelPin(Section):
    """The model package version an environment serves: group and version, or its ARN.

    `{group, version}` names a package in this environment's own account and region. A package
    registered in another account (promotion from dev's registry) is pinned by its ARN. Either
    way the group is the model's registry group of some environment,
    `sagestack-<environment>-<model>`, so the stacks know whose artifacts bucket holds the
    model data without looking anything up (checked where the model is known, in
    ground/config/deployment.py).

    `baseline_uri` is the package's data-quality baseline (its DriftCheckBaselines, the
    baseline/ folder preprocess.py wrote in the training run): what Model Monitor compares the
    endpoint's traffic with. `sagestack promote` copies it into the pin with the ARN.
    """

    group: str | None = Field(default=None, pattern=GROUP_NAME)
    version: int | None = Field(default=None, ge=1)
    arn: str | None = Field(
        default=None,
        description="arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>",
    )
    baseline_uri: S3Folder | None = Field(
        default=None, description="Folder of the package's statistics.json and constraints.json."
    )

    @model_validator(mode="after")
    def _one_form(self) -> ModelPin:
        if self.arn and (self.group or self.version):
            raise ValueError("give either arn, or group and version, not both")
        if not self.arn and not (self.group and self.version):
            raise ValueError("give both group and version (or an arn)")
        if self.arn and not PACKAGE_ARN.match(self.arn):
            raise ValueError(
                f"arn '{self.arn}' is not a versioned model package ARN "
                "(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
            )
        return self

    def _arn_part(self, part: str) -> str:
        return _group(PACKAGE_ARN, str(self.arn), part)

    @property
    def group_name(self) -> str:
        return self._arn_part("group") if self.arn else str(self.group)

    def source_account(self, own_account: str) -> str:
        return self._arn_part("account") if self.arn else own_account

    def source_region(self, own_region: str) -> str:
        return self._arn_part("region") if self.arn else own_region

    def package_arn(self, partition: str, region: str, account: str) -> str:
        """The pinned package's ARN; a group/version pin resolves in the given account."""
        if self.arn is not None:
            return self.arn
        package = f"model-package/{self.group}/{self.version}"
        return f"arn:{partition}:sagemaker:{region}:{account}:{package}"


class ServerlessVariant(Section):
    """A serverless variant: no instances, no cost when idle (no VPC, no data capture)."""

    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: int = Field(default=5, ge=1, le=200)


class InstanceVariant(Section):
    instance_type: EndpointInstanceType = "ml.m5.large"
    initial_count: int = Field(default=1, ge=1)


class AutoscalingConfig(Section):
    """Target tracking on SageMakerVariantInvocationsPerInstance (invocations per minute).

    The default target (45,000 per minute) is derived from the measured local throughput of
    the model for ml.m5.large, the default instance type: 765 one-row requests/s per worker
    x 2 vCPUs x 60 s x 0.5 safety factor, rounded down. See bench/autoscaling_target.py and
    its section in bench/README.md; set it per environment for other instance types.
    """

    min_capacity: int = Field(default=1, ge=1)
    max_capacity: int = Field(default=4, ge=1)
    target_invocations_per_instance: int = Field(
        default=45000,
        ge=1,
        description="Invocations per instance per minute the policy holds each instance at.",
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0)

    @model_validator(mode="after")
    def _min_le_max(self) -> AutoscalingConfig:
        if self.min_capacity > self.max_capacity:
            raise ValueError(
                f"min_capacity ({self.min_capacity}) is greater than "
                f"max_capacity ({self.max_capacity})"
            )
        return self


class GuardrailsConfig(Section):
    """Blue/green deployment with canary traffic shifting and automatic rollback on alarms."""

    enabled: bool = False
    canary_percent: int = Field(default=10, ge=1, le=50)
    canary_wait_seconds: int = Field(default=600, ge=0, le=3600)
    termination_wait_seconds: int = Field(default=600, ge=0, le=3600)
    max_execution_seconds: int = Field(
        default=3600,
        ge=600,
        le=14400,
        description="SageMaker stops (and rolls back) a deployment that runs longer.",
    )

    @model_validator(mode="after")
    def _timeout_covers_waits(self) -> GuardrailsConfig:
        waits = self.canary_wait_seconds + self.termination_wait_seconds
        if self.max_execution_seconds <= waits:
            raise ValueError(
                f"max_execution_seconds ({self.max_execution_seconds}) must exceed "
                f"canary_wait_seconds + termination_wait_seconds ({waits})"
            )
        return self


class BatchTransformConfig(Section):
    """The batch inference pipeline: CSV rows in, `probability,label` rows out."""

    instance_type: TransformInstanceType = "ml.m5.large"
    instance_count: int = Field(default=1, ge=1, le=20)
    max_payload_mb: int = Field(default=6, ge=1, le=100)
    schedule: ScheduleExpression | None = Field(
        default=None, description="EventBridge schedule expression; null runs it on demand only."
    )


class ServingConfig(Section):
    model: ModelPin | None = None
    variant_name: str = Field(default="primary", pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    serverless: ServerlessVariant | None = None
    instance: InstanceVariant | None = None
    autoscaling: AutoscalingConfig = AutoscalingConfig()
    guardrails: GuardrailsConfig = GuardrailsConfig()
    data_capture_percent: int = Field(default=20, ge=1, le=100)
    batch_transform: BatchTransformConfig = BatchTransformConfig()
    log_retention_days: LOG_RETENTION_DAYS = 365

    @model_validator(mode="after")
    def _one_variant_kind(self) -> ServingConfig:
        if self.serverless and self.instance:
            raise ValueError("choose serverless or instance, not both")
        if self.model and not (self.serverless or self.instance):
            raise ValueError("a pinned model needs a serverless or instance variant")
        if self.serverless:
            self._nothing_instance_only_is_set()
        if self.instance:
            scaling = self.autoscaling
            if not scaling.min_capacity <= self.instance.initial_count <= scaling.max_capacity:
                raise ValueError(
                    f"instance.initial_count ({self.instance.initial_count}) is outside "
                    f"autoscaling.min_capacity..max_capacity "
                    f"({scaling.min_capacity}..{scaling.max_capacity})"
                )
        return self

    def _nothing_instance_only_is_set(self) -> None:
        """Serverless endpoints have no capture, instances or traffic shifting: say so."""
        reasons = {
            "data_capture_percent": "serverless endpoints cannot capture data",
            "autoscaling": "serverless endpoints scale by serverless.max_concurrency",
        }
        for key, reason in reasons.items():
            if key in self.model_fields_set:
                raise ValueError(f"{key} is set but {reason}; remove it or use an instance variant")
        if self.guardrails.enabled:
            raise ValueError(
                "guardrails.enabled needs an instance variant: serverless endpoints do not "
                "shift canary traffic"
            )

    @property
    def is_serverless(self) -> bool:
        return self.serverless is not None
