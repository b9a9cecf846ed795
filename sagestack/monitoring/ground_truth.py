"""Ground-truth labels and their merge with captured predictions.

Record format (developer guide, "Ingest Ground Truth Labels and Merge Them With Predictions",
model-monitor-model-quality-merge), one JSON object a line:

  {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "..."},
   "eventVersion": "0"}

`eventId` names the captured record: its inferenceId when the capture has one, else its
eventId. For a request of several rows, `data` holds one label per line (CSV), or a JSON list
(JSON), in row order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sagestack.monitoring.capture import (
    RecordError,
    Rejection,
    decode_data,
    json_lines,
    parse_json_object,
)
from sagestack.monitoring.payloads import Prediction


@dataclass
class GroundTruth:
    """Labels by merge key, in row order, and the records that could not be read."""

    labels: dict[str, list[str]] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True)
class Labeled:
    prediction: Prediction
    truth: float  # binary 0/1, multiclass the class code, regression the value


class Merged(NamedTuple):
    rows: list[Labeled]
    unlabeled: int  # predictions without ground truth (yet)
    unmatched: int  # ground-truth records of no captured prediction
    rejected: list[Rejection]


def read_ground_truth(files: Iterable[tuple[str, bytes | str]]) -> GroundTruth:
    """Labels of ground-truth files given as (name, content) pairs."""
    truth = GroundTruth()
    for source, line in json_lines(files):
        try:
            key, labels = parse_ground_truth(line)
        except RecordError as error:
            truth.rejected.append(Rejection(source, str(error)))
        else:
            truth.labels[key] = labels
    return truth


def parse_ground_truth(line: str) -> tuple[str, list[str]]:
    """(merge key, labels in row order) of one record; RecordError saying what is wrong."""
    record = parse_json_object(line)
    data, metadata = record.get("groundTruthData"), record.get("eventMetadata")
    if not isinstance(data, dict) or not isinstance(metadata, dict):
        raise RecordError("not a ground-truth record: it needs groundTruthData and eventMetadata")
    key = metadata.get("eventId")
    if not isinstance(key, str) or not key:
        raise RecordError("eventMetadata.eventId is missing")
    encoding = data.get("encoding")
    text = decode_data(data.get("data"), encoding, "groundTruthData").decode("utf-8", "replace")
    labels = _json_labels(text) if encoding == "JSON" else text.splitlines()
    labels = [label.strip() for label in labels if label.strip()]
    if not labels:
        raise RecordError(f"the ground truth of {key} holds no label")
    return key, labels


def _json_labels(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        raise RecordError("groundTruthData.data is not JSON") from None
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, list | dict) for v in values):
        raise RecordError("groundTruthData.data holds nested lists or objects")
    return [v if isinstance(v, str) else json.dumps(v) for v in values]


def merge(
    predictions: Sequence[Prediction],
    truth: GroundTruth,
    problem_type: str,
    classes: Sequence[str] | None = None,
) -> Merged:
    """Each prediction with its label, matched by merge key and row.

    Labels are read for `problem_type`: binary 0/1 (or the class name when `classes` gives
    [negative, positive]); multiclass a class name of `classes` (by default the names a JSON
    answer gives) or a class code; regression a number. A record whose label count differs
    from its request's row count, whose label cannot be read, or (multiclass) whose answer
    gives another number of probabilities than there are classes, is rejected, not guessed.
    """
    names = list(classes or next((p.classes for p in predictions if p.classes), ()))
    width = len(names) or next((len(p.probabilities) for p in predictions if p.probabilities), 0)
    if problem_type == "binary":
        width = 2
    by_key: dict[str, list[Prediction]] = {}
    for prediction in predictions:
        by_key.setdefault(prediction.key, []).append(prediction)
    rows: list[Labeled] = []
    rejected = list(truth.rejected)
    unlabeled = 0
    for key, group in by_key.items():
        labels = truth.labels.get(key)
        if labels is None:
            unlabeled += len(group)
            continue
        if len(labels) != len(group):
            rejected.append(
                Rejection(key, f"{len(labels)} labels for a request of {len(group)} rows")
            )
            continue
        ordered = sorted(group, key=lambda p: p.row)
        if problem_type == "multiclass" and any(len(p.probabilities or ()) != width for p in group):
            rejected.append(Rejection(key, f"the answer does not give {width} class probabilities"))
            continue
        try:
            rows += [
                Labeled(p, label_value(label, problem_type, names, width))
                for p, label in zip(ordered, labels, strict=True)
            ]
        except ValueError as error:
            rejected.append(Rejection(key, str(error)))
    unmatched = sum(1 for key in truth.labels if key not in by_key)
    return Merged(rows, unlabeled, unmatched, rejected)


def label_value(label: str, problem_type: str, classes: Sequence[str], count: int) -> float:
    """A ground-truth label as a number of the problem type (`count` classes, named by
    `classes` when known); ValueError saying why not."""
    if problem_type == "regression":
        value = _float(label)
        if value is None or not math.isfinite(value):
            raise ValueError(f"ground truth {label[:40]!r} is not a number")
        return value
    if label in classes:
        return float(list(classes).index(label))
    code = _float(label)
    if code is None or not code.is_integer() or not 0 <= code < count:
        known = f"; classes {', '.join(classes)}" if classes else ""
        raise ValueError(
            f"ground truth {label[:40]!r} is not a {problem_type} class code 0..{count - 1}{known}"
        )
    return code


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
