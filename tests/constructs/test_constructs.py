"""Each construct alone in a bare stack, under the four compliance packs: seconds, not a synth
of the whole app, so a construct's change is tested where it is made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from ground.contract.findings import ContractError
from ground.pipeline.definition import PipelineDefinition
from ground.pipeline.expressions import Parameter
from ground.pipeline.steps import FailStep, TransformStep
from ml_constructs.compliance import findings
from ml_constructs.compliant_bucket import BucketLifecycle, CompliantBucket
from ml_constructs.contract_gate import contract_findings
from ml_constructs.platform_key import PlatformKey
from ml_constructs.platform_role import PlatformRole
from ml_constructs.sagemaker_pipeline import SageMakerPipeline
from tests.inprocess import compliant_stack

LIFECYCLE = BucketLifecycle(
    retain=False, noncurrent_version_expiration_days=30, abort_incomplete_upload_days=7
)


def _key(stack: Stack) -> PlatformKey:
    return PlatformKey(
        stack,
        "Key",
        alias="alias/sagestack-test/data",
        description="test data key",
        role_prefix="sagestack-test",
        retain=False,
    )


def _synth(tmp_path: Path, build) -> Template:
    """Build into a bare compliant stack, synthesize, and fail on any compliance finding or
    any request AWS would refuse."""
    app, stack = compliant_stack(str(tmp_path))
    build(stack)
    assembly = app.synth()
    assert findings(assembly.directory) == []
    assert contract_findings(assembly) == []
    return Template.from_stack(stack)


def test_a_compliant_bucket_is_encrypted_versioned_logged_and_tls_only(tmp_path) -> None:
    def build(stack: Stack) -> None:
        logs = CompliantBucket(
            stack,
            "Logs",
            bucket_name="sagestack-test-logs",
            key=None,
            access_logs=None,
            lifecycle=LIFECYCLE,
        ).bucket
        CompliantBucket(
            stack,
            "Data",
            bucket_name="sagestack-test-data",
            key=_key(stack).key,
            access_logs=logs,
            lifecycle=LIFECYCLE,
        )

    template = _synth(tmp_path, build)
    template.resource_count_is("AWS::S3::Bucket", 2)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {"BucketName": "sagestack-test-data", "VersioningConfiguration": {"Status": "Enabled"}},
    )
    policies = json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
    assert "aws:SecureTransport" in policies


def _pipeline_role(stack: Stack) -> PlatformRole:
    role = PlatformRole(
        stack,
        "PipelineRole",
        role_name="sagestack-test-pipeline",
        assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
        description="test pipeline role",
    )
    role.allow(
        ["sagemaker:DescribeTransformJob"],
        [
            stack.format_arn(
                service="sagemaker", resource="transform-job", resource_name="sagestack-test-job"
            )
        ],
    )
    return role


def _definition(key_arn: str, model_name: str = "sagestack-test-model") -> dict:
    step = TransformStep(
        name="Score",
        model_name=model_name,
        input_uri="s3://sagestack-test-data/batch/input/",
        output_uri="s3://sagestack-test-data/batch/output/",
        instance_type=Parameter("InstanceType", "String", "ml.m5.large").ref,
        instance_count=1,
        kms_key_id=key_arn,
        max_payload_mb=6,
    )
    parameter = Parameter("InstanceType", "String", "ml.m5.large")
    return PipelineDefinition((parameter,), (step,)).to_dict()


def test_a_pipeline_is_created_when_its_definition_meets_the_contract(tmp_path) -> None:
    def build(stack: Stack) -> None:
        role = _pipeline_role(stack)
        SageMakerPipeline(
            stack,
            "Pipeline",
            pipeline_name="sagestack-test-batch",
            description="test",
            definition=_definition(_key(stack).key.key_arn),
            role=role.role,
            role_policy=role.policy,
        )

    template = _synth(tmp_path, build)
    template.has_resource_properties(
        "AWS::SageMaker::Pipeline", {"PipelineName": "sagestack-test-batch"}
    )


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"model_name": "sagestack_test_model"}, "CreateTransformJob ModelName: does not match"),
        ({"no_key": True}, "has no KMS key for volumes"),
    ],
)
def test_a_pipeline_that_aws_would_refuse_stops_the_synth(tmp_path, broken, message) -> None:
    _app, stack = compliant_stack(str(tmp_path))
    role = _pipeline_role(stack)
    definition = _definition(_key(stack).key.key_arn, broken.get("model_name", "m"))
    if broken.get("no_key"):
        del definition["Steps"][0]["Arguments"]["TransformResources"]["VolumeKmsKeyId"]
    with pytest.raises(ContractError, match=message):
        SageMakerPipeline(
            stack,
            "Pipeline",
            pipeline_name="sagestack-test-batch",
            description="test",
            definition=definition,
            role=role.role,
            role_policy=role.policy,
        )


def test_a_nested_condition_stops_the_synth(tmp_path) -> None:
    _app, stack = compliant_stack(str(tmp_path))
    role = _pipeline_role(stack)
    inner = {
        "Name": "Inner",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
            "IfSteps": [FailStep("Stop", "no").to_dict()],
            "ElseSteps": [],
        },
    }
    outer = {
        "Name": "Outer",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
            "IfSteps": [inner],
            "ElseSteps": [],
        },
    }
    definition = {"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [outer]}
    with pytest.raises(ContractError, match="nested in condition step 'Outer'"):
        SageMakerPipeline(
            stack,
            "Pipeline",
            pipeline_name="sagestack-test-nested",
            description="test",
            definition=definition,
            role=role.role,
            role_policy=role.policy,
        )
