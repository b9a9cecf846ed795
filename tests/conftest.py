"""Session-wide fixtures: the app is synthesized once, with the real CDK CLI, and shared."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from tests.synth import Assembly, shared_synth

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    return shared_synth(tmp_path_factory, "app").assembly


@pytest.fixture(scope="session")
def templates(assembly: Assembly) -> dict[tuple[str, str], Template]:
    """Every synthesized template as an assertions.Template, keyed by (env, stack)."""
    return {key: Template.from_json(assembly.template(*key)) for key in assembly.template_paths()}


# Tests that share one expensive session fixture run in one pytest-xdist worker
# (`make test` runs `pytest -n 2 --dist loadgroup`), so the fixture is built once (the synths
# several folders read are shared between workers: tests/synth.py's shared_synth).
XDIST_GROUPS = {
    "integration": "lifecycle",
    "serving": "pinned-synth",
    "monitoring": "pinned-synth",
    "delivery": "delivery-synth",
    "review": "review",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadgroup` by folder: each of XDIST_GROUPS' folders runs in one worker, other
    tests anywhere. (pytest-xdist 3.8 groups by appending `@group` to a test's `_nodeid`,
    which pytest 9 no longer reads: its own loadgroup grouped nothing.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FolderGroups(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            folder = nodeid.split("/")[1] if nodeid.startswith("tests/") else ""
            return XDIST_GROUPS.get(folder, nodeid)

    return FolderGroups(config, log)
