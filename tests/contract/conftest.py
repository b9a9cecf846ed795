"""Contract fixtures: the dev training definition as synthesized (the session's one synth)."""

from __future__ import annotations

import copy

import pytest

from sagestack.local.pipeline.assembly import load_pipelines
from tests.synth import Assembly


@pytest.fixture(scope="session")
def dev_pipelines(assembly: Assembly) -> dict[str, dict]:
    return {
        name: source.definition
        for name, source in load_pipelines(assembly.directory, "dev").items()
    }


@pytest.fixture
def training(dev_pipelines: dict[str, dict]) -> dict:
    """A fresh copy of dev's training definition, free to break."""
    return copy.deepcopy(dev_pipelines["sagestack-dev-cancer-training"])


def step(definition: dict, name: str) -> dict:
    return next(s for s in definition["Steps"] if s["Name"] == name)


def parameter(definition: dict, name: str) -> dict:
    return next(p for p in definition["Parameters"] if p["Name"] == name)
