"""Network stack: isolated subnets only, endpoints, encrypted flow logs, tight security groups;
one per environment, shared by every model it hosts."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from ground.config import load_environments

LOADED = load_environments()
CONFIGS = {environment.name: environment.config for environment in LOADED}
ENVIRONMENTS = list(CONFIGS)
MODELS = sorted({deployment.name for environment in LOADED for deployment in environment.models})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_route_to_the_internet(templates, env: str) -> None:
    template = templates[(env, "network")]
    for kind in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::EIP"):
        template.resource_count_is(kind, 0)
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_vpc_spans_the_configured_zones_without_lookups(templates, env: str) -> None:
    template = templates[(env, "network")]
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert len(subnets) == CONFIGS[env].network.max_azs
    for subnet in subnets.values():
        assert "Fn::GetAZs" in str(subnet["Properties"]["AvailabilityZone"])
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": CONFIGS[env].network.cidr})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_s3_gateway_and_configured_interface_endpoints(templates, env: str) -> None:
    template = templates[(env, "network")]
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint").values()
    kinds = {endpoint["Properties"].get("VpcEndpointType", "Gateway") for endpoint in endpoints}
    assert kinds == {"Gateway", "Interface"}
    services = " ".join(str(endpoint["Properties"]["ServiceName"]) for endpoint in endpoints)
    for name in CONFIGS[env].network.interface_endpoints:
        assert f".{name}" in services or f"{name}'" in services, name
    interface = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(interface) == len(CONFIGS[env].network.interface_endpoints)
    assert all(e["Properties"]["PrivateDnsEnabled"] for e in interface)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_flow_logs_go_to_a_kms_encrypted_log_group(templates, env: str) -> None:
    template = templates[(env, "network")]
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"ResourceType": "VPC", "TrafficType": "ALL"}
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "KmsKeyId": Match.any_value(),
            "RetentionInDays": CONFIGS[env].network.flow_log_retention_days,
        },
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workload_security_group_talks_only_to_itself_and_https(templates, env: str) -> None:
    template = templates[(env, "network")]
    groups = template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupName": f"sagestack-{env}-sagemaker-workloads"}},
    )
    ((logical_id, group),) = groups.items()
    egress = group["Properties"]["SecurityGroupEgress"]
    assert egress == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to S3 and the VPC endpoints",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    ingress = template.find_resources("AWS::EC2::SecurityGroupIngress")
    self_rules = [
        rule["Properties"]
        for rule in ingress.values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [logical_id, "GroupId"]}
    ]
    assert self_rules == [
        {
            "Description": "distributed training between members",
            "FromPort": 0,
            "GroupId": {"Fn::GetAtt": [logical_id, "GroupId"]},
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {"Fn::GetAtt": [logical_id, "GroupId"]},
            "ToPort": 65535,
        }
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_default_security_group_is_closed(templates, env: str) -> None:
    templates[(env, "network")].resource_count_is("Custom::VpcRestrictDefaultSG", 1)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_network_belongs_to_the_environment_not_to_a_model(templates, env: str) -> None:
    """Every model's jobs and endpoints share the VPC; nothing in it is any model's."""
    template = templates[(env, "network")].to_json()
    text = json.dumps(template)
    assert [model for model in MODELS if f"sagestack-{env}-{model}" in text] == []
    for resource in template["Resources"].values():
        tags = resource.get("Properties", {}).get("Tags", [])
        assert "sagestack:model" not in json.dumps(tags)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_model_reaches_the_network_through_the_same_four_outputs(templates, env) -> None:
    """The VPC, its subnets and the workload security group: what every model's jobs, models
    and monitors are placed in. One set of outputs, however many models."""
    outputs = templates[(env, "network")].to_json().get("Outputs", {})
    assert len(outputs) == 1 + CONFIGS[env].network.max_azs + 1
    for model in MODELS:
        training = json.dumps(templates[(env, f"{model}-training")].to_json())
        assert {name for name in outputs if name in training} == set(outputs), model
