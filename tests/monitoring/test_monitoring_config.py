"""The `monitoring` section of each model, and Model Monitor's baseline checked against the pin."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ground.config import ConfigError, load_environment, load_environments
from ground.config.loader import CONFIG_DIR
from ml_constructs.model_monitor import Baseline

DEV_BUCKET = "sagestack-dev-ml-artifacts-123456789012-eu-west-1"
PROD_BUCKET = "sagestack-prod-ml-artifacts-345678901234-eu-west-1"


def package(model: str) -> str:
    return f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-{model}/4"


def run_baseline(model: str) -> str:
    """The baseline/ folder of a training run of `model` in dev, as the package records it."""
    return f"s3://{DEV_BUCKET}/models/sagestack-dev-{model}-training/run-4/baseline/"


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


def in_env(config_dir: Path, model: str, env: str, values: dict) -> Path:
    """Merge `values` into `environments.<env>` of config/models/<model>.yaml."""
    return edit_yaml(config_dir / "models" / f"{model}.yaml", {"environments": {env: values}})


def pin(config_dir: Path, model: str, env: str, **fields: str) -> Path:
    return in_env(config_dir, model, env, {"serving": {"model": {"arn": package(model), **fields}}})


def error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_environments([], config_dir)
    return str(raised.value)


# (id, monitoring values, field under monitoring, reason)
CASES = [
    (
        "more datapoints than periods",
        {"alarms": {"evaluation_periods": 2, "datapoints_to_alarm": 3}},
        "monitoring.alarms",
        "datapoints_to_alarm (3) exceeds evaluation_periods (2)",
    ),
    (
        "period not in minutes",
        {"alarms": {"period_seconds": 90}},
        "monitoring.alarms",
        "period_seconds (90) must be a multiple of 60",
    ),
    (
        "memory above 100 percent",
        {"alarms": {"memory_percent": 120}},
        "monitoring.alarms.memory_percent",
        "less than or equal to 100",
    ),
    (
        "baseline not on S3",
        {"model_monitor": {"baseline_uri": "/tmp/baseline"}},
        "monitoring.model_monitor.baseline_uri",
        "should match pattern",
    ),
    (
        "job longer than the hourly schedule",
        {"model_monitor": {"max_runtime_seconds": 7200}},
        "monitoring.model_monitor.max_runtime_seconds",
        "less than or equal to 3600",
    ),
    (
        "typo in a monitor key",
        {"model_monitor": {"schedul": "cron(0 * ? * * *)"}},
        "monitoring.model_monitor.schedul",
        "unknown key",
    ),
]
WHERE = ["environment defaults", "model-wide", "model in prod"]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize(
    ("monitoring", "field", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_bad_monitoring_value_names_the_file_and_field_that_set_it(
    config_dir: Path, where: str, monitoring: dict, field: str, reason: str
) -> None:
    if where == "environment defaults":
        path, expected = edit_yaml(config_dir / "prod.yaml", {"monitoring": monitoring}), field
    elif where == "model-wide":
        path = edit_yaml(config_dir / "models" / "wine.yaml", {"monitoring": monitoring})
        expected = field
    else:
        path = in_env(config_dir, "wine", "prod", {"monitoring": monitoring})
        expected = f"environments.prod.{field}"
    message = error(config_dir)
    assert f"{path}: {expected}: " in message, message
    assert reason in message


def test_thresholds_merge_per_model_over_the_environments_defaults(config_dir: Path) -> None:
    edit_yaml(config_dir / "models" / "wine.yaml", {"monitoring": {"alarms": {"cpu_percent": 50}}})
    in_env(config_dir, "wine", "prod", {"monitoring": {"alarms": {"memory_percent": 60}}})
    environments = {e.name: e for e in load_environments([], config_dir)}
    prod_wine = environments["prod"].model("wine").monitoring.alarms
    assert (prod_wine.cpu_percent, prod_wine.memory_percent) == (50, 60)
    assert prod_wine.expect_traffic, "the rest still comes from prod.yaml"
    assert environments["staging"].model("wine").monitoring.alarms.memory_percent == 80
    assert environments["prod"].model("cancer").monitoring.alarms.cpu_percent == 80


def test_model_monitor_on_a_serverless_endpoint_is_refused(config_dir: Path) -> None:
    path = pin(config_dir, "cancer", "dev", baseline_uri=run_baseline("cancer"))
    in_env(config_dir, "cancer", "dev", {"monitoring": {"model_monitor": {"enabled": True}}})
    message = error(config_dir)
    assert (
        f"{path}: environments.dev.monitoring.model_monitor.enabled: serverless endpoints "
        "capture no data to monitor" in message
    )


def test_baseline_outside_a_platform_bucket_is_refused(config_dir: Path) -> None:
    uri = "s3://someone-elses-bucket/baseline/"
    pin(config_dir, "cancer", "prod", baseline_uri=run_baseline("cancer"))
    path = in_env(
        config_dir, "cancer", "prod", {"monitoring": {"model_monitor": {"baseline_uri": uri}}}
    )
    message = error(config_dir)
    assert (
        f"{path}: environments.prod.monitoring.model_monitor.baseline_uri: baseline {uri} is "
        "not in a platform artifacts bucket" in message
    )


def test_the_pinned_packages_baseline_is_monitored_against(config_dir: Path) -> None:
    pin(config_dir, "cancer", "prod", baseline_uri=run_baseline("cancer"))
    cancer = load_environment("prod", config_dir).model("cancer")
    assert cancer.monitor_baseline_uri() == run_baseline("cancer")
    assert Baseline.parse(cancer.monitor_baseline_uri()) == Baseline(
        DEV_BUCKET, "models/sagestack-dev-cancer-training/run-4/baseline/"
    )


def test_monitoring_baseline_uri_overrides_the_pins(config_dir: Path) -> None:
    own = f"s3://{PROD_BUCKET}/monitoring/cancer/recomputed/"
    pin(config_dir, "cancer", "prod", baseline_uri=run_baseline("cancer"))
    in_env(config_dir, "cancer", "prod", {"monitoring": {"model_monitor": {"baseline_uri": own}}})
    cancer = load_environment("prod", config_dir).model("cancer")
    assert Baseline.parse(cancer.monitor_baseline_uri()).folder == "monitoring/cancer/recomputed/"


def test_a_pin_without_baseline_is_refused_with_what_to_do(config_dir: Path) -> None:
    path = pin(config_dir, "cancer", "prod")
    message = error(config_dir)
    assert (
        f"{path}: environments.prod.serving.model.baseline_uri: the pin names no data-quality "
        "baseline" in message
    )
    assert "sagestack promote" in message
    assert "monitoring.model_monitor.enabled to false" in message
    assert "wine.yaml" not in message, "only the pinned model is at fault"


def test_a_model_that_turns_model_monitor_off_needs_no_baseline(config_dir: Path) -> None:
    pin(config_dir, "cancer", "prod")
    monitors_off = {"model_monitor": {"enabled": False}, "model_quality": {"enabled": False}}
    in_env(config_dir, "cancer", "prod", {"monitoring": monitors_off})
    prod = load_environment("prod", config_dir)
    assert not prod.model("cancer").monitoring.model_monitor.enabled
    assert prod.model("cancer").monitor_kinds() == []
    assert prod.model("wine").monitoring.model_monitor.enabled


def test_model_quality_needs_the_pinned_run_it_reads_thresholds_from(config_dir: Path) -> None:
    pin(config_dir, "cancer", "prod")
    in_env(config_dir, "cancer", "prod", {"monitoring": {"model_monitor": {"enabled": False}}})
    with pytest.raises(ConfigError) as refused:
        load_environment("prod", config_dir)
    assert "cancer.yaml: environments.prod.serving.model.baseline_uri: the pin names no " in str(
        refused.value
    )
    assert "model_quality_constraints.json" in str(refused.value)


def test_model_quality_scores_the_pinned_runs_own_constraints(config_dir: Path) -> None:
    pin(config_dir, "cancer", "prod", baseline_uri=run_baseline("cancer"))
    cancer = load_environment("prod", config_dir).model("cancer")
    assert cancer.monitor_kinds() == ["data-quality", "model-quality"]
    assert cancer.model_quality_constraints_uri() == run_baseline("cancer").replace(
        "/baseline/", "/evaluation/model_quality_constraints.json"
    )


def test_an_hourly_model_quality_run_may_not_take_more_than_half_an_hour(
    config_dir: Path,
) -> None:
    in_env(
        config_dir,
        "cancer",
        "prod",
        {"monitoring": {"model_quality": {"max_runtime_seconds": 2400}}},
    )
    with pytest.raises(ConfigError, match=r"max_runtime_seconds \(2400\) of an hourly"):
        load_environment("prod", config_dir)


@pytest.mark.parametrize(
    ("field", "uri"),
    [
        ("monitoring", run_baseline("wine")),
        ("monitoring", f"s3://{PROD_BUCKET}/monitoring/wine/data-quality/"),
        ("monitoring", f"s3://{PROD_BUCKET}/"),
        ("pin", run_baseline("wine")),
        ("pin", f"s3://{DEV_BUCKET}/models/"),
    ],
    ids=[
        "override naming another model's run",
        "override naming another model's reports",
        "override naming a whole bucket",
        "pin naming another model's run",
        "pin naming every model's artifacts",
    ],
)
def test_a_baseline_outside_the_models_own_prefixes_is_refused(
    config_dir: Path, field: str, uri: str
) -> None:
    """The monitor role reads the baseline folder (model_monitor.py, `_role`): a baseline of
    another model, or a whole bucket, would let cancer's monitor read what is not cancer's.
    Issue 13: a model's roles read only its own prefixes."""
    if field == "pin":
        path = pin(config_dir, "cancer", "prod", baseline_uri=uri)
        expected = "environments.prod.serving.model.baseline_uri"
    else:
        pin(config_dir, "cancer", "prod", baseline_uri=run_baseline("cancer"))
        monitor = {"monitoring": {"model_monitor": {"baseline_uri": uri}}}
        path = in_env(config_dir, "cancer", "prod", monitor)
        expected = "environments.prod.monitoring.model_monitor.baseline_uri"
    message = error(config_dir)
    assert f"{path}: {expected}: " in message, message
    assert "cancer" in message


def test_baseline_folder_is_normalized_and_its_account_read_from_the_bucket() -> None:
    baseline = Baseline.parse(f"s3://{DEV_BUCKET}/models/sagestack-dev-cancer-training/r/baseline")
    assert baseline.folder == "models/sagestack-dev-cancer-training/r/baseline/"
    assert baseline.account == "123456789012"
    assert baseline.uri("statistics.json").endswith("/r/baseline/statistics.json")
    with pytest.raises(ValueError, match="not in a platform artifacts bucket"):
        Baseline.parse("s3://someone-elses-bucket/baseline/")


def test_committed_monitoring_follows_the_endpoint_kind() -> None:
    for environment in load_environments():
        for deployment in environment.models:
            monitor = deployment.monitoring.model_monitor
            # Serverless endpoints capture nothing, so only instance environments monitor.
            assert monitor.enabled == (not deployment.serving.is_serverless), deployment.prefix
            assert monitor.baseline_uri is None, "the pin's baseline, from promotion"
