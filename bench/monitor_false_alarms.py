"""How often the local data-quality analysis cries wolf, and how often it sees a real shift.

For each data set and each seeded run: preprocess.py's baseline (statistics.json and
constraints.json, as the pipeline writes them) of a seeded 70% training split, then one
monitoring window of traffic — `--batch` one-row text/csv requests drawn from the held-out 30%
(with replacement: the bundled sets hold 54 to 171 held-out rows), written as data-capture
records and read back through the whole path (read_capture, decode_inputs,
analyze_data_quality). The synthetic set (sagestack.datasets.synthetic, 20 numeric features)
draws its window from 20,000 fresh rows, without replacement.

  false alarm  the unshifted window gets any violation
  detection    one feature (drawn per run) moved by 0.5, 1, 2 or 3 training standard
               deviations is named by a baseline_drift_check violation

for the baseline's own settings (comparison_method Robust, comparison_threshold 0.1) and, for
comparison, Simple at the same threshold.

    PYTHONPATH=. .venv/bin/python bench/monitor_false_alarms.py [--runs 200] [--batch 100]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sagestack.datasets import TARGET, load, synthetic
from sagestack.monitoring import analyze_data_quality, decode_inputs, read_capture
from sagestack.monitoring.data_quality import BASELINE_DRIFT_CHECK

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training_code"))
import preprocess

SHIFTS = (0.5, 1.0, 2.0, 3.0)
METHODS = ("Robust", "Simple")
TRAIN_FRACTION = 0.7


def features(name: str) -> pd.DataFrame:
    """The data set's feature columns as floats, named as the baseline names them."""
    if name == "synthetic":
        frame = synthetic(20_000, 20, seed=0, problem_type="regression")
    else:
        frame = load(name)
    frame = frame.drop(columns=[TARGET]).astype(float)
    return frame.set_axis(preprocess.monitor_column_names(frame.columns), axis=1)


def capture_file(rows: np.ndarray) -> str:
    """One data-capture record per one-row CSV request (the answer does not matter here)."""
    lines = []
    for index, row in enumerate(rows):
        body = ",".join(f"{value:.10g}" for value in row)
        section = {"observedContentType": "text/csv", "data": body, "encoding": "CSV"}
        record = {
            "captureData": {
                "endpointInput": {**section, "mode": "INPUT"},
                "endpointOutput": {**section, "data": "0.5,1", "mode": "OUTPUT"},
            },
            "eventMetadata": {"eventId": f"e{index}", "inferenceTime": "2026-12-03T00:00:00Z"},
            "eventVersion": "0",
        }
        lines.append(json.dumps(record))
    return "\n".join(lines)


def with_method(constraints: dict, method: str) -> dict:
    changed = copy.deepcopy(constraints)
    changed["monitoring_config"]["distribution_constraints"]["comparison_method"] = method
    return changed


def one_run(frame: pd.DataFrame, seed: int, batch: int, fresh: bool) -> dict[str, list[bool]]:
    """{(method, shift): [any violation, drift named the shifted feature]} of one seed."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    cut = int(len(frame) * TRAIN_FRACTION)
    train, held_out = frame.iloc[order[:cut]], frame.iloc[order[cut:]].to_numpy()
    statistics = preprocess.statistics(train)
    constraints = preprocess.constraints(statistics)
    picks = rng.choice(len(held_out), batch, replace=not fresh)
    window = held_out[picks]
    column = int(rng.integers(frame.shape[1]))
    spread = float(train.iloc[:, column].std())
    outcome: dict[str, list[bool]] = {}
    for shift in (0.0, *SHIFTS):
        traffic = window.copy()
        traffic[:, column] += shift * spread
        rows, rejected = decode_inputs(read_capture([("capture.jsonl", capture_file(traffic))]))
        assert not rejected and len(rows) == batch
        for method in METHODS:
            _, found = analyze_data_quality(
                rows, None, statistics, with_method(constraints, method)
            )
            named = any(
                v["feature_name"] == f"_c{column}"
                and v["constraint_check_type"] == BASELINE_DRIFT_CHECK
                for v in found["violations"]
            )
            outcome[f"{method} {shift:g}"] = [bool(found["violations"]), named]
    return outcome


def measure(name: str, runs: int, batch: int) -> dict[str, float]:
    frame = features(name)
    fresh = name == "synthetic"
    totals: dict[str, np.ndarray] = {}
    for seed in range(runs):
        for key, flags in one_run(frame, seed, batch, fresh).items():
            totals[key] = totals.get(key, np.zeros(2)) + np.asarray(flags, dtype=float)
    rates = {}
    for method in METHODS:
        rates[f"{method} false alarms"] = totals[f"{method} 0"][0] / runs
        for shift in SHIFTS:
            rates[f"{method} {shift:g} sd"] = totals[f"{method} {shift:g}"][1] / runs
    return rates


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100, help="requests per monitoring window")
    parser.add_argument(
        "--datasets", default="breast_cancer,wine,diabetes,synthetic", help="comma-separated"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = {name: measure(name, args.runs, args.batch) for name in args.datasets.split(",")}
    for method in METHODS:
        shifts = " | ".join(f"{shift:g} sd found" for shift in SHIFTS)
        print(f"| data set | {method}: false alarms | {shifts} |")
        print("|---" * (2 + len(SHIFTS)) + "|")
        for name, rates in results.items():
            cells = [
                rates[f"{method} false alarms"],
                *(rates[f"{method} {s:g} sd"] for s in SHIFTS),
            ]
            print(f"| {name} | " + " | ".join(map(percent, cells)) + " |")
        print()
    seconds = time.perf_counter() - started
    print(f"{args.runs} runs of {args.batch} requests per data set, {seconds:.0f} s")


if __name__ == "__main__":
    main()
