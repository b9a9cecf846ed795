"""Monitoring fixtures: the pinned synth, shared with tests/serving (one synth in all)."""

from tests.serving.pinned import environments, pinned

__all__ = ["environments", "pinned"]
