"""The app synthesized once with `-c delivery=true`, by the real CDK CLI, with staging pinned.

Staging must serve a model for the pipeline to smoke-test it, so the environment files are
copied and staging's pin set, as `sagestack promote` would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from ground.config.loader import CONFIG_DIR
from sagestack.assembly import CloudAssembly
from sagestack.promotion.pin import rewrite_pin
from tests.synth import cdk_synth

PINNED = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-models/1"
BASELINE = "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/models/run-1/baseline/"


@pytest.fixture(scope="session")
def delivery_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(CONFIG_DIR, directory)
    staging = directory / "staging.yaml"
    staging.write_text(rewrite_pin(staging.read_text(), PINNED, str(staging), BASELINE))
    return directory


@pytest.fixture(scope="session")
def delivery_assembly(
    delivery_config_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> CloudAssembly:
    outdir = tmp_path_factory.mktemp("cdk-out-delivery")
    result = cdk_synth(outdir, "delivery=true", f"config_dir={delivery_config_dir}")
    assert result.returncode == 0, f"cdk synth -c delivery=true failed:\n{result.stderr}"
    return CloudAssembly(outdir)


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
