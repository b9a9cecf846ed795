"""The project's other gates on the pinned synth: cfn-lint, checkov, and determinism (of the
whole app: every environment's stacks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gates import cfn_lint, checkov, failed_checks, unjustified_skips
from tests.serving.pinned import MODELS, PINNED, PinnedSynth
from tests.synth import Assembly, cdk_synth

OURS = ("-serving", "-monitoring")


def _our_templates(assembly: Assembly) -> dict[tuple[str, str], Path]:
    """Every model's serving and monitoring templates."""
    return {key: path for key, path in assembly.template_paths().items() if key[1].endswith(OURS)}


def test_cfn_lint_finds_nothing_in_serving_and_monitoring(pinned: PinnedSynth) -> None:
    paths = list(_our_templates(pinned.assembly).values())
    assert len(paths) == 2 * len(PINNED) * len(MODELS)
    result = cfn_lint(paths)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_fails_nothing_and_every_skip_has_a_reason(pinned: PinnedSynth) -> None:
    report = checkov(pinned.assembly.directory)
    assert failed_checks(report) == []
    assert unjustified_skips(report) == []


@pytest.mark.slow
def test_second_synth_is_byte_identical(pinned: PinnedSynth, tmp_path: Path) -> None:
    """Two synths of the same commit write the same bytes, so `cdk diff` shows only real
    changes: every stack kind, every model's stacks included, of prod (the environment with
    the most; synthesized alone, it is also what `-c envs=` gives)."""
    result = cdk_synth(tmp_path / "again", f"config_dir={pinned.config_dir}", "envs=prod")
    assert result.returncode == 0, result.stderr
    again = Assembly(tmp_path / "again").template_paths()
    first = {
        key: path for key, path in pinned.assembly.template_paths().items() if key[0] == "prod"
    }
    assert first.keys() == again.keys()
    names = {name for _, name in first}
    kinds = ("training", "serving", "monitoring")
    assert {"data", "network", "studio", *(f"{m}-{k}" for m in MODELS for k in kinds)} <= names
    for key, path in first.items():
        assert path.read_bytes() == again[key].read_bytes(), f"{key} differs"
