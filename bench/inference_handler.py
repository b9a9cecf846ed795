"""Inference handler cost: each family's input_fn → predict_fn → output_fn vs the library's own
prediction call (raw) on the same rows.

Part 1, XGBoost binary by model size (bench_models.py, train.py's format, 50 features, trained
on 100,000 synthetic rows): a small one (100 trees of depth 6) and the sizes the cancer model
trains in config dev/staging/prod, every round kept; raw is booster.inplace_predict on the
booster model_fn loaded (one prediction thread). Payloads: 1,000 rows and 1 row as text/csv
(`%.7g`), answered as text/csv; for comparison the same rows as an application/x-npy body.

Part 2, every family on every problem type (50 features): XGBoost binary / multiclass (3
classes) / regression, scikit-learn logistic_regression, hist_gradient_boosting,
random_forest (the wine model's configured size: 200 trees of depth 8) and ridge; raw is
predict_proba (classifiers) or predict (regressors) of the estimator model_fn loaded (one
thread). Payloads: 1 row as text/csv answered as text/csv, 1 row as application/json answered
as application/json, 1,000 rows as text/csv answered as text/csv. "Handlers alone" times the
chain without the library's call (input_fn, width check, labelling scores computed beforehand,
output_fn): the added cost without the noise of a slow raw call (a 200-tree forest takes ~20
ms per row, so chain minus raw there moves by more than the handlers cost).

Raw and chain calls are timed in alternating batches and each figure is the median over
batches, so background load on the machine shifts both alike.

    .venv/bin/python bench/inference_handler.py [--part 1|2]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import (
    SKLEARN,
    SMALL,
    XGBOOST,
    ModelSize,
    configured_size,
    csv_body,
    feature_rows,
    raw_predict,
    train_model,
    train_sklearn_model,
)
from bench_models import serving as _serving

CSV, JSON, NPY = _serving.CSV, _serving.JSON, _serving.NPY

ENVIRONMENTS = ("dev", "staging", "prod")


def chain(
    handlers: Any, model: Any, body: bytes, content_type: str, accept: str = CSV
) -> Callable[[], object]:
    def run() -> object:
        rows = handlers.input_fn(body, content_type)
        return handlers.output_fn(handlers.predict_fn(rows, model), accept)

    return run


def medians(calls: dict[str, Callable[[], object]], repeat: int, batches: int) -> dict[str, float]:
    """Median seconds per call of each callable, timed in alternating batches."""
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(batches + 1):  # the first round warms up
        for name, call in calls.items():
            start = time.perf_counter()
            for _ in range(repeat):
                call()
            timings[name].append((time.perf_counter() - start) / repeat)
    return {name: statistics.median(values[1:]) for name, values in timings.items()}


def sizes_table(features: int, batches: int) -> None:
    rows = feature_rows(1000, features)
    print(
        "| model | payload | raw inplace_predict | handler chain, CSV body | chain / raw "
        "throughput | added per call | chain, npy body | npy / raw |"
    )
    print("|---|---|---|---|---|---|---|---|")
    handlers = XGBOOST.inference
    for size in (SMALL, *map(configured_size, ENVIRONMENTS)):
        with tempfile.TemporaryDirectory() as scratch:
            model = train_model(Path(scratch), features, size)
        for count, repeat in ((1000, 10), (1, 500)):
            subset = rows[:count].copy()
            csv = csv_body(subset)
            npy = io.BytesIO()
            np.save(npy, subset)
            best = medians(
                {
                    "raw": lambda s=subset, b=model.booster: b.inplace_predict(s),
                    "csv": chain(handlers, model, csv, CSV),
                    "npy": chain(handlers, model, npy.getvalue(), NPY),
                },
                repeat,
                batches,
            )
            raw, by_csv, by_npy = best["raw"], best["csv"], best["npy"]
            print(
                f"| {size.description} | {count} row{'s' if count > 1 else ''} ({len(csv):,} B) "
                f"| {raw * 1e6:,.0f} µs ({count / raw:,.0f} rows/s) "
                f"| {by_csv * 1e6:,.0f} µs ({count / by_csv:,.0f} rows/s) | {raw / by_csv:.0%} "
                f"| {(by_csv - raw) * 1e6:,.0f} µs | {by_npy * 1e6:,.0f} µs | {raw / by_npy:.0%} |",
                flush=True,
            )


DIABETES = ModelSize("diabetes", 200, {"max_depth": 3, "eta": 0.05})
FAMILY_MODELS: list[tuple[str, str, str, Callable[[Path, int], Any]]] = [
    (
        "xgboost",
        "binary",
        "100 trees, depth 6",
        lambda d, f: train_model(d, f, SMALL, problem_type="binary"),
    ),
    (
        "xgboost",
        "multiclass",
        "100 rounds x 3 classes, depth 6",
        lambda d, f: train_model(d, f, SMALL, problem_type="multiclass"),
    ),
    (
        "xgboost",
        "regression",
        "200 trees, depth 3 (diabetes)",
        lambda d, f: train_model(d, f, DIABETES, problem_type="regression"),
    ),
    (
        "sklearn",
        "binary",
        "logistic_regression",
        lambda d, f: train_sklearn_model(d, f, "logistic_regression", "binary"),
    ),
    (
        "sklearn",
        "binary",
        "hist_gradient_boosting, 100 iterations",
        lambda d, f: train_sklearn_model(
            d, f, "hist_gradient_boosting", "binary", {"early_stopping": "false"}
        ),
    ),
    (
        "sklearn",
        "multiclass",
        "logistic_regression",
        lambda d, f: train_sklearn_model(d, f, "logistic_regression", "multiclass"),
    ),
    (
        "sklearn",
        "multiclass",
        "random_forest, 200 trees, depth 8 (wine)",
        lambda d, f: train_sklearn_model(
            d, f, "random_forest", "multiclass", {"n_estimators": "200", "max_depth": "8"}
        ),
    ),
    (
        "sklearn",
        "regression",
        "ridge",
        lambda d, f: train_sklearn_model(d, f, "ridge", "regression"),
    ),
    (
        "sklearn",
        "regression",
        "hist_gradient_boosting, 100 iterations",
        lambda d, f: train_sklearn_model(
            d, f, "hist_gradient_boosting", "regression", {"early_stopping": "false"}
        ),
    ),
]


def handlers_alone(handlers: Any, model: Any, body: bytes, content_type: str, accept: str):
    """The chain without the library's prediction: input_fn, the width check, labelling the
    scores (computed once beforehand) and output_fn."""
    scores = model.score if hasattr(model, "score") else model.booster.inplace_predict
    fixed = scores(handlers.input_fn(body, content_type))

    def run() -> object:
        rows = handlers.input_fn(body, content_type)
        _serving.check_width(rows, model.spec)
        return handlers.output_fn(_serving.prediction(model.spec, fixed), accept)

    return run


def families_table(features: int, batches: int) -> None:
    rows = feature_rows(1000, features)
    one = rows[:1].copy()
    bodies = {
        "csv": (csv_body(one), CSV, CSV),
        "json": (json.dumps(one.tolist()).encode(), JSON, JSON),
    }
    print(
        "| family | problem type | model | raw, 1 row | chain, 1 row csv → csv | added "
        "| chain, 1 row json → json | added | handlers alone, csv / json "
        "| raw, 1,000 rows | chain, 1,000 rows csv | added |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for family, problem_type, description, make in FAMILY_MODELS:
        handlers = XGBOOST.inference if family == "xgboost" else SKLEARN.inference
        with tempfile.TemporaryDirectory() as scratch:
            model = make(Path(scratch), features)
        raw = raw_predict(model)
        calls: dict[str, Callable[[], object]] = {"raw 1": lambda r=raw: r(one)}
        for name, (body, content_type, accept) in bodies.items():
            calls[name] = chain(handlers, model, body, content_type, accept)
            calls[f"{name} alone"] = handlers_alone(handlers, model, body, content_type, accept)
        single = medians(calls, 200, batches)
        batch = medians(
            {"raw": lambda r=raw: r(rows), "chain": chain(handlers, model, csv_body(rows), CSV)},
            5,
            batches,
        )
        us = {name: value * 1e6 for name, value in {**single, **batch}.items()}
        print(
            f"| {family} | {problem_type} | {description} | {us['raw 1']:,.0f} µs "
            f"| {us['csv']:,.0f} µs | **{us['csv'] - us['raw 1']:,.0f} µs** "
            f"| {us['json']:,.0f} µs | **{us['json'] - us['raw 1']:,.0f} µs** "
            f"| {us['csv alone']:,.0f} / {us['json alone']:,.0f} µs "
            f"| {us['raw']:,.0f} µs | {us['chain']:,.0f} µs | {us['chain'] - us['raw']:,.0f} µs |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--part", type=int, choices=(1, 2), help="one part only")
    args = parser.parse_args()
    if args.part in (None, 1):
        sizes_table(args.features, args.batches)
    if args.part in (None, 2):
        print()
        families_table(args.features, args.batches)


if __name__ == "__main__":
    main()
