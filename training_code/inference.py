"""Serve the classifier: the inference handlers of the SageMaker XGBoost 3.0-5 container.

Requests carry rows of features in the order of the model's metadata (`feature_names`), already
encoded like the training splits (see preprocess.py), as:
  text/csv            one row per line, no header; an empty field is a missing value
  application/json    [[...], ...], a single row [...], or {"instances": [[...], ...]};
                      numbers, or null for a missing value
  application/x-npy   a 1-D or 2-D numeric array (numpy.save, no pickles)
Answers follow the Accept header, its q-values weighed as RFC 9110 says (the acceptable type
with the highest q, the one listed first on a tie; q=0 refuses a type): text/csv gives
`probability,label` lines; application/json (also for */* or no Accept) gives
{"predictions": [{"probability": p, "label": l}]}.

Parsing needs nothing from the model but its feature count: the serving toolkit hands input_fn
only the body and its type, so model_fn records the count of the model it loads (one model per
worker process) and text/csv rows of another width are refused before they are parsed.

Bad requests raise RequestError, which carries an HTTP status (400, 406, 415) and a message
naming what is wrong. Inside the container it subclasses the inference toolkit's
BaseInferenceToolkitError, which the toolkit answers with that status; the local endpoint
(sagestack.local.endpoint) does the same.
"""

from __future__ import annotations

import functools
import io
import json
import math
import sys
import tokenize
from pathlib import Path
from typing import NamedTuple, NoReturn

import numpy as np
import numpy.lib.format as npy_format
import xgboost as xgb

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
MODEL_FILE = "model.ubj"
METADATA_FILE = "metadata.json"
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


class Model(NamedTuple):
    booster: xgb.Booster
    feature_names: list[str]
    threshold: float


class Prediction(NamedTuple):
    probabilities: np.ndarray
    labels: np.ndarray


class _MediaRange(NamedTuple):
    media: str  # type/subtype, type/* or */*, lower case
    quality: float


def model_fn(model_dir: str) -> Model:
    """Load model.ubj and metadata.json from the extracted model.tar.gz.

    Predictions run on one thread: the serving container runs one worker per vCPU, so more
    threads per request only contend (and cost a thread hand-off on every single-row call).
    """
    global _model_features
    directory = Path(model_dir)
    metadata = json.loads((directory / METADATA_FILE).read_text())
    booster = xgb.Booster(model_file=str(directory / MODEL_FILE))
    booster.set_param({"nthread": 1})
    model = Model(booster, list(metadata["feature_names"]), float(metadata["threshold"]))
    _model_features = len(model.feature_names)
    return model


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


def predict_fn(input_data: np.ndarray, model: Model) -> Prediction:
    """Probabilities of the positive class, and labels at the model's threshold."""
    expected = len(model.feature_names)
    if input_data.shape[1] != expected:
        raise RequestError(
            400,
            f"each row needs {expected} features (model features: "
            f"{', '.join(model.feature_names[:5])}, ...); the request has {input_data.shape[1]}",
        )
    probabilities = model.booster.inplace_predict(input_data)
    return Prediction(probabilities, (probabilities >= model.threshold).astype(np.int8))


def output_fn(prediction: Prediction, accept: str | None) -> tuple[str, str]:
    """Serialize in the Accept type; returns (body, content type)."""
    content_type = choose_accept(accept)
    probabilities, labels = prediction.probabilities.tolist(), prediction.labels.tolist()
    if content_type == CSV:
        # One %-format over the interleaved values: about twice as fast as a format per row.
        interleaved = [value for row in zip(probabilities, labels, strict=True) for value in row]
        return "%.7g,%d\n" * len(probabilities) % tuple(interleaved), CSV
    predictions = [
        {"probability": p, "label": y} for p, y in zip(probabilities, labels, strict=True)
    ]
    return json.dumps({"predictions": predictions}), JSON


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
