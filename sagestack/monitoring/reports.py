"""A monitoring run's result files, written through any writer (a folder, the emulator's S3).

A monitoring execution writes statistics.json and constraint_violations.json to the schedule's
output location; the violations file lists nothing when the data meets every constraint
(developer guide, model-monitor-interpreting-violations).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

STATISTICS_FILE = "statistics.json"
VIOLATIONS_FILE = "constraint_violations.json"

# Writes one file: (name relative to the output location, content).
Writer = Callable[[str, bytes], None]


class Report(NamedTuple):
    """statistics.json and constraint_violations.json of one analysis."""

    statistics: dict
    violations: dict  # {"violations": [...]}, the list empty when the data is clean


def folder_writer(folder: Path) -> Writer:
    """A writer into `folder` (created when missing)."""

    def write(name: str, content: bytes) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    return write


def write_reports(writer: Writer, statistics: dict, violations: dict) -> list[str]:
    """Write both files through `writer`; returns their names. Both are serialised before
    either is written (ValueError for a value JSON cannot hold, such as NaN)."""
    files = {
        name: json.dumps(content, indent=1, allow_nan=False).encode("utf-8")
        for name, content in ((STATISTICS_FILE, statistics), (VIOLATIONS_FILE, violations))
    }
    for name, content in files.items():
        writer(name, content)
    return list(files)
