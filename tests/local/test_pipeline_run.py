"""The executor runs the dev definition end to end on the bundled data, against moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from sagestack import datasets
from sagestack.local.pipeline.commands import publish_assets, seed_input
from sagestack.local.pipeline.executor import Executor
from sagestack.local.pipeline.registry import ModelRegistry
from sagestack.promotion.candidate import package_baseline
from sagestack.storage import S3Storage
from tests.synth import Assembly

# Few boosting rounds keep each run to seconds; the bundled data still clears 0.9 ROC-AUC.
FAST = {"NumRound": "15", "EarlyStoppingRounds": "5"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _client(service: str, url: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(scope="module")
def prepared(assembly: Assembly, moto_url: str, tmp_path_factory) -> dict:
    """The dev pipeline with its code published and the bundled data in its input prefix."""
    from sagestack.local.pipeline.assembly import load_pipeline

    source = load_pipeline(assembly.directory, "dev", "sagestack-dev-cancer-training")
    storage = S3Storage(_client("s3", moto_url), create_buckets=True, label="moto")
    publish_assets(source, storage)
    data = datasets.write_csv(
        datasets.breast_cancer(), tmp_path_factory.mktemp("data") / "breast_cancer.csv"
    )
    input_uri = next(p for p in source.definition["Parameters"] if p["Name"] == "InputDataUrl")
    seed_input(storage, input_uri["DefaultValue"], data)
    return {"source": source, "storage": storage}


def _run(prepared: dict, moto_url: str, workdir: Path, overrides: dict[str, str]):
    source = prepared["source"]
    lines: list[str] = []
    executor = Executor(
        source.definition,
        pipeline_name=source.pipeline_name,
        region=source.region,
        account=source.account,
        storage=prepared["storage"],
        registry=ModelRegistry(_client("sagemaker", moto_url)),
        workdir=workdir,
        echo=lines.append,
    )
    return executor.run(overrides), lines


def test_registers_the_model_above_the_threshold(prepared, moto_url, tmp_path) -> None:
    result, lines = _run(prepared, moto_url, tmp_path, FAST)
    assert result.succeeded, (result.failed_step, result.failure_reason)
    ran = [(s.name, s.status) for s in result.steps]
    assert ran == [
        ("Preprocess", "Succeeded"),
        ("Train", "Succeeded"),
        ("Evaluate", "Succeeded"),
        ("CheckGate", "Succeeded"),
        ("RegisterModel", "Succeeded"),
    ]
    assert any(line.startswith("  Train (Training) Succeeded in") for line in lines)
    assert result.metrics["auc"] >= 0.9
    package = _client("sagemaker", moto_url).describe_model_package(
        ModelPackageName=result.model_package_arn
    )
    assert package["ModelPackageGroupName"] == "sagestack-dev-cancer"
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    report = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert report.endswith(f"/{result.execution_id}/evaluation/evaluation.json")
    assert prepared["storage"].list_keys(report) == [report.split("/", 3)[3]]
    model = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert prepared["storage"].list_keys(model), "model.tar.gz was uploaded where it points"
    baseline = package_baseline(package)
    assert baseline is not None and baseline.endswith(f"/{result.execution_id}/baseline/")
    files = [key.rsplit("/", 1)[1] for key in prepared["storage"].list_keys(baseline)]
    assert {"statistics.json", "constraints.json"} <= set(files)


def test_fails_below_the_threshold_and_registers_nothing(prepared, moto_url, tmp_path) -> None:
    sagemaker = _client("sagemaker", moto_url)
    before = _packages(sagemaker)
    result, _ = _run(prepared, moto_url, tmp_path, {**FAST, "GateThreshold": "1.01"})
    assert not result.succeeded
    assert result.failed_step == "BelowGate"
    assert "auc " in result.failure_reason and "GateThreshold = 1.01" in result.failure_reason
    assert result.model_package_arn is None
    assert _packages(sagemaker) == before


def _packages(client) -> list[str]:
    try:
        summaries = client.list_model_packages(ModelPackageGroupName="sagestack-dev-cancer")
    except client.exceptions.ClientError:
        return []
    return sorted(item["ModelPackageArn"] for item in summaries["ModelPackageSummaryList"])
