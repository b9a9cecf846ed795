"""The synth needs no AWS account (byte-identical synths: tests/serving/test_serving_gates.py)."""

from __future__ import annotations

from tests.synth import Assembly


def test_synth_needs_no_lookups(assembly: Assembly) -> None:
    """Nothing in the assembly asks for context that only an AWS account could provide."""
    for manifest in assembly.directory.glob("assembly-*/manifest.json"):
        assert '"missing"' not in manifest.read_text(), manifest
