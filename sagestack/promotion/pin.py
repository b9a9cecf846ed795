"""Rewriting a model's pin (`environments.<env>.serving.model` of config/models/<name>.yaml),
and nothing else.

ruamel.yaml's round trip keeps comments, quotes, flow mappings and key order. What it cannot
promise (indentation it guesses differently, a `~` it spells `null`) is caught by comparing
the result with the original: every line outside the pin must come back byte for byte.
"""

from __future__ import annotations

import difflib
import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

# The project's layout: two-space mappings, list items indented two under their key.
MAPPING_INDENT, SEQUENCE_INDENT, SEQUENCE_DASH_OFFSET = 2, 4, 2


class PinError(Exception):
    """The pin cannot be rewritten safely; the message names the file and what to do."""


def project_yaml() -> YAML:
    """Round-trip YAML in the layout of the project's config files (comments kept)."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=MAPPING_INDENT, sequence=SEQUENCE_INDENT, offset=SEQUENCE_DASH_OFFSET)
    yaml.representer.add_representer(
        type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def _next_key_line(document: CommentedMap, path: tuple[str, ...], total: int) -> int:
    """The line (0-based) of the first key after `path`'s key, at its depth or above."""
    for depth in range(len(path), 0, -1):
        parent = document
        for key in path[: depth - 1]:
            parent = parent[key]
        keys = list(parent)
        index = keys.index(path[depth - 1])
        if index + 1 < len(keys):
            return int(parent.lc.key(keys[index + 1])[0])
    return total


def _pin_lines(document: CommentedMap, path: tuple[str, ...], total: int) -> range:
    """Line numbers (0-based) from the pin's key up to the key that follows it."""
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    start = int(parent.lc.key(path[-1])[0])
    return range(start, _next_key_line(document, path, total))


def _check_only_pin_changed(
    original: str, rewritten: str, pin: range, where: str, field: str
) -> None:
    old, new = original.splitlines(), rewritten.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag != "equal" and not (pin.start <= i1 and i2 <= pin.stop):
            raise PinError(
                f"{where}: rewriting {field} would also change line {i1 + 1} "
                f"({old[i1].strip() if i1 < len(old) else 'end of file'!r}); the file's layout "
                f"differs from what sagestack writes back: set {field} by hand"
            )


def pin_path(environment: str) -> tuple[str, ...]:
    """Where a model file pins the package an environment serves."""
    return ("environments", environment, "serving", "model")


def _parent(document: object, path: tuple[str, ...]) -> CommentedMap | None:
    node = document
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, CommentedMap) else None
    return node if isinstance(node, CommentedMap) and path[-1] in node else None


def rewrite_pin(
    text: str, path: tuple[str, ...], arn: str, where: str, baseline_uri: str | None = None
) -> str:
    """`text` with the pin at `path` set to `{arn, baseline_uri}`; every other line unchanged.

    An existing mapping pin is updated in place, so comments attached to its keys survive.
    Without a baseline the pin holds the ARN alone.
    """
    field = ".".join(path)
    yaml = project_yaml()
    try:
        document = yaml.load(text)
    except YAMLError as error:
        raise PinError(f"{where}: not valid YAML: {error}") from None
    parent = _parent(document, path)
    if parent is None:
        raise PinError(
            f"{where}: has no {field} key; add it (`model: null` under the environment's "
            "serving), then promote again"
        )
    pin_lines = _pin_lines(document, path, len(text.splitlines()))
    pin = {"arn": arn} if baseline_uri is None else {"arn": arn, "baseline_uri": baseline_uri}
    current = parent[path[-1]]
    if isinstance(current, CommentedMap):
        for key in [key for key in current if key not in pin]:
            del current[key]
        current.update(pin)
    else:
        parent[path[-1]] = CommentedMap(pin)
    output = io.StringIO()
    yaml.dump(document, output)
    rewritten = output.getvalue()
    _check_only_pin_changed(text, rewritten, pin_lines, where, field)
    return rewritten
