"""Requests and answers shared by every model family's inference.py (the serving code).

Each family's inference.py loads its model (model_fn) and scores rows (predict_fn); this module
decodes the request (input_fn), checks the row width against the model's metadata, turns scores
into a Prediction and writes the answer (output_fn). It ships in model.tar.gz's code/ folder
beside inference.py and problems.py.

Requests carry rows of features in the order of the model's metadata (`feature_names`), already
encoded like the training splits (see preprocess.py), as:
  text/csv            one row per line, no header; an empty field is a missing value
  application/json    [[...], ...], a single row [...], or {"instances": [[...], ...]};
                      numbers, or null for a missing value
  application/x-npy   a 1-D or 2-D numeric array (numpy.save, no pickles)

Parsing needs nothing from the model but its feature count: the serving toolkit hands input_fn
only the body and its type, so model_fn records the count of the model it loads (load_spec; one
model per worker process) and text/csv rows of another width are refused before they are parsed.

Bad requests raise RequestError, which carries an HTTP status (400, 406, 415) and a message
naming what is wrong. Inside the container it subclasses the inference toolkit's
BaseInferenceToolkitError, which the toolkit answers with that status; the local endpoint
(sagestack.local.endpoint) does the same. Rows whose width differs from the model's feature
count are refused with 400 (check_width).

Answers follow the Accept header, its q-values weighed as RFC 9110 says (the acceptable type
with the highest q, the one listed first on a tie; q=0 refuses a type): text/csv, or
application/json (also for */* or no Accept).
Per problem type (metadata.json `problem_type`; models without one are binary):
  binary      csv  `probability,label` per row: P(positive class), then 0/1 at the threshold
              json {"predictions": [{"probability": p, "label": 0|1}, ...]}
  multiclass  csv  `label,p_0,...,p_K-1` per row: the class name (CSV-quoted when needed),
                   then each class's probability in metadata `classes` order
              json {"predictions": [{"label": "<class>", "probabilities": {"<class>": p,
                   ...}}, ...]} (the keys in metadata `classes` order)
  regression  csv  one predicted value per row
              json {"predictions": [{"value": v}, ...]}
Numbers in CSV answers carry 7 significant digits.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import sys
import tokenize
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import numpy as np
import numpy.lib.format as npy_format
from problems import BINARY, MULTICLASS, REGRESSION, check_problem_type

try:  # present in the SageMaker serving container
    from sagemaker_inference.errors import BaseInferenceToolkitError as _ToolkitError
except ImportError:  # local runs and tests

    class _ToolkitError(Exception):  # type: ignore[no-redef]
        def __init__(self, status_code: int, message: str, phrase: str) -> None:
            self.status_code = status_code
            self.message = message
            self.phrase = phrase
            super().__init__(status_code, message, phrase)


CSV = "text/csv"
JSON = "application/json"
NPY = "application/x-npy"
ZIP_MAGIC = b"PK\x03\x04"
ANSWER_TYPES = (JSON, CSV)  # the preference when an Accept header rates both alike
# Below this size the plain-Python CSV parser beats pyarrow's fixed cost.
SMALL_CSV_BYTES = 4096
# The widest text/csv row accepted when no model is loaded (direct calls of the parsers): pyarrow
# declares a column per comma of the first line, so a line of commas must be refused unparsed.
MAX_FEATURES = 10_000
# What numpy's .npy header reader raises on a malformed header (it tokenizes and evaluates it).
_NPY_HEADER_ERRORS = (ValueError, TypeError, SyntaxError, tokenize.TokenError)
_NPY_HEADER_READERS = {
    (1, 0): npy_format.read_array_header_1_0,
    (2, 0): npy_format.read_array_header_2_0,
}

_model_features: int | None = None  # the feature count of the model model_fn loaded


class RequestError(_ToolkitError):
    """A client error: the status code and a message saying what to fix."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(status_code, message, message)

    def __str__(self) -> str:
        return self.message


class _MediaRange(NamedTuple):
    media: str  # type/subtype, type/* or */*, lower case
    quality: float


def input_fn(request_body: bytes | str, request_content_type: str | None) -> np.ndarray:
    """Decode a request body into a 2-D float32 array of rows."""
    content_type = _media_type(request_content_type)
    body = request_body.encode("utf-8") if isinstance(request_body, str) else bytes(request_body)
    if not body.strip():
        raise RequestError(400, "the request body is empty; send at least one row of features")
    if content_type == CSV:
        rows = parse_csv(body, _model_features)
    elif content_type == JSON:
        rows = parse_json(body)
    elif content_type == NPY:
        rows = parse_npy(body)
    else:
        raise RequestError(
            415,
            f"content type '{request_content_type}' is not supported; use {CSV}, {JSON} or {NPY}",
        )
    if np.isinf(rows).any():
        row = int(np.argwhere(np.isinf(rows))[0][0])
        raise RequestError(
            400,
            f"row {row + 1} holds an infinite value (or one beyond float32's ±3.4e38); "
            "send finite numbers",
        )
    return rows


@functools.lru_cache(maxsize=256)  # clients repeat their Accept header on every request
def choose_accept(accept: str | None) -> str:
    """The answer type for an Accept header: of the types we answer in, the one with the
    highest q (RFC 9110 §12.5.1), the earlier listed on a tie; JSON for no header."""
    if not accept or not accept.strip():
        return JSON
    ranges = _media_ranges(accept)
    best = max(ANSWER_TYPES, key=lambda media: _rating(media, ranges))
    if _rating(best, ranges)[0] <= 0:
        raise RequestError(406, f"cannot answer in '{accept}'; accept {CSV} or {JSON}")
    return best


def _media_ranges(accept: str) -> list[_MediaRange]:
    """The Accept header's media ranges in order, each with its q (1 when absent).

    A range whose q is not a number from 0 to 1 is left out, as if it were not listed.
    """
    ranges = []
    for entry in accept.split(","):
        media, *parameters = entry.split(";")
        media = media.strip().lower()
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                quality = _quality(value)
        if media and not math.isnan(quality):
            ranges.append(_MediaRange("*/*" if media == "*" else media, quality))
    return ranges


def _quality(value: str) -> float:
    """A q-value, or NaN when it is not a number from 0 to 1."""
    try:
        quality = float(value)
    except ValueError:
        return math.nan
    return quality if 0 <= quality <= 1 else math.nan


def _rating(media: str, ranges: list[_MediaRange]) -> tuple[float, int]:
    """(q, -position) of the most specific range matching `media`: the exact type, then
    type/*, then */*; (0, ...) when none matches."""
    for pattern in (media, media.split("/")[0] + "/*", "*/*"):
        for position, candidate in enumerate(ranges):
            if candidate.media == pattern:
                return candidate.quality, -position
    return 0.0, -len(ranges)


def _media_type(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def parse_csv(body: bytes, features: int | None) -> np.ndarray:
    """CSV rows of `features` values to float32; large bodies go through pyarrow, errors are
    explained by Python.

    The first line's width is checked before anything is parsed: pyarrow declares one column
    per comma of it, so a long line of commas would cost seconds and a gigabyte. With
    `features` None (no model loaded), any width up to MAX_FEATURES is accepted.
    """
    width = _first_line_width(body)
    if features is None and width > MAX_FEATURES:
        raise RequestError(
            400, f"text/csv row 1 has {width} values; a row may hold at most {MAX_FEATURES}"
        )
    if features is not None and width != features:
        raise RequestError(400, f"each row needs {features} features; text/csv row 1 has {width}")
    if len(body) > SMALL_CSV_BYTES:
        import pyarrow

        try:
            return parse_csv_arrow(body, width)
        except pyarrow.ArrowInvalid:
            # The plain parser says precisely what is wrong (or accepts Python's syntax). What
            # pyarrow's memory pool keeps from the failed parse goes back to the system first.
            pyarrow.default_memory_pool().release_unused()
    return parse_csv_python(body)


def _first_line_width(body: bytes) -> int:
    end = body.find(b"\n")
    return body.count(b",", 0, len(body) if end < 0 else end) + 1


def _line_count(body: bytes) -> int:
    newlines = int(np.count_nonzero(np.frombuffer(body, dtype=np.uint8) == ord("\n")))
    return newlines + (not body.endswith(b"\n"))


def parse_csv_arrow(body: bytes, width: int) -> np.ndarray:
    """The fast path: pyarrow's reader, `width` columns declared float32.

    Raises ArrowInvalid for anything the plain parser should explain instead: rows of another
    width, a value that is not a number, or an empty line (pyarrow skips those, so a row count
    below the line count gives them away).
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa_csv.read_csv(
        io.BytesIO(body),
        read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
        parse_options=pa_csv.ParseOptions(quote_char=False),
        convert_options=pa_csv.ConvertOptions(
            null_values=[""], column_types={f"f{i}": pa.float32() for i in range(width)}
        ),
    )
    if table.num_rows != _line_count(body):
        raise pa.ArrowInvalid("the body holds an empty line")
    return np.column_stack([column.to_numpy() for column in table.columns])


def parse_csv_python(body: bytes) -> np.ndarray:
    """The plain parser: every row as wide as the first, each value named when it is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(400, "the text/csv body is not UTF-8 text") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    width = lines[0].count(",") + 1
    rows = np.empty((len(lines), width), dtype=np.float32)
    for number, line in enumerate(lines, start=1):
        if line.count(",") + 1 != width:  # before splitting: the line may be huge
            raise RequestError(
                400,
                f"text/csv row {number} has {line.count(',') + 1} values but row 1 has {width}; "
                "every row needs the same features",
            )
        rows[number - 1] = _csv_row(line.removesuffix("\r").split(","), number)
    return rows


def _csv_row(fields: list[str], number: int) -> list[float]:
    """The row's values, a blank field being a missing value (NaN): one comprehension for the
    common case, then field by field to name the value that is not a number."""
    try:
        return [float(field) if field.strip() else math.nan for field in fields]
    except ValueError:
        return [_csv_number(field, number, column) for column, field in enumerate(fields, 1)]


def _csv_number(field: str, row: int, column: int) -> float:
    if not field.strip():
        return math.nan
    try:
        return float(field)
    except ValueError:
        raise RequestError(
            400, f"text/csv row {row}, column {column}: '{field[:40]}' is not a number"
        ) from None


def parse_json(body: bytes) -> np.ndarray:
    try:
        payload = json.loads(body)
    except RecursionError:
        raise RequestError(
            400,
            "the application/json body nests arrays or objects too deeply; "
            "send rows as [[...], ...]",
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise RequestError(400, f"the application/json body is not valid JSON: {error}") from None
    quotes_allowed = 0
    if isinstance(payload, dict):
        if set(payload) != {"instances"}:
            raise RequestError(400, 'a JSON object body needs exactly one key, "instances"')
        payload, quotes_allowed = payload["instances"], 2
    if not isinstance(payload, list) or not payload:
        raise RequestError(400, "the JSON body needs a non-empty list of rows (or one row)")
    # In valid JSON, quotes only delimit strings and true/false only occur as booleans: seeing
    # them (beyond the "instances" key) means a value that is not a number or null.
    if body.count(b'"') > quotes_allowed or b"true" in body or b"false" in body:
        _explain_json(payload)
    try:
        rows = np.array(payload, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        _explain_json(payload)
    if rows.ndim == 1:
        rows = rows[np.newaxis, :]
    if rows.ndim != 2 or rows.shape[1] == 0:
        _explain_json(payload)
    return rows.astype(np.float32)


def _explain_json(payload: list) -> NoReturn:
    """Raise a RequestError naming the first value that is not a number or null."""
    rows = payload if isinstance(payload[0], list) else [payload]
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or not row:
            raise RequestError(400, f"JSON row {number} is not a non-empty list of numbers")
        if len(row) != len(rows[0]):
            raise RequestError(
                400, f"JSON row {number} has {len(row)} values but row 1 has {len(rows[0])}"
            )
        for column, value in enumerate(row, start=1):
            problem = _json_value_problem(value)
            if problem:
                raise RequestError(
                    400, f"JSON row {number}, column {column}: {_json_preview(value)} {problem}"
                )
    raise RequestError(400, "the JSON body is not a list of rows of numbers")


def _json_value_problem(value: object) -> str | None:
    """Why a decoded JSON value cannot be a feature, or None when it can."""
    if value is None or isinstance(value, float):
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return "is not a number (use null for a missing value)"
    if abs(value) > sys.float_info.max:  # int and float compare exactly
        return "is too large for a number (beyond ±1.8e308)"
    return None


def _json_preview(value: object) -> str:
    """The value as JSON, cut at 40 characters; nested containers show their first level only
    (a value may nest too deeply for json.dumps)."""
    if isinstance(value, list):
        text = "[" + ", ".join(map(_json_scalar, value[:10])) + "]"
    elif isinstance(value, dict):
        items = list(value.items())[:10]
        text = "{" + ", ".join(f"{json.dumps(k)}: {_json_scalar(v)}" for k, v in items) + "}"
    else:
        text = _json_scalar(value)
    return text[:40]


def _json_scalar(value: object) -> str:
    if isinstance(value, list):
        return "[...]"
    if isinstance(value, dict):
        return "{...}"
    return json.dumps(value)[:40]


def parse_npy(body: bytes) -> np.ndarray:
    """A .npy body to float32 rows, read with numpy.lib.format rather than np.load: np.load
    opens zips (.npz) too, and allocates whatever shape the header declares before it reads a
    byte of data. Here the header's shape and dtype must account for the body's exact size."""
    if body.startswith(ZIP_MAGIC):
        raise RequestError(
            400,
            "the application/x-npy body is a zip archive (numpy.savez writes those); "
            "send one array written by numpy.save",
        )
    stream = io.BytesIO(body)
    try:
        version = npy_format.read_magic(stream)
        read_header = _NPY_HEADER_READERS.get(version)
        if read_header is None:
            raise ValueError(f"format version {version[0]}.{version[1]} is not 1.0 or 2.0")
        shape, fortran_order, dtype = read_header(stream)
    except _NPY_HEADER_ERRORS as error:
        raise RequestError(
            400, f"the application/x-npy body is not a .npy array: {str(error)[:200]}"
        ) from None
    _check_npy_array(shape, dtype, data_bytes=len(body) - stream.tell())
    rows = np.frombuffer(body, dtype=dtype, count=math.prod(shape), offset=stream.tell())
    rows = rows.reshape(shape, order="F" if fortran_order else "C")
    if rows.ndim == 1:
        rows = rows[np.newaxis, :]
    return rows.astype(np.float32, order="C")


def _check_npy_array(shape: tuple[int, ...], dtype: np.dtype, data_bytes: int) -> None:
    """Refuse what the header declares unless it is a non-empty 1-D or 2-D numeric array
    whose values fill exactly the data that follows the header."""
    if dtype.hasobject or dtype.kind not in "iuf":
        raise RequestError(400, f"the .npy array must hold numbers, not {dtype}")
    if len(shape) not in (1, 2) or min(shape) <= 0:
        raise RequestError(400, f"the .npy array must be non-empty 1-D or 2-D, not {shape}")
    declared = math.prod(shape) * dtype.itemsize
    if declared != data_bytes:
        raise RequestError(
            400,
            f"the .npy header declares {shape} {dtype} values ({declared:,} bytes) but "
            f"{data_bytes:,} bytes of data follow it",
        )


# --- the model's description and the answers -----------------------------------------------

METADATA_FILE = "metadata.json"


class ModelSpec(NamedTuple):
    """What the handlers need from metadata.json, prepared once in model_fn."""

    problem_type: str
    feature_names: list[str]
    classes: list[str]  # multiclass: names by code; binary: [negative, positive]; regression: []
    threshold: float  # binary: P(positive) at or above it means label 1
    csv_line: str  # %-format of one CSV answer line
    csv_classes: tuple[str, ...]  # class names as written in CSV answers


class Prediction(NamedTuple):
    """Scores of a batch of rows: binary P(class 1) (n,), multiclass probabilities (n, K) in
    the order of spec.classes, or regression values (n,). `labels`: 0/1 at the threshold for
    binary, the most probable class's code for multiclass, None for regression."""

    spec: ModelSpec
    scores: np.ndarray
    labels: np.ndarray | None


def read_metadata(model_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / METADATA_FILE).read_text())


def load_spec(model_dir: str | Path) -> ModelSpec:
    """The ModelSpec of the model in `model_dir`, its feature count remembered for input_fn
    (called by each family's model_fn; a worker process serves one model)."""
    global _model_features
    spec = model_spec(read_metadata(model_dir))
    _model_features = len(spec.feature_names)
    return spec


def model_spec(metadata: dict[str, Any]) -> ModelSpec:
    """The ModelSpec of a metadata.json (models of the first format, binary XGBoost without
    `problem_type`, still load)."""
    problem_type = check_problem_type(metadata.get("problem_type", BINARY))
    classes = [str(name) for name in metadata.get("classes") or []]
    if problem_type == MULTICLASS:
        if len(classes) < 2:
            raise ValueError("a multiclass model's metadata.json needs its `classes` (2 or more)")
        csv_classes = tuple(_csv_field(name) for name in classes)
        csv_line = "%s" + ",%.7g" * len(classes) + "\n"
    elif problem_type == BINARY:
        csv_classes, csv_line = (), "%.7g,%d\n"
    else:
        csv_classes, csv_line = (), "%.7g\n"
    return ModelSpec(
        problem_type=problem_type,
        feature_names=[str(name) for name in metadata["feature_names"]],
        classes=classes,
        threshold=float(metadata.get("threshold", 0.5)),
        csv_line=csv_line,
        csv_classes=csv_classes,
    )


def _csv_field(text: str) -> str:
    """`text` as one CSV field: quoted (quotes doubled) when it holds a comma, quote or line end."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([text])
    return buffer.getvalue()


def check_width(rows: np.ndarray, spec: ModelSpec) -> None:
    """A 400 unless every row carries the model's feature count."""
    expected = len(spec.feature_names)
    if rows.shape[1] != expected:
        raise RequestError(
            400,
            f"each row needs {expected} features (model features: "
            f"{', '.join(spec.feature_names[:5])}, ...); the request has {rows.shape[1]}",
        )


def prediction(spec: ModelSpec, scores: np.ndarray) -> Prediction:
    """Labels for a batch of scores, as the problem type defines them."""
    if spec.problem_type == BINARY:
        return Prediction(spec, scores, (scores >= spec.threshold).astype(np.int8))
    if spec.problem_type == MULTICLASS:
        return Prediction(spec, scores, np.argmax(scores, axis=1))
    return Prediction(spec, scores, None)


def output_fn(prediction: Prediction, accept: str | None) -> tuple[str, str]:
    """Serialize in the Accept type; returns (body, content type)."""
    content_type = choose_accept(accept)
    spec = prediction.spec
    scores = prediction.scores.tolist()
    if spec.problem_type == REGRESSION:
        if content_type == CSV:
            return spec.csv_line * len(scores) % tuple(scores), CSV
        return json.dumps({"predictions": [{"value": v} for v in scores]}), JSON
    labels = prediction.labels.tolist()  # type: ignore[union-attr]
    if spec.problem_type == BINARY:
        if content_type == CSV:
            # One %-format over the interleaved values: about twice as fast as one per row.
            interleaved = [value for row in zip(scores, labels, strict=True) for value in row]
            return spec.csv_line * len(scores) % tuple(interleaved), CSV
        predictions: list[dict[str, Any]] = [
            {"probability": p, "label": y} for p, y in zip(scores, labels, strict=True)
        ]
        return json.dumps({"predictions": predictions}), JSON
    if content_type == CSV:
        names = spec.csv_classes
        interleaved = [
            value
            for label, row in zip(labels, scores, strict=True)
            for value in (names[label], *row)
        ]
        return spec.csv_line * len(scores) % tuple(interleaved), CSV
    classes = spec.classes
    predictions = [
        {"label": classes[label], "probabilities": dict(zip(classes, row, strict=True))}
        for label, row in zip(labels, scores, strict=True)
    ]
    return json.dumps({"predictions": predictions}), JSON
