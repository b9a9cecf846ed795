"""The local endpoint's Runtime API path checks a call as the service does before the model
sees it: botocore's InvokeEndpoint constraints, and the endpoint's own name."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from sagestack.local.endpoint import LocalEndpoint, start_endpoint

NAME = "sagestack-dev-cancer-serverless"


@pytest.fixture(scope="module")
def named(demo, aws_env) -> LocalEndpoint:
    with start_endpoint(demo.training.model_artifact, endpoint_name=NAME) as running:
        yield running


@pytest.fixture(scope="module")
def runtime(named: LocalEndpoint):
    return boto3.client("sagemaker-runtime", endpoint_url=named.url)


def _error(runtime, **call: str) -> dict:
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(**{"EndpointName": NAME, "ContentType": "text/csv", **call})
    return caught.value.response


def test_another_endpoint_name_is_not_found(runtime) -> None:
    response = _error(runtime, EndpointName="sagestack-dev-wine-serverless", Body="1")
    assert response["Error"]["Code"] == "ValidationError"
    assert response["Error"]["Message"] == (
        "Endpoint sagestack-dev-wine-serverless of account 123456789012 not found."
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("call", "member"),
    [
        ({"EndpointName": "bad_name"}, "EndpointName: does not match the pattern"),
        ({"ContentType": "text/" + "c" * 1100}, "ContentType: length 1105 is above the maximum"),
        ({"Accept": "a" * 1025}, "Accept: length 1025 is above the maximum 1024"),
        ({"InferenceId": "x" * 65}, "InferenceId: length 65 is above the maximum 64"),
    ],
)
def test_what_the_service_model_forbids_is_a_validation_error(
    runtime, call: dict, member: str
) -> None:
    """botocore checks only minimum lengths on the client; the service checks the rest."""
    response = _error(runtime, Body="1", **call)
    assert response["Error"]["Code"] == "ValidationError"
    assert "1 validation error detected: " in response["Error"]["Message"]
    assert member in response["Error"]["Message"]


def test_its_own_name_is_served(runtime, demo) -> None:
    row = ",".join(["0.5"] * 30)
    answer = runtime.invoke_endpoint(EndpointName=NAME, ContentType="text/csv", Body=row)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
