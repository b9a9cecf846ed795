"""Fixtures for the container scripts: bundled data through preprocess → train → evaluate with
the local runner (real subprocesses), one chain per model family and problem type, shared by
every pytest-xdist worker of the session (`run_chain(reuse=True)` under a lock) and with
tests/local; and the scripts' modules importable as the jobs import them (code_families)."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from code_families import shared_modules_on_path

from sagestack.local.runner import TrainingResult
from sagestack.local.script_chain import ChainRun, run_chain

shared_modules_on_path()  # import common, serving, preprocess, evaluate as the jobs do


@pytest.fixture(scope="session")
def chain_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One folder for the whole session: pytest-xdist workers share their base's parent."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def demo(chain_root: Path) -> ChainRun:
    """XGBoost binary on breast_cancer, evaluate.py with --cv-folds 3 (the default chain)."""
    return run_chain(chain_root / "demo", reuse=True)


@pytest.fixture(scope="session")
def chain(chain_root: Path, demo: ChainRun) -> Callable[[str, str], ChainRun]:
    """chain(family, problem_type): that family's chain on the problem type's bundled data set
    (breast_cancer, wine, diabetes; scikit-learn's learner per DEFAULT_ESTIMATORS)."""

    def get(family: str, problem_type: str) -> ChainRun:
        if (family, problem_type) == ("xgboost", "binary"):
            return demo
        # Cross-validation only where a family's refit is still untested.
        folds = 3 if (family, problem_type) == ("sklearn", "multiclass") else 0
        return run_chain(
            chain_root / f"chain-{family}-{problem_type}",
            family=family,
            problem_type=problem_type,
            cv_folds=folds,
            reuse=True,
        )

    return get


@pytest.fixture(scope="session")
def splits(demo: ChainRun) -> dict[str, Path]:
    """train / validation / test / baseline directories written by preprocess.py."""
    return demo.splits


@pytest.fixture(scope="session")
def trained(demo: ChainRun) -> TrainingResult:
    """train.py on those splits, one host, the demo's hyperparameters."""
    return demo.training


@pytest.fixture(scope="session")
def model_dir(trained: TrainingResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained model.tar.gz, extracted as the serving container does."""
    directory = tmp_path_factory.mktemp("model")
    with tarfile.open(trained.model_artifact) as tar:
        tar.extractall(directory, filter="data")
    return directory
