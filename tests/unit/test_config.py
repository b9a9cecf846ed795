"""Config validation: every mistake names the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ground.config import ConfigError, load_environment, load_environments
from ground.config.loader import CONFIG_DIR
from tests.synth import cdk_synth


def write_variant(tmp_path: Path, env: str, change) -> Path:
    """Copy config/<env>.yaml into tmp_path after applying `change` to its data."""
    data = yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text())
    change(data)
    path = tmp_path / f"{env}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_committed_configs_are_valid(env: str) -> None:
    config = load_environment(CONFIG_DIR / f"{env}.yaml")
    assert config.name == env
    assert config.prefix == f"sagestack-{env}"


def test_prod_retains_data_and_dev_does_not() -> None:
    dev, _, prod = load_environments()
    assert prod.retains_data
    assert not dev.retains_data


def _set(path: list[str], value):
    def change(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value

    return change


CASES = [
    ("typo in a key", _set(["netwrk"], {}), "netwrk", "unknown key"),
    ("typo in a nested key", _set(["network", "max_az"], 2), "network.max_az", "unknown key"),
    ("wrong type", _set(["network", "max_azs"], "two"), "network.max_azs", "integer"),
    ("short account", _set(["account"], "12345"), "account", "not a 12-digit AWS account id"),
    ("unquoted account", _set(["account"], 123456789012), "account", "string"),
    ("unknown region", _set(["region"], "eu-middle-9"), "region", "not a region"),
    ("bad cidr", _set(["network", "cidr"], "10.0.0.0/33"), "network.cidr", "CIDR"),
    ("public cidr", _set(["network", "cidr"], "8.8.0.0/16"), "network.cidr", "not a private"),
    ("bad removal policy", _set(["removal_policy"], "keep"), "removal_policy", "'destroy'"),
    ("bad e-mail", _set(["alarm_emails"], ["oncall"]), "alarm_emails.0", "email"),
    (
        "min above max",
        _set(["serving", "autoscaling"], {"min_capacity": 5, "max_capacity": 2}),
        "serving.autoscaling",
        "min_capacity (5) is greater than max_capacity (2)",
    ),
    (
        "tuning parallel above total",
        _set(["training", "tuning"], {"max_jobs": 2, "max_parallel_jobs": 4}),
        "training.tuning",
        "max_parallel_jobs (4) exceeds max_jobs (2)",
    ),
    (
        "spot wait below runtime",
        _set(["training", "max_wait_seconds"], 60),
        "training",
        "max_wait_seconds (60) must be larger than max_runtime_seconds",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "reason"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_invalid_config_names_file_field_and_reason(
    tmp_path: Path, change, field: str, reason: str
) -> None:
    path = write_variant(tmp_path, "staging", change)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    message = str(raised.value)
    assert str(path) in message
    assert f": {field}: " in message
    assert reason in message


def test_missing_required_key(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "dev", lambda data: data.pop("region"))
    with pytest.raises(ConfigError, match=r"dev\.yaml: region: required key is missing"):
        load_environment(path)


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text("account: [unclosed\n")
    with pytest.raises(ConfigError, match=r"dev\.yaml: not valid YAML"):
        load_environment(path)


def test_name_must_match_file(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "dev", _set(["name"], "prod"))
    with pytest.raises(ConfigError, match="name: 'prod' does not match the file name"):
        load_environment(path)


def test_unknown_environment_selected() -> None:
    with pytest.raises(ConfigError, match=r"unknown environment.*qa.*has dev, staging, prod"):
        load_environments(["qa"])


def test_bad_config_stops_synth_with_one_clear_message(tmp_path: Path) -> None:
    write_variant(tmp_path, "dev", _set(["network", "max_azs"], 9))
    result = cdk_synth(tmp_path / "out", f"config_dir={tmp_path}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "sagestack: invalid configuration" in output
    assert (
        f"{tmp_path}/dev.yaml: network.max_azs: Input should be less than or equal to 6" in output
    )
    assert "Traceback" not in output
