"""Reads `config/`: the platform file, the environments it declares, and the models.

    config/platform.yaml        the environments, in promotion order
    config/<env>.yaml           one per declared environment (EnvironmentConfig)
    config/models/<name>.yaml   one per model (ModelConfig), naming the environments that host it
    config/delivery/            the delivery pipeline (read only with -c delivery=true)

Any other YAML file in config/ or config/models/ is an error, so a misspelled or renamed file
never drops an environment or a model without a word.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from ground.config.base import Section
from ground.config.deployment import ModelDeployment, deploy
from ground.config.environment import EnvironmentConfig
from ground.config.errors import ConfigError, validated
from ground.config.model import ModelConfig
from ground.config.studio import studio_problems
from ground.config.yaml_source import read_mapping

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
PLATFORM_FILE = "platform.yaml"
MODELS_DIR = "models"
YAML_SUFFIXES = (".yaml", ".yml")


class PlatformFile(Section):
    """`config/platform.yaml`."""

    environments: list[str] = Field(
        min_length=1, description="The environments, in promotion order (dev first)."
    )

    @field_validator("environments")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        twice = sorted({name for name in value if value.count(name) > 1})
        if twice:
            raise ValueError(f"listed more than once: {', '.join(twice)}")
        return value


@dataclass(frozen=True)
class Environment:
    """An environment and the models it hosts."""

    config: EnvironmentConfig
    file: Path
    models: tuple[ModelDeployment, ...]

    @property
    def name(self) -> str:
        return self.config.name

    def model(self, name: str) -> ModelDeployment:
        for deployment in self.models:
            if deployment.name == name:
                return deployment
        hosted = ", ".join(d.name for d in self.models) or "none"
        raise ConfigError(
            f"{self.file}: environment {self.name} hosts no model {name!r} ({hosted})"
        )


def environment_names(config_dir: Path = CONFIG_DIR) -> list[str]:
    """The declared environments, in promotion order."""
    path = config_dir / PLATFORM_FILE
    declared = validated(PlatformFile, read_mapping(path, " (it lists the environments)"), path)
    for name in declared.environments:
        if not (config_dir / f"{name}.yaml").is_file():
            raise ConfigError(
                f"{path}: environments: {name} is declared but {config_dir / f'{name}.yaml'} "
                "does not exist; add the file or remove the environment"
            )
    expected = {PLATFORM_FILE, *(f"{name}.yaml" for name in declared.environments)}
    _refuse_strays(config_dir, expected, f"not an environment declared in {path}")
    return declared.environments


def _refuse_strays(directory: Path, expected: set[str], why: str) -> None:
    strays = sorted(
        path.name
        for path in directory.iterdir()
        if path.suffix in YAML_SUFFIXES and path.name not in expected
    )
    if strays:
        raise ConfigError(f"{directory / strays[0]}: {why}; rename or remove it")


def load_environment_config(path: Path) -> EnvironmentConfig:
    """One environment file, validated (its models are not read)."""
    raw = read_mapping(path)
    if raw.get("name", path.stem) != path.stem:
        raise ConfigError(f"{path}: name: '{raw['name']}' does not match the file name")
    return validated(EnvironmentConfig, {"name": path.stem, **raw}, path)


def load_model(path: Path, environments: list[str]) -> ModelConfig:
    raw = read_mapping(path)
    if raw.get("name", path.stem) != path.stem:
        raise ConfigError(f"{path}: name: '{raw['name']}' does not match the file name")
    model = validated(ModelConfig, {"name": path.stem, **raw}, path)
    unknown = sorted(set(model.environments) - set(environments))
    if unknown:
        raise ConfigError(
            f"{path}: environments: {', '.join(unknown)} is not a declared environment "
            f"({', '.join(environments)})"
        )
    return model


def load_models(config_dir: Path, environments: list[str]) -> dict[str, tuple[ModelConfig, Path]]:
    """Every model file by model name."""
    directory = config_dir / MODELS_DIR
    if not directory.is_dir():
        return {}
    models = {}
    for path in sorted(directory.iterdir()):
        if path.suffix == ".yml":
            raise ConfigError(f"{path}: model files end in .yaml; rename it")
        if path.suffix == ".yaml":
            model = load_model(path, environments)
            models[model.name] = (model, path)
    return models


def load_model_config(name: str, config_dir: Path = CONFIG_DIR) -> ModelConfig:
    """One model's file, checked on its own (no environment's rules applied)."""
    models = load_models(config_dir, environment_names(config_dir))
    if name not in models:
        raise ConfigError(
            f"no model '{name}' in {config_dir / MODELS_DIR} "
            f"(models: {', '.join(sorted(models)) or 'none'})"
        )
    return models[name][0]


def load_environments(
    selected: list[str] | None = None,
    config_dir: Path = CONFIG_DIR,
    replacing_pins: Collection[str] = (),
) -> list[Environment]:
    """The selected environments (all declared ones when empty), each with its models.
    In `replacing_pins` (environments whose pins a promotion is about to rewrite) the current
    pins are read but not checked."""
    available = environment_names(config_dir)
    names = selected or available
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ConfigError(
            f"unknown environment(s) {', '.join(unknown)}: {config_dir / PLATFORM_FILE} "
            f"declares {', '.join(available)}"
        )
    configs = {name: load_environment_config(config_dir / f"{name}.yaml") for name in available}
    registries = {config.prefix: config.account for config in configs.values()}
    models = load_models(config_dir, available)
    teams = {model.team for model, _ in models.values()}
    loaded = []
    problems = []
    for name in names:
        path = config_dir / f"{name}.yaml"
        config = configs[name]
        deployments = []
        for model, model_path in models.values():
            if name not in model.environments:
                continue
            try:
                deployments.append(
                    deploy(
                        config,
                        model,
                        (path, model_path),
                        registries,
                        check_pin=name not in replacing_pins,
                    )
                )
            except ConfigError as error:
                problems.append(str(error))
        problems += studio_problems(config.studio, config.production, path, teams)
        loaded.append(Environment(config, path, tuple(deployments)))
    if problems:
        raise ConfigError("\n".join(problems))
    return loaded


def load_environment(name: str, config_dir: Path = CONFIG_DIR) -> Environment:
    (environment,) = load_environments([name], config_dir)
    return environment
