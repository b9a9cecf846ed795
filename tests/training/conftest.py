"""Training fixtures on top of the session-wide synth of tests/conftest.py (one synth in all)."""

from __future__ import annotations

import pytest

from ground.config import EnvironmentConfig, load_environments
from sagestack.local.pipeline.assembly import PipelineSource, load_pipeline, load_pipelines
from tests.synth import Assembly

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def configs() -> dict[str, EnvironmentConfig]:
    return {config.name: config for config in load_environments(list(ENVIRONMENTS))}


@pytest.fixture(scope="session")
def pipelines(assembly: Assembly) -> dict[str, PipelineSource]:
    """Each environment's pipeline as the template holds it, tokens resolved locally."""
    return {env: load_pipeline(assembly.directory, env) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def tuning_pipelines(assembly: Assembly) -> dict[str, PipelineSource]:
    """Each environment's tuning pipeline (every committed config gives tuning ranges)."""
    return {
        env: load_pipelines(assembly.directory, env)[f"sagestack-{env}-tuning"]
        for env in ENVIRONMENTS
    }
