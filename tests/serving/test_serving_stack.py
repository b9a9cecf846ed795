"""The serving stack of every pinned environment, as synthesized by the real CDK CLI."""

from __future__ import annotations

import json

import pytest

from ml_constructs.compliance import findings
from tests.serving.pinned import (
    DEV_PACKAGE,
    MODEL,
    PINNED,
    UNPINNED,
    PinnedSynth,
    dumps,
    only,
    resources,
)

INSTANCE_ENVS = ("staging", "prod")
ALERTS_TOPIC = "AlertsTopic"


def _by_suffix(template: dict, kind: str, suffix: str) -> tuple[str, dict]:
    """The (logical id, properties) of the one alarm whose name ends with `suffix`."""
    matches = [
        (logical_id, resource["Properties"])
        for logical_id, resource in resources(template, kind).items()
        if resource["Properties"].get("AlarmName", "").endswith(suffix)
    ]
    assert len(matches) == 1, f"{suffix}: {[m[0] for m in matches]}"
    return matches[0]


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _models(template: dict) -> list[dict]:
    return [r["Properties"] for r in resources(template, "AWS::SageMaker::Model").values()]


def test_synth_with_pins_passes_every_compliance_pack(pinned: PinnedSynth) -> None:
    report = json.loads((pinned.assembly.directory / "validation-report.json").read_text())
    conclusions = {p["pluginName"]: p["conclusion"] for p in report["pluginReports"]}
    for pack in ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
        assert conclusions[pack] == "success", pack
    assert findings(pinned.assembly.directory) == []


def test_pinned_environments_get_serving_and_monitoring_stacks(pinned: PinnedSynth) -> None:
    stacks = pinned.assembly.template_paths()
    for env in PINNED:
        assert (env, "serving") in stacks and (env, "monitoring") in stacks, env


def test_environment_without_pin_has_no_endpoint_and_says_so(pinned: PinnedSynth) -> None:
    stacks = pinned.assembly.template_paths()
    assert (UNPINNED, "serving") not in stacks and (UNPINNED, "monitoring") not in stacks
    assert (UNPINNED, "data") in stacks
    assert f"sagestack: {UNPINNED}: no model pinned (serving.model is null)" in pinned.output
    for env in PINNED:
        assert f"sagestack: {env}: no model pinned" not in pinned.output


def test_group_and_version_pin_resolves_in_the_environments_own_account(pinned) -> None:
    """dev pins {group: sagestack-dev-models, version: 3}; its account is 123456789012."""
    models = _models(pinned.raw("dev", f"{MODEL}-serving"))
    assert len(models) == 2  # the serverless endpoint's, and batch transform's in the VPC
    for model in models:
        assert model["PrimaryContainer"] == {"ModelPackageName": DEV_PACKAGE}


@pytest.mark.parametrize("env", INSTANCE_ENVS)
def test_arn_pin_is_served_as_given(pinned: PinnedSynth, env: str) -> None:
    (model,) = _models(pinned.raw(env, f"{MODEL}-serving"))
    assert model["PrimaryContainer"] == {"ModelPackageName": DEV_PACKAGE}


def test_dev_serves_serverless_without_capture_or_autoscaling(pinned, environments) -> None:
    template = pinned.raw("dev", f"{MODEL}-serving")
    serverless = environments["dev"].model(MODEL).serving.serverless
    config = only(template, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": serverless.memory_mb,
        "MaxConcurrency": serverless.max_concurrency,
    }
    assert "InstanceType" not in variant and "DataCaptureConfig" not in config
    assert "DataKey" in dumps(config["KmsKeyId"])
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == "sagestack-dev-endpoint"
    assert "DeploymentConfig" not in endpoint
    assert not resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")


def test_dev_batch_model_is_isolated_in_the_vpc_while_the_serverless_one_cannot_be(pinned):
    template = pinned.raw("dev", f"{MODEL}-serving")
    isolated = [m for m in _models(template) if m.get("EnableNetworkIsolation")]
    open_models = [m for m in _models(template) if not m.get("EnableNetworkIsolation")]
    assert len(isolated) == 1 and len(open_models) == 1
    assert len(isolated[0]["VpcConfig"]["Subnets"]) == 2
    assert "VpcConfig" not in open_models[0]
    pipeline = only(template, "AWS::SageMaker::Pipeline")
    batch_model_id = next(
        logical_id
        for logical_id, r in resources(template, "AWS::SageMaker::Model").items()
        if r["Properties"].get("EnableNetworkIsolation")
    )
    assert f'"Fn::GetAtt": ["{batch_model_id}", "ModelName"]' in dumps(pipeline)


@pytest.mark.parametrize("env", INSTANCE_ENVS)
def test_instance_endpoint_in_the_vpc_with_isolation_kms_and_capture(pinned, environments, env):
    template = pinned.raw(env, f"{MODEL}-serving")
    serving = environments[env].model(MODEL).serving
    (model,) = _models(template)
    assert model["EnableNetworkIsolation"] is True
    assert len(model["VpcConfig"]["Subnets"]) == environments[env].config.network.max_azs
    assert "WorkloadSecurityGroup" in dumps(model["VpcConfig"]["SecurityGroupIds"])
    config = only(template, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["VariantName"] == serving.variant_name
    assert variant["InstanceType"] == serving.instance.instance_type
    assert variant["InitialInstanceCount"] == serving.instance.initial_count
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == serving.data_capture_percent
    assert capture["KmsKeyId"] == config["KmsKeyId"]
    assert "DataKey" in dumps(config["KmsKeyId"])
    assert capture["DestinationS3Uri"] == (
        f"s3://sagestack-{env}-ml-artifacts-{environments[env].config.account}-eu-west-1/data-capture"
    )
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}


@pytest.mark.parametrize("env", INSTANCE_ENVS)
def test_guarded_blue_green_deployment_keeps_variant_and_instance_count(pinned, environments, env):
    template = pinned.raw(env, f"{MODEL}-serving")
    guardrails = environments[env].model(MODEL).serving.guardrails
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    policy = endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    routing = policy["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY"
    assert routing["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": guardrails.canary_percent}
    assert routing["WaitIntervalInSeconds"] == guardrails.canary_wait_seconds
    assert policy["TerminationWaitInSeconds"] == guardrails.termination_wait_seconds
    assert endpoint["RetainAllVariantProperties"] is True
    assert endpoint["ExcludeRetainedVariantProperties"] == [
        {"VariantPropertyType": "DataCaptureConfig"}
    ]


@pytest.mark.parametrize("env", INSTANCE_ENVS)
def test_endpoint_rolls_back_on_exactly_the_bad_deployment_alarms(pinned, env: str) -> None:
    template = pinned.raw(env, f"{MODEL}-serving")
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    referenced = {
        alarm["AlarmName"]["Ref"]
        for alarm in endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    }
    expected = {
        _by_suffix(template, "AWS::CloudWatch::Alarm", f"-endpoint-{name}")[0]
        for name in ("5xx-errors", "4xx-rate", "model-latency-p99")
    }
    assert referenced == expected


@pytest.mark.parametrize("env", INSTANCE_ENVS)
def test_autoscaling_tracks_invocations_per_instance_within_config_bounds(
    pinned, environments, env
):
    template = pinned.raw(env, f"{MODEL}-serving")
    scaling = environments[env].model(MODEL).serving.autoscaling
    (target_id, target), *more = resources(
        template, "AWS::ApplicationAutoScaling::ScalableTarget"
    ).items()
    assert not more
    properties = target["Properties"]
    assert properties["MinCapacity"] == scaling.min_capacity
    assert properties["MaxCapacity"] == scaling.max_capacity
    assert (
        properties["ResourceId"]
        == f"endpoint/{environments[env].model(MODEL).endpoint_name}/variant/primary"
    )
    assert properties["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in properties["RoleARN"]
    endpoint_id = next(iter(resources(template, "AWS::SageMaker::Endpoint")))
    assert endpoint_id in target["DependsOn"]
    policy = only(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert policy["ScalingTargetId"] == {"Ref": target_id}
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert tracking["TargetValue"] == scaling.target_invocations_per_instance
    assert tracking["ScaleInCooldown"] == scaling.scale_in_cooldown_seconds
    assert tracking["ScaleOutCooldown"] == scaling.scale_out_cooldown_seconds


def test_prod_keeps_at_least_two_instances_across_zones(pinned, environments) -> None:
    prod = environments["prod"]
    assert prod.serving.autoscaling.min_capacity >= 2
    assert prod.serving.instance.initial_count >= 2
    target = only(
        pinned.raw("prod", f"{MODEL}-serving"), "AWS::ApplicationAutoScaling::ScalableTarget"
    )
    assert target["MinCapacity"] >= 2
    (model,) = _models(pinned.raw("prod", f"{MODEL}-serving"))
    assert len(model["VpcConfig"]["Subnets"]) >= 2


@pytest.mark.parametrize("env", PINNED)
def test_every_alarm_notifies_the_alerts_topic(pinned: PinnedSynth, env: str) -> None:
    count = 0
    for stack in ("serving", "monitoring"):
        template = pinned.raw(env, stack)
        for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            for logical_id, alarm in resources(template, kind).items():
                actions = alarm["Properties"]["AlarmActions"]
                assert len(actions) == 1 and ALERTS_TOPIC in dumps(actions), logical_id
                count += 1
    assert count >= 5


@pytest.mark.parametrize("env", PINNED)
def test_latency_thresholds_are_in_microseconds(pinned, environments, env: str) -> None:
    template = pinned.raw(env, f"{MODEL}-serving")
    alarms = environments[env].model(MODEL).monitoring.alarms
    for name, metric, limit_ms in (
        ("model-latency-p99", "ModelLatency", alarms.model_latency_p99_ms),
        ("overhead-latency-p99", "OverheadLatency", alarms.overhead_latency_p99_ms),
    ):
        _, alarm = _by_suffix(template, "AWS::CloudWatch::Alarm", f"-endpoint-{name}")
        (query,) = alarm["Metrics"]
        stat = query["MetricStat"]
        assert stat["Metric"]["MetricName"] == metric and stat["Stat"] == "p99"
        assert alarm["Threshold"] == limit_ms * 1000
        assert {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]} == {
            "EndpointName": environments[env].model(MODEL).endpoint_name,
            "VariantName": "primary",
        }


@pytest.mark.parametrize("env", PINNED)
def test_alarm_set_follows_variant_kind_and_expected_traffic(
    pinned, environments, env: str
) -> None:
    template = pinned.raw(env, f"{MODEL}-serving")
    names = {
        a["Properties"]["AlarmName"].removeprefix(f"sagestack-{env}-endpoint-")
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    expected = {"model-latency-p99", "overhead-latency-p99", "5xx-errors", "4xx-rate"}
    if not environments[env].model(MODEL).serving.is_serverless:
        expected |= {"cpu-utilization", "memory-utilization", "disk-utilization"}
    if environments[env].model(MODEL).monitoring.alarms.expect_traffic:
        expected.add("no-invocations")
    assert names == expected
    if "no-invocations" in names:
        _, alarm = _by_suffix(template, "AWS::CloudWatch::Alarm", "-endpoint-no-invocations")
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["ComparisonOperator"] == "LessThanThreshold"


@pytest.mark.parametrize("env", PINNED)
def test_composite_alarm_says_unhealthy_on_any_alarm_but_client_errors(pinned, env) -> None:
    template = pinned.raw(env, f"{MODEL}-serving")
    composite = only(template, "AWS::CloudWatch::CompositeAlarm")
    assert composite["AlarmName"] == f"sagestack-{env}-endpoint-unhealthy"
    rule = dumps(composite["AlarmRule"])
    for logical_id, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        in_rule = f'"{logical_id}", "Arn"' in rule
        assert in_rule == (not alarm["Properties"]["AlarmName"].endswith("-4xx-rate")), logical_id


@pytest.mark.parametrize("env", PINNED)
def test_model_role_reads_the_registering_environments_models_only(pinned, env: str) -> None:
    template = pinned.raw(env, f"{MODEL}-serving")
    (role,) = [
        r["Properties"]
        for r in resources(template, "AWS::IAM::Role").values()
        if r["Properties"]["RoleName"] == f"sagestack-{env}-model"
    ]
    assert "Policies" not in role and "ManagedPolicyArns" not in role
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values()
        if policy["Properties"]["ManagedPolicyName"] == f"sagestack-{env}-model"
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    models = "arn:aws:s3:::sagestack-dev-ml-artifacts-123456789012-eu-west-1/models/*"
    reading = [s for s in statements if models in _listed(s["Resource"])]
    assert [_listed(s["Action"]) for s in reading] == [["s3:GetObject"]]
    cross_account = [s for s in statements if ":key/*" in dumps(s["Resource"])]
    if env == "dev":
        assert not cross_account
    else:
        (statement,) = cross_account
        assert statement["Action"] == "kms:Decrypt"
        assert statement["Resource"] == "arn:aws:kms:eu-west-1:123456789012:key/*"
        assert statement["Condition"] == {
            "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
        }


@pytest.mark.parametrize("env", PINNED)
def test_serving_roles_are_platform_roles_without_wildcard_actions(pinned, env: str) -> None:
    template = pinned.raw(env, f"{MODEL}-serving")
    for role in resources(template, "AWS::IAM::Role").values():
        assert role["Properties"]["RoleName"].startswith(f"sagestack-{env}-")
        assert "Policies" not in role["Properties"]
    for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in _listed(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), statement
