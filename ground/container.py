"""The SageMaker container contract: the paths a job or a model server sees inside its container.

The pipeline builders write these paths into job requests, the local runner maps them onto a
temporary tree, and the scripts in training_code/ read them (training_code keeps its own copy:
it imports nothing from the repository).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path

OPT_ML = "/opt/ml"
PROCESSING_ROOT = f"{OPT_ML}/processing"
PROCESSING_CODE_DIR = f"{PROCESSING_ROOT}/input/code"
CHANNEL_ROOT = f"{OPT_ML}/input/data/"
CHECKPOINT_LOCAL_PATH = f"{OPT_ML}/checkpoints"
# Where a model.tar.gz's code/ folder lands when the serving container unpacks the model.
SERVING_CODE_IN_MODEL = f"{OPT_ML}/model/code"
# Failure reasons: a training job reads /opt/ml/output/failure, a processing job
# /opt/ml/output/message (both relative to /opt/ml).
TRAINING_FAILURE_FILE = "output/failure"
PROCESSING_FAILURE_FILE = "output/message"
S3_DISTRIBUTIONS = ("FullyReplicated", "ShardedByS3Key")
METRICS_MODULE = "metrics.py"


BUNDLE_EXCLUDED_PARTS = frozenset({"__pycache__", ".pytest_cache", "tests"})
BUNDLE_EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo"})


def family_code(training_code: Path, family: str, families: Iterable[str]) -> dict[str, Path]:
    """What a family's jobs and models run, by name in the code bundle: the shared files at
    the top of training_code/, then the family's folder, flattened beside them (the scripts
    import each other by module name, from one directory, as in the containers). Other
    families' folders are left out."""
    files: dict[str, Path] = {}
    for path in sorted(training_code.iterdir()):
        if path.is_file() and path.suffix not in BUNDLE_EXCLUDED_SUFFIXES:
            files[path.name] = path
    family_dir = training_code / family
    if family_dir.is_dir():
        for path in sorted(family_dir.rglob("*")):
            parts = path.relative_to(family_dir).parts
            excluded = BUNDLE_EXCLUDED_PARTS.intersection(parts)
            if path.is_file() and not excluded and path.suffix not in BUNDLE_EXCLUDED_SUFFIXES:
                files[path.relative_to(family_dir).as_posix()] = path
    leaked = [name for name in files if name.split("/")[0] in set(families)]
    if leaked:
        raise ValueError(f"{training_code}: {leaked[0]} would ship another family's folder")
    return files


def load_metric_definitions(path: Path) -> list[dict[str, str]]:
    """METRIC_DEFINITIONS from the metrics.py at `path` (a file, or a folder holding one): the
    regexes the job definition gives SageMaker and the local runner applies to the log."""
    if path.is_dir():
        path = path / METRICS_MODULE
    if not path.is_file():
        return []
    spec = importlib.util.spec_from_file_location("_sagestack_job_metrics", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(getattr(module, "METRIC_DEFINITIONS", []))
