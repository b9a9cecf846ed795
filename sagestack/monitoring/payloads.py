"""Captured bodies decoded as the endpoint reads and writes them (training_code/serving.py).

Requests, rows of features in the model's order:
  text/csv            one row per line, fields split at commas (no quoting), no header; an
                      empty field is a missing value
  application/json    [[...], ...], a single row [...], or {"instances": [[...], ...]}
  application/x-npy   a 1-D or 2-D numeric array
Values that are not numbers are kept as text (the data type check reports them).

Answers, one prediction per row, by problem type:
  binary      csv `probability,label`; json {"predictions": [{"probability", "label"}]}
  multiclass  csv `label,p_0,...`; json {"predictions": [{"label", "probabilities": {...}}]}
  regression  csv one value; json {"predictions": [{"value"}]}
A body that cannot be decoded rejects its record (counted with the reason), never raises.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, TypeVar

import numpy as np

from ground.problems import PROBLEM_TYPES
from sagestack.monitoring.capture import Body, Capture, CaptureRecord, Rejection
from sagestack.monitoring.statistics import Cell

CSV = "text/csv"
JSON = "application/json"
NPY = "application/x-npy"
T = TypeVar("T")


class BodyError(ValueError):
    """Why a captured body cannot be decoded."""


@dataclass(frozen=True)
class Prediction:
    """One row's answer. `label`: binary "0"/"1", multiclass the class name, regression None;
    `score`: binary P(positive class), regression the value; `probabilities`: multiclass, in
    the answer's order, with `classes` naming them when the answer did (JSON)."""

    label: str | None
    score: float | None = None
    probabilities: tuple[float, ...] | None = None
    classes: tuple[str, ...] | None = None
    key: str = ""  # the record's merge key (CaptureRecord.key)
    row: int = 0  # the row's position in its request


class Rows(NamedTuple):
    rows: list[list[Cell]]
    rejected: list[Rejection]  # the capture's unreadable lines, then undecodable requests


class Predictions(NamedTuple):
    predictions: list[Prediction]
    rejected: list[Rejection]  # the capture's unreadable lines, then undecodable answers


def decode_inputs(capture: Capture) -> Rows:
    """Every captured request's rows of features, in capture order."""
    rows, rejected = _each_record(capture, lambda record: request_rows(_required(record.input)))
    return Rows(rows, rejected)


def decode_outputs(capture: Capture, problem_type: str) -> Predictions:
    """Every captured answer's predictions for `problem_type` (binary, multiclass, regression)."""
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem type {problem_type!r} is not one of {', '.join(PROBLEM_TYPES)}")
    predictions, rejected = _each_record(
        capture, lambda record: answer_predictions(record, problem_type)
    )
    return Predictions(predictions, rejected)


def _each_record(
    capture: Capture, decode: Callable[[CaptureRecord], list[T]]
) -> tuple[list[T], list[Rejection]]:
    """What `decode` makes of every record, and the capture's and decode's rejections."""
    decoded: list[T] = []
    rejected = list(capture.rejected)
    for record in capture.records:
        try:
            decoded += decode(record)
        except BodyError as error:
            rejected.append(Rejection(record.source or record.event_id, str(error)))
    return decoded, rejected


def _required(body: Body | None) -> Body:
    if body is None:
        raise BodyError("the record holds no endpointInput or endpointOutput to decode")
    return body


def _text(body: Body) -> str:
    try:
        return body.data.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(f"the {body.content_type} body is not UTF-8 text") from None


def _json(body: Body) -> Any:
    try:
        return json.loads(body.data)
    except (ValueError, RecursionError) as error:
        raise BodyError(f"the {JSON} body is not JSON: {str(error)[:80]}") from None


def _answer_lines(body: Body) -> list[list[str]]:
    return [line for line in csv.reader(io.StringIO(_text(body))) if line]


def request_rows(body: Body) -> list[list[Cell]]:
    """The rows of features of one request body."""
    if body.content_type == CSV:  # as serving.py splits it: an empty line is one missing value
        lines = _text(body).split("\n")
        if lines[-1] == "":
            lines.pop()
        return [[_cell(field) for field in line.removesuffix("\r").split(",")] for line in lines]
    if body.content_type == JSON:
        return _json_rows(_json(body))
    if body.content_type == NPY:
        return _npy_rows(body.data)
    raise BodyError(f"request content type {body.content_type!r} is not {CSV}, {JSON} or {NPY}")


def _cell(field: str) -> Cell:
    text = field.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _json_rows(payload: Any) -> list[list[Cell]]:
    if isinstance(payload, dict) and set(payload) == {"instances"}:
        payload = payload["instances"]
    if not isinstance(payload, list) or not payload:
        raise BodyError('the JSON request is not a list of rows, one row, or {"instances": ...}')
    rows = payload if all(isinstance(row, list) for row in payload) else [payload]
    return [[_json_cell(value) for value in row] for row in rows]


def _json_cell(value: Any) -> Cell:
    if isinstance(value, list | dict):
        raise BodyError("a JSON row holds a nested list or object")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return json.dumps(value)
    try:
        return float(value)
    except OverflowError:  # an integer beyond float's range
        return "<integer out of range>"


def _npy_rows(data: bytes) -> list[list[Cell]]:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise BodyError(f"the {NPY} body is not a .npy array: {str(error)[:80]}") from None
    if (
        not isinstance(array, np.ndarray)
        or array.ndim not in (1, 2)
        or array.dtype.kind not in "iuf"
    ):
        raise BodyError(f"the {NPY} body is not a 1-D or 2-D numeric array")
    return np.atleast_2d(array).astype(float).tolist()


# --- answers --------------------------------------------------------------------------------


def answer_predictions(record: CaptureRecord, problem_type: str) -> list[Prediction]:
    """The predictions of one record's answer."""
    body = _required(record.output)
    items: list[Any] | None
    if body.content_type == CSV:
        parse: Callable[[Any], Prediction] = _CSV_ANSWERS[problem_type]
        items = _answer_lines(body)
    elif body.content_type == JSON:
        parse = _JSON_ANSWERS[problem_type]
        payload = _json(body)
        items = payload.get("predictions") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise BodyError('the JSON answer has no "predictions" list')
    else:
        raise BodyError(f"answer content type {body.content_type!r} is not {CSV} or {JSON}")
    predictions = []
    for row, item in enumerate(items):
        try:
            prediction = parse(item)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            raise BodyError(
                f"answer row {row + 1} is not a {problem_type} prediction: {str(item)[:60]}"
            ) from None
        predictions.append(replace(prediction, key=record.key, row=row))
    return predictions


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    number = float(value)
    if math.isnan(number):
        raise ValueError("NaN")
    return number


def _binary_label(value: Any) -> str:
    label = _number(value)
    if label not in (0, 1):
        raise ValueError("a binary label is 0 or 1")
    return str(int(label))


def _csv_binary(fields: list[str]) -> Prediction:
    probability, label = fields
    return Prediction(_binary_label(label), score=_number(probability))


def _csv_multiclass(fields: list[str]) -> Prediction:
    if len(fields) < 3:
        raise ValueError("a multiclass answer is a label and two or more probabilities")
    return Prediction(fields[0], probabilities=tuple(_number(p) for p in fields[1:]))


def _csv_regression(fields: list[str]) -> Prediction:
    (value,) = fields
    return Prediction(None, score=_number(value))


def _json_binary(item: dict) -> Prediction:
    return Prediction(_binary_label(item["label"]), score=_number(item["probability"]))


def _json_multiclass(item: dict) -> Prediction:
    probabilities = item["probabilities"]
    return Prediction(
        str(item["label"]),
        probabilities=tuple(_number(p) for p in probabilities.values()),
        classes=tuple(str(name) for name in probabilities),
    )


def _json_regression(item: dict) -> Prediction:
    return Prediction(None, score=_number(item["value"]))


_CSV_ANSWERS: dict[str, Callable[[list[str]], Prediction]] = {
    "binary": _csv_binary,
    "multiclass": _csv_multiclass,
    "regression": _csv_regression,
}
_JSON_ANSWERS: dict[str, Callable[[dict], Prediction]] = {
    "binary": _json_binary,
    "multiclass": _json_multiclass,
    "regression": _json_regression,
}
