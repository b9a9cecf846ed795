"""How a processing job runs a script from the code tarball, written and read in one place.

The scripts import sibling modules (common.py, ...), so a processing job gets the whole
`sourcedir.tar.gz` as its code input, unpacks it, then runs one script with the job's
arguments. The local executor reads the same entrypoint back to know what to run.
"""

from __future__ import annotations

import re
import shlex

SHELL = "/bin/sh"
_COMMAND = re.compile(
    r"^cd (?P<code_dir>\S+) && tar -xzf (?P<archive>\S+) && exec python3 (?P<script>\S+) \"\$@\"$"
)


def script_entrypoint(code_dir: str, archive: str, script: str) -> list[str]:
    """`sh -c 'cd <code_dir> && tar -xzf <archive> && exec python3 <script> "$@"' <script>`.

    The container arguments follow the entrypoint, so they reach the script as "$@".
    """
    for name, value in (("code_dir", code_dir), ("archive", archive), ("script", script)):
        if shlex.quote(value) != value:
            raise ValueError(f"{name} {value!r} must not need shell quoting")
    command = f'cd {code_dir} && tar -xzf {archive} && exec python3 {script} "$@"'
    return [SHELL, "-c", command, script]


def parse_script_entrypoint(entrypoint: list[str]) -> tuple[str, str, str] | None:
    """(code_dir, archive, script) of an entrypoint made by `script_entrypoint`, else None."""
    if len(entrypoint) != 4 or entrypoint[:2] != [SHELL, "-c"]:
        return None
    match = _COMMAND.match(entrypoint[2])
    if not match or match["script"] != entrypoint[3]:
        return None
    return match["code_dir"], match["archive"], match["script"]
