"""Serve a scikit-learn model: the inference handlers of the SageMaker scikit-learn 1.9-0 image.

model_fn loads model.joblib (the fitted estimator train.py saved: the model's own artifact,
never a request's bytes, is unpickled) and metadata.json; predict_fn scores rows with it
(binary: P(positive), multiclass: one probability per class in metadata `classes` order,
regression: the value). Requests, the row width check and the answers are serving.py's, the
same for every family (its docstring lists the answer shapes per problem type).

Predictions run on one thread (random_forest's n_jobs, OpenMP for hist_gradient_boosting): the
serving container runs one worker per vCPU, so more threads per request only contend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import joblib  # type: ignore[import-untyped]
import numpy as np
from problems import BINARY, REGRESSION
from serving import (
    METADATA_FILE,
    ModelSpec,
    Prediction,
    check_width,
    load_spec,
    prediction,
)
from serving import input_fn as input_fn  # the handlers every family shares
from serving import output_fn as output_fn

MODEL_FILE = "model.joblib"
__all__ = ["METADATA_FILE", "MODEL_FILE", "Model", "input_fn", "model_fn", "output_fn"]


class Model(NamedTuple):
    estimator: Any
    spec: ModelSpec
    score: Callable[[np.ndarray], np.ndarray]  # rows -> the scores serving.prediction takes


def model_fn(model_dir: str) -> Model:
    """Load model.joblib and metadata.json from the extracted model.tar.gz."""
    spec = load_spec(model_dir)
    estimator = joblib.load(Path(model_dir) / MODEL_FILE)
    _one_thread(estimator)
    return Model(estimator, spec, _scorer(estimator, spec))


def predict_fn(input_data: np.ndarray, model: Model) -> Prediction:
    """The estimator's scores for the rows, labelled as the problem type says."""
    check_width(input_data, model.spec)
    return prediction(model.spec, model.score(input_data))


def _scorer(estimator: Any, spec: ModelSpec) -> Callable[[np.ndarray], np.ndarray]:
    if spec.problem_type == REGRESSION:
        return estimator.predict
    predict_proba = estimator.predict_proba
    codes = [int(code) for code in estimator.classes_]
    if spec.problem_type == BINARY:
        positive = codes.index(1)
        return lambda rows: predict_proba(rows)[:, positive]
    if codes == list(range(len(spec.classes))):
        return predict_proba
    # Classes absent from the train split have no column: give them probability 0.

    def spread(rows: np.ndarray) -> np.ndarray:
        probabilities = predict_proba(rows)
        full = np.zeros((len(rows), len(spec.classes)), dtype=probabilities.dtype)
        full[:, codes] = probabilities
        return full

    return spread


def _one_thread(estimator: Any) -> None:
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if "n_jobs" in final.get_params():
        final.set_params(n_jobs=1)
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        threadpool_limits(1)  # OpenMP and BLAS pools of this worker process
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        pass
