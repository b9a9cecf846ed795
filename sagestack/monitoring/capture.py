"""Data-capture files as SageMaker writes them, read record by record.

Format (developer guide, "Capture data", model-monitor-data-capture): JSON Lines, one record a
line,

  {"captureData": {"endpointInput": {"observedContentType", "mode": "INPUT", "data",
                                     "encoding": "CSV" | "JSON" | "BASE64"},
                   "endpointOutput": {..., "mode": "OUTPUT"}},
   "eventMetadata": {"eventId", "inferenceId" (when the caller gave one), "inferenceTime"},
   "eventVersion": "0"}

`data` is the body as text for CSV and JSON, base64 for BASE64. A line that is not such a
record is counted in `rejected` with its reason, never raised.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

ENCODINGS = ("CSV", "JSON", "BASE64")


@dataclass(frozen=True)
class Body:
    """A captured request or response body."""

    content_type: str  # the media type, lower case, without parameters
    data: bytes


@dataclass(frozen=True)
class CaptureRecord:
    event_id: str
    inference_id: str | None
    inference_time: str | None
    input: Body | None
    output: Body | None
    source: str  # file and line, for messages

    @property
    def key(self) -> str:
        """What ground truth is merged on: the inference id when the caller gave one, else the
        event id (developer guide, model-monitor-model-quality-merge)."""
        return self.inference_id or self.event_id


@dataclass(frozen=True)
class Rejection:
    source: str  # file and line, or the record's event id
    reason: str


@dataclass
class Capture:
    """The records of some capture files and what could not be read."""

    records: list[CaptureRecord] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


class RecordError(ValueError):
    """Why a record cannot be used."""


def read_capture(files: Iterable[tuple[str, bytes | str]]) -> Capture:
    """Records of capture files given as (name, content) pairs, e.g. S3 keys and bodies."""
    capture = Capture()
    for source, line in json_lines(files):
        try:
            capture.records.append(parse_record(line, source))
        except RecordError as error:
            capture.rejected.append(Rejection(source, str(error)))
    return capture


def json_lines(files: Iterable[tuple[str, bytes | str]]) -> Iterator[tuple[str, str]]:
    """("name:line number", line) of every non-blank line of JSON Lines files."""
    for name, content in files:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"{name}:{number}", line


def parse_record(line: str, source: str = "") -> CaptureRecord:
    """One capture record; RecordError saying what is wrong."""
    record = parse_json_object(line)
    data = record.get("captureData")
    metadata = record.get("eventMetadata")
    if not isinstance(data, dict) or not isinstance(metadata, dict):
        raise RecordError("not a capture record: it needs captureData and eventMetadata objects")
    event_id = metadata.get("eventId")
    if not isinstance(event_id, str) or not event_id:
        raise RecordError("eventMetadata.eventId is missing")
    inference_id = metadata.get("inferenceId")
    return CaptureRecord(
        event_id=event_id,
        inference_id=inference_id if isinstance(inference_id, str) and inference_id else None,
        inference_time=metadata.get("inferenceTime"),
        input=_body(data.get("endpointInput"), "endpointInput"),
        output=_body(data.get("endpointOutput"), "endpointOutput"),
        source=source,
    )


def parse_json_object(line: str) -> dict:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError) as error:
        raise RecordError(f"not JSON: {str(error)[:80]}") from None
    if not isinstance(value, dict):
        raise RecordError("not a JSON object")
    return value


def _body(section: object, name: str) -> Body | None:
    if section is None:
        return None
    if not isinstance(section, dict):
        raise RecordError(f"{name} is not an object")
    return Body(
        content_type=media_type(section.get("observedContentType")),
        data=decode_data(section.get("data"), section.get("encoding"), name),
    )


def media_type(header: object) -> str:
    return str(header or "").split(";")[0].strip().lower()


def decode_data(data: object, encoding: object, name: str) -> bytes:
    """The bytes of a captured `data` field in its `encoding` (CSV, JSON or BASE64)."""
    if not isinstance(data, str):
        raise RecordError(f"{name}.data is not a string")
    if encoding not in ENCODINGS:
        raise RecordError(f"{name}.encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    if encoding != "BASE64":
        return data.encode("utf-8")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise RecordError(f"{name}.data is not valid base64") from None
