"""Each pinned model's batch inference pipeline: its definition, its role and its optional
schedule, all within the model's own batch/<model>/ folder."""

from __future__ import annotations

import json

import pytest

from ground.config.serving import BatchTransformConfig
from ground.pipeline.walk import reference_problems
from ml_constructs.batch_transform import batch_transform_definition
from tests.serving.pinned import (
    MODELS,
    PINNED,
    PROD_BATCH_SCHEDULE,
    PinnedSynth,
    dumps,
    only,
    resources,
)

EVERY = [(env, model) for env in PINNED for model in MODELS]
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _definition_from_template(template: dict) -> dict:
    """The definition body with each CloudFormation token replaced by a readable marker."""
    body = only(template, "AWS::SageMaker::Pipeline")["PipelineDefinition"]
    parts = body["PipelineDefinitionBody"]["Fn::Join"][1]

    def text(part: object) -> str:
        if isinstance(part, str):
            return part
        if "Fn::GetAtt" in part:
            return "<" + ".".join(part["Fn::GetAtt"]) + ">"
        return "<" + part["Fn::GetStackOutput"]["OutputName"] + ">"

    return json.loads("".join(text(part) for part in parts))


def test_definition_transforms_csv_lines_with_the_platform_key() -> None:
    definition = batch_transform_definition(
        model_name="pinned-model",
        bucket_name="artifacts",
        batch_prefix="batch/cancer/",
        key_arn=KEY,
        config=BatchTransformConfig(instance_type="ml.m5.xlarge", instance_count=2),
    )
    assert reference_problems(definition) == []
    defaults = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert defaults == {
        "InputDataUrl": "s3://artifacts/batch/cancer/input/",
        "OutputDataUrl": "s3://artifacts/batch/cancer/predictions/",
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 2,
    }
    (step,) = definition["Steps"]
    assert step["Type"] == "Transform"
    arguments = step["Arguments"]
    assert arguments["ModelName"] == "pinned-model"
    assert arguments["TransformInput"]["ContentType"] == "text/csv"
    assert arguments["TransformInput"]["SplitType"] == "Line"
    assert arguments["TransformOutput"]["KmsKeyId"] == KEY
    assert arguments["TransformResources"]["VolumeKmsKeyId"] == KEY
    assert arguments["TransformOutput"]["S3OutputPath"] == {
        "Std:Join": {
            "On": "",
            "Values": [
                {"Get": "Parameters.OutputDataUrl"},
                {"Get": "Execution.PipelineExecutionId"},
            ],
        }
    }


def _serving(pinned: PinnedSynth, env: str, model: str) -> dict:
    return pinned.raw(env, f"{model}-serving")


@pytest.mark.parametrize(("env", "model"), EVERY, ids=[f"{e}-{m}" for e, m in EVERY])
def test_pipeline_runs_the_pinned_isolated_model_under_its_own_role(
    pinned, environments, env: str, model: str
) -> None:
    template = _serving(pinned, env, model)
    pipeline = only(template, "AWS::SageMaker::Pipeline")
    assert pipeline["PipelineName"] == f"sagestack-{env}-{model}-batch-transform"
    role_id = pipeline["RoleArn"]["Fn::GetAtt"][0]
    assert template["Resources"][role_id]["Properties"]["RoleName"] == (
        f"sagestack-{env}-{model}-batch-transform"
    )
    definition = _definition_from_template(template)
    (step,) = definition["Steps"]
    model_id = step["Arguments"]["ModelName"].strip("<>").split(".")[0]
    properties = template["Resources"][model_id]["Properties"]
    assert properties["EnableNetworkIsolation"] is True and properties["VpcConfig"]["Subnets"]
    assert "DataKey" in step["Arguments"]["TransformOutput"]["KmsKeyId"]
    assert "DataKey" in step["Arguments"]["TransformResources"]["VolumeKmsKeyId"]
    # The model's own batch folder of the environment's artifacts bucket, its own compute.
    batch = environments[env].model(model).serving.batch_transform
    account = environments[env].config.account
    folder = f"s3://sagestack-{env}-ml-artifacts-{account}-eu-west-1/batch/{model}/"
    defaults = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert defaults == {
        "InputDataUrl": folder + "input/",
        "OutputDataUrl": folder + "predictions/",
        "InstanceType": batch.instance_type,
        "InstanceCount": batch.instance_count,
    }


@pytest.mark.parametrize(("env", "model"), EVERY, ids=[f"{e}-{m}" for e, m in EVERY])
def test_the_pipeline_role_runs_transform_jobs_and_touches_no_data(
    pinned, env: str, model: str
) -> None:
    """The transform reads and writes as the model's execution role, whose S3 access is the
    model's batch folder; the pipeline's role itself reaches no bucket."""
    template = _serving(pinned, env, model)
    name = f"sagestack-{env}-{model}-batch-transform"
    (policy,) = (
        p["Properties"]
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["ManagedPolicyName"] == name
    )
    actions = {
        action
        for statement in policy["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert actions == {
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:StopTransformJob",
        "sagemaker:AddTags",
        "kms:DescribeKey",
        "kms:CreateGrant",
    }
    model_role = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["ManagedPolicyName"] == f"sagestack-{env}-{model}-model"
    )
    batch = [
        (statement["Action"], resource.rsplit("/batch/", 1)[1])
        for statement in model_role
        for resource in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if isinstance(resource, str) and "/batch/" in resource
    ]
    assert sorted(batch, key=str) == sorted(
        [
            ("s3:GetObject", f"{model}/input/*"),
            (["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], f"{model}/predictions/*"),
        ],
        key=str,
    )


@pytest.mark.parametrize("model", MODELS)
def test_prod_runs_on_its_schedule_and_the_others_on_demand(pinned: PinnedSynth, model) -> None:
    for env in PINNED:
        template = _serving(pinned, env, model)
        rules = resources(template, "AWS::Events::Rule")
        if env != "prod":
            assert not rules, env
            continue
        (rule,) = (r["Properties"] for r in rules.values())
        assert rule["ScheduleExpression"] == PROD_BATCH_SCHEDULE
        (target,) = rule["Targets"]
        assert target["Arn"] == (
            f"arn:aws:sagemaker:eu-west-1:345678901234:pipeline/sagestack-prod-{model}-batch-transform"
        )
        role_id = target["RoleArn"]["Fn::GetAtt"][0]
        role = template["Resources"][role_id]["Properties"]
        assert role["RoleName"] == f"sagestack-prod-{model}-batch-schedule"
        assert "events.amazonaws.com" in dumps(role["AssumeRolePolicyDocument"])
