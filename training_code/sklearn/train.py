"""Train a scikit-learn model: SageMaker script mode (scikit-learn 1.9-0 image).

The hyperparameter `estimator` picks the learner, `problem_type` its kind:

  logistic_regression     binary, multiclass   LogisticRegression   (median imputer, scaler)
  linear_regression       regression           LinearRegression     (median imputer, scaler)
  ridge                   regression           Ridge                (median imputer, scaler)
  random_forest           all three            RandomForestClassifier / RandomForestRegressor
  hist_gradient_boosting  all three            HistGradientBoostingClassifier / ...Regressor

The linear learners cannot take missing values, so they fit behind a median imputer and a
standard scaler (one Pipeline, saved and served as one estimator); the tree learners take NaN
as it comes. ESTIMATORS lists every learner's hyperparameters with their types and defaults;
the names are scikit-learn's own (C, alpha, n_estimators, max_depth, learning_rate, ...), and a
name the chosen learner does not take ends the job with a reason naming it. Besides those:
problem_type, estimator, target_column, threshold (binary: P(positive) at or above it is label
1), seed (random_state) and eval_train (also print the train channel's metrics).

Inputs (the SageMaker training contract): hyperparameters as `--name value` arguments and/or
SM_HPS; channels SM_CHANNEL_TRAIN and SM_CHANNEL_VALIDATION, CSV (header row) or Parquet with
the target and numeric features, as preprocess.py writes them (its preprocessing.json beside
the split gives the class names). hist_gradient_boosting stops early on the validation channel
(early_stopping=true, n_iter_no_change rounds without improvement); the others fit once.

One host: scikit-learn fits in one process. With instance_count > 1 the first host (sorted
SM_HOSTS) trains on the whole channel and the others exit 0 at once, so a FullyReplicated
channel is needed (ShardedByS3Key would hand the first host only its share) and the extra
instances only cost money; random_forest uses every vCPU of its host (n_jobs).

Outputs: SM_MODEL_DIR/model.joblib (the fitted estimator), metadata.json (format, problem type,
estimator, features, target, classes, threshold, hyperparameters, final validation metrics),
code/ (the serving files: inference.py, serving.py, problems.py), the metric line on stdout
(metrics.py, METRIC_DEFINITIONS), and on any failure the reason in /opt/ml/output/failure with
a non-zero exit code.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib  # type: ignore[import-untyped]
import numpy as np
from common import (
    METADATA_FILE,
    TRAINING_FAILURE_FILE,
    Cluster,
    JobError,
    channel_dir,
    copy_serving_code,
    load_labeled,
    model_dir,
    read_preprocessing,
    run_job,
    typed,
    unknown_names,
)
from common import parse_hyperparameters as raw_hyperparameters
from metrics import METRIC_DEFINITIONS, format_line
from problems import BINARY, CLASSIFICATION, MULTICLASS, PROBLEM_TYPES, REGRESSION

__all__ = ["ESTIMATORS", "METRIC_DEFINITIONS", "main"]

MODEL_FILE = "model.joblib"
FORMAT = "sagestack-sklearn/1"
ALL = PROBLEM_TYPES


# --- hyperparameter types ------------------------------------------------------------------


def _integer(name: str, value: Any) -> int:
    return typed(name, value, int)


def _number(name: str, value: Any) -> float:
    return typed(name, value, float)


def _boolean(name: str, value: Any) -> bool:
    return typed(name, value, bool)


def _text(name: str, value: Any) -> str:
    return str(value).strip()


def _optional(kind: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """`none` / `null` (any case) or an empty value means None (no limit)."""

    def convert(name: str, value: Any) -> Any:
        if value is None or str(value).strip().lower() in ("", "none", "null"):
            return None
        return kind(name, value)

    return convert


def _max_features(name: str, value: Any) -> Any:
    """`sqrt`, `log2`, none, a fraction of the features (`0.5`, `1.0`) or a count (`8`)."""
    text = str(value).strip().lower()
    if text in ("sqrt", "log2"):
        return text
    if text in ("none", "null"):
        return None
    if any(mark in text for mark in ".e"):
        return _number(name, value)
    return _integer(name, value)


def _class_weight(name: str, value: Any) -> str | None:
    text = str(value).strip().lower()
    if text in ("none", "null", ""):
        return None
    if text != "balanced":
        raise JobError(f"hyperparameter '{name}' must be 'balanced' or 'none', got '{value}'")
    return text


@dataclass(frozen=True)
class Param:
    kind: Callable[[str, Any], Any]
    default: Any
    problem_types: tuple[str, ...] = ALL


@dataclass(frozen=True)
class Estimator:
    """A learner: the problem types it serves, its hyperparameters, how to build it."""

    name: str
    problem_types: tuple[str, ...]
    params: dict[str, Param]
    # (problem type, typed params, seed, n_jobs) -> unfitted estimator
    build: Callable[[str, dict[str, Any], int, int], Any]
    scaled: bool = False  # behind a median imputer and a standard scaler
    fit_options: Callable[[dict[str, Any], np.ndarray, np.ndarray], dict[str, Any]] = field(
        default=lambda params, x_valid, y_valid: {}
    )


def _logistic_regression(problem_type: str, p: dict[str, Any], seed: int, n_jobs: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(random_state=seed, **p)


def _linear_regression(problem_type: str, p: dict[str, Any], seed: int, n_jobs: int) -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression(**p)


def _ridge(problem_type: str, p: dict[str, Any], seed: int, n_jobs: int) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(random_state=seed, **p)


def _random_forest(problem_type: str, p: dict[str, Any], seed: int, n_jobs: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    if problem_type == REGRESSION:
        return RandomForestRegressor(random_state=seed, n_jobs=n_jobs, **p)
    return RandomForestClassifier(random_state=seed, n_jobs=n_jobs, **p)


def _hist_gradient_boosting(problem_type: str, p: dict[str, Any], seed: int, n_jobs: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if problem_type == REGRESSION:
        return HistGradientBoostingRegressor(random_state=seed, **p)
    return HistGradientBoostingClassifier(random_state=seed, **p)


def _validation_set(params: dict[str, Any], x_valid: np.ndarray, y_valid: np.ndarray) -> dict:
    """Early stopping watches the validation channel rather than a slice of the train rows."""
    return {"X_val": x_valid, "y_val": y_valid} if params["early_stopping"] else {}


_CLASSIFY = CLASSIFICATION
ESTIMATORS: dict[str, Estimator] = {
    "logistic_regression": Estimator(
        "logistic_regression",
        (BINARY, MULTICLASS),
        {
            "C": Param(_number, 1.0),
            "l1_ratio": Param(_number, 0.0),
            "max_iter": Param(_integer, 1000),
            "tol": Param(_number, 1e-4),
            "class_weight": Param(_class_weight, None),
            "fit_intercept": Param(_boolean, True),
            "solver": Param(_text, "lbfgs"),
        },
        _logistic_regression,
        scaled=True,
    ),
    "linear_regression": Estimator(
        "linear_regression",
        (REGRESSION,),
        {"fit_intercept": Param(_boolean, True), "positive": Param(_boolean, False)},
        _linear_regression,
        scaled=True,
    ),
    "ridge": Estimator(
        "ridge",
        (REGRESSION,),
        {
            "alpha": Param(_number, 1.0),
            "fit_intercept": Param(_boolean, True),
            "max_iter": Param(_optional(_integer), None),
            "tol": Param(_number, 1e-4),
            "solver": Param(_text, "auto"),
            "positive": Param(_boolean, False),
        },
        _ridge,
        scaled=True,
    ),
    "random_forest": Estimator(
        "random_forest",
        ALL,
        {
            "n_estimators": Param(_integer, 100),
            "max_depth": Param(_optional(_integer), None),
            "min_samples_split": Param(_integer, 2),
            "min_samples_leaf": Param(_integer, 1),
            "max_features": Param(_max_features, "sqrt"),
            "max_leaf_nodes": Param(_optional(_integer), None),
            "bootstrap": Param(_boolean, True),
            "max_samples": Param(_optional(_number), None),
            "ccp_alpha": Param(_number, 0.0),
            "criterion": Param(_optional(_text), None),  # none: gini / squared_error
            "class_weight": Param(_class_weight, None, _CLASSIFY),
        },
        _random_forest,
    ),
    "hist_gradient_boosting": Estimator(
        "hist_gradient_boosting",
        ALL,
        {
            "learning_rate": Param(_number, 0.1),
            "max_iter": Param(_integer, 100),
            "max_leaf_nodes": Param(_optional(_integer), 31),
            "max_depth": Param(_optional(_integer), None),
            "min_samples_leaf": Param(_integer, 20),
            "l2_regularization": Param(_number, 0.0),
            "max_features": Param(_number, 1.0),
            "max_bins": Param(_integer, 255),
            "early_stopping": Param(_boolean, True),
            "n_iter_no_change": Param(_integer, 10),
            "tol": Param(_number, 1e-7),
            "class_weight": Param(_class_weight, None, _CLASSIFY),
        },
        _hist_gradient_boosting,
        fit_options=_validation_set,
    ),
}
# Hyperparameters of the job itself, whatever the estimator.
JOB_PARAMS: dict[str, Param] = {
    "problem_type": Param(_text, BINARY),
    "estimator": Param(_text, ""),
    "target_column": Param(_text, "target"),
    "threshold": Param(_number, 0.5),
    "seed": Param(_integer, 0),
    "eval_train": Param(_boolean, False),
    "n_jobs": Param(_integer, 0),  # random_forest's processes; 0: SM_NUM_CPUS
}


@dataclass(frozen=True)
class Settings:
    """The job's parsed hyperparameters: its own, and the estimator's (scikit-learn names)."""

    problem_type: str
    estimator: Estimator
    job: dict[str, Any]
    params: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {**self.job, **self.params}


def parse_hyperparameters(argv: list[str], environ: dict[str, str]) -> Settings:
    """SM_HPS and `--name value` arguments, typed against the chosen estimator's table."""
    raw = raw_hyperparameters(argv, environ)
    job = {name: param.default for name, param in JOB_PARAMS.items()}
    for name in JOB_PARAMS.keys() & raw.keys():
        job[name] = JOB_PARAMS[name].kind(name, raw[name])
    problem_type, name = job["problem_type"], job["estimator"]
    if problem_type not in PROBLEM_TYPES:
        raise JobError(
            f"hyperparameter 'problem_type' must be one of {', '.join(PROBLEM_TYPES)}, "
            f"got '{problem_type}'"
        )
    if name not in ESTIMATORS:
        raise JobError(
            f"hyperparameter 'estimator' must be one of {', '.join(sorted(ESTIMATORS))}, "
            f"got '{name}'"
        )
    estimator = ESTIMATORS[name]
    if problem_type not in estimator.problem_types:
        serving = ", ".join(
            sorted(n for n, e in ESTIMATORS.items() if problem_type in e.problem_types)
        )
        raise JobError(
            f"estimator '{name}' does not serve {problem_type} problems; these do: {serving}"
        )
    own = {n: p for n, p in estimator.params.items() if problem_type in p.problem_types}
    given = {n: v for n, v in raw.items() if n not in JOB_PARAMS}
    unknown_names(given, own, f"estimator {name} ({problem_type})")
    params = {n: p.default for n, p in own.items()}
    for n, value in given.items():
        params[n] = own[n].kind(n, value)
    if name == "random_forest" and params["criterion"] is None:
        del params["criterion"]  # scikit-learn's default for the problem type
    if not 0 < job["threshold"] < 1:
        raise JobError(
            f"hyperparameter 'threshold' must lie between 0 and 1, got {job['threshold']}"
        )
    return Settings(problem_type, estimator, job, params)


def build_estimator(settings: Settings, n_jobs: int = 1) -> Any:
    """The unfitted estimator (behind the imputer and scaler for the linear learners)."""
    learner = settings.estimator.build(
        settings.problem_type, settings.params, settings.job["seed"], n_jobs
    )
    if not settings.estimator.scaled:
        return learner
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", learner),
        ]
    )


def fit(settings: Settings, x: np.ndarray, y: np.ndarray, x_valid, y_valid, n_jobs: int) -> Any:
    """Fit the estimator; scikit-learn's refusals (bad values) become a JobError."""
    estimator = build_estimator(settings, n_jobs)
    options = settings.estimator.fit_options(settings.params, x_valid, y_valid)
    try:
        estimator.fit(x, y, **options)
    except (ValueError, TypeError) as error:
        raise JobError(
            f"{settings.estimator.name} refused its hyperparameters or data: {error}"
        ) from None
    return estimator


def scores(estimator: Any, problem_type: str, n_classes: int, rows: np.ndarray) -> np.ndarray:
    """What the model serves for `rows`: P(class 1), probabilities of every class, or values."""
    if problem_type == REGRESSION:
        return estimator.predict(rows)
    probabilities = estimator.predict_proba(rows)
    codes = estimator.classes_.astype(int)
    if problem_type == BINARY:
        return probabilities[:, list(codes).index(1)]
    if len(codes) == n_classes:
        return probabilities
    full = np.zeros((len(rows), n_classes), dtype=probabilities.dtype)
    full[:, codes] = probabilities
    return full


def measured(
    problem_type: str, labels: np.ndarray, values: np.ndarray, threshold: float, data: str
) -> dict[str, float]:
    """The metric line's values for one data set: `<data>-auc`, ... (see metrics.py)."""
    skm = _library("sklearn.metrics")
    if problem_type == BINARY:
        return {
            f"{data}-auc": skm.roc_auc_score(labels, values),
            f"{data}-logloss": skm.log_loss(labels, values, labels=[0, 1]),
            f"{data}-accuracy": skm.accuracy_score(labels, values >= threshold),
        }
    if problem_type == MULTICLASS:
        predicted = np.argmax(values, axis=1)
        return {
            f"{data}-accuracy": skm.accuracy_score(labels, predicted),
            f"{data}-mlogloss": skm.log_loss(labels, values, labels=range(values.shape[1])),
            f"{data}-weighted_f1": skm.f1_score(
                labels, predicted, average="weighted", zero_division=0
            ),
        }
    return {
        f"{data}-rmse": float(np.sqrt(skm.mean_squared_error(labels, values))),
        f"{data}-mae": skm.mean_absolute_error(labels, values),
        f"{data}-r2": skm.r2_score(labels, values),
    }


def _library(name: str) -> Any:
    """scikit-learn's module `name`, imported by name: to a type checker run over this folder
    (training_code/sklearn/, namespace packages on), the folder would stand for the library."""
    return importlib.import_module(name)


def class_names(problem_type: str, environ: dict[str, str], labels: list[np.ndarray]) -> list[str]:
    """preprocess.py's class names (preprocessing.json beside a split), else the codes."""
    if problem_type == REGRESSION:
        return []
    schema = read_preprocessing(channel_dir("train", environ), channel_dir("validation", environ))
    names = [str(name) for name in (schema or {}).get("classes") or []]
    if problem_type == BINARY:
        return names if len(names) == 2 else ["0", "1"]
    highest = max(int(part.max()) for part in labels if len(part))
    if highest >= len(names):
        if names:
            print(f"preprocessing.json names {len(names)} classes, the data has code {highest}")
        names = [str(code) for code in range(highest + 1)]
    return names


def train(settings: Settings, environ: dict[str, str]) -> None:
    cluster = Cluster.from_environment(environ)
    if cluster.rank != 0:
        print(
            f"{cluster.current_host}: scikit-learn trains on one host; {cluster.hosts[0]} "
            "trains the model, this host has nothing to do",
            flush=True,
        )
        return
    if cluster.size > 1:
        print(f"scikit-learn trains on one host: {cluster.size - 1} other host(s) stay idle")
    problem_type, target = settings.problem_type, settings.job["target_column"]
    x_train, y_train, names = load_labeled(
        channel_dir("train", environ), target, None, problem_type
    )
    x_valid, y_valid, _ = load_labeled(
        channel_dir("validation", environ), target, names, problem_type
    )
    if problem_type != REGRESSION:
        y_train, y_valid = y_train.astype(np.int64), y_valid.astype(np.int64)
        if len(np.unique(y_train)) < 2:
            needs = "both 0 and 1" if problem_type == BINARY else "at least two classes"
            raise JobError(f"channel 'train' holds a single class; it needs {needs}")
    classes = class_names(problem_type, environ, [y_train, y_valid])
    n_jobs = settings.job["n_jobs"] or int(environ.get("SM_NUM_CPUS") or os.cpu_count() or 1)
    print(
        f"{settings.estimator.name} ({problem_type}): {len(y_train)} train rows, "
        f"{len(y_valid)} validation rows, {len(names)} features",
        flush=True,
    )
    estimator = fit(settings, x_train, y_train, x_valid, y_valid, n_jobs)
    threshold = settings.job["threshold"]
    final = measured(
        problem_type,
        y_valid,
        scores(estimator, problem_type, len(classes), x_valid),
        threshold,
        "validation",
    )
    if settings.job["eval_train"]:
        final |= measured(
            problem_type,
            y_train,
            scores(estimator, problem_type, len(classes), x_train),
            threshold,
            "train",
        )
    # hist_gradient_boosting: the boosting rounds kept by early stopping.
    n_iter = getattr(estimator, "n_iter_", None)
    fitted = {"n_iter": n_iter} if isinstance(n_iter, int) else {}
    print(format_line("final", {**fitted, **final}), flush=True)
    _save(estimator, model_dir(environ), settings, names, classes, final, fitted)


def _save(
    estimator: Any,
    directory: Path,
    settings: Settings,
    names: list[str],
    classes: list[str],
    final: dict[str, float],
    fitted: dict[str, int],
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, directory / MODEL_FILE)
    metadata: dict[str, Any] = {
        "format": FORMAT,
        "family": "sklearn",
        "estimator": settings.estimator.name,
        "problem_type": settings.problem_type,
        "sklearn_version": _library("sklearn").__version__,
        "feature_names": names,
        "target_column": settings.job["target_column"],
        "classes": classes,
        "validation_metrics": {k: float(v) for k, v in final.items()},
        "hyperparameters": settings.as_dict(),
        **fitted,
    }
    if settings.problem_type == BINARY:
        metadata["threshold"] = settings.job["threshold"]
    (directory / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
    copy_serving_code(directory, Path(__file__).resolve().parent)


def cross_validation_scores(
    metadata: dict[str, Any], x_fit: np.ndarray, y_fit: np.ndarray, x_held: np.ndarray
) -> np.ndarray:
    """evaluate.py --cv-folds: refit the model's estimator and hyperparameters on `x_fit` and
    score `x_held` as the model would (P(1), probabilities, values)."""
    hps = {k: "none" if v is None else v for k, v in metadata["hyperparameters"].items()}
    settings = parse_hyperparameters([], {"SM_HPS": json.dumps(hps)})
    if settings.problem_type != REGRESSION:
        y_fit = y_fit.astype(np.int64)
    # Early stopping would need a validation set of its own: the fold fits for max_iter.
    if "early_stopping" in settings.params:
        settings.params["early_stopping"] = False
    estimator = fit(settings, x_fit, y_fit, None, None, 1)
    return scores(estimator, settings.problem_type, len(metadata["classes"]), x_held)


def main() -> None:
    environ = dict(os.environ)
    train(parse_hyperparameters(sys.argv[1:], environ), environ)


if __name__ == "__main__":
    run_job(main, TRAINING_FAILURE_FILE)
