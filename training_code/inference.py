"""Serve the classifier: the inference handlers of the SageMaker XGBoost 3.0-5 container.

Requests carry rows of features in the order of the model's metadata (`feature_names`), already
encoded like the training splits (see preprocess.py), as:
  text/csv            one row per line, no header; an empty field is a missing value
  application/json    [[...], ...], a single row [...], or {"instances": [[...], ...]};
                      numbers, or null for a missing value
  application/x-npy   a 1-D or 2-D numeric array (numpy.save, no pickles)
Answers follow the Accept header: text/csv gives `probability,label` lines; application/json
(also the default for */* or no Accept) gives {"predictions": [{"probability": p, "label": l}]}.

Bad requests raise RequestError, which carries an HTTP status (400, 406, 415) and a message
naming what is wrong. The request parsers, the answer type choice and RequestError live in
serving.py (packed beside this file in the model's code/ folder).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import xgboost as xgb
from serving import CSV, JSON, RequestError, choose_accept
from serving import input_fn as input_fn  # the handler, shared by every family

MODEL_FILE = "model.ubj"
METADATA_FILE = "metadata.json"


class Model(NamedTuple):
    booster: xgb.Booster
    feature_names: list[str]
    threshold: float


class Prediction(NamedTuple):
    probabilities: np.ndarray
    labels: np.ndarray


def model_fn(model_dir: str) -> Model:
    """Load model.ubj and metadata.json from the extracted model.tar.gz.

    Predictions run on one thread: the serving container runs one worker per vCPU, so more
    threads per request only contend (and cost a thread hand-off on every single-row call).
    """
    directory = Path(model_dir)
    metadata = json.loads((directory / METADATA_FILE).read_text())
    booster = xgb.Booster(model_file=str(directory / MODEL_FILE))
    booster.set_param({"nthread": 1})
    return Model(booster, list(metadata["feature_names"]), float(metadata["threshold"]))


def predict_fn(input_data: np.ndarray, model: Model) -> Prediction:
    """Probabilities of the positive class, and labels at the model's threshold."""
    expected = len(model.feature_names)
    if input_data.shape[1] != expected:
        raise RequestError(
            400,
            f"each row needs {expected} features (model features: "
            f"{', '.join(model.feature_names[:5])}, ...); the request has {input_data.shape[1]}",
        )
    probabilities = model.booster.inplace_predict(input_data)
    return Prediction(probabilities, (probabilities >= model.threshold).astype(np.int8))


def output_fn(prediction: Prediction, accept: str | None) -> tuple[str, str]:
    """Serialize in the Accept type; returns (body, content type)."""
    content_type = choose_accept(accept)
    probabilities, labels = prediction.probabilities.tolist(), prediction.labels.tolist()
    if content_type == CSV:
        # One %-format over the interleaved values: about twice as fast as a format per row.
        interleaved = [value for row in zip(probabilities, labels, strict=True) for value in row]
        return "%.7g,%d\n" * len(probabilities) % tuple(interleaved), CSV
    predictions = [
        {"probability": p, "label": y} for p, y in zip(probabilities, labels, strict=True)
    ]
    return json.dumps({"predictions": predictions}), JSON
