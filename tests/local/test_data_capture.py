"""Data capture of the local endpoint: SageMaker's documented record format, the configured
sampling, and records written to S3 (the emulator's) for requests made through boto3."""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sagestack.local import emulator
from sagestack.local.data_capture import CaptureConfig, CaptureWriter
from sagestack.local.endpoint import start_endpoint

WHEN = datetime(2026, 12, 3, 14, 5, 9, 250000, tzinfo=UTC)
DESCRIBED = {
    "EndpointConfigName": "cfg",
    "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m"}],
    "DataCaptureConfig": {
        "EnableCapture": True,
        "InitialSamplingPercentage": 30,
        "DestinationS3Uri": "s3://artifacts/data-capture/cancer",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
    },
}


def _config(percentage: int = 100) -> CaptureConfig:
    described = json.loads(json.dumps(DESCRIBED))
    described["DataCaptureConfig"]["InitialSamplingPercentage"] = percentage
    config = CaptureConfig.from_endpoint_config("sagestack-dev-cancer", described, "eu-west-1")
    assert config is not None
    return config


def _writer(config: CaptureConfig, seed: int = 0) -> tuple[CaptureWriter, dict[str, bytes]]:
    written: dict[str, bytes] = {}

    def put(bucket: str, key: str, body: bytes) -> None:
        written[f"{bucket}/{key}"] = body

    return CaptureWriter(config, put, random.Random(seed).random, lambda: WHEN), written


def test_a_record_has_the_documented_fields_and_place() -> None:
    writer, written = _writer(_config())
    writer.record(b"1.0,2.0\n", "text/csv", b"0.91,1\n", "text/csv", inference_id="req-1")
    ((path, body),) = written.items()
    assert re.fullmatch(
        r"artifacts/data-capture/cancer/sagestack-dev-cancer/AllTraffic/2026/12/03/14/"
        r"05-09-250-[0-9a-f-]{36}\.jsonl",
        path,
    )
    assert body.endswith(b"\n") and body.count(b"\n") == 1
    record = json.loads(body)
    assert record == {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": "1.0,2.0\n",
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "text/csv",
                "mode": "OUTPUT",
                "data": "0.91,1\n",
                "encoding": "CSV",
            },
        },
        "eventMetadata": {
            "eventId": record["eventMetadata"]["eventId"],
            "inferenceId": "req-1",
            "inferenceTime": "2026-12-03T14:05:09Z",
        },
        "eventVersion": "0",
    }


def test_json_is_kept_as_text_and_other_types_are_base64() -> None:
    writer, written = _writer(_config())
    npy = b"\x93NUMPY\x01\x00"
    writer.record(npy, "application/x-npy", b'{"predictions": []}', "application/json")
    record = json.loads(next(iter(written.values())))
    captured = record["captureData"]
    assert captured["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(captured["endpointInput"]["data"]) == npy
    assert captured["endpointOutput"] == {
        "observedContentType": "application/json",
        "mode": "OUTPUT",
        "data": '{"predictions": []}',
        "encoding": "JSON",
    }
    assert "inferenceId" not in record["eventMetadata"]


def test_only_the_modes_the_config_names_are_captured() -> None:
    described = json.loads(json.dumps(DESCRIBED))
    described["DataCaptureConfig"]["CaptureOptions"] = [{"CaptureMode": "Input"}]
    described["DataCaptureConfig"]["InitialSamplingPercentage"] = 100
    config = CaptureConfig.from_endpoint_config("e", described, "eu-west-1")
    assert config is not None
    writer, written = _writer(config)
    writer.record(b"1", "text/csv", b"2", "text/csv")
    assert set(json.loads(next(iter(written.values())))["captureData"]) == {"endpointInput"}


def test_an_endpoint_config_without_capture_captures_nothing() -> None:
    assert CaptureConfig.from_endpoint_config("e", {"ProductionVariants": []}, "r") is None
    off = json.loads(json.dumps(DESCRIBED))
    off["DataCaptureConfig"]["EnableCapture"] = False
    assert CaptureConfig.from_endpoint_config("e", off, "r") is None


@pytest.mark.parametrize("percentage", [0, 30, 100])
def test_the_configured_share_of_requests_is_sampled(percentage: int) -> None:
    writer, written = _writer(_config(percentage), seed=percentage)
    for _ in range(2000):
        writer.record(b"1", "text/csv", b"2", "text/csv")
    share = len(written) / 2000 * 100
    assert abs(share - percentage) <= 3, share


def test_the_config_reaches_a_child_endpoint_process_intact() -> None:
    config = _config(30)
    assert CaptureConfig.from_json(config.to_json()) == config


@pytest.fixture(scope="module")
def capture_bucket(tmp_path_factory: pytest.TempPathFactory):
    """An emulator with an empty bucket for the captures."""
    with emulator.running(Path(tmp_path_factory.mktemp("capture-emulator"))) as server:
        s3 = server.client("s3", "eu-west-1")
        s3.create_bucket(
            Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield server, s3


def test_requests_through_boto3_are_captured_to_s3(demo, aws_env, capture_bucket) -> None:
    import boto3

    server, s3 = capture_bucket
    described = json.loads(json.dumps(DESCRIBED))
    described["DataCaptureConfig"]["InitialSamplingPercentage"] = 100
    config = CaptureConfig.from_endpoint_config(
        "sagestack-dev-cancer", described, "eu-west-1", server.url
    )
    rows = (demo.splits["test"] / "test.csv").read_text().splitlines()[1:4]
    features = [row.split(",", 1)[1] for row in rows]
    with start_endpoint(
        demo.training.model_artifact, endpoint_name="sagestack-dev-cancer", capture=config
    ) as endpoint:
        runtime = boto3.client("sagemaker-runtime", endpoint_url=endpoint.url)
        answers = [
            runtime.invoke_endpoint(
                EndpointName="sagestack-dev-cancer",
                ContentType="text/csv",
                Accept="text/csv",
                Body=row,
                InferenceId=f"id-{i}",
            )["Body"].read()
            for i, row in enumerate(features)
        ]
        with pytest.raises(runtime.exceptions.ModelError):  # refused: nothing to capture
            runtime.invoke_endpoint(
                EndpointName="sagestack-dev-cancer", ContentType="text/csv", Body="x,y"
            )
    keys = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket="artifacts", Prefix="data-capture/")["Contents"]
    ]
    records = [
        json.loads(s3.get_object(Bucket="artifacts", Key=key)["Body"].read()) for key in keys
    ]
    by_id = {r["eventMetadata"]["inferenceId"]: r["captureData"] for r in records}
    assert set(by_id) == {"id-0", "id-1", "id-2"}
    for i, row in enumerate(features):
        assert by_id[f"id-{i}"]["endpointInput"]["data"] == row
        assert by_id[f"id-{i}"]["endpointOutput"]["data"].encode() == answers[i]
    assert all(k.startswith("data-capture/cancer/sagestack-dev-cancer/AllTraffic/") for k in keys)
