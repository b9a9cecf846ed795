"""Config validation: every mistake names the file, the field and the reason, and the config
refuses what AWS would refuse."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.config import ConfigError, load_environment, load_environments
from ground.config.loader import CONFIG_DIR
from tests.synth import cdk_synth

Change = Callable[[dict], None]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of config/ to break."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


def edit(config_dir: Path, relative: str, change: Change) -> Path:
    path = config_dir / relative
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))
    return path


def _set(path: list[str], value: Any) -> Change:
    def change(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value

    return change


def _error(config_dir: Path, envs: list[str] | None = None) -> str:
    with pytest.raises(ConfigError) as raised:
        load_environments(envs or [], config_dir)
    message = str(raised.value)
    assert "Traceback" not in message
    return message


def test_the_committed_platform_hosts_three_models_in_three_environments() -> None:
    environments = load_environments()
    assert [e.name for e in environments] == ["dev", "staging", "prod"]
    for environment in environments:
        models = {d.name: d for d in environment.models}
        assert set(models) == {"cancer", "wine", "diabetes"}
        assert models["cancer"].prefix == f"sagestack-{environment.name}-cancer"
    dev, _, prod = environments
    assert prod.config.retains_data and not dev.config.retains_data
    assert dev.model("wine").serving.is_serverless
    assert prod.model("wine").serving.instance is not None
    assert prod.model("cancer").hyperparameters["num_round"] == 500
    assert dev.model("cancer").hyperparameters["num_round"] == 300
    assert prod.model("cancer").gate_threshold == 0.95
    assert load_environment("staging").model("wine").model.estimator == "random_forest"


ENVIRONMENT_CASES = [
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
    (
        "instance type that does not exist",
        _set(["serving", "instance", "instance_type"], "ml.m5.huge"),
        "serving.instance.instance_type",
        "'ml.m5.huge' is not an instance type CreateEndpointConfig accepts",
    ),
    (
        "instance type prefix only",
        _set(["training", "instance_type"], "ml."),
        "training.instance_type",
        "'ml.' is not an instance type CreateTrainingJob accepts",
    ),
    (
        "processing type that is a training type only",
        _set(["training", "processing_instance_type"], "ml.p3dn.24xlarge"),
        "training.processing_instance_type",
        "ml.p3dn.24xlarge",
    ),
    (
        "instance type with local storage",
        _set(["serving", "instance", "instance_type"], "ml.m5d.large"),
        "serving.instance.instance_type",
        "local NVMe storage",
    ),
    (
        "empty KMS ARN",
        _set(["training", "assets_key_arn"], "arn:aws:kms:::key/"),
        "training.assets_key_arn",
        "is not a KMS key or alias ARN",
    ),
    (
        "KMS key of another region",
        _set(
            ["training", "assets_key_arn"],
            "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        "(top level)",
        "a key of region us-east-1, the environment is in eu-west-1",
    ),
    (
        "a pin in the environment file",
        _set(["serving", "model"], {"group": "sagestack-dev-cancer", "version": 1}),
        "(top level)",
        "pins belong to each model",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [case[1:] for case in ENVIRONMENT_CASES],
    ids=[case[0] for case in ENVIRONMENT_CASES],
)
def test_a_bad_environment_file_is_named_with_field_and_reason(
    config_dir: Path, change: Change, field: str, reason: str
) -> None:
    path = edit(config_dir, "staging.yaml", change)
    message = _error(config_dir, ["staging"])
    assert f"{path}: {field}: " in message
    assert reason in message


MODEL_CASES = [
    ("unknown key", _set(["tema"], "x"), "tema", "unknown key"),
    ("problem type", _set(["problem_type"], "ranking"), "problem_type", "'binary'"),
    ("family", _set(["family"], "pytorch"), "family", "family 'pytorch' is not one of"),
    (
        "estimator of another problem type",
        _set(["estimator"], "linear_regression"),
        "(top level)",
        "estimator 'linear_regression' is not one the sklearn family offers for multiclass",
    ),
    (
        "gate metric of another problem type",
        _set(["gate", "metric"], "rmse"),
        "(top level)",
        "gate.metric 'rmse' is not a multiclass metric",
    ),
    (
        "hyperparameter that is a pipeline parameter",
        _set(["hyperparameters", "max_runtime_seconds"], 5),
        "(top level)",
        "would be the pipeline parameter MaxRuntimeSeconds",
    ),
    (
        "tuned hyperparameter without a default",
        _set(["tuning_ranges", "criterion_depth"], {"kind": "integer", "min": 1, "max": 3}),
        "(top level)",
        "tuning_ranges names criterion_depth",
    ),
    (
        "environment not declared",
        _set(["environments", "qa"], {}),
        "environments",
        "qa is not a declared environment",
    ),
    (
        "per-environment bad instance type",
        _set(["environments", "staging", "serving", "instance"], {"instance_type": "ml.m5.huge"}),
        "environments.staging.serving.instance.instance_type",
        "'ml.m5.huge' is not an instance type",
    ),
    (
        "per-environment unknown serving key",
        _set(["environments", "staging", "serving", "capture"], 10),
        "environments.staging.serving.capture",
        "unknown key",
    ),
    (
        "pin of another model's group",
        _set(
            ["environments", "staging", "serving", "model"],
            {
                "arn": (
                    "arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-cancer/1"
                )
            },
        ),
        "environments.staging.serving.model",
        "'sagestack-dev-cancer' is not a registry group of model wine",
    ),
    (
        "pin of another region",
        _set(
            ["environments", "staging", "serving", "model"],
            {
                "arn": (
                    "arn:aws:sagemaker:us-east-1:123456789012:model-package/sagestack-dev-wine/1"
                )
            },
        ),
        "environments.staging.serving.model.arn",
        "the package is in region us-east-1, the environment in eu-west-1",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [case[1:] for case in MODEL_CASES],
    ids=[case[0] for case in MODEL_CASES],
)
def test_a_bad_model_file_is_named_with_field_and_reason(
    config_dir: Path, change: Change, field: str, reason: str
) -> None:
    path = edit(config_dir, "models/wine.yaml", change)
    message = _error(config_dir)
    assert f"{path}: {field}: " in message, message
    assert reason in message


def test_a_hyperparameter_named_like_the_old_gate_is_just_a_hyperparameter(config_dir) -> None:
    edit(config_dir, "models/cancer.yaml", _set(["hyperparameters", "min_roc_auc"], 0.5))
    assert load_environment("dev", config_dir).model("cancer").hyperparameters["min_roc_auc"]


def test_a_value_from_the_environment_defaults_is_blamed_on_the_environment_file(
    config_dir: Path,
) -> None:
    path = edit(config_dir, "staging.yaml", _set(["serving", "data_capture_percent"], 0))
    message = _error(config_dir, ["staging"])
    assert f"{path}: serving.data_capture_percent: " in message


@pytest.mark.parametrize("relative", ["staging.yaml", "models/cancer.yaml"])
def test_a_duplicate_key_is_named_with_its_line(config_dir: Path, relative: str) -> None:
    path = config_dir / relative
    lines = path.read_text().splitlines()
    index = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("  max_azs:") or line.startswith("  target:")
    )
    lines.insert(index + 1, lines[index])
    path.write_text("\n".join(lines) + "\n")
    message = _error(config_dir)
    key = lines[index].split(":")[0].strip()
    assert f"{path}: line {index + 2}: key '{key}' is already set on line {index + 1}" in message


def test_a_deep_duplicate_key_is_found_too(config_dir: Path) -> None:
    path = config_dir / "models" / "cancer.yaml"
    path.write_text(
        path.read_text().replace(
            "    gate: {threshold: 0.95}", "    gate: {threshold: 0.95, threshold: 0.5}", 1
        )
    )
    assert "key 'threshold' is already set" in _error(config_dir)


def test_a_missing_or_renamed_environment_file_is_an_error(config_dir: Path) -> None:
    (config_dir / "prod.yaml").rename(config_dir / "prod.yml")
    message = _error(config_dir)
    assert "environments: prod is declared but" in message and "prod.yaml does not exist" in message


def test_a_stray_environment_file_is_an_error(config_dir: Path) -> None:
    shutil.copy(config_dir / "dev.yaml", config_dir / "qa.yml")
    message = _error(config_dir)
    assert f"{config_dir / 'qa.yml'}: not an environment declared in" in message


def test_a_model_file_with_the_wrong_suffix_is_an_error(config_dir: Path) -> None:
    (config_dir / "models" / "wine.yaml").rename(config_dir / "models" / "wine.yml")
    assert "model files end in .yaml" in _error(config_dir)


PRODUCTION_RULES = [
    ("destroy_data", "prod.yaml", _set(["removal_policy"], "destroy"), "retains its data"),
    ("single_az", "prod.yaml", _set(["network", "max_azs"], 1), "at least 2 availability zones"),
    (
        "no_guardrails",
        "prod.yaml",
        _set(["serving", "guardrails", "enabled"], False),
        "deploys with guardrails",
    ),
    (
        "single_instance",
        "prod.yaml",
        _set(["serving", "autoscaling", "min_capacity"], 1),
        "keeps at least 2 instances",
    ),
]


@pytest.mark.parametrize(
    ("exception", "relative", "change", "reason"),
    PRODUCTION_RULES,
    ids=[rule[0] for rule in PRODUCTION_RULES],
)
def test_production_rules_hold_unless_waived_by_name(
    config_dir: Path, exception: str, relative: str, change: Change, reason: str
) -> None:
    edit(config_dir, relative, change)
    if exception in ("no_guardrails", "single_instance"):
        for model in ("cancer", "wine", "diabetes"):
            edit(
                config_dir,
                f"models/{model}.yaml",
                _set(
                    ["environments", "prod", "serving", "model"],
                    {
                        "arn": f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/"
                        f"sagestack-dev-{model}/1",
                        "baseline_uri": "s3://sagestack-dev-ml-artifacts-"
                        f"123456789012-eu-west-1/models/sagestack-dev-{model}-training/run-1/baseline/",
                    },
                ),
            )
    message = _error(config_dir, ["prod"])
    assert reason in message and f"production_exceptions.{exception}" in message
    edit(
        config_dir,
        "prod.yaml",
        _set(
            ["production_exceptions", exception], "A reviewed, written-down reason for the waiver."
        ),
    )
    assert load_environment("prod", config_dir).config.production


def test_missing_required_key(config_dir: Path) -> None:
    path = edit(config_dir, "dev.yaml", lambda data: data.pop("region"))
    assert f"{path}: region: required key is missing" in _error(config_dir)


def test_not_yaml(config_dir: Path) -> None:
    (config_dir / "dev.yaml").write_text("account: [unclosed\n")
    assert f"{config_dir / 'dev.yaml'}: not valid YAML" in _error(config_dir)


def test_name_must_match_file(config_dir: Path) -> None:
    edit(config_dir, "dev.yaml", _set(["name"], "prod"))
    assert "name: 'prod' does not match the file name" in _error(config_dir)


def test_unknown_environment_selected() -> None:
    with pytest.raises(ConfigError, match=r"unknown environment.*qa.*declares dev, staging, prod"):
        load_environments(["qa"])


def test_bad_config_stops_synth_with_one_clear_message(config_dir: Path, tmp_path: Path) -> None:
    edit(config_dir, "dev.yaml", _set(["network", "max_azs"], 9))
    result = cdk_synth(tmp_path / "out", f"config_dir={config_dir}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "sagestack: invalid configuration" in output
    assert (
        f"{config_dir}/dev.yaml: network.max_azs: Input should be less than or equal to 6" in output
    )
    assert "Traceback" not in output
