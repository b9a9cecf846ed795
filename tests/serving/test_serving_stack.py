"""Every pinned model's serving stack in every environment, as synthesized by the real CDK CLI."""

from __future__ import annotations

import json

import pytest

from ground.naming import endpoint_name_parameter
from ml_constructs.compliance import findings
from tests.serving.pinned import (
    MODEL,
    MODELS,
    PINNED,
    UNPINNED,
    PinnedSynth,
    dev_package,
    dumps,
    only,
    resources,
)

INSTANCE_ENVS = ("staging", "prod")
ALERTS_TOPIC = "AlertsTopic"
EVERY = [(env, model) for env in PINNED for model in MODELS]
ON_INSTANCES = [(env, model) for env in INSTANCE_ENVS for model in MODELS]
ROLLBACK_ALARMS = ("5xx-errors", "4xx-rate", "model-latency-p99")


def ids(cases: list[tuple[str, str]]) -> list[str]:
    return [f"{env}-{model}" for env, model in cases]


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


def _serving(pinned: PinnedSynth, env: str, model: str) -> dict:
    return pinned.raw(env, f"{model}-serving")


def _statements(template: dict, policy_name: str) -> list[dict]:
    return [
        statement
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values()
        if policy["Properties"]["ManagedPolicyName"] == policy_name
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_synth_with_pins_passes_every_compliance_pack(pinned: PinnedSynth) -> None:
    report = json.loads((pinned.assembly.directory / "validation-report.json").read_text())
    conclusions = {p["pluginName"]: p["conclusion"] for p in report["pluginReports"]}
    for pack in ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
        assert conclusions[pack] == "success", pack
    assert findings(pinned.assembly.directory) == []


def test_every_pinned_model_gets_its_three_stacks_in_every_environment(pinned) -> None:
    stacks = pinned.assembly.template_paths()
    for env in PINNED:
        expected = {"data", "network", "studio"} | {
            f"{model}-{kind}" for model in MODELS for kind in ("training", "serving", "monitoring")
        }
        assert {name for e, name in stacks if e == env} == expected, env


def test_an_unpinned_model_gets_training_only_and_the_synth_says_so(pinned) -> None:
    stacks = pinned.assembly.template_paths()
    assert {name for env, name in stacks if env == UNPINNED} == {
        "data",
        "network",
        "studio",
        f"{MODEL}-training",
    }
    note = f"sagestack: {UNPINNED}: no package pinned for {MODEL}: no endpoint, no serving or "
    assert note + "monitoring stack for them" in pinned.output
    for env in PINNED:
        assert f"sagestack: {env}: no package pinned" not in pinned.output


def test_stacks_are_named_and_tagged_after_their_model(pinned: PinnedSynth) -> None:
    for (env, name), _ in pinned.assembly.template_paths().items():
        template = pinned.raw(env, name)
        model = name.rsplit("-", 1)[0] if name not in ("data", "network", "studio") else None
        for logical_id, resource in template["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if not tags:
                continue
            values = tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}
            assert values["sagestack:environment"] == env, logical_id
            assert values.get("sagestack:model") == model, (env, name, logical_id)


@pytest.mark.parametrize("model", MODELS)
def test_group_and_version_pin_resolves_in_the_environments_own_account(pinned, model) -> None:
    """dev pins {group: sagestack-dev-<model>, version: 3}; its account is 123456789012."""
    models = _models(_serving(pinned, "dev", model))
    assert len(models) == 2  # the serverless endpoint's, and batch transform's in the VPC
    for properties in models:
        assert properties["PrimaryContainer"] == {"ModelPackageName": dev_package(model)}


@pytest.mark.parametrize(("env", "model"), ON_INSTANCES, ids=ids(ON_INSTANCES))
def test_arn_pin_is_served_as_given(pinned: PinnedSynth, env: str, model: str) -> None:
    (properties,) = _models(_serving(pinned, env, model))
    assert properties["PrimaryContainer"] == {"ModelPackageName": dev_package(model)}


@pytest.mark.parametrize("model", MODELS)
def test_dev_serves_serverless_without_capture_or_autoscaling(pinned, environments, model) -> None:
    template = _serving(pinned, "dev", model)
    serverless = environments["dev"].model(model).serving.serverless
    config = only(template, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": serverless.memory_mb,
        "MaxConcurrency": serverless.max_concurrency,
    }
    assert "InstanceType" not in variant and "DataCaptureConfig" not in config
    assert "DataKey" in dumps(config["KmsKeyId"])
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == f"sagestack-dev-{model}-serverless"
    assert "DeploymentConfig" not in endpoint
    assert not resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")


@pytest.mark.parametrize("model", MODELS)
def test_dev_batch_model_is_isolated_in_the_vpc_while_the_serverless_one_cannot_be(
    pinned, model
) -> None:
    template = _serving(pinned, "dev", model)
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


@pytest.mark.parametrize(("env", "model"), ON_INSTANCES, ids=ids(ON_INSTANCES))
def test_instance_endpoint_in_the_vpc_with_isolation_kms_and_its_own_capture(
    pinned, environments, env, model
) -> None:
    template = _serving(pinned, env, model)
    deployment = environments[env].model(model)
    serving = deployment.serving
    (properties,) = _models(template)
    assert properties["EnableNetworkIsolation"] is True
    assert len(properties["VpcConfig"]["Subnets"]) == environments[env].config.network.max_azs
    assert "WorkloadSecurityGroup" in dumps(properties["VpcConfig"]["SecurityGroupIds"])
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
    account = environments[env].config.account
    assert capture["DestinationS3Uri"] == (
        f"s3://sagestack-{env}-ml-artifacts-{account}-eu-west-1/data-capture/{model}"
    )
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == deployment.endpoint_name
    assert endpoint["EndpointName"] == f"sagestack-{env}-{model}-m5-" + (
        "large" if env == "staging" else "xlarge"
    )


@pytest.mark.parametrize(("env", "model"), EVERY, ids=ids(EVERY))
def test_the_endpoint_name_is_published_and_its_logs_are_encrypted(
    pinned, environments, env, model
) -> None:
    template = _serving(pinned, env, model)
    deployment = environments[env].model(model)
    parameter = only(template, "AWS::SSM::Parameter")
    assert parameter["Name"] == endpoint_name_parameter(deployment.prefix)
    assert parameter["Name"] == f"/sagestack-{env}-{model}/endpoint-name"
    assert parameter["Value"] == deployment.endpoint_name
    ((log_id, log_group),) = resources(template, "AWS::Logs::LogGroup").items()
    properties = log_group["Properties"]
    assert properties["LogGroupName"] == f"/aws/sagemaker/Endpoints/{deployment.endpoint_name}"
    assert "LogsKey" in dumps(properties["KmsKeyId"])
    assert properties["RetentionInDays"] == deployment.serving.log_retention_days
    policy = "Retain" if environments[env].config.retains_data else "Delete"
    assert log_group["DeletionPolicy"] == policy
    (endpoint_id,) = resources(template, "AWS::SageMaker::Endpoint")
    assert log_id in template["Resources"][endpoint_id]["DependsOn"]


@pytest.mark.parametrize(("env", "model"), ON_INSTANCES, ids=ids(ON_INSTANCES))
def test_guarded_blue_green_deployment_keeps_variant_and_instance_count(
    pinned, environments, env, model
) -> None:
    template = _serving(pinned, env, model)
    guardrails = environments[env].model(model).serving.guardrails
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    policy = endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    routing = policy["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY"
    assert routing["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": guardrails.canary_percent}
    assert routing["WaitIntervalInSeconds"] == guardrails.canary_wait_seconds
    assert policy["TerminationWaitInSeconds"] == guardrails.termination_wait_seconds
    assert policy["MaximumExecutionTimeoutInSeconds"] == guardrails.max_execution_seconds
    assert endpoint["RetainAllVariantProperties"] is True
    assert endpoint["ExcludeRetainedVariantProperties"] == [
        {"VariantPropertyType": "DataCaptureConfig"}
    ]


@pytest.mark.parametrize(("env", "model"), ON_INSTANCES, ids=ids(ON_INSTANCES))
def test_endpoint_rolls_back_on_exactly_its_own_bad_deployment_alarms(
    pinned, env: str, model: str
) -> None:
    template = _serving(pinned, env, model)
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    referenced = {
        alarm["AlarmName"]["Ref"]
        for alarm in endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    }
    expected = {
        _by_suffix(template, "AWS::CloudWatch::Alarm", f"{env}-{model}-endpoint-{name}")[0]
        for name in ROLLBACK_ALARMS
    }
    assert referenced == expected


@pytest.mark.parametrize(("env", "model"), ON_INSTANCES, ids=ids(ON_INSTANCES))
def test_autoscaling_tracks_invocations_per_instance_within_config_bounds(
    pinned, environments, env, model
) -> None:
    template = _serving(pinned, env, model)
    deployment = environments[env].model(model)
    scaling = deployment.serving.autoscaling
    (target_id, target), *more = resources(
        template, "AWS::ApplicationAutoScaling::ScalableTarget"
    ).items()
    assert not more
    properties = target["Properties"]
    assert properties["MinCapacity"] == scaling.min_capacity
    assert properties["MaxCapacity"] == scaling.max_capacity
    assert properties["ResourceId"] == f"endpoint/{deployment.endpoint_name}/variant/primary"
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


@pytest.mark.parametrize("model", MODELS)
def test_prod_keeps_at_least_two_instances_across_zones(pinned, environments, model) -> None:
    serving = environments["prod"].model(model).serving
    assert serving.autoscaling.min_capacity >= 2
    assert serving.instance.initial_count >= 2
    template = _serving(pinned, "prod", model)
    target = only(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["MinCapacity"] >= 2
    (properties,) = _models(template)
    assert len(properties["VpcConfig"]["Subnets"]) >= 2


@pytest.mark.parametrize(("env", "model"), EVERY, ids=ids(EVERY))
def test_every_alarm_notifies_the_alerts_topic(pinned: PinnedSynth, env: str, model: str) -> None:
    count = 0
    for stack in ("serving", "monitoring"):
        template = pinned.raw(env, f"{model}-{stack}")
        for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            for logical_id, alarm in resources(template, kind).items():
                actions = alarm["Properties"]["AlarmActions"]
                assert len(actions) == 1 and ALERTS_TOPIC in dumps(actions), logical_id
                assert alarm["Properties"]["AlarmName"].startswith(f"sagestack-{env}-{model}-")
                count += 1
    assert count >= 5


@pytest.mark.parametrize(("env", "model"), EVERY, ids=ids(EVERY))
def test_latency_thresholds_are_in_microseconds_on_the_models_endpoint(
    pinned, environments, env: str, model: str
) -> None:
    template = _serving(pinned, env, model)
    deployment = environments[env].model(model)
    alarms = deployment.monitoring.alarms
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
            "EndpointName": deployment.endpoint_name,
            "VariantName": "primary",
        }


@pytest.mark.parametrize(("env", "model"), EVERY, ids=ids(EVERY))
def test_alarm_set_follows_variant_kind_and_expected_traffic(
    pinned, environments, env: str, model: str
) -> None:
    template = _serving(pinned, env, model)
    deployment = environments[env].model(model)
    names = {
        a["Properties"]["AlarmName"].removeprefix(f"sagestack-{env}-{model}-endpoint-")
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    expected = {"model-latency-p99", "overhead-latency-p99", "5xx-errors", "4xx-rate"}
    if not deployment.serving.is_serverless:
        expected |= {"cpu-utilization", "memory-utilization", "disk-utilization"}
    if deployment.monitoring.alarms.expect_traffic:
        expected.add("no-invocations")
    assert names == expected
    if "no-invocations" in names:
        _, alarm = _by_suffix(template, "AWS::CloudWatch::Alarm", "-endpoint-no-invocations")
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["ComparisonOperator"] == "LessThanThreshold"


@pytest.mark.parametrize(("env", "model"), EVERY, ids=ids(EVERY))
def test_composite_alarm_says_unhealthy_on_any_alarm_but_client_errors(
    pinned, env: str, model: str
) -> None:
    template = _serving(pinned, env, model)
    composite = only(template, "AWS::CloudWatch::CompositeAlarm")
    assert composite["AlarmName"] == f"sagestack-{env}-{model}-endpoint-unhealthy"
    rule = dumps(composite["AlarmRule"])
    for logical_id, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        in_rule = f'"{logical_id}", "Arn"' in rule
        assert in_rule == (not alarm["Properties"]["AlarmName"].endswith("-4xx-rate")), logical_id


@pytest.mark.parametrize(("env", "model"), EVERY, ids=ids(EVERY))
def test_model_role_reads_only_its_models_data_of_the_registering_environment(
    pinned, env: str, model: str
) -> None:
    template = _serving(pinned, env, model)
    name = f"sagestack-{env}-{model}-model"
    (role,) = [
        r["Properties"]
        for r in resources(template, "AWS::IAM::Role").values()
        if r["Properties"]["RoleName"] == name
    ]
    assert "Policies" not in role and "ManagedPolicyArns" not in role
    statements = _statements(template, name)
    dev_bucket = "arn:aws:s3:::sagestack-dev-ml-artifacts-123456789012-eu-west-1"
    reading = sorted(
        resource
        for statement in statements
        if _listed(statement["Action"]) == ["s3:GetObject"]
        for resource in _listed(statement["Resource"])
        if resource.startswith(f"{dev_bucket}/models/")
    )
    assert reading == [
        f"{dev_bucket}/models/sagestack-dev-{model}-training/*",
        f"{dev_bucket}/models/sagestack-dev-{model}-tuning/*",
    ]
    listing = [
        prefix
        for s in statements
        if s["Action"] == "s3:ListBucket" and s["Resource"] == dev_bucket
        for prefix in s["Condition"]["StringLike"]["s3:prefix"]
        if prefix.startswith("models/")
    ]
    assert listing == [
        f"models/sagestack-dev-{model}-training/*",
        f"models/sagestack-dev-{model}-tuning/*",
    ]
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


@pytest.mark.parametrize(("env", "model"), EVERY, ids=ids(EVERY))
def test_serving_roles_are_the_models_platform_roles_without_wildcard_actions(
    pinned, env: str, model: str
) -> None:
    template = _serving(pinned, env, model)
    expected = {f"sagestack-{env}-{model}-model", f"sagestack-{env}-{model}-batch-transform"}
    if env == "prod":  # the batch schedule's role
        expected.add(f"sagestack-{env}-{model}-batch-schedule")
    roles = {r["Properties"]["RoleName"] for r in resources(template, "AWS::IAM::Role").values()}
    assert roles == expected
    for role in resources(template, "AWS::IAM::Role").values():
        assert "Policies" not in role["Properties"]
    assert not resources(template, "AWS::IAM::Policy"), "no inline policy"
    for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in _listed(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), statement
