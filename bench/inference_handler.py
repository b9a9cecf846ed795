"""Inference handler cost: inference.py's input_fn → predict_fn → output_fn vs raw
booster.inplace_predict on the same rows.

Models (bench_models.py, train.py's format, 50 features, trained on 100,000 synthetic rows):
a small one (100 trees of depth 6) and the sizes config/{dev,staging,prod}.yaml train, every
round kept. model_fn pins one prediction thread and the raw calls use the same booster.
Payloads: 1,000 rows and 1 row as text/csv (`%.7g`), answered as text/csv; for comparison the
same rows as an application/x-npy body. Raw and chain calls are timed in alternating batches
and each figure is the median over batches, so background load on the machine shifts both
alike.

    .venv/bin/python bench/inference_handler.py
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import (
    SMALL,
    configured_size,
    csv_body,
    feature_rows,
    inference,
    train_model,
)

ENVIRONMENTS = ("dev", "staging", "prod")


def chain(model: inference.Model, body: bytes, content_type: str) -> Callable[[], object]:
    def run() -> object:
        rows = inference.input_fn(body, content_type)
        return inference.output_fn(inference.predict_fn(rows, model), "text/csv")

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--batches", type=int, default=15)
    args = parser.parse_args()
    rows = feature_rows(1000, args.features)
    print(
        "| model | payload | raw inplace_predict | handler chain, CSV body | chain / raw "
        "throughput | added per call | chain, npy body | npy / raw |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size in (SMALL, *map(configured_size, ENVIRONMENTS)):
        with tempfile.TemporaryDirectory() as scratch:
            model = train_model(Path(scratch), args.features, size)
        for count, repeat in ((1000, 10), (1, 500)):
            subset = rows[:count].copy()
            csv = csv_body(subset)
            npy = io.BytesIO()
            np.save(npy, subset)
            best = medians(
                {
                    "raw": lambda s=subset, b=model.booster: b.inplace_predict(s),
                    "csv": chain(model, csv, inference.CSV),
                    "npy": chain(model, npy.getvalue(), inference.NPY),
                },
                repeat,
                args.batches,
            )
            raw, by_csv, by_npy = best["raw"], best["csv"], best["npy"]
            print(
                f"| {size.description} | {count} row{'s' if count > 1 else ''} ({len(csv):,} B) "
                f"| {raw * 1e6:,.0f} µs ({count / raw:,.0f} rows/s) "
                f"| {by_csv * 1e6:,.0f} µs ({count / by_csv:,.0f} rows/s) | {raw / by_csv:.0%} "
                f"| {(by_csv - raw) * 1e6:,.0f} µs | {by_npy * 1e6:,.0f} µs | {raw / by_npy:.0%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
