"""What every script in training_code/ shares: container paths, failure reporting, table loading,
hyperparameter arguments and the training cluster.

Runs inside the stock SageMaker images (Python 3.10), so it imports only the standard library at
module level; pyarrow is imported where tables are read (it is in the XGBoost image, not needed
by preprocess.py in the scikit-learn image).

Container paths: the scripts use the real `/opt/ml/...` paths. SageMaker leaves
`SAGESTACK_OPT_ML` unset, so `opt_ml()` is `/opt/ml`; the local runner
(`sagestack.local.runner`) sets it to the root of a temporary `/opt/ml`-shaped tree and rewrites
`/opt/ml` prefixes in the job arguments, so the same code runs in both places.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import shutil
import socket
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from problems import BINARY, label_problem

if TYPE_CHECKING:
    import numpy as np

OPT_ML_ENV = "SAGESTACK_OPT_ML"
# Training jobs report failures in output/failure; processing jobs in output/message
# (surfaced as FailureReason / ExitMessage by DescribeTrainingJob / DescribeProcessingJob).
TRAINING_FAILURE_FILE = "output/failure"
PROCESSING_FAILURE_FILE = "output/message"
MAX_REASON_BYTES = 1024
# preprocess.py writes its schema (feature order, target, classes) beside the train and
# validation splits; the loaders skip it (only .csv and .parquet files are data).
PREPROCESSING_FILE = "preprocessing.json"
METADATA_FILE = "metadata.json"
# The serving code travels inside model.tar.gz (`code/`): a network-isolated endpoint cannot
# download a source directory from S3, so the model package points the container at
# /opt/ml/model/code (SAGEMAKER_SUBMIT_DIRECTORY) instead. The family's inference.py and the
# shared modules it imports.
SERVING_CODE_DIR = "code"
SERVING_FILES = ("inference.py", "serving.py", "problems.py")
TRACKER_PORT = 9099


class JobError(Exception):
    """A failure the user can fix (bad data, bad argument): its message becomes the reason."""


class JobArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors end the job like any other JobError."""

    def error(self, message: str) -> NoReturn:
        raise JobError(f"bad job arguments: {message}")


def opt_ml(*parts: str) -> Path:
    """A path under the container's /opt/ml (or the local runner's stand-in for it)."""
    return Path(os.environ.get(OPT_ML_ENV, "/opt/ml"), *parts)


def run_job(main: Callable[[], None], failure_file: str) -> None:
    """Run `main`; on any exception write the reason to /opt/ml/<failure_file> and exit non-zero.

    JobError messages are written as they are (exit code 1); anything else is reported with its
    type (exit code 2) and the traceback goes to stderr for the logs.
    """
    try:
        main()
    except JobError as error:
        _fail(str(error), failure_file, exit_code=1)
    except Exception as error:
        traceback.print_exc()
        _fail(f"unexpected error: {type(error).__name__}: {error}", failure_file, exit_code=2)


def _fail(reason: str, failure_file: str, exit_code: int) -> None:
    print(f"job failed: {reason}", file=sys.stderr, flush=True)
    path = opt_ml(failure_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(reason.encode("utf-8")[:MAX_REASON_BYTES])
    sys.exit(exit_code)


def data_files(directory: Path) -> list[Path]:
    """The CSV and Parquet files of a data directory (recursive, sorted), or a JobError."""
    if not directory.is_dir():
        raise JobError(f"data directory {directory} does not exist; check the input channel")
    files = sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and path.name.endswith((".csv", ".csv.gz", ".parquet"))
    )
    if not files:
        raise JobError(f"no .csv, .csv.gz or .parquet files in {directory}")
    return files


def load_labeled(
    directory: Path,
    target_column: str,
    feature_names: list[str] | None = None,
    problem_type: str = BINARY,
    n_classes: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read every table in `directory` into (features float32, labels float32, feature names).

    The files hold a header row; the target column is named `target_column` and holds what
    preprocess.py writes for `problem_type`: 0/1, class codes 0..n_classes-1, or numbers.
    With `feature_names` (from training) the columns are taken in that order.
    """
    import numpy as np

    files = data_files(directory)
    try:
        import pyarrow as pa
    except ImportError:  # an image without pyarrow: CSV through pandas
        table: Any = _PandasTable(files, directory)
    else:
        try:
            table = pa.concat_tables(
                [_read_table(path) for path in files], promote_options="permissive"
            )
        except pa.ArrowInvalid as error:
            raise JobError(f"the files in {directory} do not share one schema: {error}") from error
    if target_column not in table.column_names:
        raise JobError(
            f"target column '{target_column}' is not in {directory} "
            f"(columns: {', '.join(table.column_names[:20])})"
        )
    if table.num_rows == 0:
        raise JobError(f"{directory} holds no rows")
    names = feature_names or [name for name in table.column_names if name != target_column]
    missing = [name for name in names if name not in table.column_names]
    if missing:
        raise JobError(f"{directory} lacks feature columns the model needs: {missing[:10]}")
    features = np.empty((table.num_rows, len(names)), dtype=np.float32)
    for index, name in enumerate(names):
        features[:, index] = _numeric(table.column(name), name, directory)
    labels = _numeric(table.column(target_column), target_column, directory)
    problem = label_problem(labels, problem_type, n_classes)
    if problem:
        raise JobError(
            f"target column '{target_column}' in {directory} {problem} "
            f"(run preprocess.py --problem-type {problem_type} to encode the target)"
        )
    return features, labels, names


def read_preprocessing(*directories: Path) -> dict[str, Any] | None:
    """The preprocessing.json preprocess.py left beside a split (the first found), or None:
    channels written by other tools carry no class names."""
    for directory in directories:
        path = Path(directory) / PREPROCESSING_FILE
        if path.is_file():
            try:
                return json.loads(path.read_text())
            except ValueError as error:
                raise JobError(f"{path} is not valid JSON: {error}") from None
    return None


def copy_serving_code(model_dir: Path, source_dir: Path) -> None:
    """Pack the serving files (SERVING_FILES, from `source_dir`: the job's code directory,
    where the bundle holds the shared modules and the family's files side by side) into
    model_dir/code/."""
    code_dir = model_dir / SERVING_CODE_DIR
    code_dir.mkdir(parents=True, exist_ok=True)
    for name in SERVING_FILES:
        source = source_dir / name
        if not source.is_file():
            raise JobError(f"serving file {name} is missing from the code in {source_dir}")
        shutil.copyfile(source, code_dir / name)


def parse_hyperparameters(argv: list[str], environ: dict[str, str]) -> dict[str, Any]:
    """SM_HPS merged with `--name value` / `--name=value` arguments (arguments win), without
    the SDK's and HPO's bookkeeping (names starting with `sagemaker_` or `_`). Values stay as
    given: each family types them against its own table."""
    raw: dict[str, Any] = json.loads(environ.get("SM_HPS") or "{}")
    items = iter(argv)
    for item in items:
        if not item.startswith("--"):
            raise JobError(f"unexpected argument '{item}'; hyperparameters come as --name value")
        name, has_value, value = item[2:].partition("=")
        if not has_value:
            following = next(items, None)
            if following is None:
                raise JobError(f"hyperparameter --{name} has no value")
            value = following
        raw[name] = value
    return {name: value for name, value in raw.items() if not name.startswith(("sagemaker_", "_"))}


def typed(name: str, value: Any, kind: type) -> Any:
    """`value` (a string from the job) as int, float, bool or str; a JobError naming it."""
    text = str(value).strip()
    try:
        if kind is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        return kind(float(text)) if kind is int and float(text).is_integer() else kind(text)
    except ValueError:
        raise JobError(f"hyperparameter '{name}' must be {kind.__name__}, got '{value}'") from None


def unknown_names(given: Iterable[str], known: Iterable[str], what: str) -> None:
    """A JobError naming every hyperparameter of `given` that is not `known`."""
    known = sorted(known)
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        raise JobError(
            f"unknown hyperparameter{'s' if len(unknown) > 1 else ''} {names} for {what}; "
            f"known: {', '.join(known)}"
        )


@dataclass(frozen=True)
class Cluster:
    """Where this process stands among the training hosts (SM_HOSTS, SM_CURRENT_HOST)."""

    hosts: list[str]
    current_host: str

    @classmethod
    def from_environment(cls, environ: dict[str, str]) -> Cluster:
        hosts = json.loads(environ.get("SM_HOSTS") or '["algo-1"]')
        current = environ.get("SM_CURRENT_HOST") or hosts[0]
        if current not in hosts:
            raise JobError(f"SM_CURRENT_HOST '{current}' is not in SM_HOSTS {hosts}")
        return cls(hosts=sorted(hosts), current_host=current)

    @property
    def rank(self) -> int:
        return self.hosts.index(self.current_host)

    @property
    def size(self) -> int:
        return len(self.hosts)

    def tracker_address(self, environ: dict[str, str]) -> tuple[str, int]:
        """Where the first host's collective tracker listens; `SAGESTACK_TRACKER=host:port`
        overrides it (the local runner uses 127.0.0.1 and a free port)."""
        override = environ.get("SAGESTACK_TRACKER")
        if override:
            host, _, port = override.rpartition(":")
            return host, int(port)
        return socket.gethostbyname(self.hosts[0]), TRACKER_PORT


def channel_dir(channel: str, environ: dict[str, str]) -> Path:
    """SM_CHANNEL_<NAME>, or a JobError saying the channel is missing."""
    variable = f"SM_CHANNEL_{channel.upper()}"
    if variable not in environ:
        raise JobError(f"channel '{channel}' is missing ({variable} is not set); provide it")
    return Path(environ[variable])


def model_dir(environ: dict[str, str]) -> Path:
    return Path(environ.get("SM_MODEL_DIR") or opt_ml("model"))


def _read_table(path: Path):  # -> pyarrow.Table
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    header: list[str] = []
    try:
        if path.name.endswith(".parquet"):
            return pq.read_table(path)
        # Every column is numeric: say so, rather than let the first block's values decide
        # (a column of whole numbers there and decimals later would not parse).
        header = _csv_header(path)
        numeric = pa_csv.ConvertOptions(column_types={name: pa.float64() for name in header})
        return pa_csv.read_csv(path, convert_options=numeric)
    except (pa.ArrowInvalid, OSError) as error:
        column = re.search(r"CSV column #(\d+)", str(error))
        if column and int(column[1]) < len(header):
            raise JobError(
                f"column '{header[int(column[1])]}' in {path.name} is not numeric ({error}); "
                "encode categorical columns with preprocess.py first"
            ) from None
        raise JobError(f"cannot read {path.name}: {error}") from error


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        return next(csv.reader(handle), [])


class _PandasTable:
    """The part of a pyarrow Table load_labeled reads, from CSV files through pandas."""

    def __init__(self, files: list[Path], directory: Path) -> None:
        import pandas as pd

        parquet = [path.name for path in files if path.name.endswith(".parquet")]
        if parquet:
            raise JobError(
                f"{directory} holds Parquet files ({parquet[0]}, ...) but this image has no "
                "pyarrow to read them; give the channel as CSV"
            )
        frames = []
        for path in files:
            try:
                frames.append(pd.read_csv(path))
            except (ValueError, OSError) as error:
                raise JobError(f"cannot read {path.name}: {error}") from error
        if len({tuple(frame.columns) for frame in frames}) > 1:
            raise JobError(f"the files in {directory} do not share one schema")
        self._frame = pd.concat(frames, ignore_index=True)
        self.column_names = [str(name) for name in self._frame.columns]
        self.num_rows = len(self._frame)

    def column(self, name: str) -> Any:
        return self._frame[name]


def _numeric(column, name: str, directory: Path) -> np.ndarray:
    if not hasattr(column, "type"):  # a pandas column (_PandasTable)
        import pandas as pd

        if not (pd.api.types.is_numeric_dtype(column) or column.isna().all()):
            raise JobError(
                f"column '{name}' in {directory} is {column.dtype}, not numeric; encode "
                "categorical columns with preprocess.py first"
            )
        return column.to_numpy(dtype="float32", na_value=float("nan"))
    import pyarrow as pa

    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)):
        raise JobError(
            f"column '{name}' in {directory} is {kind}, not numeric; encode "
            "categorical columns with preprocess.py first"
        )
    return column.cast(pa.float32()).to_numpy(zero_copy_only=False)
