"""Evaluate the trained model on the test split: a processing job on the model family's image.

Inputs: /opt/ml/processing/model/model.tar.gz (from the training job), /opt/ml/processing/test
(and /opt/ml/processing/train when --cv-folds is given). The model is loaded and scored through
its own packaged handlers (code/inference.py's model_fn and predict_fn, as the endpoint will
serve it), so this script is the same for every family. Outputs in
/opt/ml/processing/evaluation:
  evaluation.json   SageMaker's model-quality layout of the problem type, each scalar
                    {"value", "standard_deviation"} (seeded bootstrap of the test rows):
                    binary_classification_metrics      accuracy, precision, recall, f1, auc
                                                       (ROC), pr_auc, log_loss, the confusion
                                                       matrix and both curves
                    multiclass_classification_metrics  accuracy, weighted_ and macro_
                                                       precision / recall / f1, log_loss, and
                                                       confusion_matrix {true class: {predicted
                                                       class: count}} by class name
                    regression_metrics                 mse, rmse, mae, r2
                    With --cv-folds k, "cross_validation" holds the k-fold value (stratified for
                    classification) of the problem type's objective (auc, accuracy or rmse) on
                    the train split, refitted with the model's hyperparameters by the family's
                    train.py (cross_validation_scores).
  report.html       one page with the figures and the numbers (images embedded), and the PNGs:
                    binary roc_curve, pr_curve, confusion_matrix; multiclass confusion_matrix;
                    regression residuals (against the prediction) and residual_histogram
  model_quality_constraints.json
                    Model Monitor's model-quality constraints ({"version": 0.0,
                    "<problem>_constraints": {metric: {"threshold", "comparison_operator"}}},
                    binary_classification_constraints, multiclass_classification_constraints
                    or regression_constraints): the test-split metrics loosened by the relative
                    --quality-tolerance t (default 0.1). The operator names the violation, as in
                    the constraints Model Monitor's baselining job suggests: binary auc,
                    accuracy, f1, precision, recall and multiclass accuracy, weighted_f1,
                    weighted_precision, weighted_recall are violated LessThanThreshold
                    value - t*|value|; regression mae and rmse GreaterThanThreshold
                    value + t*|value|, r2 LessThanThreshold value - t*|value|.
The pipeline's quality gate reads `<layout>.<metric>.value` (JsonGet).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
from common import (
    METADATA_FILE,
    PROCESSING_FAILURE_FILE,
    SERVING_CODE_DIR,
    JobArgumentParser,
    JobError,
    load_labeled,
    opt_ml,
    run_job,
)
from problems import BINARY, LAYOUTS, MULTICLASS, PROBLEM_TYPES, REGRESSION
from report import ReportData, write_report
from sklearn.model_selection import KFold, StratifiedKFold

# Imported by name: to a type checker run over training_code/ (namespace packages on), the
# family folder training_code/sklearn/ would stand for the library; the job's bundle has no
# such folder.
skm: Any = importlib.import_module("sklearn.metrics")
CURVE_POINTS = 101
# The objective each problem type's cross-validation reports (the tuning objective's metric).
CV_METRIC = {BINARY: "auc", MULTICLASS: "accuracy", REGRESSION: "rmse"}
CONSTRAINTS_FILE = "model_quality_constraints.json"
# The metrics a model-quality monitor checks, and whether a larger value is better.
MONITORED_METRICS = {
    BINARY: {"auc": True, "accuracy": True, "f1": True, "precision": True, "recall": True},
    MULTICLASS: {
        "accuracy": True,
        "weighted_f1": True,
        "weighted_precision": True,
        "weighted_recall": True,
    },
    REGRESSION: {"mae": False, "rmse": False, "r2": True},
}


def parse_args(argv: list[str] | None = None) -> Any:
    parser = JobArgumentParser(description="Evaluate model.tar.gz on the test split.")
    processing = opt_ml("processing")
    parser.add_argument(
        "--problem-type",
        choices=PROBLEM_TYPES,
        help="what the model must be (default: what its metadata.json says)",
    )
    parser.add_argument("--model-dir", type=Path, default=processing / "model")
    parser.add_argument("--test-dir", type=Path, default=processing / "test")
    parser.add_argument("--train-dir", type=Path, default=processing / "train")
    parser.add_argument("--output-dir", type=Path, default=processing / "evaluation")
    parser.add_argument("--cv-folds", type=int, default=0, help="k-fold CV on train (0: none)")
    parser.add_argument("--bootstrap", type=int, default=30, help="resamples for std devs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quality-tolerance",
        type=float,
        default=0.1,
        help="relative slack of the model-quality constraints' thresholds",
    )
    args = parser.parse_args(argv)
    if args.cv_folds == 1 or args.cv_folds < 0:
        raise JobError(f"--cv-folds must be 0 (none) or at least 2, got {args.cv_folds}")
    if not 0 <= args.quality_tolerance < 1:
        raise JobError(f"--quality-tolerance must be in [0, 1), got {args.quality_tolerance}")
    return args


class LoadedModel(NamedTuple):
    handlers: ModuleType  # the model's code/inference.py
    model: Any  # what its model_fn returned
    metadata: dict[str, Any]

    @property
    def problem_type(self) -> str:
        return self.metadata.get("problem_type", BINARY)

    def predict(self, features: np.ndarray) -> Any:
        """serving.Prediction: .scores (P(1), class probabilities or values) and .labels."""
        return self.handlers.predict_fn(features, self.model)


def load_model(model_dir: Path, workdir: Path) -> LoadedModel:
    """Unpack model.tar.gz and load it with its own handlers, as the serving container does."""
    archive = model_dir / "model.tar.gz"
    if not archive.is_file():
        raise JobError(f"no model.tar.gz in {model_dir}; pass the training job's model artifact")
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(workdir, filter="data")
        metadata = json.loads((workdir / METADATA_FILE).read_text())
        handlers = _import_handlers(workdir / SERVING_CODE_DIR / "inference.py")
        return LoadedModel(handlers, handlers.model_fn(str(workdir)), metadata)
    except JobError:
        raise
    except Exception as error:  # whatever the family's loader raises for a bad artifact
        raise JobError(
            f"{archive} is not a model written by train.py: {type(error).__name__}: {error}"
        ) from error


def _import_handlers(entry_point: Path) -> ModuleType:
    if not entry_point.is_file():
        raise JobError(f"the model carries no {SERVING_CODE_DIR}/inference.py")
    sys.path.insert(0, str(entry_point.parent))  # its sibling modules, as in the container
    spec = importlib.util.spec_from_file_location(
        f"_model_inference_{id(entry_point)}", entry_point
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# --- scores per problem type ---------------------------------------------------------------


def binary_scores(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    labels = (p >= threshold).astype(int)
    return {
        "accuracy": skm.accuracy_score(y, labels),
        "precision": skm.precision_score(y, labels, zero_division=0),
        "recall": skm.recall_score(y, labels, zero_division=0),
        "f1": skm.f1_score(y, labels, zero_division=0),
        "auc": skm.roc_auc_score(y, p),
        "pr_auc": skm.average_precision_score(y, p),
        "log_loss": skm.log_loss(y, p, labels=[0, 1]),
    }


def multiclass_scores(y: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    codes = list(range(probabilities.shape[1]))
    predicted = np.argmax(probabilities, axis=1)
    values = {"accuracy": skm.accuracy_score(y, predicted)}
    for average in ("weighted", "macro"):
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            y, predicted, labels=codes, average=average, zero_division=0
        )
        values |= {
            f"{average}_precision": precision,
            f"{average}_recall": recall,
            f"{average}_f1": f1,
        }
    values["log_loss"] = skm.log_loss(y, np.clip(probabilities, 1e-15, 1), labels=codes)
    return values


def regression_scores(y: np.ndarray, values: np.ndarray) -> dict[str, float]:
    mse = skm.mean_squared_error(y, values)
    return {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": skm.mean_absolute_error(y, values),
        "r2": skm.r2_score(y, values),
    }


def scores(problem_type: str, y: np.ndarray, predicted: np.ndarray, threshold: float) -> dict:
    if problem_type == BINARY:
        return binary_scores(y, predicted, threshold)
    if problem_type == MULTICLASS:
        return multiclass_scores(y, predicted)
    return regression_scores(y, predicted)


def bootstrap_std(
    problem_type: str,
    y: np.ndarray,
    predicted: np.ndarray,
    threshold: float,
    rounds: int,
    seed: int,
) -> dict[str, float]:
    """Standard deviation of each score over seeded resamples of the test rows (binary:
    resamples holding both classes; regression: at least two distinct targets)."""
    rng = np.random.default_rng(seed)
    samples: list[dict[str, float]] = []
    attempts = 0
    while len(samples) < rounds and attempts < rounds * 20:
        attempts += 1
        index = rng.integers(0, len(y), len(y))
        if len(np.unique(y[index])) < 2:
            continue
        samples.append(scores(problem_type, y[index], predicted[index], threshold))
    keys = scores(problem_type, y, predicted, threshold)
    return {key: float(np.std([s[key] for s in samples])) if samples else 0.0 for key in keys}


def curves(y: np.ndarray, p: np.ndarray) -> dict[str, dict[str, list[float]]]:
    fpr, tpr, _ = skm.roc_curve(y, p)
    precision, recall, _ = skm.precision_recall_curve(y, p)
    return {
        "receiver_operating_characteristic_curve": {
            "false_positive_rates": _thin(fpr),
            "true_positive_rates": _thin(tpr),
        },
        "precision_recall_curve": {"precisions": _thin(precision), "recalls": _thin(recall)},
    }


def _thin(values: np.ndarray) -> list[float]:
    index = np.unique(np.linspace(0, len(values) - 1, CURVE_POINTS).round().astype(int))
    return [round(float(v), 6) for v in values[index]]


def confusion(y: np.ndarray, predicted: np.ndarray, names: list[str]) -> dict[str, dict]:
    """{true class: {predicted class: count}} over every class, by name."""
    matrix = skm.confusion_matrix(y, predicted, labels=list(range(len(names))))
    return {
        names[actual]: {names[guess]: int(matrix[actual, guess]) for guess in range(len(names))}
        for actual in range(len(names))
    }


def _layout(
    problem_type: str,
    y: np.ndarray,
    prediction: Any,
    metadata: dict[str, Any],
    args: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the layout's metrics, the dataset section) of the test rows."""
    predicted = prediction.scores
    threshold = float(metadata.get("threshold", 0.5))
    values = scores(problem_type, y, predicted, threshold)
    spread = bootstrap_std(problem_type, y, predicted, threshold, args.bootstrap, args.seed)
    metrics: dict[str, Any] = {
        key: {"value": float(value), "standard_deviation": spread[key]}
        for key, value in values.items()
    }
    dataset: dict[str, Any] = {"rows": len(y)}
    if problem_type == BINARY:
        matrix = skm.confusion_matrix(y, (predicted >= threshold).astype(int), labels=[0, 1])
        metrics["confusion_matrix"] = {
            str(actual): {str(pred): int(matrix[actual, pred]) for pred in (0, 1)}
            for actual in (0, 1)
        }
        metrics |= curves(y, predicted)
        dataset |= {"positives": int(y.sum()), "threshold": threshold}
    elif problem_type == MULTICLASS:
        names = [str(name) for name in metadata["classes"]]
        metrics["confusion_matrix"] = confusion(y, prediction.labels, names)
        counts = np.bincount(y.astype(int), minlength=len(names))
        dataset["rows_per_class"] = {name: int(n) for name, n in zip(names, counts, strict=True)}
    else:
        dataset |= {"target_mean": float(np.mean(y)), "target_std": float(np.std(y))}
    return metrics, dataset


def quality_constraints(
    problem_type: str, metrics: dict[str, Any], tolerance: float
) -> dict[str, Any]:
    """Model Monitor's model-quality constraints from the test-split metrics (the layout's
    {"value", ...} pairs): each monitored metric may worsen by `tolerance` of its value."""
    checks = {}
    for name, larger_is_better in MONITORED_METRICS[problem_type].items():
        value = float(metrics[name]["value"])
        slack = tolerance * abs(value)
        checks[name] = {
            "threshold": value - slack if larger_is_better else value + slack,
            "comparison_operator": "LessThanThreshold"
            if larger_is_better
            else "GreaterThanThreshold",
        }
    key = LAYOUTS[problem_type].removesuffix("_metrics") + "_constraints"
    return {"version": 0.0, key: checks}


def cross_validate(loaded: LoadedModel, train_dir: Path, folds: int, seed: int) -> dict[str, Any]:
    """The k-fold objective of the model's hyperparameters on the train split, refitted by the
    family's train.py (beside this script in the job's code)."""
    problem_type, metadata = loaded.problem_type, loaded.metadata
    features, labels, _ = load_labeled(
        train_dir, metadata["target_column"], list(metadata["feature_names"]), problem_type
    )
    try:
        refit = importlib.import_module("train").cross_validation_scores
    except (ImportError, AttributeError) as error:
        raise JobError(f"this family's train.py cannot cross-validate: {error}") from None
    stratified = problem_type != REGRESSION
    splitter = (StratifiedKFold if stratified else KFold)(
        n_splits=folds, shuffle=True, random_state=seed
    )
    try:
        splits = list(splitter.split(features, labels))
    except ValueError as error:
        raise JobError(f"cannot make {folds} folds of the train split: {error}") from None
    metric = CV_METRIC[problem_type]
    threshold = float(metadata.get("threshold", 0.5))
    fold_scores = []
    for fit, held in splits:
        predicted = refit(metadata, features[fit], labels[fit], features[held])
        fold_scores.append(scores(problem_type, labels[held], predicted, threshold)[metric])
    return {
        "folds": folds,
        "metric": metric,
        metric: {
            "value": float(np.mean(fold_scores)),
            "standard_deviation": float(np.std(fold_scores)),
            "per_fold": [float(s) for s in fold_scores],
        },
    }


def evaluate(args: Any) -> tuple[dict[str, Any], ReportData]:
    with tempfile.TemporaryDirectory() as workdir:
        loaded = load_model(args.model_dir, Path(workdir))
    problem_type, metadata = loaded.problem_type, loaded.metadata
    if args.problem_type and args.problem_type != problem_type:
        raise JobError(
            f"the model is a {problem_type} model, but the job evaluates {args.problem_type} "
            "(--problem-type); train and evaluate the same problem type"
        )
    classes = [str(name) for name in metadata.get("classes") or []]
    features, y, _ = load_labeled(
        args.test_dir,
        metadata["target_column"],
        list(metadata["feature_names"]),
        problem_type,
        len(classes) if problem_type == MULTICLASS else None,
    )
    if problem_type != REGRESSION and len(np.unique(y)) < 2:
        raise JobError(f"the test split in {args.test_dir} holds one class; it needs two or more")
    prediction = loaded.predict(features)
    metrics, dataset = _layout(problem_type, y, prediction, metadata, args)
    result: dict[str, Any] = {"version": 0.0, LAYOUTS[problem_type]: metrics, "dataset": dataset}
    if args.cv_folds:
        result["cross_validation"] = cross_validate(
            loaded, args.train_dir, args.cv_folds, args.seed
        )
    return result, ReportData(problem_type, y, prediction.scores, classes)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result, data = evaluate(args)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "evaluation.json").write_text(json.dumps(result, indent=1))
    write_report(result, args.output_dir, data)
    layout = result[LAYOUTS[data.problem_type]]
    constraints = quality_constraints(data.problem_type, layout, args.quality_tolerance)
    (args.output_dir / CONSTRAINTS_FILE).write_text(json.dumps(constraints, indent=1))
    headline = {BINARY: "auc", MULTICLASS: "accuracy", REGRESSION: "rmse"}[data.problem_type]
    print(
        f"test {headline}={layout[headline]['value']:.4f}; wrote "
        f"{args.output_dir}/evaluation.json, report.html and {CONSTRAINTS_FILE}"
    )


if __name__ == "__main__":
    run_job(main, PROCESSING_FAILURE_FILE)
