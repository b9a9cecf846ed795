"""The emulator's CloudFormation models of a Studio domain and its user profiles, in process."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from sagestack.local import emulator_studio

REGION = "eu-west-1"
TEMPLATE = {
    "Resources": {
        "Domain": {
            "Type": emulator_studio.DOMAIN_TYPE,
            "Properties": {
                "DomainName": "sagestack-dev-studio",
                "AuthMode": "IAM",
                "AppNetworkAccessType": "VpcOnly",
                "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::123456789012:role/r"},
                "SubnetIds": ["subnet-1"],
                "VpcId": "vpc-1",
            },
        },
        "Profile": {
            "Type": emulator_studio.USER_PROFILE_TYPE,
            "Properties": {
                "DomainId": {"Fn::GetAtt": ["Domain", "DomainId"]},
                "UserProfileName": "oncology-ds",
            },
        },
    },
    "Outputs": {"Profile": {"Value": {"Ref": "Profile"}}},
}


@mock_aws
def test_a_stack_creates_and_deletes_the_domain_and_its_profile() -> None:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    cloudformation.create_stack(StackName="studio", TemplateBody=json.dumps(TEMPLATE))
    (domain,) = sagemaker.list_domains()["Domains"]
    described = sagemaker.describe_domain(DomainId=domain["DomainId"])
    assert described["AppNetworkAccessType"] == "VpcOnly"
    (output,) = cloudformation.describe_stacks(StackName="studio")["Stacks"][0]["Outputs"]
    assert output["OutputValue"].endswith(f":user-profile/{domain['DomainId']}/oncology-ds")
    assert emulator_studio.EmulatedDomain.profiles[domain["DomainId"]] == {
        "oncology-ds": output["OutputValue"]
    }
    cloudformation.delete_stack(StackName="studio")
    assert sagemaker.list_domains()["Domains"] == []
    assert domain["DomainId"] not in emulator_studio.EmulatedDomain.profiles
