"""Session-wide fixtures: the app is synthesized once, with the real CDK CLI, and shared."""

from __future__ import annotations

from pathlib import Path

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
# (`make test` runs `pytest -n 2 --dist loadgroup`), so the fixture is built once.
XDIST_GROUPS = {
    "integration": "lifecycle",
    "serving": "pinned-synth",
    "monitoring": "pinned-synth",
    "delivery": "delivery-synth",
    "review": "review",
}


@pytest.hookimpl(tryfirst=True)  # before xdist turns the marks into scheduling groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).parent
    for item in items:
        top = item.path.relative_to(tests_dir).parts[0]
        if top in XDIST_GROUPS:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUPS[top]))
