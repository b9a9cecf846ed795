"""The app synthesized once with `-c delivery=true`, by the real CDK CLI, with staging pinned.

Staging must serve models for the pipeline to smoke-test them, so the config is copied and
each model's staging pin set, as `sagestack promote` would. The copied pipeline file keeps the
smoke-test requests of cancer and wine only: diabetes is pinned but has no request, so it must
get no smoke test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from aws_cdk.assertions import Template

from ground.config.delivery import DELIVERY_FILE
from ground.config.loader import CONFIG_DIR
from sagestack.assembly import CloudAssembly
from sagestack.promotion.pin import pin_path, rewrite_pin
from tests.synth import shared_synth

MODELS = ("cancer", "wine", "diabetes")
SMOKE_TESTED = ("cancer", "wine")
ARTIFACTS = "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/models"


def package(model: str) -> str:
    return f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-{model}/1"


def baseline(model: str) -> str:
    return f"{ARTIFACTS}/sagestack-dev-{model}-training/run-1/baseline/"


@pytest.fixture(scope="session")
def delivery_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(CONFIG_DIR, directory)
    for model in MODELS:
        path = directory / "models" / f"{model}.yaml"
        pinned = rewrite_pin(
            path.read_text(), pin_path("staging"), package(model), str(path), baseline(model)
        )
        path.write_text(pinned)
    pipeline = directory / DELIVERY_FILE
    data = yaml.safe_load(pipeline.read_text())
    data["smoke_test"]["requests"] = {
        model: request
        for model, request in data["smoke_test"]["requests"].items()
        if model in SMOKE_TESTED
    }
    pipeline.write_text(yaml.safe_dump(data))
    return directory


@pytest.fixture(scope="session")
def delivery_assembly(
    delivery_config_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> CloudAssembly:
    shared = shared_synth(
        tmp_path_factory,
        "delivery",
        lambda _: ("delivery=true", f"config_dir={delivery_config_dir}"),
    )
    return CloudAssembly(shared.assembly.directory)


@pytest.fixture(scope="session")
def pipeline_template(delivery_assembly: CloudAssembly) -> dict:
    return delivery_assembly.stacks["delivery"].template()


@pytest.fixture(scope="session")
def pipeline(pipeline_template: dict) -> Template:
    return Template.from_json(pipeline_template)


@pytest.fixture(scope="session")
def stages(pipeline_template: dict) -> dict[str, list[dict]]:
    """The CodePipeline's stages: name → actions."""
    [resource] = [
        value
        for value in pipeline_template["Resources"].values()
        if value["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    return {stage["Name"]: stage["Actions"] for stage in resource["Properties"]["Stages"]}


def build_spec_of(template: dict, action: dict) -> str:
    """The buildspec (as JSON text, tokens included) of a CodeBuild action's project."""
    project_id = action["Configuration"]["ProjectName"]["Ref"]
    return json.dumps(template["Resources"][project_id]["Properties"]["Source"]["BuildSpec"])
