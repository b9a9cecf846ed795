"""Rewriting the model pin (`serving.model`) of one environment file, and nothing else.

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


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=MAPPING_INDENT, sequence=SEQUENCE_INDENT, offset=SEQUENCE_DASH_OFFSET)
    yaml.representer.add_representer(
        type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def _pin_lines(document: CommentedMap, total: int) -> range:
    """Line numbers (0-based) from `model:` up to the key that follows it."""
    serving = document["serving"]
    keys = list(serving)
    start = serving.lc.key("model")[0]
    index = keys.index("model")
    if index + 1 < len(keys):
        return range(start, serving.lc.key(keys[index + 1])[0])
    top = list(document)
    following = top.index("serving") + 1
    return range(start, document.lc.key(top[following])[0] if following < len(top) else total)


def _check_only_pin_changed(original: str, rewritten: str, pin: range, where: str) -> None:
    old, new = original.splitlines(), rewritten.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag != "equal" and not (pin.start <= i1 and i2 <= pin.stop):
            raise PinError(
                f"{where}: rewriting serving.model would also change line {i1 + 1} "
                f"({old[i1].strip() if i1 < len(old) else 'end of file'!r}); the file's layout "
                "differs from what sagestack writes back: set serving.model by hand"
            )


def rewrite_pin(text: str, arn: str, where: str, baseline_uri: str | None = None) -> str:
    """`text` with `serving.model` set to `{arn, baseline_uri}`; every other line unchanged.

    An existing mapping pin is updated in place, so comments attached to its keys survive.
    Without a baseline the pin holds the ARN alone.
    """
    yaml = _yaml()
    try:
        document = yaml.load(text)
    except YAMLError as error:
        raise PinError(f"{where}: not valid YAML: {error}") from None
    serving = document.get("serving") if isinstance(document, CommentedMap) else None
    if not isinstance(serving, CommentedMap) or "model" not in serving:
        raise PinError(
            f"{where}: has no serving.model key; add `serving:` with `model: null` and a "
            "serverless or instance variant, then promote again"
        )
    pin_lines = _pin_lines(document, len(text.splitlines()))
    pin = {"arn": arn} if baseline_uri is None else {"arn": arn, "baseline_uri": baseline_uri}
    current = serving["model"]
    if isinstance(current, CommentedMap):
        for key in [key for key in current if key not in pin]:
            del current[key]
        current.update(pin)
    else:
        serving["model"] = CommentedMap(pin)
    output = io.StringIO()
    yaml.dump(document, output)
    rewritten = output.getvalue()
    _check_only_pin_changed(text, rewritten, pin_lines, where)
    return rewritten
