"""A model in one environment: the environment's defaults, the model's overrides, and the rules
that only hold once both are known (pins, baselines, production rules, physical names).

Sections merge in three layers, later ones winning: the environment's defaults
(`config/<env>.yaml`), the model's model-wide sections, then its `environments.<env>` sections.
A problem is reported against the file and field that set the value at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ground import naming
from ground.config.environment import MIN_PRODUCTION_INSTANCES, EnvironmentConfig
from ground.config.errors import ConfigError, describe
from ground.config.model import HyperparameterValue, ModelConfig
from ground.config.monitoring import MonitoringConfig
from ground.config.serving import ServingConfig
from ground.config.training import TrainingConfig
from ground.layout import (
    ARTIFACTS_BUCKET,
    model_quality_constraints_uri,
    model_run_prefixes,
    monitoring_prefix,
    split_s3_uri,
)
from ground.problems import PROBLEM_TYPES, ProblemType

SectionT = TypeVar("SectionT", bound=BaseModel)


@dataclass(frozen=True)
class Layer:
    """One file's contribution to a section: where it is, under which field, what it sets."""

    path: Path
    prefix: str
    values: Mapping[str, Any]

    def sets(self, location: tuple[str | int, ...]) -> bool:
        value: Any = self.values
        for part in location:
            if not isinstance(value, Mapping) or part not in value:
                return False
            value = value[part]
        return True


# Settings that only mean something on instances: a layer choosing serverless drops the ones it
# inherits (the environment's capture rate or guardrails are not the serverless model's).
INSTANCE_ONLY = ("instance", "data_capture_percent", "autoscaling", "guardrails")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`, mappings merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _switch_variant(inherited: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """What a serving layer keeps of what it inherits: choosing one variant kind drops the
    other (and, for serverless, the instance-only settings it does not set itself), so a model
    can serve differently from its environment."""
    kept = dict(inherited)
    if "instance" in layer:
        kept.pop("serverless", None)
    if "serverless" in layer:
        for key in INSTANCE_ONLY:
            if key not in layer:
                kept.pop(key, None)
    return kept


def merged_section(section: type[SectionT], layers: list[Layer]) -> SectionT:
    """The section validated from its layers; ConfigError naming the file that set each fault."""
    data: dict[str, Any] = {}
    for layer in layers:
        inherited = _switch_variant(data, layer.values) if section is ServingConfig else data
        data = deep_merge(inherited, layer.values)
    try:
        return section.model_validate(data)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            location = tuple(item["loc"])
            owner = next(
                (layer for layer in reversed(layers) if layer.values and layer.sets(location)),
                next((layer for layer in reversed(layers) if layer.values), layers[0]),
            )
            lines.append(describe(item, owner.path, owner.prefix))
        raise ConfigError("\n".join(lines)) from None


@dataclass(frozen=True)
class ModelDeployment:
    """One model as one environment hosts it."""

    environment: EnvironmentConfig
    model: ModelConfig
    environment_file: Path
    model_file: Path
    training: TrainingConfig
    serving: ServingConfig
    monitoring: MonitoringConfig
    hyperparameters: dict[str, HyperparameterValue]
    gate_threshold: float

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def problem(self) -> ProblemType:
        return PROBLEM_TYPES[self.model.problem_type]

    @property
    def prefix(self) -> str:
        """Prefix of the model's physical names here, e.g. `sagestack-dev-churn`."""
        return naming.model_prefix(self.environment.prefix, self.model.name)

    @property
    def registry_group(self) -> str:
        return self.prefix

    @property
    def endpoint_name(self) -> str:
        instance = self.serving.instance
        return naming.endpoint_name(self.prefix, instance.instance_type if instance else None)

    def pin_field(self, field: str) -> str:
        return f"{self.model_file}: environments.{self.environment.name}.serving.{field}"

    def source_environment_prefix(self) -> str | None:
        """The environment prefix of the pinned package's registry group (None: no pin)."""
        pin = self.serving.model
        if pin is None:
            return None
        return pin.group_name.removesuffix(f"-{self.model.name}")

    def model_quality_constraints_uri(self) -> str | None:
        """The pinned run's model-quality constraints, beside its data-quality baseline."""
        pin = self.serving.model
        if pin is None or not pin.baseline_uri:
            return None
        return model_quality_constraints_uri(pin.baseline_uri)

    def monitor_kinds(self) -> list[str]:
        """The Model Monitor schedules this model gets (ground.naming kinds): data quality
        when enabled, model quality when enabled with a pinned run's constraints to read."""
        if self.serving.model is None:
            return []
        kinds = [naming.DATA_QUALITY] if self.monitoring.model_monitor.enabled else []
        if self.monitoring.model_quality.enabled and self.model_quality_constraints_uri():
            kinds.append(naming.MODEL_QUALITY)
        return kinds

    def monitor_baseline_uri(self) -> str:
        """What Model Monitor compares traffic with: the override, else the pin's baseline."""
        override = self.monitoring.model_monitor.baseline_uri
        pin = self.serving.model
        return override or (pin.baseline_uri if pin and pin.baseline_uri else "")


def deploy(
    environment: EnvironmentConfig,
    model: ModelConfig,
    files: tuple[Path, Path],
    registries: Mapping[str, str],
    check_pin: bool = True,
) -> ModelDeployment:
    """`model` in `environment`; ConfigError naming file and field for every rule it breaks.
    `registries` are the platform's environments whose registries a pin may name: prefix ->
    account. `check_pin=False` reads the pin without checking it or what needs it (the
    baseline): promotion replacing it."""
    environment_file, model_file = files
    overrides = model.environments[environment.name]
    own = f"environments.{environment.name}."

    def layers(section: str) -> list[Layer]:
        default: BaseModel = getattr(environment, section)
        return [
            Layer(environment_file, f"{section}.", default.model_dump(exclude_unset=True)),
            Layer(model_file, f"{section}.", getattr(model, section)),
            Layer(model_file, f"{own}{section}.", getattr(overrides, section)),
        ]

    deployment = ModelDeployment(
        environment=environment,
        model=model,
        environment_file=environment_file,
        model_file=model_file,
        training=merged_section(TrainingConfig, layers("training")),
        serving=merged_section(ServingConfig, layers("serving")),
        monitoring=merged_section(MonitoringConfig, layers("monitoring")),
        hyperparameters={**model.hyperparameters, **overrides.hyperparameters},
        gate_threshold=overrides.gate.threshold if overrides.gate else model.gate.threshold,
    )
    problems = [
        *(_pin_problems(deployment, registries) if check_pin else []),
        *(_monitor_problems(deployment) if check_pin else []),
        *(_model_quality_problems(deployment) if check_pin else []),
        *_production_problems(deployment),
        *_name_problems(deployment),
    ]
    if problems:
        raise ConfigError("\n".join(problems))
    return deployment


def _pin_problems(deployment: ModelDeployment, registries: Mapping[str, str]) -> list[str]:
    """The pinned package must be the model's, in a registry of the platform: its group names
    the registering environment, whose account and region the stacks derive the package's
    ARN and model data bucket from."""
    pin = deployment.serving.model
    if pin is None:
        return []
    environment = deployment.environment
    accounts = {
        naming.model_prefix(prefix, deployment.name): account
        for prefix, account in registries.items()
    }
    group = pin.group_name
    if group not in accounts:
        return [
            f"{deployment.pin_field('model')}: model package group '{group}' is not a "
            f"registry group of model {deployment.name} ({', '.join(sorted(accounts))})"
        ]
    problems = []
    account = pin.source_account(environment.account)
    if account != accounts[group]:
        field = "model.arn" if pin.arn else "model"
        how = "pin its ARN" if not pin.arn else "correct the ARN's account"
        problems.append(
            f"{deployment.pin_field(field)}: group '{group}' is registered in account "
            f"{accounts[group]}, but the pin names account {account}; {how}"
        )
    if pin.source_region(environment.region) != environment.region:
        problems.append(
            f"{deployment.pin_field('model.arn')}: the package is in region "
            f"{pin.source_region(environment.region)}, the environment in {environment.region}; "
            "pin a package registered in the environment's region"
        )
    return problems


def _monitor_problems(deployment: ModelDeployment) -> list[str]:
    monitor = deployment.monitoring.model_monitor
    if not monitor.enabled or deployment.serving.model is None:
        return []
    where = f"{deployment.model_file}: environments.{deployment.environment.name}.monitoring."
    where += "model_monitor"
    if deployment.serving.is_serverless:
        return [
            f"{where}.enabled: serverless endpoints capture no data to monitor; set it to false "
            "or serve from an instance variant"
        ]
    uri = deployment.monitor_baseline_uri()
    field = (
        f"{where}.baseline_uri"
        if monitor.baseline_uri
        else deployment.pin_field("model.baseline_uri")
    )
    if not uri:
        return [
            f"{field}: the pin names no data-quality baseline, and Model Monitor needs one; pin "
            "with `sagestack promote` (it copies the package's DriftCheckBaselines), set it to "
            "the baseline/ folder of the model's training run, or set "
            "monitoring.model_monitor.enabled to false"
        ]
    bucket, key = split_s3_uri(uri)
    match = ARTIFACTS_BUCKET.match(bucket)
    if not match:
        return [
            f"{field}: baseline {uri} is not in a platform artifacts bucket "
            "(<prefix>-ml-artifacts-<account>-<region>)"
        ]
    # The monitor role may read the baseline folder: it must be one of this model's own, a
    # training run's baseline/ or a baseline recomputed under its monitoring prefix.
    own = (
        *model_run_prefixes(naming.model_prefix(match["prefix"], deployment.name)),
        monitoring_prefix(deployment.name),
    )
    if not key.startswith(own):
        return [
            f"{field}: baseline {uri} is not a folder of model {deployment.name} (in "
            f"s3://{bucket}/: {', '.join(own)}); name its own run's baseline/ folder"
        ]
    return []


def _model_quality_problems(deployment: ModelDeployment) -> list[str]:
    """The model-quality monitor scores captured predictions against the pinned run's
    constraints (model_quality_constraints_uri): it needs captures and a run to read."""
    if not deployment.monitoring.model_quality.enabled or deployment.serving.model is None:
        return []
    where = f"{deployment.model_file}: environments.{deployment.environment.name}.monitoring."
    where += "model_quality.enabled"
    if deployment.serving.is_serverless:
        return [
            f"{where}: serverless endpoints capture no predictions to score; set it to false "
            "or serve from an instance variant"
        ]
    if deployment.model_quality_constraints_uri() is None:
        return [
            f"{deployment.pin_field('model.baseline_uri')}: the pin names no training run, and "
            "the model-quality monitor reads the run's model_quality_constraints.json; pin with "
            "`sagestack promote`, or set monitoring.model_quality.enabled to false"
        ]
    return []


def _production_problems(deployment: ModelDeployment) -> list[str]:
    environment = deployment.environment
    if not environment.production or deployment.serving.model is None:
        return []
    waived = environment.production_exceptions
    where = f"{deployment.model_file}: environments.{environment.name}.serving"
    problems = []
    instance = deployment.serving.instance
    if instance is None and not waived.single_instance:
        problems.append(
            f"{where}: a production endpoint runs on instances (at least "
            f"{MIN_PRODUCTION_INSTANCES}); give an instance variant, or explain in "
            f"{deployment.environment_file}: production_exceptions.single_instance"
        )
    low = (
        min(instance.initial_count, deployment.serving.autoscaling.min_capacity) if instance else 0
    )
    if instance and low < MIN_PRODUCTION_INSTANCES and not waived.single_instance:
        problems.append(
            f"{where}: a production endpoint keeps at least {MIN_PRODUCTION_INSTANCES} "
            f"instances (initial_count and autoscaling.min_capacity); raise them, or explain in "
            f"{deployment.environment_file}: production_exceptions.single_instance"
        )
    if instance and not deployment.serving.guardrails.enabled and not waived.no_guardrails:
        problems.append(
            f"{where}.guardrails.enabled: a production endpoint deploys with guardrails; turn "
            f"them on, or explain in {deployment.environment_file}: "
            "production_exceptions.no_guardrails"
        )
    return problems


def _name_problems(deployment: ModelDeployment) -> list[str]:
    return [
        f"{deployment.model_file}: name: {problem}"
        for problem in naming.length_problems(deployment.prefix, deployment.endpoint_name)
    ]
