"""The demo's lifecycle, run once per session against a real emulator server.

The same functions `sagestack demo` runs: the real CDK CLI deploys dev into the emulator, the
deployed pipeline runs locally, the package is approved, pinned and served, boto3 invokes it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ground.config import EnvironmentConfig, load_environment, load_environments
from sagestack import demo
from sagestack.local import emulator

# The model the demo trains, registers, serves and promotes, and its names in dev.
MODEL = "cancer"
DEPLOYMENT = load_environment(demo.ENVIRONMENT).model(MODEL)
PREFIX = DEPLOYMENT.prefix  # sagestack-dev-cancer
ENDPOINT = DEPLOYMENT.endpoint_name  # sagestack-dev-cancer-serverless


@pytest.fixture(scope="session")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[demo.DemoState]:
    (environment,) = load_environments([demo.ENVIRONMENT])
    state = demo.DemoState(work_dir=tmp_path_factory.mktemp("lifecycle"), config=environment.config)
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
    """dev as deployed by the lifecycle: with the approved package pinned."""
    return lifecycle.config
