"""What the real `cdk deploy` created in the real emulator, described through boto3."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ground.config import EnvironmentConfig
from sagestack import demo
from sagestack.demo_watch import WATCHED
from sagestack.local import emulator
from sagestack.local.data_capture import CaptureConfig
from sagestack.local.deploy import DeployError, deploy, emulator_gaps
from tests.integration.conftest import MODELS, PREFIX

pytestmark = pytest.mark.integration


def key_arn(server: emulator.Emulator, region: str, name: str) -> str:
    """Resolve an alias through ListAliases (the emulator's DescribeKey rejects alias names)."""
    kms = server.client("kms", region)
    aliases = {alias["AliasName"]: alias for alias in kms.list_aliases()["Aliases"]}
    key_id = aliases[f"alias/sagestack-dev/{name}"]["TargetKeyId"]
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]


def test_emulator_binds_loopback_only(running_emulator: emulator.Emulator) -> None:
    assert running_emulator.url.startswith("http://127.0.0.1:")


def test_buckets_exist_encrypted_with_the_data_key(
    running_emulator: emulator.Emulator, dev_config: EnvironmentConfig
) -> None:
    s3 = running_emulator.client("s3", dev_config.region)
    data_key = key_arn(running_emulator, dev_config.region, "data")
    suffix = f"{dev_config.account}-{dev_config.region}"
    for purpose in ("raw-data", "ml-artifacts"):
        rules = s3.get_bucket_encryption(Bucket=f"sagestack-dev-{purpose}-{suffix}")[
            "ServerSideEncryptionConfiguration"
        ]["Rules"]
        default = rules[0]["ApplyServerSideEncryptionByDefault"]
        assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": data_key}


def test_keys_rotate(running_emulator: emulator.Emulator, dev_config: EnvironmentConfig) -> None:
    kms = running_emulator.client("kms", dev_config.region)
    for name in ("data", "logs", "alerts"):
        key = key_arn(running_emulator, dev_config.region, name)
        assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True


def test_roles_and_vpc_exist(
    running_emulator: emulator.Emulator, dev_config: EnvironmentConfig
) -> None:
    iam = running_emulator.client("iam", dev_config.region)
    role = iam.get_role(RoleName="sagestack-dev-vpc-flow-logs")["Role"]
    assert "vpc-flow-logs.amazonaws.com" in str(role["AssumeRolePolicyDocument"])
    pipeline_role = iam.get_role(RoleName=f"{PREFIX}-training-pipeline")["Role"]
    assert "sagemaker.amazonaws.com" in str(pipeline_role["AssumeRolePolicyDocument"])
    ec2 = running_emulator.client("ec2", dev_config.region)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": [dev_config.network.cidr]}])
    assert len(vpcs["Vpcs"]) == 1
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpcs["Vpcs"][0]["VpcId"]]}]
    )["VpcEndpoints"]
    assert len(endpoints) == 1 + len(dev_config.network.interface_endpoints)


@pytest.mark.parametrize("model", MODELS)
def test_pipeline_and_model_registry_exist(
    lifecycle: demo.DemoState,
    running_emulator: emulator.Emulator,
    dev_config: EnvironmentConfig,
    model: str,
) -> None:
    prefix = lifecycle.models[model].prefix
    sagemaker = running_emulator.client("sagemaker", dev_config.region)
    pipeline = sagemaker.describe_pipeline(PipelineName=f"{prefix}-training")
    assert pipeline["RoleArn"].endswith(f":role/{prefix}-training-pipeline")
    definition = json.loads(pipeline["PipelineDefinition"])
    assert definition["Version"] == "2020-12-01"
    assert "Fn::" not in pipeline["PipelineDefinition"], "tokens left unresolved by the deploy"
    raw = f"s3://sagestack-dev-raw-data-123456789012-eu-west-1/raw/{model}/"
    assert raw in pipeline["PipelineDefinition"]
    group = sagemaker.describe_model_package_group(ModelPackageGroupName=prefix)
    assert group["ModelPackageGroupArn"].endswith(f":model-package-group/{prefix}")


@pytest.mark.parametrize("model", MODELS)
def test_serving_stack_serves_the_pinned_package(
    lifecycle: demo.DemoState, running_emulator: emulator.Emulator, dev_config, model: str
) -> None:
    run = lifecycle.models[model]
    sagemaker = running_emulator.client("sagemaker", dev_config.region)
    endpoint = sagemaker.describe_endpoint(EndpointName=run.deployment.endpoint_name)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    # dev is serverless, but for the model the demo watches (on instances, captured)
    assert ("ServerlessConfig" in variant) == (model != WATCHED)
    captures = CaptureConfig.from_endpoint_config(run.deployment.endpoint_name, config, "eu-west-1")
    assert (captures is not None) == (model == WATCHED)
    described = sagemaker.describe_model(ModelName=variant["ModelName"])
    containers = described.get("Containers") or [described["PrimaryContainer"]]
    assert containers[0]["ModelPackageName"] == run.package["ModelPackageArn"]


def test_skipped_resource_types_are_reported(
    lifecycle: demo.DemoState, running_emulator: emulator.Emulator, dev_config
) -> None:
    gaps = emulator_gaps(dev_config, running_emulator, lifecycle.work_dir / "cdk.out")
    by_stack = {gap.stack_name: gap for gap in gaps}
    assert by_stack["sagestack-dev-data"].skipped.get("AWS::S3::BucketPolicy") == 3
    assert by_stack["sagestack-dev-network"].not_executed == {"Custom::VpcRestrictDefaultSG": 1}
    # Alarms are created (the monitoring loop evaluates them); composite alarms are not.
    assert "AWS::CloudWatch::Alarm" not in by_stack[f"{PREFIX}-serving"].skipped
    assert "AWS::CloudWatch::CompositeAlarm" in by_stack[f"{PREFIX}-serving"].skipped


def test_redeploy_changes_nothing(
    lifecycle: demo.DemoState, running_emulator: emulator.Emulator, dev_config
) -> None:
    cloudformation = running_emulator.client("cloudformation", dev_config.region)
    names = [stack["StackName"] for stack in cloudformation.describe_stacks()["Stacks"]]

    def snapshot() -> dict:
        return {
            name: sorted(
                (r["LogicalResourceId"], r.get("PhysicalResourceId"))
                for r in cloudformation.list_stack_resources(StackName=name)[
                    "StackResourceSummaries"
                ]
            )
            for name in names
        }

    before = snapshot()
    deploy(
        dev_config,
        running_emulator,
        context=(f"config_dir={lifecycle.work_dir / 'config'}",),
        log_path=lifecycle.work_dir / "logs" / "redeploy.log",
        assembly_dir=lifecycle.work_dir / "cdk.out",
    )
    assert snapshot() == before
    assert "(no changes)" in (lifecycle.work_dir / "logs" / "redeploy.log").read_text()


def test_only_the_emulator_account_deploys_locally(
    running_emulator: emulator.Emulator, dev_config: EnvironmentConfig
) -> None:
    staging_like = dev_config.model_copy(update={"account": "210987654321"})
    with pytest.raises(DeployError, match="not the emulator's account 123456789012"):
        deploy(staging_like, running_emulator)


def test_stop_leaves_no_process(tmp_path: Path) -> None:
    with emulator.running(tmp_path) as server:
        pid = server.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert emulator.current(tmp_path) is None
