"""CloudFormation's SageMaker resources as the requests CloudFormation sends, and the limits
across resources (a serverless endpoint's model and monitors) and across deploys."""

from __future__ import annotations

import copy

from ground.contract.limits import autoscaled_update_findings, has_local_storage
from ground.contract.templates import StackResources, assembly_findings, template_value
from ground.contract.unknown import Unknown

KEY = {"Fn::GetAtt": ["Key", "Arn"]}
ROLE = {"Fn::GetAtt": ["Role", "Arn"]}


def _model(vpc: bool) -> dict:
    properties: dict = {
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {
            "ModelPackageName": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/1"
        },
    }
    if vpc:
        properties["VpcConfig"] = {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}
        properties["EnableNetworkIsolation"] = True
    return {"Type": "AWS::SageMaker::Model", "Properties": properties}


def _serving(variant: dict, *, vpc: bool = False, capture: bool = False) -> dict[str, dict]:
    config: dict = {
        "KmsKeyId": KEY,
        "ProductionVariants": [
            {
                "VariantName": "primary",
                "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                **variant,
            }
        ],
    }
    if capture:
        config["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 20,
            "DestinationS3Uri": "s3://bucket/data-capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    return {
        "Model": _model(vpc),
        "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": config},
        "Endpoint": {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {
                "EndpointName": "sagestack-dev-endpoint",
                "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
            },
        },
    }


SERVERLESS = {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
INSTANCES = {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1, "InitialVariantWeight": 1}


def _found(*stacks: dict[str, dict]) -> list[str]:
    return [
        str(f)
        for f in assembly_findings(
            [
                StackResources(f"stack{index}", "eu-west-1", "123456789012", resources)
                for index, resources in enumerate(stacks)
            ]
        )
    ]


def test_a_serverless_endpoint_is_accepted_without_vpc_capture_or_monitor() -> None:
    assert _found(_serving(SERVERLESS)) == []
    assert _found(_serving(INSTANCES, vpc=True, capture=True)) == []


def test_a_serverless_endpoint_with_data_capture_is_refused() -> None:
    [found] = _found(_serving(SERVERLESS, capture=True))
    assert "CreateEndpointConfig DataCaptureConfig: serverless endpoints capture no data" in found
    assert "serverless-endpoints.html" in found


def test_a_serverless_endpoint_of_a_model_in_a_vpc_is_refused() -> None:
    found = "\n".join(_found(_serving(SERVERLESS, vpc=True)))
    assert "has a VpcConfig; serverless endpoints cannot use one" in found
    assert "has network isolation; serverless endpoints cannot" in found


def test_a_model_monitor_on_a_serverless_endpoint_is_refused_across_stacks() -> None:
    monitoring = {
        "Schedule": {
            "Type": "AWS::SageMaker::MonitoringSchedule",
            "Properties": {
                "MonitoringScheduleName": "s",
                "EndpointName": "sagestack-dev-endpoint",
                "MonitoringScheduleConfig": {
                    "MonitoringJobDefinitionName": "d",
                    "MonitoringType": "DataQuality",
                    "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                },
            },
        }
    }
    [found] = _found(_serving(SERVERLESS), monitoring)
    assert "is serverless and has a Model Monitor schedule" in found


def test_each_endpoint_is_checked_with_its_own_stacks_config_and_model() -> None:
    """Two models' serving stacks have the same logical ids: one model serverless, the other on
    instances with a monitor. Each endpoint is judged by the config of its own stack."""
    monitored = _serving(INSTANCES, vpc=True, capture=True)
    monitored["Endpoint"]["Properties"]["EndpointName"] = "sagestack-dev-monitored"
    schedule = {
        "Schedule": {
            "Type": "AWS::SageMaker::MonitoringSchedule",
            "Properties": {
                "MonitoringScheduleName": "s",
                "EndpointName": "sagestack-dev-monitored",
                "MonitoringScheduleConfig": {
                    "MonitoringJobDefinitionName": "d",
                    "MonitoringType": "DataQuality",
                    "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                },
            },
        }
    }
    assert _found(monitored, _serving(SERVERLESS), schedule) == []
    assert _found(_serving(SERVERLESS), monitored, schedule) == []


def test_a_volume_key_on_an_instance_with_local_storage_is_refused() -> None:
    [found] = _found(_serving({**INSTANCES, "InstanceType": "ml.g4dn.xlarge"}, vpc=True))
    assert "KmsKeyId: cannot be set: variant 0 runs ml.g4dn.xlarge, with local storage" in found
    assert has_local_storage("ml.m5d.large") and has_local_storage("ml.p4d.24xlarge")
    assert not has_local_storage("ml.m5.large") and not has_local_storage("ml.c5.xlarge")


def test_resources_are_checked_against_their_operation() -> None:
    resources = _serving(INSTANCES, vpc=True)
    resources["Config"]["Properties"]["ProductionVariants"][0]["InstanceType"] = "ml.m5.huge"
    resources["Endpoint"]["Properties"]["EndpointName"] = "sagestack_dev"
    found = "\n".join(_found(resources))
    assert (
        "(AWS::SageMaker::EndpointConfig): CreateEndpointConfig ProductionVariants[0].InstanceType"
        in found
    )
    assert (
        "(AWS::SageMaker::Endpoint): CreateEndpoint EndpointName: does not match the pattern"
        in found
    )


def test_intrinsics_are_run_time_values_and_joins_of_literals_are_joined() -> None:
    assert template_value({"Fn::Join": ["/", ["s3:", "", "b", "k"]]}) == "s3://b/k"
    assert isinstance(template_value({"Fn::Join": ["", ["a", {"Ref": "X"}]]}), Unknown)
    assert isinstance(template_value({"Ref": "X"}), Unknown)


def _autoscaled(instance_type: str, endpoint: str) -> dict[str, dict]:
    resources = _serving({**INSTANCES, "InstanceType": instance_type}, vpc=True)
    resources["Endpoint"]["Properties"]["EndpointName"] = endpoint
    resources["Target"] = {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "ServiceNamespace": "sagemaker",
            "ResourceId": f"endpoint/{endpoint}/variant/primary",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "MinCapacity": 1,
            "MaxCapacity": 4,
        },
    }
    return resources


def test_an_autoscaled_variant_cannot_change_instance_type_in_place() -> None:
    before = _autoscaled("ml.m5.large", "e")
    in_place = _autoscaled("ml.m5.xlarge", "e")
    [found] = autoscaled_update_findings(before, in_place, "staging/serving")
    assert "UpdateEndpoint endpoint e variant primary: changes the instance type" in str(found)
    assert "endpoint-scaling-update.html" in str(found) and "'ml.m5.large'" in str(found)
    removed = copy.deepcopy(before)
    removed["Config"]["Properties"]["ProductionVariants"][0]["VariantName"] = "blue"
    assert "removes an autoscaled variant" in str(
        autoscaled_update_findings(before, removed, "s")[0]
    )
    replaced = _autoscaled("ml.m5.xlarge", "e-m5-xlarge")
    assert autoscaled_update_findings(before, replaced, "staging/serving") == []
