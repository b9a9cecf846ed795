"""Reads `config/<env>.yaml` files into validated `EnvironmentConfig` objects."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ground.config.schema import EnvironmentConfig

ModelT = TypeVar("ModelT", bound=BaseModel)
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
ENVIRONMENT_ORDER = ("dev", "staging", "prod")


class ConfigError(Exception):
    """A config file is unreadable or invalid; the message names file, field and reason."""


def _describe(error: ErrorDetails, path: Path) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        reason = "unknown key (check its spelling against the schema in ground/config/)"
    elif kind == "missing":
        reason = "required key is missing"
    else:
        reason = error["msg"].removeprefix("Value error, ")
        if "input" in error and kind not in ("value_error", "assertion_error"):
            reason += f" (got {error['input']!r})"
    return f"{path}: {field}: {reason}"


def read_mapping(path: Path, missing_hint: str = "") -> dict:
    """The YAML mapping in `path`; ConfigError naming the file when it is absent or not one."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found{missing_hint}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of keys to values")
    return raw


def validated(model: type[ModelT], data: dict, path: Path) -> ModelT:
    """`model` validated from `data`; ConfigError with one line per problem."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError("\n".join(_describe(item, path) for item in error.errors())) from None


def load_environment(path: Path) -> EnvironmentConfig:
    """Load and validate one environment file; raise ConfigError naming every problem."""
    raw = read_mapping(path)
    if raw.get("name", path.stem) != path.stem:
        raise ConfigError(f"{path}: name: '{raw['name']}' does not match the file name")
    return validated(EnvironmentConfig, {"name": path.stem, **raw}, path)


def environment_names(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Environment names in promotion order: dev, staging, prod, then any others sorted."""
    found = {path.stem for path in config_dir.glob("*.yaml")}
    ordered = [name for name in ENVIRONMENT_ORDER if name in found]
    return ordered + sorted(found - set(ordered))


def load_environments(
    selected: list[str] | None = None, config_dir: Path = CONFIG_DIR
) -> list[EnvironmentConfig]:
    """Load the selected environments (all of them when `selected` is empty)."""
    available = environment_names(config_dir)
    names = selected or available
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ConfigError(
            f"unknown environment(s) {', '.join(unknown)}: "
            f"{config_dir} has {', '.join(available) or 'no .yaml files'}"
        )
    return [load_environment(config_dir / f"{name}.yaml") for name in names]
