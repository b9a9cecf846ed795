"""Fixtures of the monitoring analyses: baselines written by preprocess.py itself (training_code
on sys.path, as tests/training_code imports it) from seeded splits of the bundled data sets."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from sagestack.datasets import DATASETS, TARGET
from sagestack.local.script_chain import TRAINING_CODE

if str(TRAINING_CODE) not in sys.path:
    sys.path.insert(0, str(TRAINING_CODE))

import preprocess


@dataclass(frozen=True)
class Baseline:
    """A data set's training rows' baseline and its held-out rows (features only)."""

    statistics: dict
    constraints: dict
    train: pd.DataFrame
    held_out: pd.DataFrame


def make_baseline(name: str, seed: int = 0, train_fraction: float = 0.7) -> Baseline:
    """preprocess.py's baseline of a seeded `train_fraction` of a bundled data set (features
    numeric as preprocess encodes them, columns named _c0, _c1, ... as in the baseline)."""
    frame = DATASETS[name].load().drop(columns=[TARGET]).astype(float)
    frame = frame.set_axis(preprocess.monitor_column_names(frame.columns), axis=1)
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = int(len(frame) * train_fraction)
    train, held_out = frame.iloc[order[:cut]], frame.iloc[order[cut:]]
    statistics = preprocess.statistics(train)
    return Baseline(statistics, preprocess.constraints(statistics), train, held_out)


@pytest.fixture(scope="session")
def cancer() -> Baseline:
    return make_baseline("breast_cancer")
