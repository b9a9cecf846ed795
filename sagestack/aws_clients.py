"""boto3 clients whose SageMaker requests meet the contract before they leave this machine.

The embedded emulator takes almost anything; AWS does not. Every client the tools create goes
through `contract_client`, which checks each SageMaker and SageMaker Runtime request against
the service model (ground.contract: patterns and all) just before botocore serializes it, so a
request the tools build themselves fails here, named, rather than on a real account.
"""

from __future__ import annotations

from typing import Any

import boto3

from ground.contract.findings import ContractError
from ground.contract.service_model import request_findings

CHECKED_SERVICES = frozenset({"sagemaker", "sagemaker-runtime"})


def enforce_contract(client: Any) -> Any:
    """Register the contract check on `client` (SageMaker services only); return the client."""
    model = client.meta.service_model
    if model.service_name not in CHECKED_SERVICES:
        return client

    def check(params: dict, model: Any, **_: object) -> None:
        where = f"{model.service_model.service_name} request"
        found = request_findings(model.service_model.service_name, model.name, params, where)
        if found:
            raise ContractError(where, found)

    client.meta.events.register(f"before-parameter-build.{model.service_id.hyphenize()}", check)
    return client


def contract_client(service: str, region: str, **settings: Any) -> Any:
    """`boto3.client(service, region_name=region, **settings)` with the contract enforced."""
    return enforce_contract(boto3.client(service, region_name=region, **settings))
