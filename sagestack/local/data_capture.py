"""Data capture of the local endpoint, as SageMaker records it for a deployed endpoint.

The endpoint config's DataCaptureConfig (read back from the emulator) says whether to capture,
what share of requests, which of request and answer, where, and which content types are CSV
or JSON text. Each sampled request becomes one JSON Lines record in the documented format
(model-monitor-data-capture.html, "View collected data"):

  {"captureData": {"endpointInput":  {"observedContentType", "mode": "INPUT",  "data",
                                      "encoding": "CSV" | "JSON" | "BASE64"},
                   "endpointOutput": {... "mode": "OUTPUT" ...}},
   "eventMetadata": {"eventId", "inferenceId" (when the caller gave one), "inferenceTime"},
   "eventVersion": "0"}

under `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/` (UTC hour of the inference).
SageMaker buffers records and writes a file every few minutes; here each captured request is
written at once, as one object, so a monitoring run right after the traffic sees all of it.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from ground.layout import split_s3_uri

DEFAULT_CSV_TYPES = ("text/csv",)
DEFAULT_JSON_TYPES = ("application/json",)
VARIANT = "AllTraffic"
EVENT_VERSION = "0"

Put = Callable[[str, str, bytes], None]  # bucket, key, body


@dataclass(frozen=True)
class CaptureConfig:
    """What the endpoint config's DataCaptureConfig asks for (JSON-serializable, so a child
    endpoint process receives it on its command line)."""

    endpoint_name: str
    destination: str  # s3://bucket/prefix
    sampling_percentage: int
    capture_input: bool = True
    capture_output: bool = True
    csv_types: tuple[str, ...] = DEFAULT_CSV_TYPES
    json_types: tuple[str, ...] = DEFAULT_JSON_TYPES
    variant: str = VARIANT
    # Where the destination bucket is served: the emulator's URL (None: AWS itself).
    region: str = "us-east-1"
    s3_endpoint_url: str | None = None

    @classmethod
    def from_endpoint_config(
        cls,
        endpoint_name: str,
        described: dict[str, Any],
        region: str,
        s3_endpoint_url: str | None = None,
    ) -> CaptureConfig | None:
        """From DescribeEndpointConfig's answer; None when it captures nothing."""
        capture = described.get("DataCaptureConfig")
        if not capture or not capture.get("EnableCapture", True):
            return None
        modes = {option["CaptureMode"] for option in capture.get("CaptureOptions", [])}
        headers = capture.get("CaptureContentTypeHeader", {})
        variants = described.get("ProductionVariants") or [{}]
        return cls(
            endpoint_name=endpoint_name,
            destination=capture["DestinationS3Uri"].rstrip("/"),
            sampling_percentage=int(capture["InitialSamplingPercentage"]),
            capture_input="Input" in modes,
            capture_output="Output" in modes,
            csv_types=tuple(headers.get("CsvContentTypes", DEFAULT_CSV_TYPES)),
            json_types=tuple(headers.get("JsonContentTypes", DEFAULT_JSON_TYPES)),
            variant=variants[0].get("VariantName", VARIANT),
            region=region,
            s3_endpoint_url=s3_endpoint_url,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CaptureConfig:
        values = json.loads(text)
        for key in ("csv_types", "json_types"):
            values[key] = tuple(values[key])
        return cls(**values)


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


@dataclass
class CaptureWriter:
    """Samples requests and writes their capture records with `put`."""

    config: CaptureConfig
    put: Put
    chance: Callable[[], float] = field(default_factory=lambda: random.random)
    now: Callable[[], datetime] = field(default_factory=lambda: lambda: datetime.now(UTC))

    def record(
        self,
        body: bytes,
        content_type: str | None,
        answer: bytes,
        answer_type: str | None,
        inference_id: str | None = None,
    ) -> str | None:
        """Capture one answered request if it is sampled; the object key, or None."""
        if self.chance() * 100 >= self.config.sampling_percentage:
            return None
        when = self.now()
        capture: dict[str, Any] = {}
        if self.config.capture_input:
            capture["endpointInput"] = self._payload("INPUT", body, content_type)
        if self.config.capture_output:
            capture["endpointOutput"] = self._payload("OUTPUT", answer, answer_type)
        metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": _timestamp(when)}
        if inference_id:
            metadata["inferenceId"] = inference_id
        record = {"captureData": capture, "eventMetadata": metadata, "eventVersion": EVENT_VERSION}
        bucket, prefix = split_s3_uri(self.config.destination)
        key = "/".join(
            part
            for part in (
                prefix.rstrip("/"),
                self.config.endpoint_name,
                self.config.variant,
                when.strftime("%Y/%m/%d/%H"),
                f"{when:%M-%S}-{when.microsecond // 1000:03d}-{metadata['eventId']}.jsonl",
            )
            if part
        )
        self.put(bucket, key, (json.dumps(record) + "\n").encode("utf-8"))
        return key

    def _payload(self, mode: str, data: bytes, content_type: str | None) -> dict[str, str]:
        media = _media_type(content_type)
        encoding = "BASE64"
        if media in self.config.csv_types:
            encoding = "CSV"
        elif media in self.config.json_types:
            encoding = "JSON"
        if encoding == "BASE64":
            text = base64.b64encode(data).decode("ascii")
        else:  # an answered text request was UTF-8 (serving.py refuses others)
            text = data.decode("utf-8", errors="replace")
        return {
            "observedContentType": content_type or "",
            "mode": mode,
            "data": text,
            "encoding": encoding,
        }


def _timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def writer_for(config: CaptureConfig) -> CaptureWriter:
    """A writer putting records with a boto3 S3 client of the config's region and endpoint."""
    settings: dict[str, Any] = {}
    if config.s3_endpoint_url:  # the emulator takes any credentials
        settings = {
            "endpoint_url": config.s3_endpoint_url,
            "aws_access_key_id": "emulator",
            "aws_secret_access_key": "emulator",
        }
    client = boto3.client("s3", region_name=config.region, **settings)

    def put(bucket: str, key: str, body: bytes) -> None:
        client.put_object(Bucket=bucket, Key=key, Body=body)

    return CaptureWriter(config, put)
