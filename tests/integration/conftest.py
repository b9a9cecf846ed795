"""The demo's lifecycle, run once per session against a real emulator server.

The same functions `sagestack demo` runs: the real CDK CLI deploys dev into the emulator, every
model's deployed pipeline runs locally, the packages are approved, pinned and served, boto3
invokes each endpoint, and one model is promoted to staging.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ground.config import EnvironmentConfig, load_environment
from sagestack import demo
from sagestack.local import emulator

DEV = load_environment(demo.ENVIRONMENT)
MODELS = tuple(sorted(d.name for d in DEV.models))
# The model whose stacks the deploy tests describe in detail, and the one promoted.
MODEL = demo.PROMOTED
PREFIX = DEV.model(MODEL).prefix  # sagestack-dev-cancer


@pytest.fixture(scope="session")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[demo.DemoState]:
    state = demo.new_state(tmp_path_factory.mktemp("lifecycle"))
    try:
        demo.lifecycle(state)
        yield state
    finally:
        demo.teardown(state, keep=False)


@pytest.fixture(scope="session")
def running_emulator(lifecycle: demo.DemoState) -> emulator.Emulator:
    assert lifecycle.server is not None
    return lifecycle.server


@pytest.fixture(scope="session")
def dev_config(lifecycle: demo.DemoState) -> EnvironmentConfig:
    """dev as deployed by the lifecycle."""
    return lifecycle.environment.config
