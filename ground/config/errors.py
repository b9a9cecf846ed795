"""How a configuration problem is told: one line per problem, naming file, field and reason."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigError(Exception):
    """A config file is unreadable or invalid; the message names file, field and reason."""


def describe(error: ErrorDetails, path: Path, prefix: str = "") -> str:
    """`<file>: <prefix><field>: <reason>` for one pydantic error."""
    field = prefix + ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        reason = "unknown key (check its spelling against the schema in ground/config/)"
    elif kind == "missing":
        reason = "required key is missing"
    else:
        reason = error["msg"].removeprefix("Value error, ")
        if "input" in error and kind not in ("value_error", "assertion_error"):
            reason += f" (got {error['input']!r})"
    return f"{path}: {field.rstrip('.') or '(top level)'}: {reason}"


def validated(model: type[ModelT], data: object, path: Path, prefix: str = "") -> ModelT:
    """`model` validated from `data`; ConfigError with one line per problem."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        lines = (describe(item, path, prefix) for item in error.errors())
        raise ConfigError("\n".join(lines)) from None
