"""Models and request bodies shared by the benchmarks.

Models are trained here on synthetic rows and saved the way train.py saves them (model.ubj and
metadata.json), so inference.py's model_fn loads them unchanged. The benchmark scripts import
this module from bench/; it puts the project root and training_code/ on the path first.
"""

from __future__ import annotations

import json
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xgboost as xgb

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "training_code")]
INFERENCE_SCRIPT = ROOT / "training_code" / "inference.py"

import inference  # noqa: E402  (the module the serving container imports)

from ground.config import load_environments  # noqa: E402
from sagestack.datasets import synthetic  # noqa: E402


@dataclass(frozen=True)
class ModelSize:
    """How big a model is: what its prediction cost depends on."""

    label: str
    rounds: int
    params: dict[str, float | int | str]

    @property
    def description(self) -> str:
        return f"{self.label}: {self.rounds} trees, depth {self.params['max_depth']}"


SMALL = ModelSize("small", 100, {"max_depth": 6, "eta": 0.1})


def configured_size(environment: str) -> ModelSize:
    """The size config/<environment>.yaml trains, every round kept (no early stopping)."""
    (config,) = load_environments([environment])
    hyperparameters = dict(config.training.hyperparameters)
    rounds = int(hyperparameters.pop("num_round"))
    hyperparameters.pop("early_stopping_rounds", None)
    return ModelSize(environment, rounds, hyperparameters)


def train_model(
    directory: Path, features: int, size: ModelSize = SMALL, rows: int = 100_000
) -> inference.Model:
    """Train on synthetic rows, save as train.py does and load with model_fn."""
    frame = synthetic(rows, features, seed=1)
    names = [column for column in frame.columns if column != "target"]
    data = xgb.DMatrix(frame[names].to_numpy(np.float32), frame["target"].to_numpy())
    params = {**size.params, "objective": "binary:logistic", "tree_method": "hist"}
    booster = xgb.train(params, data, num_boost_round=size.rounds)
    booster.save_model(directory / inference.MODEL_FILE)
    metadata = {"feature_names": names, "threshold": 0.5}
    (directory / inference.METADATA_FILE).write_text(json.dumps(metadata))
    return inference.model_fn(str(directory))


def pack_model(model_dir: Path, artifact: Path) -> Path:
    """model.tar.gz with the model files at its root, as SageMaker packs SM_MODEL_DIR."""
    with tarfile.open(artifact, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return artifact


def feature_rows(count: int, features: int) -> np.ndarray:
    """Request rows, row-major float32 (the layout input_fn returns)."""
    frame = synthetic(count, features, seed=2).drop(columns="target")
    return np.ascontiguousarray(frame.to_numpy(np.float32))


def csv_body(rows: np.ndarray) -> bytes:
    """A text/csv request body: one line per row, 7 significant digits."""
    return "".join(",".join(f"{value:.7g}" for value in row) + "\n" for row in rows).encode()
