"""What every SageMaker job of a pipeline shares: security settings, retries and caching."""

from __future__ import annotations

from dataclasses import dataclass

from ground.pipeline.expressions import Value

THROTTLING_ERRORS = ("Step.THROTTLING", "Step.SERVICE_FAULT")
CAPACITY_ERRORS = ("SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT")


@dataclass(frozen=True)
class JobSecurity:
    """KMS key, subnets and security groups: a job step cannot be built without them.

    Network isolation and inter-container traffic encryption are always on; the only
    way to turn them off would be to change the step builders themselves.
    """

    kms_key_id: Value
    subnet_ids: tuple[Value, ...]
    security_group_ids: tuple[Value, ...]

    def __post_init__(self) -> None:
        if not self.kms_key_id or not self.subnet_ids or not self.security_group_ids:
            raise ValueError("a job needs a KMS key, at least one subnet and one security group")

    def vpc_config(self) -> dict:
        return {
            "SecurityGroupIds": list(self.security_group_ids),
            "Subnets": list(self.subnet_ids),
        }


@dataclass(frozen=True)
class RetryPolicy:
    exception_types: tuple[str, ...]
    interval_seconds: int
    backoff_rate: float
    max_attempts: int

    def to_dict(self) -> dict:
        return {
            "ExceptionType": list(self.exception_types),
            "IntervalSeconds": self.interval_seconds,
            "BackoffRate": self.backoff_rate,
            "MaxAttempts": self.max_attempts,
        }


@dataclass(frozen=True)
class StepOptions:
    """Retries, caching and explicit dependencies of one step."""

    retry_policies: tuple[RetryPolicy, ...] = ()
    cache_expire_after: str | None = None
    depends_on: tuple[str, ...] = ()

    def apply(self, step: dict) -> dict:
        if self.retry_policies:
            step["RetryPolicies"] = [policy.to_dict() for policy in self.retry_policies]
        if self.cache_expire_after:
            step["CacheConfig"] = {"Enabled": True, "ExpireAfter": self.cache_expire_after}
        if self.depends_on:
            step["DependsOn"] = list(self.depends_on)
        return step
