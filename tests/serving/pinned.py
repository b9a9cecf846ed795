"""One CLI synth of the app with every model pinned in every environment, shared by suites.

The committed configs pin nothing until a promotion does, so these tests copy them and pin
each model (see `_pin`), and add an environment qa that hosts cancer without a pin: no serving
or monitoring stack there, and the synth says so. Everything else comes from config/, so the
assertions follow the committed values.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aws_cdk.assertions import Template

from ground.config import Environment, load_environments
from ground.config.loader import CONFIG_DIR
from tests.synth import Assembly, shared_synth

MODELS = ("cancer", "wine", "diabetes")
# The model the per-environment assertions look at; isolation tests look at all of them.
MODEL = "cancer"
PINNED = ("dev", "staging", "prod")
UNPINNED = "qa"
PROD_BATCH_SCHEDULE = "cron(0 4 * * ? *)"
ARTIFACTS = "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/models"


def dev_package(model: str) -> str:
    return f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-{model}/3"


def staging_baseline(model: str) -> str:
    return f"{ARTIFACTS}/sagestack-dev-{model}-training/run-1/baseline/"


def prod_baseline(model: str) -> str:
    return f"{ARTIFACTS}/sagestack-dev-{model}-training/run-3/baseline/"


DEV_PACKAGE = dev_package("cancer")
STAGING_BASELINE = staging_baseline("cancer")
PROD_BASELINE = prod_baseline("cancer")


def _pin(model: str, environments: dict) -> None:
    """dev: {group, version} of its own registry (serverless); staging: dev's package by ARN,
    monitored against an explicit baseline_uri (data quality only); prod: dev's package with
    its baseline (as promote pins), and a batch schedule."""
    environments["dev"]["serving"] = {"model": {"group": f"sagestack-dev-{model}", "version": 3}}
    environments["staging"]["serving"] = {"model": {"arn": dev_package(model)}}
    environments["staging"]["monitoring"] = {
        "model_monitor": {"baseline_uri": staging_baseline(model)},
        # A pin without a training run has no model-quality constraints to score against.
        "model_quality": {"enabled": False},
    }
    environments["prod"]["serving"] = {
        "model": {"arn": dev_package(model), "baseline_uri": prod_baseline(model)},
        "batch_transform": {"schedule": PROD_BATCH_SCHEDULE},
    }


def _pinned_configs(directory: Path) -> None:
    """config/ with every model pinned in dev, staging and prod, and an environment qa (a
    copy of dev) that hosts the cancer model without a pin."""
    shutil.copytree(CONFIG_DIR, directory, dirs_exist_ok=True)
    for model in MODELS:
        path = directory / "models" / f"{model}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _pin(model, data["environments"])
        if model == "cancer":
            data["environments"][UNPINNED] = {}
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
    platform = directory / "platform.yaml"
    platform.write_text(yaml.safe_dump({"environments": [*PINNED, UNPINNED]}), encoding="utf-8")
    shutil.copy(directory / "dev.yaml", directory / f"{UNPINNED}.yaml")


@dataclass(frozen=True)
class PinnedSynth:
    output: str  # what the CLI printed
    assembly: Assembly
    config_dir: Path

    def template(self, env: str, stack: str) -> Template:
        return Template.from_json(self.assembly.template(env, stack))

    def raw(self, env: str, stack: str) -> dict:
        return self.assembly.template(env, stack)

    def environments(self) -> dict[str, Environment]:
        return {e.name: e for e in load_environments([], self.config_dir)}


def _prepare(workdir: Path) -> tuple[str, ...]:
    _pinned_configs(workdir / "config")
    return (f"config_dir={workdir / 'config'}",)


def pinned_synth(factory: pytest.TempPathFactory) -> PinnedSynth:
    """Synthesized once per test session, whichever suite (and worker) asks first."""
    shared = shared_synth(factory, "pinned", _prepare)
    return PinnedSynth(shared.output, shared.assembly, shared.workdir / "config")


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
def environments(pinned: PinnedSynth) -> dict[str, Environment]:
    return pinned.environments()
