"""Model Monitor data quality of every pinned model, in every environment that enables it
(model quality: test_model_quality.py)."""

from __future__ import annotations

import json

import pytest

from ground.images import model_monitor_image
from tests.monitoring.schedules import (
    object_grants,
    role_statements,
    schedule_id_named,
    schedule_named,
)
from tests.serving.pinned import (
    MODELS,
    PINNED,
    PinnedSynth,
    dumps,
    only,
    prod_baseline,
    resources,
    staging_baseline,
)

MONITORED = ("staging", "prod")
# staging overrides the pin's baseline (monitoring.model_monitor.baseline_uri); prod uses it.
BASELINES = {"staging": staging_baseline, "prod": prod_baseline}
EVERY = [(env, model) for env in MONITORED for model in MODELS]
IDS = [f"{env}-{model}" for env, model in EVERY]


@pytest.mark.parametrize("model", MODELS)
def test_dev_monitors_nothing(pinned: PinnedSynth, model: str) -> None:
    template = pinned.raw("dev", f"{model}-monitoring")
    for kind in (
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::MonitoringSchedule",
        "AWS::Events::Rule",
        "AWS::IAM::Role",
    ):
        assert not resources(template, kind)


@pytest.mark.parametrize(("env", "model"), EVERY, ids=IDS)
def test_job_runs_isolated_in_the_vpc_with_the_platform_key(pinned, environments, env, model):
    job = only(pinned.raw(env, f"{model}-monitoring"), "AWS::SageMaker::DataQualityJobDefinition")
    network = job["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
    assert network["EnableInterContainerTrafficEncryption"] is True
    assert len(network["VpcConfig"]["Subnets"]) == environments[env].config.network.max_azs
    assert "WorkloadSecurityGroup" in dumps(network["VpcConfig"]["SecurityGroupIds"])
    cluster = job["JobResources"]["ClusterConfig"]
    assert "DataKey" in dumps(cluster["VolumeKmsKeyId"])
    assert (
        cluster["InstanceType"]
        == environments[env].model(model).monitoring.model_monitor.instance_type
    )
    output = job["DataQualityJobOutputConfig"]
    assert "DataKey" in dumps(output["KmsKeyId"])
    (report,) = output["MonitoringOutputs"]
    artifacts = f"sagestack-{env}-ml-artifacts-{environments[env].config.account}-eu-west-1"
    assert report["S3Output"]["S3Uri"] == f"s3://{artifacts}/monitoring/{model}/data-quality"
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] <= 3600


@pytest.mark.parametrize(("env", "model"), EVERY, ids=IDS)
def test_job_compares_the_models_captured_requests_with_its_baseline(
    pinned, environments, env, model
) -> None:
    job = only(pinned.raw(env, f"{model}-monitoring"), "AWS::SageMaker::DataQualityJobDefinition")
    endpoint = environments[env].model(model).endpoint_name
    assert job["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == endpoint
    assert job["EndpointName"] == endpoint
    baseline = job["DataQualityBaselineConfig"]
    folder = BASELINES[env](model)
    assert f"/models/sagestack-dev-{model}-training/" in folder
    assert baseline["StatisticsResource"]["S3Uri"] == folder + "statistics.json"
    assert baseline["ConstraintsResource"]["S3Uri"] == folder + "constraints.json"
    app = job["DataQualityAppSpecification"]
    assert app["ImageUri"] == model_monitor_image("eu-west-1")
    assert app["Environment"] == {"publish_cloudwatch_metrics": "Enabled"}


@pytest.mark.parametrize(("env", "model"), EVERY, ids=IDS)
def test_role_reads_the_models_captures_and_baseline_and_writes_its_reports(
    pinned, environments, env, model
) -> None:
    template = pinned.raw(env, f"{model}-monitoring")
    name = f"sagestack-{env}-{model}-data-quality"
    (role,) = (
        r["Properties"]
        for r in resources(template, "AWS::IAM::Role").values()
        if r["Properties"]["RoleName"] == name
    )
    assert "sagemaker.amazonaws.com" in dumps(role["AssumeRolePolicyDocument"])
    statements = role_statements(template, name)
    folder = BASELINES[env](model).removeprefix("s3://")
    bucket = f"sagestack-{env}-ml-artifacts-{environments[env].config.account}-eu-west-1"
    objects = object_grants(statements)
    assert objects == {
        f"arn:aws:s3:::{folder}*": "s3:GetObject",
        f"arn:aws:s3:::{bucket}/data-capture/{model}/*": "s3:GetObject",
        f"arn:aws:s3:::{bucket}/monitoring/{model}/data-quality/*": [
            "s3:AbortMultipartUpload",
            "s3:GetObject",
            "s3:PutObject",
        ],
    }
    # Both baselines are in dev's bucket, under dev's key: decrypt through S3 only.
    (statement,) = [s for s in statements if ":key/*" in dumps(s["Resource"])]
    assert statement["Resource"] == "arn:aws:kms:eu-west-1:123456789012:key/*"
    assert "kms:ViaService" in dumps(statement["Condition"])


@pytest.mark.parametrize(("env", "model"), EVERY, ids=IDS)
def test_schedule_runs_the_job_hourly_on_the_models_endpoint(pinned, environments, env, model):
    template = pinned.raw(env, f"{model}-monitoring")
    schedule = schedule_named(template, f"sagestack-{env}-{model}-data-quality")
    assert schedule["EndpointName"] == environments[env].model(model).endpoint_name
    config = schedule["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "DataQuality"
    expression = config["ScheduleConfig"]["ScheduleExpression"]
    assert (
        expression
        == environments[env].model(model).monitoring.model_monitor.schedule
        == "cron(0 * ? * * *)"
    )
    job_id = next(iter(resources(template, "AWS::SageMaker::DataQualityJobDefinition")))
    assert f'"Fn::GetAtt": ["{job_id}", "JobDefinitionArn"]' in dumps(
        config["MonitoringJobDefinitionName"]
    )


@pytest.mark.parametrize(("env", "model"), EVERY, ids=IDS)
def test_violations_and_failures_of_this_schedule_raise_alarms(pinned, env, model) -> None:
    template = pinned.raw(env, f"{model}-monitoring")
    schedule_id = schedule_id_named(template, f"sagestack-{env}-{model}-data-quality")
    rules = {
        r["Properties"]["Name"]: (i, r["Properties"])
        for i, r in resources(template, "AWS::Events::Rule").items()
    }
    quality = {f"sagestack-{env}-{model}-mq-{o}" for o in ("violations", "failed")}
    assert set(rules) == {
        f"sagestack-{env}-{model}-dq-violations",
        f"sagestack-{env}-{model}-dq-failed",
        *(quality if env == "prod" else ()),
    }
    _, violations = rules[f"sagestack-{env}-{model}-dq-violations"]
    detail = violations["EventPattern"]["detail"]
    assert detail["ExitMessage"] == [{"prefix": "CompletedWithViolations"}]
    assert detail["ProcessingJobStatus"] == ["Completed"]
    assert detail["MonitoringScheduleArn"] == [
        {"Fn::GetAtt": [schedule_id, "MonitoringScheduleArn"]}
    ]
    assert violations["EventPattern"]["detail-type"] == ["SageMaker Processing Job State Change"]
    _, failed = rules[f"sagestack-{env}-{model}-dq-failed"]
    assert failed["EventPattern"]["detail"]["ProcessingJobStatus"] == ["Failed"]
    assert failed["EventPattern"]["detail"]["MonitoringScheduleArn"] == [
        {"Fn::GetAtt": [schedule_id, "MonitoringScheduleArn"]}
    ]
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == set(rules)
    alarm = alarms[f"sagestack-{env}-{model}-dq-violations"]
    stat = alarm["Metrics"][0]["MetricStat"]
    assert stat["Metric"]["Namespace"] == "AWS/Events"
    assert stat["Metric"]["MetricName"] == "MatchedEvents"
    assert stat["Metric"]["Dimensions"] == [{"Name": "RuleName", "Value": violations["Name"]}]
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert "AlertsTopic" in json.dumps(alarm["AlarmActions"])


@pytest.mark.parametrize("env", PINNED)
def test_each_models_monitoring_deploys_after_its_serving_and_training(pinned, env) -> None:
    manifest = json.loads(
        (pinned.assembly.directory / f"assembly-{env}" / "manifest.json").read_text()
    )
    by_stack = {
        artifact["properties"]["stackName"]: name
        for name, artifact in manifest["artifacts"].items()
        if "stackName" in artifact.get("properties", {})
    }

    def dependencies(stack: str) -> set[str]:
        return set(manifest["artifacts"][by_stack[stack]].get("dependencies", []))

    for model in MODELS:
        prefix = f"sagestack-{env}-{model}"
        assert by_stack[f"{prefix}-serving"] in dependencies(f"{prefix}-monitoring")
        assert by_stack[f"sagestack-{env}-data"] in dependencies(f"{prefix}-training")
        # No model's stacks wait for another model's: each deploys and rolls back alone.
        for other in MODELS:
            if other == model:
                continue
            for kind in ("training", "serving", "monitoring"):
                for stack in (f"{prefix}-{k}" for k in ("training", "serving", "monitoring")):
                    assert by_stack[f"sagestack-{env}-{other}-{kind}"] not in dependencies(stack)
