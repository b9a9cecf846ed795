"""Training settings per model: the environment's `training` defaults, the model's overrides,
and the model's own declaration (hyperparameters, ranges, gate), refused with clear messages
when the pipeline could not run them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from ground.config import ConfigError, load_environments
from ground.config.loader import CONFIG_DIR
from ground.config.model import ModelConfig
from ground.config.training import TrainingConfig

MODEL = {
    "name": "churn",
    "team": "growth",
    "problem_type": "binary",
    "family": "xgboost",
    "gate": {"threshold": 0.8},
    "environments": {"dev": {}},
}


def _training_error(**values) -> str:
    with pytest.raises(ValidationError) as caught:
        TrainingConfig.model_validate(values)
    return str(caught.value)


def _model_error(**values) -> str:
    with pytest.raises(ValidationError) as caught:
        ModelConfig.model_validate({**MODEL, **values})
    return str(caught.value)


def test_unknown_keys_are_rejected() -> None:
    assert "extra" in _training_error(instance_typo="ml.m5.large").lower()
    assert "extra" in _model_error(hyperparameter={"eta": 0.1}).lower()


def test_spot_wait_must_cover_runtime() -> None:
    message = _training_error(use_spot=True, max_runtime_seconds=7200, max_wait_seconds=3600)
    assert "max_wait_seconds (3600)" in message


def test_tuning_budget_is_checked() -> None:
    message = _training_error(tuning={"max_jobs": 2, "max_parallel_jobs": 3})
    assert "max_parallel_jobs (3) exceeds max_jobs (2)" in message


def test_tuned_hyperparameters_need_a_default() -> None:
    message = _model_error(
        hyperparameters={"eta": 0.1},
        tuning_ranges={"max_depth": {"kind": "integer", "min": 3, "max": 8}},
    )
    assert "tuning_ranges names max_depth" in message and "default" in message


@pytest.mark.parametrize(
    ("range_", "expected"),
    [
        ({"kind": "continuous", "min": 1, "max": 1}, "must be below"),
        ({"kind": "continuous", "min": 0, "max": 1, "scaling": "Logarithmic"}, "min > 0"),
        ({"kind": "integer", "min": 1.5, "max": 4}, "whole bounds"),
        ({"kind": "categorical", "min": 1, "max": 4}, "'continuous' or 'integer'"),
    ],
)
def test_ranges_are_checked(range_: dict, expected: str) -> None:
    message = _model_error(hyperparameters={"x": 1}, tuning_ranges={"x": range_})
    assert expected in message


def test_hyperparameter_names_are_identifiers_everywhere() -> None:
    assert "letters, digits and _" in _model_error(hyperparameters={"Max-Depth": 3})
    per_environment = {"dev": {"hyperparameters": {"Max-Depth": 3}}}
    assert "letters, digits and _" in _model_error(environments=per_environment)


def test_a_hyperparameter_may_not_shadow_a_pipeline_parameter() -> None:
    message = _model_error(hyperparameters={"gate_threshold": 0.5})
    assert "would be the pipeline parameter GateThreshold" in message


def test_the_committed_models_declare_what_their_pipelines_tune() -> None:
    for environment in load_environments():
        for deployment in environment.models:
            model = deployment.model
            assert model.tuning_ranges, f"{model.name}: every committed model is tuned"
            assert set(model.tuning_ranges) <= set(deployment.hyperparameters)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


def _edit(path: Path, change) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_training_merges_environment_model_and_per_environment_layers(config_dir: Path) -> None:
    def change(data: dict) -> None:
        data["training"] = {"instance_type": "ml.c5.2xlarge", "tuning": {"max_jobs": 30}}
        data["environments"]["prod"]["training"] = {"instance_count": 3}

    _edit(config_dir / "models" / "wine.yaml", change)
    environments = {e.name: e for e in load_environments([], config_dir)}
    prod_wine = environments["prod"].model("wine").training
    assert (prod_wine.instance_type, prod_wine.instance_count) == ("ml.c5.2xlarge", 3)
    assert prod_wine.tuning.max_jobs == 30
    # Everything not overridden is prod's default.
    assert prod_wine.tuning.max_parallel_jobs == 4 and prod_wine.use_spot is False
    assert prod_wine.triggers.schedule == "cron(0 3 ? * MON *)"
    assert environments["dev"].model("wine").training.instance_count == 1
    assert environments["prod"].model("cancer").training.instance_type == "ml.m5.2xlarge"


def test_a_bad_training_override_names_the_model_file_and_field(config_dir: Path) -> None:
    def change(data: dict) -> None:
        data["environments"]["staging"]["training"] = {"max_wait_seconds": 60}

    path = _edit(config_dir / "models" / "cancer.yaml", change)
    with pytest.raises(ConfigError) as raised:
        load_environments([], config_dir)
    message = str(raised.value)
    assert f"{path}: environments.staging.training: " in message
    assert "max_wait_seconds (60) must be larger than max_runtime_seconds" in message


def test_hyperparameters_and_gate_threshold_are_per_environment(config_dir: Path) -> None:
    environments = {e.name: e for e in load_environments([], config_dir)}
    dev, prod = environments["dev"].model("cancer"), environments["prod"].model("cancer")
    assert dev.hyperparameters["num_round"] == 300 and prod.hyperparameters["num_round"] == 500
    assert (dev.gate_threshold, prod.gate_threshold) == (0.9, 0.95)
    assert environments["prod"].model("diabetes").gate_threshold == 0.3
