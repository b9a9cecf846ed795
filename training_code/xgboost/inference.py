"""Serve an XGBoost model: the inference handlers of the SageMaker XGBoost 3.0-5 container.

model_fn loads model.ubj and metadata.json; predict_fn scores rows with the booster (binary:
P(positive), multiclass: one probability per class, regression: the value). Requests, the row
width check and the answers are serving.py's, the same for every family (its docstring lists
the answer shapes per problem type).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import xgboost as xgb
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

MODEL_FILE = "model.ubj"
__all__ = ["METADATA_FILE", "MODEL_FILE", "Model", "input_fn", "model_fn", "output_fn"]


class Model(NamedTuple):
    booster: xgb.Booster
    spec: ModelSpec


def model_fn(model_dir: str) -> Model:
    """Load model.ubj and metadata.json from the extracted model.tar.gz.

    Predictions run on one thread: the serving container runs one worker per vCPU, so more
    threads per request only contend (and cost a thread hand-off on every single-row call).
    """
    spec = load_spec(model_dir)
    booster = xgb.Booster(model_file=str(Path(model_dir) / MODEL_FILE))
    booster.set_param({"nthread": 1})
    return Model(booster, spec)


def predict_fn(input_data: np.ndarray, model: Model) -> Prediction:
    """The booster's scores for the rows, labelled as the problem type says."""
    check_width(input_data, model.spec)
    return prediction(model.spec, model.booster.inplace_predict(input_data))
