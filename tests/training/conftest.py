"""Training fixtures on top of the session-wide synth of tests/conftest.py (one synth in all):
every model's pipelines in every environment, and the deployments they were built from."""

from __future__ import annotations

import pytest

from ground.config import ModelDeployment, load_environments
from sagestack.local.pipeline.assembly import PipelineSource, load_pipelines
from tests.synth import Assembly

ENVIRONMENTS = ("dev", "staging", "prod")
MODELS = ("cancer", "wine", "diabetes")
EVERY = [(env, model) for env in ENVIRONMENTS for model in MODELS]
EVERY_IDS = [f"{env}-{model}" for env, model in EVERY]


@pytest.fixture(scope="session")
def deployments() -> dict[tuple[str, str], ModelDeployment]:
    """Every committed model in every environment, as the config merges it."""
    return {
        (environment.name, deployment.name): deployment
        for environment in load_environments(list(ENVIRONMENTS))
        for deployment in environment.models
    }


@pytest.fixture(scope="session")
def all_pipelines(assembly: Assembly) -> dict[str, dict[str, PipelineSource]]:
    """Each environment's pipelines by name, as the templates hold them, tokens resolved."""
    return {env: load_pipelines(assembly.directory, env) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def pipelines(all_pipelines) -> dict[tuple[str, str], PipelineSource]:
    """Each model's training pipeline in each environment."""
    return {
        (env, model): all_pipelines[env][f"sagestack-{env}-{model}-training"]
        for env, model in EVERY
    }


@pytest.fixture(scope="session")
def tuning_pipelines(all_pipelines) -> dict[tuple[str, str], PipelineSource]:
    """Each model's tuning pipeline (every committed model gives tuning ranges)."""
    return {
        (env, model): all_pipelines[env][f"sagestack-{env}-{model}-tuning"] for env, model in EVERY
    }
