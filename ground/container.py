"""The SageMaker container contract: the paths a job or a model server sees inside its container.

The pipeline builders write these paths into job requests, the local runner maps them onto a
temporary tree, and the scripts in training_code/ read them (training_code keeps its own copy:
it imports nothing from the repository).
"""

from __future__ import annotations

import importlib.util
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


def load_metric_definitions(source_dir: Path) -> list[dict[str, str]]:
    """METRIC_DEFINITIONS from `<source_dir>/metrics.py`, the list the job definition uses."""
    path = source_dir / METRICS_MODULE
    if not path.is_file():
        return []
    spec = importlib.util.spec_from_file_location("_sagestack_job_metrics", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(getattr(module, "METRIC_DEFINITIONS", []))
