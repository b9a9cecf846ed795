"""An emulator seeded with dev's registries, artifacts and endpoints, one of each per model, and a
copy of the config in which dev pins each model.

Registry `sagestack-dev-cancer` (binary, gate auc; dev 0.9, staging 0.95):
  v1 Approved, auc 0.97, pinned by dev
  v2 PendingManualApproval, auc 0.97
  v3 Approved, auc 0.92 (meets dev's 0.9, below staging's 0.95)
  v4 Approved, auc 0.97, never served
  v5 Approved, no ModelMetrics
  v6 PendingManualApproval, auc 0.92, never served
  v7 Approved, auc 0.97, no DriftCheckBaselines
  v8 Approved, auc 0.97, DriftCheckBaselines whose files were never written
Registry `sagestack-dev-diabetes` (regression; its gate is rmse here, an `at_most` metric:
dev at most 60, staging at most 55):
  v1 Approved, rmse 52, pinned by dev
  v2 Approved, rmse 58 (meets dev's 60, not staging's 55)
Registry `sagestack-dev-wine` (multiclass, gate weighted_f1; staging 0.9):
  v1 Approved, weighted_f1 0.95, pinned by dev
  v2 Approved, weighted_f1 0.95, served only by cancer's endpoint (a decoy: the served gate
     must look at wine's endpoint)
Every version records its baseline folder under its model's own training prefix.

Endpoints, one per model as dev's serving stacks name them (`sagestack-dev-<model>-serverless`):
cancer's serves cancer v1, v2, v3, v5, v7 and v8 (one variant each, as during canaries, so each
of those fails exactly one gate) and the wine decoy; diabetes' serves v1 and v2; wine's serves v1.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ground.config.loader import CONFIG_DIR
from ground.problems import PROBLEM_TYPES
from sagestack.local import emulator
from sagestack.promotion.pin import pin_path, rewrite_pin

REGION = "eu-west-1"
BUCKET = f"sagestack-dev-ml-artifacts-{emulator.EMULATOR_ACCOUNT}-{REGION}"
IMAGE = f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1"
STORED, UNWRITTEN = "stored", "unwritten"
PROBLEMS = {"cancer": "binary", "diabetes": "regression", "wine": "multiclass"}
GATES = {"cancer": "auc", "diabetes": "rmse", "wine": "weighted_f1"}
# model -> version -> (approval status, gate metric value, baseline)
VERSIONS: dict[str, dict[int, tuple[str, float | None, str | None]]] = {
    "cancer": {
        1: ("Approved", 0.97, STORED),
        2: ("PendingManualApproval", 0.97, STORED),
        3: ("Approved", 0.92, STORED),
        4: ("Approved", 0.97, STORED),
        5: ("Approved", None, STORED),
        6: ("PendingManualApproval", 0.92, STORED),
        7: ("Approved", 0.97, None),
        8: ("Approved", 0.97, UNWRITTEN),
    },
    "diabetes": {1: ("Approved", 52.0, STORED), 2: ("Approved", 58.0, STORED)},
    "wine": {1: ("Approved", 0.95, STORED), 2: ("Approved", 0.95, STORED)},
}
# endpoint owner -> the (model, version) packages its endpoint serves
SERVED = {
    "cancer": [("cancer", v) for v in (1, 2, 3, 5, 7, 8)] + [("wine", 2)],
    "diabetes": [("diabetes", 1), ("diabetes", 2)],
    "wine": [("wine", 1)],
}
DEV_PINS = {"cancer": 1, "diabetes": 1, "wine": 1}
# The regression model's gate as this suite configures it: an error metric, at most.
DIABETES_GATE = {"metric": "rmse", "threshold": 60.0}
DIABETES_STAGING_THRESHOLD = 55.0


def group(model: str) -> str:
    return f"sagestack-dev-{model}"


def endpoint(model: str, env: str = "dev") -> str:
    return f"sagestack-{env}-{model}-serverless"


def baseline_folder(model: str, version: int) -> str:
    return f"s3://{BUCKET}/models/sagestack-dev-{model}-training/v{version}/baseline/"


@dataclass(frozen=True)
class Registry:
    emulator: emulator.Emulator
    state_dir: Path
    arns: dict[str, dict[int, str]]

    def arn(self, model: str, version: int) -> str:
        return self.arns[model][version]


def _evaluation(model: str, value: float) -> bytes:
    """evaluation.json in the model's problem type's layout (ground/problems.py)."""
    layout = PROBLEM_TYPES[PROBLEMS[model]].layout
    return json.dumps({layout: {GATES[model]: {"value": value, "standard_deviation": 0}}}).encode()


def _metrics(s3, model: str, version: int, value: float | None) -> dict:
    if value is None:
        return {}
    key = f"models/sagestack-dev-{model}-training/v{version}/evaluation.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=_evaluation(model, value))
    statistics = {"ContentType": "application/json", "S3Uri": f"s3://{BUCKET}/{key}"}
    return {"ModelMetrics": {"ModelQuality": {"Statistics": statistics}}}


def _baseline(s3, model: str, version: int, baseline: str | None) -> dict:
    """DriftCheckBaselines as the training pipeline's RegisterModel step records them."""
    if baseline is None:
        return {}
    files = {}
    for part, name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json")):
        uri = baseline_folder(model, version) + name
        if baseline == STORED:
            s3.put_object(Bucket=BUCKET, Key=uri.removeprefix(f"s3://{BUCKET}/"), Body=b"{}")
        files[part] = {"ContentType": "application/json", "S3Uri": uri}
    return {"DriftCheckBaselines": {"ModelDataQuality": files}}


def _register(sagemaker, s3, model: str, version: int) -> str:
    status, value, baseline = VERSIONS[model][version]
    data = f"s3://{BUCKET}/models/sagestack-dev-{model}-training/v{version}/model.tar.gz"
    return sagemaker.create_model_package(
        ModelPackageGroupName=group(model),
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": data}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **_metrics(s3, model, version, value),
        **_baseline(s3, model, version, baseline),
    )["ModelPackageArn"]


def _serve(sagemaker, owner: str, arns: dict[str, dict[int, str]]) -> None:
    """What dev's serving stack of `owner` deploys: models of packages behind its endpoint."""
    variants = []
    for model, version in SERVED[owner]:
        name = f"sagestack-dev-{owner}-{model}-v{version}"
        sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=f"arn:aws:iam::{emulator.EMULATOR_ACCOUNT}:role/sagestack-dev-{owner}-model",
            PrimaryContainer={"ModelPackageName": arns[model][version]},
        )
        variants.append(
            {
                "VariantName": f"{model}-v{version}",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        )
    config = f"{endpoint(owner)}-config"
    sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=variants)
    sagemaker.create_endpoint(EndpointName=endpoint(owner), EndpointConfigName=config)


@pytest.fixture(scope="package")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    state_dir = tmp_path_factory.mktemp("emulator")
    with emulator.running(state_dir) as running:
        sagemaker, s3 = running.client("sagemaker", REGION), running.client("s3", REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        arns: dict[str, dict[int, str]] = {}
        for model, versions in VERSIONS.items():
            sagemaker.create_model_package_group(ModelPackageGroupName=group(model))
            arns[model] = {v: _register(sagemaker, s3, model, v) for v in sorted(versions)}
        for owner in SERVED:
            _serve(sagemaker, owner, arns)
        yield Registry(running, state_dir, arns)


def model_file(config_dir: Path, model: str) -> Path:
    return config_dir / "models" / f"{model}.yaml"


def pin(config_dir: Path, model: str, env: str, arn: str, baseline: str | None = None) -> None:
    """Pin `arn` for `model` in `env` the way promote writes it (comments and layout kept)."""
    path = model_file(config_dir, model)
    path.write_text(rewrite_pin(path.read_text(), pin_path(env), arn, str(path), baseline))


def _diabetes_gate_is_rmse(path: Path) -> None:
    """Text edits, so the file keeps the layout `rewrite_pin` round-trips."""
    text = path.read_text()
    text = text.replace("  metric: r2\n  threshold: 0.3\n", "  metric: rmse\n  threshold: 60.0\n")
    text = text.replace(
        "  staging:\n    serving:\n",
        f"  staging:\n    gate: {{threshold: {DIABETES_STAGING_THRESHOLD}}}\n    serving:\n",
    )
    path.write_text(text)


@pytest.fixture
def config_dir(tmp_path: Path, registry: Registry) -> Path:
    """The project's config, with dev pinning v1 of each model and diabetes gated on rmse."""
    directory = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, directory)
    _diabetes_gate_is_rmse(model_file(directory, "diabetes"))
    for model, version in DEV_PINS.items():
        pin(directory, model, "dev", registry.arn(model, version))
    return directory
