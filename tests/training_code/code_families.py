"""The families' modules imported as their jobs import them, side by side in one process.

Each family's bundle (ground.container.family_code) is flattened into a temporary folder and
its own modules (train, inference, metrics: the same names in every family) are imported from
there, then taken out of sys.modules again so the next family's import does not find them.
The shared modules (common, serving, problems, ...) are the same file in every bundle.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType, SimpleNamespace

from sagestack.local.script_chain import TRAINING_CODE, family_code_dir

FAMILY_MODULES = ("train", "inference", "metrics")


@functools.cache
def family(name: str) -> SimpleNamespace:
    """`.train`, `.inference`, `.metrics` of the family and `.code_dir`, its flattened bundle."""
    scratch = Path(tempfile.mkdtemp(prefix=f"sagestack-{name}-code-"))
    atexit.register(shutil.rmtree, scratch, True)
    code = family_code_dir(name, scratch / "code")
    saved = {module: sys.modules.pop(module) for module in FAMILY_MODULES if module in sys.modules}
    sys.path.insert(0, str(code))
    try:
        modules: dict[str, ModuleType] = {m: importlib.import_module(m) for m in FAMILY_MODULES}
    finally:
        sys.path.remove(str(code))
        for module in FAMILY_MODULES:
            sys.modules.pop(module, None)
        sys.modules.update(saved)
    return SimpleNamespace(code_dir=code, **modules)


def shared_modules_on_path() -> None:
    """The shared scripts (common, serving, problems, preprocess, evaluate, report) import as
    top-level modules, as in the jobs."""
    if str(TRAINING_CODE) not in sys.path:
        sys.path.insert(0, str(TRAINING_CODE))
