"""What parsing a 1,000-row CSV request costs with the libraries the XGBoost image carries.

The candidates inference.py could use for text/csv bodies, on the handler bench's body (1,000
rows x 50 features, `%.7g`), each returning the rows as a float32 array; then the two checks
and the answer formatting the handler chain adds around them. Alternating batches, medians.

    .venv/bin/python bench/csv_parsing.py
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv
import xgboost as xgb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import csv_body, feature_rows, serving

FEATURES = 50


def pyarrow_columns(body: bytes, threads: bool) -> np.ndarray:
    table = pa_csv.read_csv(
        io.BytesIO(body),
        read_options=pa_csv.ReadOptions(autogenerate_column_names=True, use_threads=threads),
        parse_options=pa_csv.ParseOptions(quote_char=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={f"f{i}": pa.float32() for i in range(FEATURES)}
        ),
    )
    return np.column_stack([column.to_numpy() for column in table.columns])


def pyarrow_one_column(body: bytes) -> np.ndarray:
    table = pa_csv.read_csv(
        io.BytesIO(body.replace(b",", b"\n")),
        read_options=pa_csv.ReadOptions(column_names=["value"]),
        convert_options=pa_csv.ConvertOptions(column_types={"value": pa.float32()}),
    )
    return table.column(0).to_numpy().reshape(-1, FEATURES)


def pyarrow_split_cast(body: bytes) -> np.ndarray:
    values = pa.array([body.replace(b"\n", b",")[:-1]], type=pa.binary())
    parts = pa_compute.split_pattern(values, ",").flatten()
    return pa_compute.cast(parts, pa.float32()).to_numpy().reshape(-1, FEATURES)


def xgboost_reader(body: bytes, scratch: Path) -> xgb.DMatrix:
    path = scratch / "body.csv"
    path.write_bytes(body)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xgb.DMatrix(f"{path}?format=csv", nthread=1)


def three_scans(body: bytes) -> bool:
    """The empty-line check inference.py used before: three scans of the body."""
    return body.startswith((b"\n", b"\r\n")) or b"\n\n" in body or b"\n\r\n" in body


def format_per_row(probabilities: list[float], labels: list[int]) -> str:
    """The CSV answer as inference.py built it before: one format call per row."""
    return "".join(map("{:.7g},{}\n".format, probabilities, labels))


def medians(calls: dict[str, Callable[[], object]], repeat: int, batches: int) -> dict[str, float]:
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
    parser.add_argument("--batches", type=int, default=9)
    args = parser.parse_args()
    body = csv_body(feature_rows(1000, FEATURES))
    text = body.decode()
    spec = serving.model_spec({"feature_names": [f"f{i}" for i in range(FEATURES)]})
    prediction = serving.prediction(spec, np.linspace(0, 1, 1000, dtype=np.float32))
    probabilities, labels = prediction.scores.tolist(), prediction.labels.tolist()
    with tempfile.TemporaryDirectory() as scratch:
        calls = {
            "serving.parse_csv (pyarrow, threads, float32)": lambda: serving.parse_csv(
                body, FEATURES
            ),
            "pyarrow read_csv, one thread": lambda: pyarrow_columns(body, threads=False),
            "pyarrow, one column (commas as newlines)": lambda: pyarrow_one_column(body),
            "pyarrow split_pattern + cast": lambda: pyarrow_split_cast(body),
            "numpy.loadtxt": lambda: np.loadtxt(io.StringIO(text), delimiter=",", dtype="f4"),
            "numpy.fromstring(sep=',')": lambda: np.fromstring(
                text.replace("\n", ","), sep=",", dtype=np.float32
            ),
            "pandas read_csv (C engine)": lambda: pd.read_csv(
                io.BytesIO(body), header=None, dtype=np.float32
            ).to_numpy(),
            "XGBoost's CSV reader (through a file)": lambda: xgboost_reader(body, Path(scratch)),
            "Python float() per value": lambda: np.array(
                [[float(v) for v in line.split(",")] for line in text.splitlines()], "f4"
            ),
            "empty-line check: three scans (before)": lambda: three_scans(body),
            "empty-line check: line count (now)": lambda: serving._line_count(body),
            "CSV answer: a format per row (before)": lambda: format_per_row(probabilities, labels),
            "CSV answer: one %-format (now)": lambda: serving.output_fn(prediction, "text/csv"),
        }
        best = medians(calls, repeat=10, batches=args.batches)
    print(f"| step, on a {len(body):,} B body of 1,000 rows x {FEATURES} | median |")
    print("|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds * 1e3:.2f} ms |")


if __name__ == "__main__":
    main()
