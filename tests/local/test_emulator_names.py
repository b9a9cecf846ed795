"""The emulator names the SageMaker resources a template leaves unnamed within SageMaker's
limits, as CloudFormation does (emulator_server shim 10)."""

from __future__ import annotations

import re

from sagestack.local.emulator_server import _generated_name_within_limits

ENTITY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # botocore's EntityName


def test_a_long_generated_endpoint_config_name_is_cut_to_63_and_stays_valid() -> None:
    stack = "sagestack-dev-cancer-serving"
    names = {
        _generated_name_within_limits("AWS::SageMaker::EndpointConfig", stack, logical)
        for logical in ("EndpointConfig24AD0A28", "EndpointConfig24AD0A28-", "E" * 80)
    }
    for name in names:
        assert ENTITY_NAME.match(name), name
        assert name.startswith("sagestack-dev-cancer-serving-E")


def test_other_resources_keep_moto_names() -> None:
    name = _generated_name_within_limits("AWS::SNS::Topic", "s" * 60, "Topic")
    assert name.startswith("s" * 60 + "-Topic-")
