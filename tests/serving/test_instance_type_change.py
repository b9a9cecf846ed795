"""Changing the instance type of an autoscaled endpoint deploys in one `cdk deploy`.

UpdateEndpoint fails when it changes the instance type of a variant registered with
Application Auto Scaling. The endpoint's name carries its instance type, so the change creates a
new endpoint with its own scalable target, and CloudFormation deletes the old pair once the new
one is in service; no UpdateEndpoint ever touches an autoscaled variant. Proven on the template
pair before and after, synthesized in-process.
"""

from __future__ import annotations

import json

import pytest

from ground.config import EnvironmentConfig, load_environments
from ground.config.serving import InstanceVariant, ModelPin
from ground.contract.limits import autoscaled_update_findings
from stacks.stage import SageStackStage
from tests.inprocess import app
from tests.serving.pinned import DEV_PACKAGE, STAGING_BASELINE


def _staging(instance_type: str) -> EnvironmentConfig:
    (config,) = load_environments(["staging"])
    serving = config.serving.model_copy(
        update={
            "model": ModelPin(arn=DEV_PACKAGE, baseline_uri=STAGING_BASELINE),
            "instance": InstanceVariant(instance_type=instance_type, initial_count=1),
        }
    )
    return config.model_copy(update={"serving": serving})


def _serving_resources(config: EnvironmentConfig, outdir: str) -> dict:
    application = app(outdir)
    stage = SageStackStage(application, config)
    template = application.synth().get_nested_assembly(f"assembly-{stage.stage_name}")
    artifact = template.get_stack_by_name(stage.serving.stack_name)
    return artifact.template["Resources"]


def _of_type(resources: dict, kind: str) -> list[dict]:
    return [r["Properties"] for r in resources.values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    before = _serving_resources(_staging("ml.m5.large"), str(tmp_path_factory.mktemp("before")))
    after = _serving_resources(_staging("ml.m5.xlarge"), str(tmp_path_factory.mktemp("after")))
    return before, after


def test_the_instance_type_change_replaces_the_endpoint_and_its_scalable_target(pair) -> None:
    before, after = pair
    [old] = _of_type(before, "AWS::SageMaker::Endpoint")
    [new] = _of_type(after, "AWS::SageMaker::Endpoint")
    assert old["EndpointName"] == "sagestack-staging-endpoint-m5-large"
    assert new["EndpointName"] == "sagestack-staging-endpoint-m5-xlarge"
    [old_target] = _of_type(before, "AWS::ApplicationAutoScaling::ScalableTarget")
    [new_target] = _of_type(after, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert new_target["ResourceId"] == f"endpoint/{new['EndpointName']}/variant/primary"
    assert new_target["ResourceId"] != old_target["ResourceId"]
    assert autoscaled_update_findings(before, after, "staging/serving") == []
    [parameter] = _of_type(after, "AWS::SSM::Parameter")
    assert parameter["Value"] == new["EndpointName"]


def test_the_same_change_under_a_kept_name_is_what_aws_refuses(pair) -> None:
    """The control: were the name kept, the deploy would be an UpdateEndpoint that fails."""
    before, after = pair
    old_name = _of_type(before, "AWS::SageMaker::Endpoint")[0]["EndpointName"]
    new_name = _of_type(after, "AWS::SageMaker::Endpoint")[0]["EndpointName"]
    kept = json.loads(json.dumps(after).replace(new_name, old_name))
    [finding] = autoscaled_update_findings(before, kept, "staging/serving")
    assert "changes the instance type of an autoscaled variant to ml.m5.xlarge" in str(finding)
