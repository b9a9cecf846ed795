"""Model Monitor data quality in every pinned environment that enables it."""

from __future__ import annotations

import json

import pytest

from ground.images import model_monitor_image
from tests.serving.pinned import (
    MODEL,
    PROD_BASELINE,
    STAGING_BASELINE,
    PinnedSynth,
    dumps,
    only,
    resources,
)

MONITORED = ("staging", "prod")
# staging overrides the pin's baseline (monitoring.model_monitor.baseline_uri); prod uses it.
BASELINES = {"staging": STAGING_BASELINE, "prod": PROD_BASELINE}


def _statements(template: dict, policy_name: str) -> list[dict]:
    return [
        statement
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values()
        if policy["Properties"]["ManagedPolicyName"] == policy_name
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_dev_monitors_nothing(pinned: PinnedSynth) -> None:
    template = pinned.raw("dev", f"{MODEL}-monitoring")
    for kind in ("AWS::SageMaker::DataQualityJobDefinition", "AWS::SageMaker::MonitoringSchedule"):
        assert not resources(template, kind)


@pytest.mark.parametrize("env", MONITORED)
def test_job_runs_isolated_in_the_vpc_with_the_platform_key(pinned, environments, env: str) -> None:
    job = only(pinned.raw(env, f"{MODEL}-monitoring"), "AWS::SageMaker::DataQualityJobDefinition")
    network = job["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
    assert network["EnableInterContainerTrafficEncryption"] is True
    assert len(network["VpcConfig"]["Subnets"]) == environments[env].config.network.max_azs
    assert "WorkloadSecurityGroup" in dumps(network["VpcConfig"]["SecurityGroupIds"])
    cluster = job["JobResources"]["ClusterConfig"]
    assert "DataKey" in dumps(cluster["VolumeKmsKeyId"])
    assert (
        cluster["InstanceType"]
        == environments[env].model(MODEL).monitoring.model_monitor.instance_type
    )
    output = job["DataQualityJobOutputConfig"]
    assert "DataKey" in dumps(output["KmsKeyId"])
    (report,) = output["MonitoringOutputs"]
    artifacts = f"sagestack-{env}-ml-artifacts-{environments[env].config.account}-eu-west-1"
    assert report["S3Output"]["S3Uri"] == f"s3://{artifacts}/monitoring/data-quality"
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] <= 3600


@pytest.mark.parametrize("env", MONITORED)
def test_job_compares_captured_requests_with_the_baseline(pinned, environments, env: str) -> None:
    job = only(pinned.raw(env, f"{MODEL}-monitoring"), "AWS::SageMaker::DataQualityJobDefinition")
    assert job["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == (
        environments[env].model(MODEL).endpoint_name
    )
    baseline = job["DataQualityBaselineConfig"]
    assert baseline["StatisticsResource"]["S3Uri"] == BASELINES[env] + "statistics.json"
    assert baseline["ConstraintsResource"]["S3Uri"] == BASELINES[env] + "constraints.json"
    app = job["DataQualityAppSpecification"]
    assert app["ImageUri"] == model_monitor_image("eu-west-1")
    assert app["Environment"] == {"publish_cloudwatch_metrics": "Enabled"}


@pytest.mark.parametrize("env", MONITORED)
def test_role_reads_the_baseline_where_it_lives(pinned, env: str) -> None:
    template = pinned.raw(env, f"{MODEL}-monitoring")
    name = f"sagestack-{env}-model-monitor"
    (role,) = (
        r["Properties"]
        for r in resources(template, "AWS::IAM::Role").values()
        if r["Properties"]["RoleName"] == name
    )
    assert "sagemaker.amazonaws.com" in dumps(role["AssumeRolePolicyDocument"])
    statements = _statements(template, name)
    folder = BASELINES[env].removeprefix("s3://")
    assert f'"arn:aws:s3:::{folder}*"' in dumps(statements)
    # Both baselines are in dev's bucket, under dev's key: decrypt through S3 only.
    (statement,) = [s for s in statements if ":key/*" in dumps(s["Resource"])]
    assert statement["Resource"] == "arn:aws:kms:eu-west-1:123456789012:key/*"
    assert "kms:ViaService" in dumps(statement["Condition"])


@pytest.mark.parametrize("env", MONITORED)
def test_schedule_runs_the_job_hourly_on_the_endpoint(pinned, environments, env: str) -> None:
    template = pinned.raw(env, f"{MODEL}-monitoring")
    schedule = only(template, "AWS::SageMaker::MonitoringSchedule")
    assert schedule["MonitoringScheduleName"] == f"sagestack-{env}-data-quality"
    assert schedule["EndpointName"] == environments[env].model(MODEL).endpoint_name
    config = schedule["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "DataQuality"
    expression = config["ScheduleConfig"]["ScheduleExpression"]
    assert (
        expression
        == environments[env].model(MODEL).monitoring.model_monitor.schedule
        == "cron(0 * ? * * *)"
    )
    job_id = next(iter(resources(template, "AWS::SageMaker::DataQualityJobDefinition")))
    assert f'"Fn::GetAtt": ["{job_id}", "JobDefinitionArn"]' in dumps(
        config["MonitoringJobDefinitionName"]
    )


@pytest.mark.parametrize("env", MONITORED)
def test_violations_and_failures_of_this_schedule_raise_alarms(pinned, env: str) -> None:
    template = pinned.raw(env, f"{MODEL}-monitoring")
    schedule_id = next(iter(resources(template, "AWS::SageMaker::MonitoringSchedule")))
    rules = {
        r["Properties"]["Name"]: (i, r["Properties"])
        for i, r in resources(template, "AWS::Events::Rule").items()
    }
    _, violations = rules[f"sagestack-{env}-data-quality-violations"]
    detail = violations["EventPattern"]["detail"]
    assert detail["ExitMessage"] == [{"prefix": "CompletedWithViolations"}]
    assert detail["ProcessingJobStatus"] == ["Completed"]
    assert detail["MonitoringScheduleArn"] == [
        {"Fn::GetAtt": [schedule_id, "MonitoringScheduleArn"]}
    ]
    assert violations["EventPattern"]["detail-type"] == ["SageMaker Processing Job State Change"]
    _, failed = rules[f"sagestack-{env}-data-quality-failed"]
    assert failed["EventPattern"]["detail"]["ProcessingJobStatus"] == ["Failed"]
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    alarm = alarms[f"sagestack-{env}-data-quality-violations"]
    stat = alarm["Metrics"][0]["MetricStat"]
    assert stat["Metric"]["Namespace"] == "AWS/Events"
    assert stat["Metric"]["MetricName"] == "MatchedEvents"
    assert stat["Metric"]["Dimensions"] == [{"Name": "RuleName", "Value": violations["Name"]}]
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert "AlertsTopic" in json.dumps(alarm["AlarmActions"])


def test_monitoring_deploys_after_serving(pinned: PinnedSynth) -> None:
    for env in ("dev", "staging", "prod"):
        manifest = json.loads(
            (pinned.assembly.directory / f"assembly-{env}" / "manifest.json").read_text()
        )
        (monitoring,) = (
            artifact
            for artifact in manifest["artifacts"].values()
            if artifact.get("properties", {}).get("stackName") == f"sagestack-{env}-monitoring"
        )
        serving_ids = [
            name
            for name, artifact in manifest["artifacts"].items()
            if artifact.get("properties", {}).get("stackName") == f"sagestack-{env}-serving"
        ]
        assert set(serving_ids) <= set(monitoring["dependencies"]), env
