"""Changing the instance type of an autoscaled endpoint deploys in one `cdk deploy`.

UpdateEndpoint fails when it changes the instance type of a variant registered with
Application Auto Scaling. The endpoint's name carries its instance type, so the change creates a
new endpoint with its own scalable target, and CloudFormation deletes the old pair once the new
one is in service; no UpdateEndpoint ever touches an autoscaled variant. Proven on the template
pair before and after, synthesized in-process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ground.config import Environment, load_environments
from ground.contract.limits import autoscaled_update_findings
from stacks.stage import SageStackStage
from tests.inprocess import app
from tests.serving.pinned import MODEL, _pinned_configs


def _staging(config_dir: Path, instance_type: str) -> Environment:
    """Staging with every model pinned, the model's endpoint on `instance_type`."""
    _pinned_configs(config_dir)
    path = config_dir / "models" / f"{MODEL}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["environments"]["staging"]["serving"]["instance"] = {"instance_type": instance_type}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    (environment,) = load_environments(["staging"], config_dir)
    return environment


def _serving_resources(environment: Environment, outdir: str) -> dict:
    application = app(outdir)
    stage = SageStackStage(application, environment)
    template = application.synth().get_nested_assembly(f"assembly-{stage.stage_name}")
    artifact = template.get_stack_by_name(stage.serving[MODEL].stack_name)
    return artifact.template["Resources"]


def _of_type(resources: dict, kind: str) -> list[dict]:
    return [r["Properties"] for r in resources.values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    configs = {
        kind: _staging(tmp_path_factory.mktemp(f"{kind}-config"), instance)
        for kind, instance in (("before", "ml.m5.large"), ("after", "ml.m5.xlarge"))
    }
    before = _serving_resources(configs["before"], str(tmp_path_factory.mktemp("before")))
    after = _serving_resources(configs["after"], str(tmp_path_factory.mktemp("after")))
    return before, after


def test_the_instance_type_change_replaces_the_endpoint_and_its_scalable_target(pair) -> None:
    before, after = pair
    [old] = _of_type(before, "AWS::SageMaker::Endpoint")
    [new] = _of_type(after, "AWS::SageMaker::Endpoint")
    assert old["EndpointName"] == f"sagestack-staging-{MODEL}-m5-large"
    assert new["EndpointName"] == f"sagestack-staging-{MODEL}-m5-xlarge"
    [old_target] = _of_type(before, "AWS::ApplicationAutoScaling::ScalableTarget")
    [new_target] = _of_type(after, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert new_target["ResourceId"] == f"endpoint/{new['EndpointName']}/variant/primary"
    assert new_target["ResourceId"] != old_target["ResourceId"]
    assert autoscaled_update_findings(before, after, f"staging/{MODEL}-serving") == []
    [parameter] = _of_type(after, "AWS::SSM::Parameter")
    assert parameter["Value"] == new["EndpointName"]


def test_the_same_change_under_a_kept_name_is_what_aws_refuses(pair) -> None:
    """The control: were the name kept, the deploy would be an UpdateEndpoint that fails."""
    before, after = pair
    old_name = _of_type(before, "AWS::SageMaker::Endpoint")[0]["EndpointName"]
    new_name = _of_type(after, "AWS::SageMaker::Endpoint")[0]["EndpointName"]
    kept = json.loads(json.dumps(after).replace(new_name, old_name))
    [finding] = autoscaled_update_findings(before, kept, f"staging/{MODEL}-serving")
    assert "changes the instance type of an autoscaled variant to ml.m5.xlarge" in str(finding)
