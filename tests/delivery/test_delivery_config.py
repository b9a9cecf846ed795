"""config/delivery/pipeline.yaml: validated, and never mistaken for an environment."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ground.config import ConfigError
from ground.config.delivery import DELIVERY_FILE, load_delivery
from ground.config.loader import CONFIG_DIR, environment_names


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, directory)
    return directory


def edit(config_dir: Path, old: str, new: str) -> Path:
    path = config_dir / DELIVERY_FILE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_the_pipeline_file_is_not_an_environment() -> None:
    assert environment_names(CONFIG_DIR) == ["dev", "staging", "prod"]
    assert load_delivery().approval_before == ["prod"]


def test_an_invalid_value_names_file_and_field(config_dir: Path) -> None:
    path = edit(config_dir, "arn:aws:codeconnections:", "arn:aws:codecommit:")
    with pytest.raises(ConfigError, match=rf"^{path}: connection_arn: String should match"):
        load_delivery(config_dir)


def test_an_unknown_environment_is_named(config_dir: Path) -> None:
    path = edit(config_dir, "approval_before: [prod]", "approval_before: [production]")
    with pytest.raises(
        ConfigError, match=rf"^{path}: approval_before: unknown environment\(s\) production; "
    ):
        load_delivery(config_dir)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"delivery/pipeline\.yaml: file not found"):
        load_delivery(tmp_path)
