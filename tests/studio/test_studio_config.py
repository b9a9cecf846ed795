"""The `studio` section: each mistake stops the config with one line naming file and field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.config import ConfigError, load_environments
from ground.config.loader import CONFIG_DIR

Change = Callable[[dict[str, Any]], None]


def _studio(**values: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        data["studio"].update(values)

    return change


def _profile(**values: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        data["studio"]["user_profiles"][0].update(values)

    return change


CASES = [
    (
        "dev.yaml",
        _profile(team="nobody"),
        "studio.user_profiles.0.team: no model in config/models/ belongs to team nobody",
    ),
    (
        "prod.yaml",
        _studio(user_profiles=[{"name": "ana", "persona": "data-scientist", "team": "oncology"}]),
        "studio.user_profiles: a production environment gives no Studio user access",
    ),
    (
        "dev.yaml",
        _studio(auth="sso"),
        "studio: user_profiles.0: with auth sso, a profile needs sso_user",
    ),
    (
        "dev.yaml",
        _profile(sso_user="ana"),
        "studio: user_profiles.0: with auth iam, a profile takes no sso_user",
    ),
    (
        "dev.yaml",
        _studio(default_instance_type="ml.m5.xlarge"),
        "studio: default_instance_type ml.m5.xlarge is not in allowed_instance_types",
    ),
    (
        "dev.yaml",
        _studio(allowed_instance_types=["ml.t3.medium", "ml.m5.huge"]),
        "studio.allowed_instance_types: ml.m5.huge: not an instance type",
    ),
    ("dev.yaml", _studio(apps=["canvas"]), "studio.apps: jupyterlab is the default experience"),
    (
        "dev.yaml",
        _studio(idle_shutdown={"timeout_minutes": 30}),
        "studio.idle_shutdown.timeout_minutes: Input should be greater than or equal to 60",
    ),
    (
        "dev.yaml",
        _studio(idle_shutdown={"timeout_minutes": 300, "max_timeout_minutes": 120}),
        "studio.idle_shutdown: timeout_minutes (300) is above max_timeout_minutes (120)",
    ),
    (
        "dev.yaml",
        _profile(name="default"),
        "studio: user_profiles: 'default' names the domain's default role",
    ),
    (
        "dev.yaml",
        _profile(persona="admin"),
        "studio.user_profiles.0.persona: Input should be 'data-scientist' or 'ml-engineer'",
    ),
    (
        "dev.yaml",
        _profile(name="Ana_Smith"),
        "studio.user_profiles.0.name: String should match pattern",
    ),
]


@pytest.mark.parametrize(("file", "change", "expected"), CASES, ids=[c[2][:40] for c in CASES])
def test_a_mistake_is_one_line_naming_file_and_field(
    tmp_path: Path, file: str, change: Change, expected: str
) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    path = config_dir / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_environments(config_dir=config_dir)
    (line,) = str(raised.value).splitlines()
    assert line.startswith(f"{path}: {expected}"), line


def test_the_committed_studio_sections_load() -> None:
    for environment in load_environments():
        assert "jupyterlab" in environment.config.studio.apps
