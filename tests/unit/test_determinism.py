"""Two synths of the same commit produce the same bytes, so `cdk diff` shows only real changes."""

from __future__ import annotations

from pathlib import Path

from tests.synth import Assembly, cdk_synth


def test_second_synth_is_byte_identical(assembly: Assembly, tmp_path: Path) -> None:
    result = cdk_synth(tmp_path / "again")
    assert result.returncode == 0, result.stderr
    again = Assembly(tmp_path / "again")
    first_paths = assembly.template_paths()
    second_paths = again.template_paths()
    assert first_paths.keys() == second_paths.keys()
    # Every model's stacks are compared, in every environment.
    assert {name for _, name in first_paths} == {
        "data",
        "network",
        "studio",
        *(f"{model}-training" for model in ("cancer", "wine", "diabetes")),
    }
    for key, path in first_paths.items():
        assert path.read_bytes() == second_paths[key].read_bytes(), f"{key} differs"


def test_synth_needs_no_lookups(assembly: Assembly) -> None:
    """Nothing in the assembly asks for context that only an AWS account could provide."""
    for manifest in assembly.directory.glob("assembly-*/manifest.json"):
        assert '"missing"' not in manifest.read_text(), manifest
