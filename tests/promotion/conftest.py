"""An emulator seeded with dev's registry, artifacts and endpoint, and a copy of the config.

Registry of `sagestack-dev-models` (dev's account, region eu-west-1):
  v1 Approved, auc 0.97, pinned by dev
  v2 PendingManualApproval, auc 0.97
  v3 Approved, auc 0.92 (meets dev's 0.9, below staging's 0.95)
  v4 Approved, auc 0.97, never served
  v5 Approved, no ModelMetrics
  v6 PendingManualApproval, auc 0.92, never served
  v7 Approved, auc 0.97, no DriftCheckBaselines
  v8 Approved, auc 0.97, DriftCheckBaselines whose files were never written
Every other version records its baseline folder, with statistics.json and constraints.json.
sagestack-dev-endpoint serves v1, v2, v3, v5, v7 and v8, one variant each (as during
canaries), so that each of those versions fails exactly one gate.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ground.config.loader import CONFIG_DIR
from sagestack.local import emulator
from sagestack.promotion.pin import rewrite_pin

REGION = "eu-west-1"
GROUP = "sagestack-dev-models"
BUCKET = f"sagestack-dev-ml-artifacts-{emulator.EMULATOR_ACCOUNT}-{REGION}"
IMAGE = f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1"
STORED, UNWRITTEN = "stored", "unwritten"
VERSIONS = {
    1: ("Approved", 0.97, STORED),
    2: ("PendingManualApproval", 0.97, STORED),
    3: ("Approved", 0.92, STORED),
    4: ("Approved", 0.97, STORED),
    5: ("Approved", None, STORED),
    6: ("PendingManualApproval", 0.92, STORED),
    7: ("Approved", 0.97, None),
    8: ("Approved", 0.97, UNWRITTEN),
}
SERVED = (1, 2, 3, 5, 7, 8)


def baseline_folder(version: int) -> str:
    return f"s3://{BUCKET}/models/v{version}/baseline/"


@dataclass(frozen=True)
class Registry:
    emulator: emulator.Emulator
    state_dir: Path
    arns: dict[int, str]


def _evaluation(auc: float) -> bytes:
    return json.dumps({"binary_classification_metrics": {"auc": {"value": auc}}}).encode()


def _metrics(s3, version: int, auc: float | None) -> dict:
    if auc is None:
        return {}
    key = f"models/v{version}/evaluation.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=_evaluation(auc))
    statistics = {"ContentType": "application/json", "S3Uri": f"s3://{BUCKET}/{key}"}
    return {"ModelMetrics": {"ModelQuality": {"Statistics": statistics}}}


def _baseline(s3, version: int, baseline: str | None) -> dict:
    """DriftCheckBaselines as the training pipeline's RegisterModel step records them."""
    if baseline is None:
        return {}
    files = {}
    for part, name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json")):
        uri = baseline_folder(version) + name
        if baseline == STORED:
            s3.put_object(Bucket=BUCKET, Key=uri.removeprefix(f"s3://{BUCKET}/"), Body=b"{}")
        files[part] = {"ContentType": "application/json", "S3Uri": uri}
    return {"DriftCheckBaselines": {"ModelDataQuality": files}}


def _register(
    sagemaker, s3, version: int, status: str, auc: float | None, baseline: str | None
) -> str:
    return sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [
                {"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/v{version}/model.tar.gz"}
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **_metrics(s3, version, auc),
        **_baseline(s3, version, baseline),
    )["ModelPackageArn"]


def _serve(sagemaker, arns: dict[int, str]) -> None:
    """What dev's serving stack deploys: models of packages behind sagestack-dev-endpoint."""
    variants = []
    for version in SERVED:
        name = f"sagestack-dev-model-v{version}"
        sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=f"arn:aws:iam::{emulator.EMULATOR_ACCOUNT}:role/sagestack-dev-model",
            PrimaryContainer={"ModelPackageName": arns[version]},
        )
        variants.append(
            {
                "VariantName": f"v{version}",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        )
    sagemaker.create_endpoint_config(
        EndpointConfigName="sagestack-dev-endpoint-config", ProductionVariants=variants
    )
    sagemaker.create_endpoint(
        EndpointName="sagestack-dev-endpoint", EndpointConfigName="sagestack-dev-endpoint-config"
    )


@pytest.fixture(scope="package")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    state_dir = tmp_path_factory.mktemp("emulator")
    with emulator.running(state_dir) as running:
        sagemaker, s3 = running.client("sagemaker", REGION), running.client("s3", REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        arns = {v: _register(sagemaker, s3, v, *VERSIONS[v]) for v in sorted(VERSIONS)}
        _serve(sagemaker, arns)
        yield Registry(running, state_dir, arns)


@pytest.fixture
def config_dir(tmp_path: Path, registry: Registry) -> Path:
    """The project's environment files, with dev pinning v1."""
    directory = tmp_path / "config"
    directory.mkdir()
    for path in CONFIG_DIR.glob("*.yaml"):
        shutil.copy2(path, directory / path.name)
    dev = directory / "dev.yaml"
    dev.write_text(rewrite_pin(dev.read_text(), registry.arns[1], str(dev)))
    return directory
