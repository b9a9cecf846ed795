"""What a deployed endpoint serves, followed the way SageMaker follows it: endpoint → endpoint
config → model → model package → its model data. Used to serve locally what the emulator's
stacks deployed (`sagestack local serve --model NAME`, the demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from sagestack.local.data_capture import CaptureConfig
from sagestack.storage import S3Storage


class DeployedModelError(Exception):
    """The endpoint or what it names is not there; the message says what to deploy."""


def deployed_endpoint_config(sagemaker: Any, endpoint_name: str) -> dict[str, Any]:
    """DescribeEndpointConfig of the config the endpoint runs."""
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError:
        raise DeployedModelError(
            f"no endpoint {endpoint_name} is deployed; pin a package for the model and deploy "
            "its serving stack (`sagestack demo` does both)"
        ) from None
    described: dict[str, Any] = sagemaker.describe_endpoint_config(
        EndpointConfigName=endpoint["EndpointConfigName"]
    )
    return described


def served_model_data(sagemaker: Any, endpoint_name: str) -> str:
    """The S3 URI of the model.tar.gz the endpoint's (first) variant serves."""
    variant = deployed_endpoint_config(sagemaker, endpoint_name)["ProductionVariants"][0]
    model = sagemaker.describe_model(ModelName=variant["ModelName"])
    container = (model.get("Containers") or [model.get("PrimaryContainer", {})])[0]
    if "ModelDataUrl" in container:
        return str(container["ModelDataUrl"])
    package = sagemaker.describe_model_package(ModelPackageName=container["ModelPackageName"])
    return str(package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"])


def download_served_model(
    sagemaker: Any, storage: S3Storage, endpoint_name: str, directory: Path
) -> Path:
    """The endpoint's model.tar.gz, downloaded into `directory`."""
    (artifact,) = storage.download(served_model_data(sagemaker, endpoint_name), directory)
    return artifact


def served_capture(
    sagemaker: Any, endpoint_name: str, region: str, s3_endpoint_url: str | None
) -> CaptureConfig | None:
    """The data capture the endpoint's config declares (None: it captures nothing), for a
    local endpoint writing to the S3 at `s3_endpoint_url` (the emulator's)."""
    config = deployed_endpoint_config(sagemaker, endpoint_name)
    return CaptureConfig.from_endpoint_config(endpoint_name, config, region, s3_endpoint_url)
