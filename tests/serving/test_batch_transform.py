"""The batch inference pipeline: its definition, its role and its optional schedule."""

from __future__ import annotations

import json

import pytest

from ground.config.serving import BatchTransformConfig
from ground.pipeline.walk import reference_problems
from ml_constructs.batch_transform import batch_transform_definition
from tests.serving.pinned import (
    MODEL,
    PINNED,
    PROD_BATCH_SCHEDULE,
    PinnedSynth,
    dumps,
    only,
    resources,
)

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


@pytest.mark.parametrize("env", PINNED)
def test_pipeline_runs_the_pinned_isolated_model_under_its_own_role(pinned, env: str) -> None:
    template = pinned.raw(env, f"{MODEL}-serving")
    pipeline = only(template, "AWS::SageMaker::Pipeline")
    assert pipeline["PipelineName"] == f"sagestack-{env}-{MODEL}-batch-transform"
    role_id = pipeline["RoleArn"]["Fn::GetAtt"][0]
    assert template["Resources"][role_id]["Properties"]["RoleName"] == (
        f"sagestack-{env}-{MODEL}-batch-transform"
    )
    (step,) = _definition_from_template(template)["Steps"]
    model_id = step["Arguments"]["ModelName"].strip("<>").split(".")[0]
    model = template["Resources"][model_id]["Properties"]
    assert model["EnableNetworkIsolation"] is True and model["VpcConfig"]["Subnets"]
    assert "DataKey" in step["Arguments"]["TransformOutput"]["KmsKeyId"]
    assert "DataKey" in step["Arguments"]["TransformResources"]["VolumeKmsKeyId"]


def test_prod_runs_on_its_schedule_and_the_others_on_demand(pinned: PinnedSynth) -> None:
    for env in PINNED:
        rules = resources(pinned.raw(env, f"{MODEL}-serving"), "AWS::Events::Rule")
        if env != "prod":
            assert not rules, env
            continue
        (rule,) = (r["Properties"] for r in rules.values())
        assert rule["ScheduleExpression"] == PROD_BATCH_SCHEDULE
        (target,) = rule["Targets"]
        assert target["Arn"] == (
            "arn:aws:sagemaker:eu-west-1:345678901234:pipeline/sagestack-prod-cancer-batch-transform"
        )
        role_id = target["RoleArn"]["Fn::GetAtt"][0]
        role = pinned.raw(env, f"{MODEL}-serving")["Resources"][role_id]["Properties"]
        assert role["RoleName"] == "sagestack-prod-cancer-batch-schedule"
        assert "events.amazonaws.com" in dumps(role["AssumeRolePolicyDocument"])
