"""Import a script folder's modules so that they stay private to that import.

The container scripts import their siblings by bare name (`from serving import input_fn`), and
every family's bundle has modules of the same names. In one process (the local endpoint's
models, a local pipeline's Transform steps, tests, benchmarks) two bundles would otherwise share
whichever `serving` was imported first, and with it its module state (serving.py remembers the
loaded model's width). Each import here gets its own copies; sys.modules is left as it was.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

_IMPORT_LOCK = threading.Lock()  # sys.modules and sys.path are process-wide


def import_private(folder: Path, names: Sequence[str]) -> dict[str, ModuleType]:
    """The modules `names` of `folder` and every sibling they imported, by module name."""
    siblings = {path.stem for path in folder.glob("*.py")}
    with _IMPORT_LOCK:
        saved = {name: sys.modules.pop(name) for name in siblings if name in sys.modules}
        sys.path.insert(0, str(folder))
        importlib.invalidate_caches()
        try:
            for name in names:
                importlib.import_module(name)
            return {name: sys.modules[name] for name in siblings if name in sys.modules}
        finally:
            sys.path.remove(str(folder))
            for name in siblings:
                sys.modules.pop(name, None)
            sys.modules.update(saved)
