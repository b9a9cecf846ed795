"""The SageMaker Runtime API's own checks of an InvokeEndpoint call, before any model sees it.

The service validates the request against its model (the endpoint name's pattern, header
lengths such as ContentType ≤ 1,024 characters) and answers 400 ValidationError; an unknown
endpoint is a 400 ValidationError too. The local endpoint's Runtime path does the same, from
botocore's own description of the operation: where each member travels (URI, header) and the
constraints on it.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from ground.contract.service_model import operation_model, request_findings

SERVICE, OPERATION = "sagemaker-runtime", "InvokeEndpoint"
LOCAL_ACCOUNT = "123456789012"  # what the emulator calls every account


def request_members(path_params: Mapping[str, str], headers: Mapping[str, str]) -> dict:
    """The operation's members an HTTP request carries in its URI and headers (the body is the
    Body member, whose size the endpoint bounds itself)."""
    shape = operation_model(SERVICE, OPERATION).input_shape
    assert shape is not None  # InvokeEndpoint has an input
    members: dict[str, str] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        source = {"uri": path_params, "header": headers}.get(location or "")
        if source is not None and wire_name in source:
            members[name] = source[wire_name]
    return members


def validation_problems(path_params: Mapping[str, str], headers: Mapping[str, str]) -> list[str]:
    """What the service's validation would refuse in the request, one line each."""
    request = {**request_members(path_params, headers), "Body": b""}
    return [
        f"{finding.path}: {finding.rule}"
        for finding in request_findings(SERVICE, OPERATION, request, "InvokeEndpoint")
    ]


def validation_error(message: str) -> JSONResponse:
    """A 400 ValidationError as the Runtime API sends it (botocore raises a ClientError)."""
    return JSONResponse(
        {"message": message}, status_code=400, headers={"x-amzn-ErrorType": "ValidationError"}
    )


def endpoint_not_found(name: str) -> JSONResponse:
    return validation_error(f"Endpoint {name} of account {LOCAL_ACCOUNT} not found.")
