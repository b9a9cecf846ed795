"""The `serving` section of each model in each environment: the environment's defaults, the
model's overrides, and every mistake named by file, field and what to do."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.config import ConfigError, load_environment, load_environments
from ground.config.loader import CONFIG_DIR

MODELS = ("cancer", "wine", "diabetes")
ACCOUNTS = {"dev": "123456789012", "staging": "210987654321", "prod": "345678901234"}
DEV_ARTIFACTS = "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/models"


def package(model: str, version: int = 3, env: str = "dev") -> str:
    account = ACCOUNTS[env]
    return f"arn:aws:sagemaker:eu-west-1:{account}:model-package/sagestack-{env}-{model}/{version}"


def baseline(model: str) -> str:
    return f"{DEV_ARTIFACTS}/sagestack-dev-{model}-training/run-3/baseline/"


def promoted(model: str) -> dict:
    """A pin as `sagestack promote` writes it: dev's package, with its baseline."""
    return {"arn": package(model), "baseline_uri": baseline(model)}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


def _merge(target: dict, values: dict) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def edit_yaml(path: Path, values: dict) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _merge(data, values)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def override(config_dir: Path, model: str, env: str, serving: dict[str, Any]) -> Path:
    """Set `environments.<env>.serving` keys of config/models/<model>.yaml."""
    path = config_dir / "models" / f"{model}.yaml"
    return edit_yaml(path, {"environments": {env: {"serving": serving}}})


def error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_environments([], config_dir)
    message = str(raised.value)
    assert "Traceback" not in message
    return message


# (id, environment, the model's serving overrides there, field, reason)
MODEL_CASES = [
    (
        "pin with both forms",
        "staging",
        {"model": {"arn": package("cancer"), "group": "sagestack-dev-cancer"}},
        "serving.model",
        "give either arn, or group and version, not both",
    ),
    (
        "pin without version",
        "staging",
        {"model": {"group": "sagestack-dev-cancer"}},
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
        "model package group 'my-models-v2' is not a registry group of model cancer",
    ),
    (
        "group of an environment the platform does not declare",
        "staging",
        {"model": {"group": "sagestack-qa-cancer", "version": 1}},
        "serving.model",
        "'sagestack-qa-cancer' is not a registry group of model cancer",
    ),
    (
        "group of another model",
        "prod",
        {"model": {"arn": package("wine"), "baseline_uri": baseline("cancer")}},
        "serving.model",
        "'sagestack-dev-wine' is not a registry group of model cancer",
    ),
    (
        "typo in a pin key",
        "staging",
        {"model": {"arn": package("cancer"), "verison": 3}},
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
        "both variant kinds in one override",
        "staging",
        {"serverless": {"memory_mb": 2048}, "instance": {"instance_type": "ml.m5.large"}},
        "serving",
        "choose serverless or instance, not both",
    ),
    (
        "initial count above the environment's max",
        "staging",
        {"instance": {"instance_type": "ml.m5.large", "initial_count": 9}},
        "serving",
        "instance.initial_count (9) is outside autoscaling.min_capacity..max_capacity (1..4)",
    ),
    (
        "deployment timeout shorter than the environment's waits",
        "prod",
        {"guardrails": {"max_execution_seconds": 1000}},
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
    (
        "endpoint instance type that only trains",
        "staging",
        {"instance": {"instance_type": "ml.p3dn.24xlarge"}},
        "serving.instance.instance_type",
        "ml.p3dn.24xlarge",
    ),
]


@pytest.mark.parametrize(
    ("env", "serving", "field", "reason"),
    [case[1:] for case in MODEL_CASES],
    ids=[case[0] for case in MODEL_CASES],
)
def test_a_bad_serving_override_names_the_model_file_field_and_reason(
    config_dir: Path, env: str, serving: dict, field: str, reason: str
) -> None:
    path = override(config_dir, "cancer", env, serving)
    message = error(config_dir)
    assert f"{path}: environments.{env}.{field}: " in message, message
    assert reason in message
    assert "wine.yaml" not in message and "diabetes.yaml" not in message


def test_a_bad_environment_default_is_blamed_on_the_environment_file(config_dir: Path) -> None:
    path = edit_yaml(config_dir / "prod.yaml", {"serving": {"batch_transform": {"schedule": "x"}}})
    message = error(config_dir)
    assert f"{path}: serving.batch_transform.schedule: " in message
    assert "models/" not in message


def test_a_model_wide_serving_section_applies_in_every_environment(config_dir: Path) -> None:
    edit_yaml(
        config_dir / "models" / "wine.yaml",
        {"serving": {"variant_name": "wine", "log_retention_days": 30}},
    )
    for environment in load_environments([], config_dir):
        assert environment.model("wine").serving.variant_name == "wine"
        assert environment.model("wine").serving.log_retention_days == 30
        assert environment.model("cancer").serving.variant_name == "primary"


def test_a_bad_model_wide_serving_value_is_named_under_serving(config_dir: Path) -> None:
    path = edit_yaml(config_dir / "models" / "wine.yaml", {"serving": {"variant_name": "-x"}})
    assert f"{path}: serving.variant_name: " in error(config_dir)


def test_a_pinned_model_without_a_variant_is_refused(config_dir: Path) -> None:
    dev = config_dir / "dev.yaml"
    data = yaml.safe_load(dev.read_text())
    data["serving"].pop("serverless")
    dev.write_text(yaml.safe_dump(data))
    path = override(config_dir, "cancer", "dev", {"model": {"arn": package("cancer")}})
    message = error(config_dir)
    assert f"{path}: environments.dev.serving: " in message
    assert "a pinned model needs a serverless or instance variant" in message


def test_an_unpinned_model_needs_no_variant(config_dir: Path) -> None:
    dev = config_dir / "dev.yaml"
    data = yaml.safe_load(dev.read_text())
    data["serving"].pop("serverless")
    dev.write_text(yaml.safe_dump(data))
    assert {d.name for d in load_environment("dev", config_dir).models} == set(MODELS)


def test_pin_forms_name_the_package_its_account_and_its_registering_environment(
    config_dir: Path,
) -> None:
    override(config_dir, "cancer", "prod", {"model": {"group": "sagestack-prod-cancer"}})
    override(config_dir, "cancer", "prod", {"model": {"version": 7, "baseline_uri": None}})
    override(config_dir, "wine", "prod", {"model": promoted("wine")})
    monitor_off = {
        "monitoring": {"model_monitor": {"enabled": False}, "model_quality": {"enabled": False}}
    }
    edit_yaml(config_dir / "models" / "cancer.yaml", {"environments": {"prod": monitor_off}})
    prod = load_environment("prod", config_dir)
    own, from_dev = prod.model("cancer"), prod.model("wine")
    assert own.serving.model.package_arn("aws", "eu-west-1", "345678901234") == (
        "arn:aws:sagemaker:eu-west-1:345678901234:model-package/sagestack-prod-cancer/7"
    )
    assert own.serving.model.source_account("345678901234") == "345678901234"
    assert own.source_environment_prefix() == "sagestack-prod"
    pin = from_dev.serving.model
    assert pin.package_arn("aws", "eu-west-1", "345678901234") == package("wine")
    assert pin.source_account("345678901234") == "123456789012"
    assert pin.source_region("us-east-1") == "eu-west-1"
    assert from_dev.source_environment_prefix() == "sagestack-dev"
    assert prod.model("diabetes").source_environment_prefix() is None


def test_a_models_registry_group_may_contain_another_models_name(config_dir: Path) -> None:
    """`sagestack-dev-wine-red` is the group of model wine-red, not of wine in environment
    dev-wine: the registering environment is read from the declared environments."""
    source = config_dir / "models" / "wine.yaml"
    shutil.copy(source, config_dir / "models" / "wine-red.yaml")
    override(config_dir, "wine-red", "prod", {"model": promoted("wine-red")})
    deployment = load_environment("prod", config_dir).model("wine-red")
    assert deployment.source_environment_prefix() == "sagestack-dev"
    assert deployment.serving.model.group_name == "sagestack-dev-wine-red"


def test_committed_configs_keep_every_prod_model_on_two_guarded_instances() -> None:
    environments = {e.name: e for e in load_environments()}
    for model in MODELS:
        prod = environments["prod"].model(model).serving
        assert prod.instance is not None and prod.instance.initial_count >= 2
        assert prod.autoscaling.min_capacity >= 2
        assert prod.guardrails.enabled
        staging = environments["staging"].model(model).serving
        assert staging.guardrails.enabled and not staging.is_serverless
        assert environments["dev"].model(model).serving.is_serverless
        for environment in environments.values():
            assert environment.model(model).serving.model is None, "pins come from promotion"


@pytest.mark.parametrize("model", MODELS)
def test_endpoint_names_carry_environment_model_and_hardware(model: str) -> None:
    environments = {e.name: e for e in load_environments()}
    assert environments["dev"].model(model).endpoint_name == f"sagestack-dev-{model}-serverless"
    assert environments["staging"].model(model).endpoint_name == (
        f"sagestack-staging-{model}-m5-large"
    )
    assert environments["prod"].model(model).endpoint_name == f"sagestack-prod-{model}-m5-xlarge"


def test_a_model_can_change_its_hardware_without_touching_the_others(config_dir: Path) -> None:
    override(config_dir, "wine", "prod", {"instance": {"instance_type": "ml.c5.2xlarge"}})
    prod = load_environment("prod", config_dir)
    wine = prod.model("wine")
    assert wine.endpoint_name == "sagestack-prod-wine-c5-2xlarge"
    # Only the type was overridden: the count still comes from prod's defaults.
    assert wine.serving.instance.initial_count == 2
    assert prod.model("cancer").endpoint_name == "sagestack-prod-cancer-m5-xlarge"


def test_a_model_may_serve_from_instances_in_a_serverless_environment(config_dir: Path) -> None:
    """Choosing the instance kind drops dev's serverless default for that model only."""
    override(
        config_dir,
        "cancer",
        "dev",
        {"model": promoted("cancer"), "instance": {"instance_type": "ml.m5.large"}},
    )
    dev = load_environment("dev", config_dir)
    cancer = dev.model("cancer").serving
    assert cancer.instance is not None and cancer.serverless is None
    assert dev.model("cancer").endpoint_name == "sagestack-dev-cancer-m5-large"
    assert dev.model("wine").serving.is_serverless


def test_a_model_may_serve_serverless_in_an_instance_environment(config_dir: Path) -> None:
    """ModelDeployment's merge promises it (ground/config/deployment.py, deep_merge): choosing
    the serverless kind drops the environment's instance variant. Staging's instance-only
    defaults (data_capture_percent, autoscaling) must go with it, or no model can ever serve
    serverless in staging or prod."""
    override(
        config_dir,
        "cancer",
        "staging",
        {
            "model": {"arn": package("cancer")},
            "serverless": {"memory_mb": 3072},
            "guardrails": {"enabled": False},
        },
    )
    monitor_off = {
        "monitoring": {"model_monitor": {"enabled": False}, "model_quality": {"enabled": False}}
    }
    edit_yaml(config_dir / "models" / "cancer.yaml", {"environments": {"staging": monitor_off}})
    staging = load_environment("staging", config_dir)
    cancer = staging.model("cancer")
    assert cancer.serving.is_serverless and cancer.serving.serverless.memory_mb == 3072
    assert cancer.endpoint_name == "sagestack-staging-cancer-serverless"
    assert not staging.model("wine").serving.is_serverless


@pytest.mark.parametrize(
    "pin",
    [
        {"group": "sagestack-dev-cancer", "version": 3},
        {"arn": "arn:aws:sagemaker:eu-west-1:999999999999:model-package/sagestack-dev-cancer/3"},
    ],
    ids=["group and version of another account's registry", "arn of an account not dev's"],
)
def test_a_pin_must_name_its_package_in_the_registering_environments_account(
    config_dir: Path, pin: dict
) -> None:
    """The stacks derive the package ARN and the model data's bucket from the pin (the group
    names the registering environment, the account comes with it): prod pinning dev's group
    by {group, version} would serve a package of prod's own account, and an ARN of an
    account that is not dev's names a bucket `sagestack-dev-ml-artifacts-<that account>-...`
    that dev never created. Either way the model could not be created: refuse the pin."""
    pin = {**pin, "baseline_uri": baseline("cancer")}
    path = override(config_dir, "cancer", "prod", {"model": pin})
    message = error(config_dir)
    assert f"{path}: environments.prod.serving.model" in message, message
