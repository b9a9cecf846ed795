"""Fixtures for the local runner and endpoint tests: the bundled-data demo run (shared with
tests/training_code and between pytest-xdist workers through `run_chain(reuse=True)`) and
dummy AWS settings for boto3."""

from __future__ import annotations

import pytest

from sagestack.local.script_chain import ChainRun, run_chain


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> ChainRun:
    base = tmp_path_factory.getbasetemp()
    root = base if worker_id == "master" else base.parent  # one run for every worker
    return run_chain(root / "demo", reuse=True)


@pytest.fixture(scope="session")
def aws_env():
    """boto3 signs requests: give it throwaway settings (the local endpoint ignores them)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        yield
