"""Value types the configuration shares, each checked as the AWS API that receives it checks it.

Instance types come from the enum of the operation that uses them, read from botocore's
service model (a training type need not be a valid endpoint type), and types with local NVMe
storage are refused where the platform encrypts volumes with its own key. KMS ARNs are parsed
to the key or alias, and account ids and regions are checked against what AWS knows.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated

import boto3
from pydantic import AfterValidator, Field

from ground.contract.limits import LOCAL_STORAGE_KMS, has_local_storage
from ground.contract.service_model import member_enum

S3Folder = Annotated[
    str,
    Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", examples=["s3://bucket/p/"]),
]
ScheduleExpression = Annotated[str, Field(pattern=r"^(cron|rate)\(.+\)$")]
KMS_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):kms:(?P<region>[a-z]{2}(-[a-z]+)+-\d):"
    r"(?P<account>\d{12}):(key/(?P<key>(mrk-)?[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})"
    r"|alias/(?P<alias>[a-zA-Z0-9/_-]+))$"
)


@cache
def known_regions() -> frozenset[str]:
    """Regions where SageMaker runs, read from the endpoint table botocore ships (no AWS call)."""
    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("sagemaker", partition_name=partition))
    return frozenset(regions)


def _twelve_digits(value: str) -> str:
    if not (len(value) == 12 and value.isdigit()):
        raise ValueError(f"'{value}' is not a 12-digit AWS account id (quote it in YAML)")
    return value


def _sagemaker_region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(f"'{value}' is not a region where SageMaker is available")
    return value


def _kms_arn(value: str) -> str:
    if not KMS_ARN.match(value):
        raise ValueError(
            f"'{value}' is not a KMS key or alias ARN "
            "(arn:aws:kms:<region>:<12-digit account>:key/<key id> or .../alias/<name>)"
        )
    return value


def kms_arn_region(value: str) -> str:
    match = KMS_ARN.match(value)
    return match["region"] if match else ""


AccountId = Annotated[str, AfterValidator(_twelve_digits)]
Region = Annotated[str, AfterValidator(_sagemaker_region)]
KmsArn = Annotated[str, AfterValidator(_kms_arn)]


def _instance_type(
    operation: str, member: str, *, encrypted_volumes: bool = True
) -> AfterValidator:
    """A validator accepting the instance types `operation` accepts in `member`."""

    def check(value: str) -> str:
        accepted = member_enum("sagemaker", operation, member)
        if value not in accepted:
            close = [name for name in accepted if name.split(".")[1:2] == value.split(".")[1:2]]
            hint = f"; {', '.join(close[:6])} are" if close else ""
            raise ValueError(
                f"'{value}' is not an instance type {operation} accepts{hint} (botocore's "
                "service model lists them all)"
            )
        if encrypted_volumes and has_local_storage(value):
            raise ValueError(
                f"'{value}' has local NVMe storage, where AWS refuses the volume KMS key the "
                f"platform always sets ({LOCAL_STORAGE_KMS.page}); choose a type without it"
            )
        return value

    return AfterValidator(check)


TrainingInstanceType = Annotated[
    str, _instance_type("CreateTrainingJob", "ResourceConfig.InstanceType")
]
ProcessingInstanceType = Annotated[
    str, _instance_type("CreateProcessingJob", "ProcessingResources.ClusterConfig.InstanceType")
]
TransformInstanceType = Annotated[
    str, _instance_type("CreateTransformJob", "TransformResources.InstanceType")
]
EndpointInstanceType = Annotated[
    str, _instance_type("CreateEndpointConfig", "ProductionVariants.InstanceType")
]
MonitoringInstanceType = Annotated[
    str,
    _instance_type("CreateDataQualityJobDefinition", "JobResources.ClusterConfig.InstanceType"),
]
