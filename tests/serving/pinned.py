"""One CLI synth of the app with a model pinned in every environment, shared by both suites.

The committed configs pin nothing until a promotion does, so these tests copy them and pin:
  dev      {group, version} of its own registry (serverless endpoint)
  staging  dev's package by ARN, and an explicit baseline_uri (instance endpoint, guardrails)
  prod     dev's package by ARN with its baseline (as promote pins), a batch schedule (min 2)
  qa       a copy of dev that pins nothing: no serving or monitoring stack, and says so
Everything else comes from config/*.yaml, so the assertions follow the committed values.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aws_cdk.assertions import Template

from ground.config import EnvironmentConfig, load_environments
from ground.config.loader import CONFIG_DIR
from tests.synth import Assembly, cdk_synth

DEV_PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-models/3"
STAGING_BASELINE = (
    "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/"
    "models/sagestack-dev-training/run-1/baseline/"
)
PROD_BASELINE = (
    "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/"
    "models/sagestack-dev-training/run-3/baseline/"
)
PROD_BATCH_SCHEDULE = "cron(0 4 * * ? *)"
PINNED = ("dev", "staging", "prod")
UNPINNED = "qa"


def _load(env: str) -> dict:
    return yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text(encoding="utf-8"))


def _pin(env: str, data: dict) -> None:
    serving, monitor = data["serving"], data["monitoring"]["model_monitor"]
    if env == "dev":
        serving["model"] = {"group": "sagestack-dev-models", "version": 3}
        return
    if env == "staging":
        serving["model"] = {"arn": DEV_PACKAGE}
        monitor["baseline_uri"] = STAGING_BASELINE
    else:
        serving["model"] = {"arn": DEV_PACKAGE, "baseline_uri": PROD_BASELINE}
        serving["batch_transform"]["schedule"] = PROD_BATCH_SCHEDULE


def _pinned_configs(directory: Path) -> None:
    for env in PINNED:
        data = _load(env)
        _pin(env, data)
        (directory / f"{env}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (directory / f"{UNPINNED}.yaml").write_text(yaml.safe_dump(_load("dev")), encoding="utf-8")


@dataclass(frozen=True)
class PinnedSynth:
    result: subprocess.CompletedProcess[str]
    assembly: Assembly
    config_dir: Path

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr

    def template(self, env: str, stack: str) -> Template:
        return Template.from_json(self.assembly.template(env, stack))

    def raw(self, env: str, stack: str) -> dict:
        return self.assembly.template(env, stack)

    def configs(self) -> dict[str, EnvironmentConfig]:
        return {c.name: c for c in load_environments([], self.config_dir)}


_SYNTHS: dict[str, PinnedSynth] = {}


def pinned_synth(factory: pytest.TempPathFactory) -> PinnedSynth:
    """Synthesized once per test session, whichever suite asks first."""
    if "synth" not in _SYNTHS:
        config_dir = factory.mktemp("pinned-config")
        _pinned_configs(config_dir)
        outdir = factory.mktemp("pinned-cdk-out")
        result = cdk_synth(outdir, f"config_dir={config_dir}")
        assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
        _SYNTHS["synth"] = PinnedSynth(result, Assembly(outdir), config_dir)
    return _SYNTHS["synth"]


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def only(template: dict, kind: str) -> dict:
    (found,) = resources(template, kind).values()
    return found["Properties"]


def dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.fixture(scope="session")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> PinnedSynth:
    return pinned_synth(tmp_path_factory)


@pytest.fixture(scope="session")
def configs(pinned: PinnedSynth) -> dict[str, EnvironmentConfig]:
    return pinned.configs()
