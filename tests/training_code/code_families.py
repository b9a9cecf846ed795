"""The families' modules imported as their jobs import them, side by side in one process
(sagestack.local.script_chain.import_family, each from its bundle flattened into a temporary
folder), and the shared scripts importable as top-level modules."""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

from sagestack.local.script_chain import TRAINING_CODE, import_family


@functools.cache
def family(name: str) -> SimpleNamespace:
    """`.train`, `.inference`, `.metrics` of the family and `.code_dir`, its flattened bundle."""
    scratch = Path(tempfile.mkdtemp(prefix=f"sagestack-{name}-code-"))
    atexit.register(shutil.rmtree, scratch, True)
    return import_family(name, scratch / "code")


def shared_modules_on_path() -> None:
    """The shared scripts (common, serving, problems, preprocess, evaluate, report) import as
    top-level modules, as in the jobs."""
    if str(TRAINING_CODE) not in sys.path:
        sys.path.insert(0, str(TRAINING_CODE))
