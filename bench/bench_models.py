"""Models and request bodies shared by the benchmarks.

Models are trained here on synthetic rows and saved the way the families' train.py save them
(XGBoost: model.ubj; scikit-learn: model.joblib; metadata.json and the serving code in code/),
so the families' model_fn load them unchanged. The families' modules are imported from their
flattened bundles (sagestack.local.script_chain.import_family), as the containers import them;
`inference` is XGBoost's. The benchmark scripts import this module from bench/; it puts the
project root on the path first.
"""

from __future__ import annotations

import atexit
import json
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "training_code")]

import serving  # noqa: E402, F401  (training_code/serving.py, for the benchmark scripts)

from ground.config.loader import load_environment  # noqa: E402
from sagestack.datasets import synthetic  # noqa: E402
from sagestack.local.script_chain import import_family  # noqa: E402

_SCRATCH = Path(tempfile.mkdtemp(prefix="sagestack-bench-code-"))
atexit.register(shutil.rmtree, _SCRATCH, True)
XGBOOST = import_family("xgboost", _SCRATCH / "xgboost")
SKLEARN = import_family("sklearn", _SCRATCH / "sklearn")
inference = XGBOOST.inference  # the module the XGBoost serving container imports
# The flattened bundle's inference.py (its serving.py and problems.py beside it).
INFERENCE_SCRIPT = XGBOOST.code_dir / "inference.py"
SERVING_FILES = ("inference.py", "serving.py", "problems.py")


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


def configured_size(environment: str, model: str = "cancer") -> ModelSize:
    """The size config/models/<model>.yaml trains in an environment, every round kept (no
    early stopping)."""
    hyperparameters = dict(load_environment(environment).model(model).hyperparameters)
    rounds = int(hyperparameters.pop("num_round"))
    hyperparameters.pop("early_stopping_rounds", None)
    return ModelSize(environment, rounds, hyperparameters)


def _finish(directory: Path, family: Any, metadata: dict[str, Any]) -> None:
    """metadata.json and code/ beside the model file, as train.py writes them."""
    (directory / "metadata.json").write_text(json.dumps(metadata))
    code = directory / "code"
    code.mkdir(exist_ok=True)
    for name in SERVING_FILES:
        shutil.copyfile(family.code_dir / name, code / name)


def _metadata(names: list[str], problem_type: str, n_classes: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "problem_type": problem_type,
        "feature_names": names,
        "target_column": "target",
        "classes": [f"class_{code}" for code in range(n_classes)]
        if problem_type == "multiclass"
        else [],
    }
    if problem_type == "binary":
        metadata["threshold"] = 0.5
    return metadata


def train_model(
    directory: Path,
    features: int,
    size: ModelSize = SMALL,
    rows: int = 100_000,
    problem_type: str = "binary",
    n_classes: int = 3,
) -> Any:
    """Train XGBoost on synthetic rows, save as train.py does and load with model_fn."""
    frame = synthetic(rows, features, seed=1, problem_type=problem_type, n_classes=n_classes)
    names = [column for column in frame.columns if column != "target"]
    data = xgb.DMatrix(frame[names].to_numpy(np.float32), frame["target"].to_numpy())
    objective = XGBOOST.train.OBJECTIVES[problem_type]
    params = {**size.params, "objective": objective, "tree_method": "hist"}
    if problem_type == "multiclass":
        params["num_class"] = n_classes
    booster = xgb.train(params, data, num_boost_round=size.rounds)
    booster.save_model(directory / XGBOOST.inference.MODEL_FILE)
    _finish(directory, XGBOOST, _metadata(names, problem_type, n_classes))
    return XGBOOST.inference.model_fn(str(directory))


def train_sklearn_model(
    directory: Path,
    features: int,
    estimator: str,
    problem_type: str,
    hyperparameters: dict[str, str] | None = None,
    rows: int = 20_000,
    n_classes: int = 3,
) -> Any:
    """Fit a scikit-learn estimator as train.py builds it, save it as train.py does and load
    it with model_fn."""
    import joblib

    frame = synthetic(rows, features, seed=1, problem_type=problem_type, n_classes=n_classes)
    names = [column for column in frame.columns if column != "target"]
    argv = ["--estimator", estimator, "--problem_type", problem_type]
    for name, value in (hyperparameters or {}).items():
        argv += [f"--{name}", value]
    settings = SKLEARN.train.parse_hyperparameters(argv, {})
    target = frame["target"].to_numpy()
    if problem_type != "regression":
        target = target.astype(np.int64)
    fitted = SKLEARN.train.build_estimator(settings, n_jobs=-1)
    fitted.fit(frame[names].to_numpy(np.float32), target)
    joblib.dump(fitted, directory / SKLEARN.inference.MODEL_FILE)
    _finish(directory, SKLEARN, _metadata(names, problem_type, n_classes))
    return SKLEARN.inference.model_fn(str(directory))


def raw_predict(model: Any) -> Callable[[np.ndarray], Any]:
    """The library's own prediction call on a served model: what the handlers wrap."""
    if hasattr(model, "booster"):
        return model.booster.inplace_predict
    if model.spec.problem_type == "regression":
        return model.estimator.predict
    return model.estimator.predict_proba


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
