"""The `serving` section: every mistake names the file, the field and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ground.config import ConfigError, load_environment
from ground.config.loader import CONFIG_DIR
from ground.config.serving import ModelPin

PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-models/3"


def _variant(tmp_path: Path, env: str, serving: dict, drop: tuple[str, ...] = ()) -> Path:
    data = yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text(encoding="utf-8"))
    for key in drop:
        data["serving"].pop(key)
    data["serving"].update(serving)
    path = tmp_path / f"{env}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


CASES = [
    (
        "pin with both forms",
        "staging",
        {"model": {"arn": PACKAGE, "group": "sagestack-dev-models"}},
        "serving.model",
        "give either arn, or group and version, not both",
    ),
    (
        "pin without version",
        "staging",
        {"model": {"group": "sagestack-dev-models"}},
        "serving.model",
        "give both group and version (or an arn)",
    ),
    (
        "unversioned package arn",
        "staging",
        {"model": {"arn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/abc"}},
        "serving.model",
        "is not a versioned model package ARN",
    ),
    (
        "group outside the platform registry",
        "staging",
        {"model": {"group": "my-models-v2", "version": 1}},
        "serving.model",
        "'my-models-v2' is not a platform registry group",
    ),
    (
        "typo in a pin key",
        "staging",
        {"model": {"arn": PACKAGE, "verison": 3}},
        "serving.model.verison",
        "unknown key",
    ),
    (
        "capture on serverless",
        "dev",
        {"data_capture_percent": 50},
        "serving",
        "data_capture_percent is set but serverless endpoints cannot capture data",
    ),
    (
        "autoscaling on serverless",
        "dev",
        {"autoscaling": {"max_capacity": 3}},
        "serving",
        "autoscaling is set but serverless endpoints scale by serverless.max_concurrency",
    ),
    (
        "guardrails on serverless",
        "dev",
        {"guardrails": {"enabled": True}},
        "serving",
        "guardrails.enabled needs an instance variant",
    ),
    (
        "both variant kinds",
        "staging",
        {"serverless": {"memory_mb": 2048}},
        "serving",
        "choose serverless or instance, not both",
    ),
    (
        "initial count above max",
        "staging",
        {"instance": {"instance_type": "ml.m5.large", "initial_count": 9}},
        "serving",
        "instance.initial_count (9) is outside autoscaling.min_capacity..max_capacity (1..4)",
    ),
    (
        "deployment timeout shorter than its waits",
        "prod",
        {"guardrails": {"enabled": True, "max_execution_seconds": 1000}},
        "serving.guardrails",
        "max_execution_seconds (1000) must exceed canary_wait_seconds + termination_wait",
    ),
    (
        "capture of zero percent",
        "prod",
        {"data_capture_percent": 0},
        "serving.data_capture_percent",
        "greater than or equal to 1",
    ),
    (
        "batch schedule that is no expression",
        "prod",
        {"batch_transform": {"schedule": "daily"}},
        "serving.batch_transform.schedule",
        "should match pattern",
    ),
]


@pytest.mark.parametrize(
    ("env", "serving", "field", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_serving_config_names_file_field_and_reason(
    tmp_path: Path, env: str, serving: dict, field: str, reason: str
) -> None:
    path = _variant(tmp_path, env, serving)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    message = str(raised.value)
    assert f"{path}: {field}: " in message
    assert reason in message


def test_pinned_model_without_variant_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, "staging", {"model": {"arn": PACKAGE}}, drop=("instance",))
    with pytest.raises(ConfigError, match="a pinned model needs a serverless or instance variant"):
        load_environment(path)


def test_pin_forms_name_package_account_and_registering_environment() -> None:
    own = ModelPin(group="sagestack-prod-models", version=7)
    assert own.package_arn("aws", "eu-west-1", "345678901234") == (
        "arn:aws:sagemaker:eu-west-1:345678901234:model-package/sagestack-prod-models/7"
    )
    assert own.source_account("345678901234") == "345678901234"
    assert own.source_prefix == "sagestack-prod"
    promoted = ModelPin(arn=PACKAGE)
    assert promoted.package_arn("aws", "eu-west-1", "345678901234") == PACKAGE
    assert promoted.source_account("345678901234") == "123456789012"
    assert promoted.source_prefix == "sagestack-dev"
    assert promoted.source_region("us-east-1") == "eu-west-1"


def test_committed_configs_keep_prod_on_two_guarded_instances() -> None:
    prod = load_environment(CONFIG_DIR / "prod.yaml")
    assert prod.serving.autoscaling.min_capacity >= 2
    assert prod.serving.guardrails.enabled
    staging = load_environment(CONFIG_DIR / "staging.yaml")
    assert staging.serving.guardrails.enabled and not staging.serving.is_serverless
    assert load_environment(CONFIG_DIR / "dev.yaml").serving.is_serverless
