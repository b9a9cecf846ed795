"""The `monitoring` section, and the Model Monitor settings checked against `serving`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ground.config import ConfigError, load_environment
from ground.config.loader import CONFIG_DIR
from ml_constructs.model_monitor import Baseline
from stacks.monitoring import MonitoringStack

PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-models/4"
RUN_BASELINE = "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/models/run-4/baseline/"


def _variant(tmp_path: Path, env: str, monitoring: dict, pin: dict | None = None) -> Path:
    data = yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text(encoding="utf-8"))
    data["serving"]["model"] = pin
    for section, values in monitoring.items():
        data["monitoring"].setdefault(section, {}).update(values)
    path = tmp_path / f"{env}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


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


@pytest.mark.parametrize(
    ("monitoring", "field", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_monitoring_config_names_file_field_and_reason(
    tmp_path: Path, monitoring: dict, field: str, reason: str
) -> None:
    path = _variant(tmp_path, "prod", monitoring)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    assert f"{path}: {field}: " in str(raised.value)
    assert reason in str(raised.value)


def test_model_monitor_on_a_serverless_endpoint_is_refused(tmp_path: Path) -> None:
    config = load_environment(_variant(tmp_path, "dev", {"model_monitor": {"enabled": True}}))
    with pytest.raises(ConfigError, match=r"dev: monitoring\.model_monitor\.enabled: serverless"):
        MonitoringStack._baseline(config)


def test_baseline_outside_a_platform_bucket_is_refused(tmp_path: Path) -> None:
    uri = "s3://someone-elses-bucket/baseline/"
    config = load_environment(_variant(tmp_path, "prod", {"model_monitor": {"baseline_uri": uri}}))
    with pytest.raises(ConfigError, match="baseline_uri: baseline s3://someone-elses-bucket"):
        MonitoringStack._baseline(config)


def test_the_pinned_packages_baseline_is_monitored_against(tmp_path: Path) -> None:
    pin = {"arn": PACKAGE, "baseline_uri": RUN_BASELINE}
    prod = load_environment(_variant(tmp_path, "prod", {}, pin))
    assert MonitoringStack._baseline(prod) == Baseline(
        "sagestack-dev-ml-artifacts-123456789012-eu-west-1", "models/run-4/baseline/"
    )


def test_monitoring_baseline_uri_overrides_the_pins(tmp_path: Path) -> None:
    own = "s3://sagestack-prod-ml-artifacts-345678901234-eu-west-1/monitoring/recomputed/"
    pin = {"arn": PACKAGE, "baseline_uri": RUN_BASELINE}
    prod = load_environment(
        _variant(tmp_path, "prod", {"model_monitor": {"baseline_uri": own}}, pin)
    )
    assert MonitoringStack._baseline(prod).folder == "monitoring/recomputed/"


def test_a_pin_without_baseline_is_refused_with_what_to_do(tmp_path: Path) -> None:
    prod = load_environment(_variant(tmp_path, "prod", {}, {"arn": PACKAGE}))
    with pytest.raises(ConfigError) as raised:
        MonitoringStack._baseline(prod)
    message = str(raised.value)
    assert message.startswith("prod: serving.model.baseline_uri: the pin names no data-quality")
    assert "sagestack promote" in message
    assert "monitoring.model_monitor.enabled to false" in message


def test_baseline_folder_is_normalized_and_its_account_read_from_the_bucket() -> None:
    baseline = Baseline.parse(
        "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/models/run-1/baseline"
    )
    assert baseline.folder == "models/run-1/baseline/"
    assert baseline.account == "123456789012"
    assert baseline.uri("statistics.json").endswith("/models/run-1/baseline/statistics.json")
