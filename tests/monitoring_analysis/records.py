"""Data-capture and ground-truth records as SageMaker writes them, for the tests."""

from __future__ import annotations

import base64
import json


def capture_line(
    request: str | bytes,
    answer: str | bytes,
    event_id: str,
    *,
    inference_id: str | None = None,
    request_type: str = "text/csv",
    answer_type: str = "text/csv",
    encoding: str = "CSV",
) -> str:
    """One data-capture record as SageMaker writes it; BASE64 encodes both bodies."""

    def section(body: str | bytes, content_type: str, mode: str) -> dict:
        raw = body.encode() if isinstance(body, str) else body
        data = base64.b64encode(raw).decode() if encoding == "BASE64" else raw.decode()
        return {
            "observedContentType": content_type,
            "mode": mode,
            "data": data,
            "encoding": encoding,
        }

    metadata = {"eventId": event_id, "inferenceTime": "2026-12-03T06:00:00Z"}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return json.dumps(
        {
            "captureData": {
                "endpointInput": section(request, request_type, "INPUT"),
                "endpointOutput": section(answer, answer_type, "OUTPUT"),
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        }
    )


def ground_truth_line(event_id: str, data: str, encoding: str = "CSV") -> str:
    return json.dumps(
        {
            "groundTruthData": {"data": data, "encoding": encoding},
            "eventMetadata": {"eventId": event_id},
            "eventVersion": "0",
        }
    )
