"""Training overhead: each family's train.py end to end under the local runner vs its library's
own training call on the same data in memory.

XGBoost (`--family xgboost`): sagestack.datasets.synthetic, 1,000,000 train rows + 100,000
validation rows, 50 float32 features, written once as Parquet and as CSV. Same parameters
everywhere (hist, 100 rounds, depth 6, eta 0.1, validation logloss+auc every round, no early
stop firing).

* raw      QuantileDMatrix of the in-memory arrays + xgboost.train (timer starts with the
           arrays in memory)
* parquet  run_training(train.py) on the Parquet channels: process start, reading, DMatrix,
           training, checkpoints every 10 rounds, model.ubj, model.tar.gz
* csv      the same on the CSV channels

scikit-learn (`--family sklearn`): the same generator, `--sklearn-rows` train rows (default
500,000) + a tenth for validation, 50 features; hist_gradient_boosting (100 iterations, no
early stopping) and logistic_regression, each built as train.py builds it (build_estimator).

* raw      estimator.fit on the in-memory arrays
* parquet  run_training(train.py): process start, reading, fit, validation metrics,
           model.joblib, model.tar.gz (and csv for hist_gradient_boosting)

Runs alternate (raw, parquet, csv) `--repeat` times; the fastest of each is reported, so a
burst of load from elsewhere on the machine does not decide the ratio. Wall time and CPU time
(user + system of this process for raw, of the job's processes for train.py) are both
reported: on a shared machine the CPU seconds are the steadier measure of overhead.

    .venv/bin/python bench/train_overhead.py [--family xgboost|sklearn] [--rows 1000000]
        [--sklearn-rows 500000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from sagestack.datasets import synthetic, write_csv, write_parquet
from sagestack.local.runner import run_training
from sagestack.local.script_chain import family_code_dir

# Each family's flattened bundle, as its jobs run it.
CODE = Path(tempfile.mkdtemp(prefix="bench-train-code-"))
XGBOOST_TRAIN = family_code_dir("xgboost", CODE / "xgboost") / "train.py"
SKLEARN_TRAIN = family_code_dir("sklearn", CODE / "sklearn") / "train.py"

HYPERPARAMETERS = {
    "num_round": "100",
    "max_depth": "6",
    "eta": "0.1",
    "early_stopping_rounds": "1000",
    "max_bin": "256",
    "seed": "0",
}


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def raw_seconds(train: tuple, valid: tuple, nthread: int) -> tuple[float, float]:
    (x, y), (xv, yv) = train, valid
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "eval_metric": ["logloss", "auc"],
        "max_depth": 6,
        "eta": 0.1,
        "max_bin": 256,
        "seed": 0,
        "nthread": nthread,
    }
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    dtrain = xgb.QuantileDMatrix(x, y, max_bin=256, nthread=nthread)
    dvalid = xgb.QuantileDMatrix(xv, yv, ref=dtrain)
    xgb.train(params, dtrain, 100, evals=[(dvalid, "validation")], verbose_eval=False)
    return time.perf_counter() - start, _cpu(resource.RUSAGE_SELF) - cpu


def script_seconds(
    channels: dict[str, Path],
    output_dir: Path,
    train_py: Path = XGBOOST_TRAIN,
    hyperparameters: dict[str, str] = HYPERPARAMETERS,
) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    result = run_training(
        train_py, channels=channels, hyperparameters=hyperparameters, output_dir=output_dir
    )
    elapsed = time.perf_counter() - start, _cpu(resource.RUSAGE_CHILDREN) - cpu
    if not result.succeeded:
        raise SystemExit(f"train.py failed: {result.failure_reason}")
    return elapsed


# scikit-learn runs: estimator -> (train.py hyperparameters, formats timed)
SKLEARN_RUNS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "hist_gradient_boosting": (
        {"max_iter": "100", "early_stopping": "false", "seed": "0"},
        ("parquet", "csv"),
    ),
    "logistic_regression": ({"max_iter": "1000"}, ("parquet",)),
}


def _frames(rows: int, features: int) -> tuple[Any, Any, list[tuple[np.ndarray, np.ndarray]]]:
    frame = synthetic(rows + rows // 10, features, seed=0)
    train_frame, valid_frame = frame.iloc[:rows], frame.iloc[rows:]
    arrays = [  # row-major, as train.py builds them
        (
            np.ascontiguousarray(part.drop(columns="target").to_numpy(np.float32)),
            part["target"].to_numpy(np.float32),
        )
        for part in (train_frame, valid_frame)
    ]
    return train_frame, valid_frame, arrays


def _channels(root: Path, train_frame: Any, valid_frame: Any, kinds: tuple[str, ...]) -> dict:
    writers = {"parquet": write_parquet, "csv": write_csv}
    return {
        kind: {
            name: writers[kind](part, root / kind / name / f"part-0.{kind}").parent
            for name, part in (("train", train_frame), ("validation", valid_frame))
        }
        for kind in kinds
    }


def _report(title: str, times: dict[str, list[tuple[float, float]]], repeat: int) -> None:
    wall = {kind: min(w for w, _ in values) for kind, values in times.items()}
    cpu = {kind: min(c for _, c in values) for kind, values in times.items()}
    print(f"\n{title}")
    print(f"| run | wall s (best of {repeat}) | vs raw | CPU s (best) | vs raw |")
    print("|---|---|---|---|---|")
    for kind in times:
        print(
            f"| {kind} | {wall[kind]:.1f} | {wall[kind] / wall['raw']:.2f}x "
            f"| {cpu[kind]:.1f} | {cpu[kind] / cpu['raw']:.2f}x |",
            flush=True,
        )


def xgboost_overhead(rows: int, features: int, repeat: int) -> None:
    nthread = os.cpu_count() or 1
    train_frame, valid_frame, arrays = _frames(rows, features)
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch:
        root = Path(scratch)
        channels = _channels(root, train_frame, valid_frame, ("parquet", "csv"))
        size = {k: sum(p.stat().st_size for p in (root / k).rglob("*.*")) for k in channels}
        del train_frame, valid_frame
        times: dict[str, list[tuple[float, float]]] = {"raw": [], "parquet": [], "csv": []}
        for attempt in range(repeat):
            times["raw"].append(raw_seconds(arrays[0], arrays[1], nthread))
            for kind in ("parquet", "csv"):
                times[kind].append(script_seconds(channels[kind], root / f"job-{kind}-{attempt}"))
            print({k: [(round(w, 1), round(c, 1)) for w, c in v] for k, v in times.items()})
    print(f"files: parquet {size['parquet'] / 1e6:.0f} MB, csv {size['csv'] / 1e6:.0f} MB")
    _report(
        f"xgboost: {rows:,} rows x {features} features, 100 rounds, nthread={nthread}",
        times,
        repeat,
    )


# The raw scikit-learn fit runs in a child process that imports scikit-learn alone, as the
# job does: with XGBoost's OpenMP runtime loaded beside scikit-learn's, their thread pools
# spin against each other and the fit takes several times as long.
RAW_FIT = """
import json, resource, sys, time
import numpy as np, pyarrow.parquet as pq
sys.path.insert(0, sys.argv[1])
import train
table = pq.read_table(sys.argv[2])
x = np.column_stack([table.column(n).to_numpy() for n in table.column_names[1:]])
x = np.ascontiguousarray(x, dtype=np.float32)
y = table.column(0).to_numpy().astype(np.int64)
settings = train.parse_hyperparameters(json.loads(sys.argv[3]), {})
fitted = train.build_estimator(settings, n_jobs=int(sys.argv[4]))
usage = resource.getrusage(resource.RUSAGE_SELF)
start, cpu = time.perf_counter(), usage.ru_utime + usage.ru_stime
fitted.fit(x, y)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps([time.perf_counter() - start, usage.ru_utime + usage.ru_stime - cpu]))
"""


def sklearn_raw_seconds(
    estimator: str, hyperparameters: dict[str, str], parquet: Path
) -> tuple[float, float]:
    argv = ["--estimator", estimator, "--problem_type", "binary"]
    for name, value in hyperparameters.items():
        argv += [f"--{name}", value]
    command = [sys.executable, "-c", RAW_FIT, str(SKLEARN_TRAIN.parent), str(parquet)]
    command += [json.dumps(argv), str(os.cpu_count() or 1)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall, cpu = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, cpu


def sklearn_overhead(rows: int, features: int, repeat: int) -> None:
    train_frame, valid_frame, _ = _frames(rows, features)
    train_py = SKLEARN_TRAIN
    with tempfile.TemporaryDirectory(prefix="bench-train-sklearn-") as scratch:
        root = Path(scratch)
        channels = _channels(root, train_frame, valid_frame, ("parquet", "csv"))
        del train_frame, valid_frame
        for estimator, (own, kinds) in SKLEARN_RUNS.items():
            hyperparameters = {**own, "estimator": f'"{estimator}"', "problem_type": '"binary"'}
            parquet = channels["parquet"]["train"] / "part-0.parquet"
            times: dict[str, list[tuple[float, float]]] = {"raw": []}
            times |= {kind: [] for kind in kinds}
            for attempt in range(repeat):
                times["raw"].append(sklearn_raw_seconds(estimator, own, parquet))
                for kind in kinds:
                    output = root / f"job-{estimator}-{kind}-{attempt}"
                    times[kind].append(
                        script_seconds(channels[kind], output, train_py, hyperparameters)
                    )
                print(
                    estimator,
                    {k: [(round(w, 1), round(c, 1)) for w, c in v] for k, v in times.items()},
                )
            _report(f"sklearn {estimator}: {rows:,} rows x {features} features", times, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=("xgboost", "sklearn"), help="one family only")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sklearn-rows", type=int, default=500_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if args.family in (None, "xgboost"):
        xgboost_overhead(args.rows, args.features, args.repeat)
    if args.family in (None, "sklearn"):
        sklearn_overhead(args.sklearn_rows, args.features, args.repeat)


if __name__ == "__main__":
    main()
