"""Reading a config file strictly: YAML with no duplicate key at any depth.

PyYAML keeps the last of two equal keys without a word, so a pasted block can silently
override what a reviewer reads above it. Here a duplicate is an error naming file, line and key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ground.config.errors import ConfigError


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping holding the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(key, line, seen[key])
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_mapping(path: Path, missing_hint: str = "") -> dict[str, Any]:
    """The YAML mapping in `path`; ConfigError naming the file when it is absent, not YAML,
    holds a duplicate key, or is not a mapping."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found{missing_hint}") from None
    except _DuplicateKey as duplicate:
        raise ConfigError(
            f"{path}: line {duplicate.line}: key {duplicate.key!r} is already set on line "
            f"{duplicate.first} of the same mapping; keep one"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of keys to values")
    return raw
