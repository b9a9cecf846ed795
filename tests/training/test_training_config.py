"""The `training` section rejects what the pipeline could not run, with clear messages."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ground.config.training import TrainingConfig


def _error(**values) -> str:
    with pytest.raises(ValidationError) as caught:
        TrainingConfig.model_validate(values)
    return str(caught.value)


def test_unknown_keys_are_rejected() -> None:
    assert "extra" in _error(instance_typo="ml.m5.large").lower()


def test_tuned_hyperparameters_need_a_default() -> None:
    message = _error(
        hyperparameters={"eta": 0.1},
        tuning={"ranges": {"max_depth": {"kind": "integer", "min": 3, "max": 8}}},
    )
    assert "max_depth" in message and "default" in message


def test_spot_wait_must_cover_runtime() -> None:
    message = _error(use_spot=True, max_runtime_seconds=7200, max_wait_seconds=3600)
    assert "max_wait_seconds (3600)" in message


@pytest.mark.parametrize(
    ("range_", "expected"),
    [
        ({"kind": "continuous", "min": 1, "max": 1}, "must be below"),
        ({"kind": "continuous", "min": 0, "max": 1, "scaling": "Logarithmic"}, "min > 0"),
        ({"kind": "integer", "min": 1.5, "max": 4}, "whole bounds"),
    ],
)
def test_ranges_are_checked(range_: dict, expected: str) -> None:
    message = _error(hyperparameters={"x": 1}, tuning={"ranges": {"x": range_}})
    assert expected in message


def test_hyperparameter_names_are_snake_case() -> None:
    assert "snake_case" in _error(hyperparameters={"Max-Depth": 3})
