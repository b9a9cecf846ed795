"""A bundled data set through preprocess → train → evaluate with the local runner.

A quick way to see the scripts work together (`sagestack local scripts`), and the shared
starting point of the tests. The chain runs what a model's pipeline runs: the family's code
bundle (ground.container.family_code: the shared scripts of training_code/ with the family's
folder flattened beside them) with the pipeline's arguments and hyperparameters
(`--problem-type`, `problem_type`, `estimator`). Defaults: today's demo, XGBoost binary on
breast_cancer.

With `reuse=True` a finished run in `workdir` is read back instead of run again; a lock file
beside `workdir` lets several processes (pytest-xdist workers) share one run: the first runs
it, the others wait and read it back.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ground.container import PROCESSING_ROOT, family_code
from ground.families import FAMILIES
from ground.problems import PROBLEM_TYPES
from sagestack.datasets import DATASETS
from sagestack.file_lock import exclusive
from sagestack.local.private_modules import import_private
from sagestack.local.runner import TrainingResult, run_processing, run_training

TRAINING_CODE = Path(__file__).resolve().parents[2] / "training_code"
SPLITS = ("train", "validation", "test", "baseline")
CHAIN_HYPERPARAMETERS = {
    "num_round": "60",
    "eta": "0.2",
    "max_depth": "3",
    "early_stopping_rounds": "10",
    "nthread": "1",  # 400 rows: more threads only wait on each other
}
# The data set a problem type's chain uses unless told otherwise.
DEFAULT_DATASETS = {"binary": "breast_cancer", "multiclass": "wine", "regression": "diabetes"}
# scikit-learn's learner per problem type unless told otherwise, and small settings for it.
DEFAULT_ESTIMATORS = {
    "binary": "logistic_regression",
    "multiclass": "random_forest",
    "regression": "ridge",
}
SKLEARN_HYPERPARAMETERS = {
    "logistic_regression": {"C": "1.0"},
    "linear_regression": {},
    "ridge": {"alpha": "1.0"},
    "random_forest": {"n_estimators": "50", "max_depth": "8", "n_jobs": "1"},
    "hist_gradient_boosting": {"max_iter": "60", "learning_rate": "0.1"},
}
RECORD = "chain.json"
# The modules every family names alike (its folder of training_code/).
FAMILY_MODULES = ("train", "inference", "metrics")


class ChainError(RuntimeError):
    """A step of the chain failed; the message names the step and its reason."""


@dataclass(frozen=True)
class ChainRun:
    splits: dict[str, Path]  # train, validation, test, baseline directories
    training: TrainingResult
    evaluation_dir: Path  # evaluation.json, report.html, PNGs
    family: str = "xgboost"
    problem_type: str = "binary"
    code_dir: Path | None = None  # the family's flattened code bundle

    @property
    def evaluation(self) -> dict[str, Any]:
        return json.loads((self.evaluation_dir / "evaluation.json").read_text())

    @property
    def test_metrics(self) -> dict[str, Any]:
        """The problem type's layout of evaluation.json (binary_classification_metrics, ...)."""
        return self.evaluation[PROBLEM_TYPES[self.problem_type].layout]

    @property
    def test_auc(self) -> float:
        return self.test_metrics["auc"]["value"]


def family_code_dir(family: str, destination: Path) -> Path:
    """The family's code bundle, flattened into `destination` (made afresh)."""
    if family not in FAMILIES:
        raise ValueError(f"no model family '{family}'; known: {', '.join(sorted(FAMILIES))}")
    files = family_code(TRAINING_CODE, family, FAMILIES)
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for name, source in files.items():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return destination


def import_family(family: str, code_dir: Path) -> SimpleNamespace:
    """The family's modules (`.train`, `.inference`, `.metrics`, and its own copies of the
    shared `.serving`, `.problems`, `.common`) imported in this process from its bundle
    flattened into `code_dir` (family_code_dir), as its jobs import them; several families'
    modules live side by side (private_modules)."""
    code = family_code_dir(family, code_dir)
    return SimpleNamespace(code_dir=code, **import_private(code, FAMILY_MODULES))


def chain_hyperparameters(
    family: str, problem_type: str, estimator: str | None = None
) -> dict[str, str]:
    """Small, fast settings of the family (and estimator) for the bundled data sets."""
    if family == "xgboost":
        return dict(CHAIN_HYPERPARAMETERS)
    return dict(SKLEARN_HYPERPARAMETERS[estimator or DEFAULT_ESTIMATORS[problem_type]])


def run_chain(
    workdir: Path,
    *,
    family: str = "xgboost",
    problem_type: str = "binary",
    dataset: str | None = None,
    hyperparameters: Mapping[str, str] | None = None,
    estimator: str | None = None,
    cv_folds: int = 3,
    reuse: bool = False,
    stream_logs: bool = False,
) -> ChainRun:
    """preprocess.py → train.py → evaluate.py of `family` on a bundled data set (by default the
    problem type's: breast_cancer, wine, diabetes), with the pipeline's arguments.

    `hyperparameters` are the model's own (default: chain_hyperparameters); `estimator` picks
    scikit-learn's learner (default per problem type: DEFAULT_ESTIMATORS). `cv_folds` adds
    evaluate.py's cross-validation (0: none).
    """
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem type '{problem_type}' is not one of {sorted(PROBLEM_TYPES)}")
    workdir = Path(workdir)
    workdir.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(workdir.parent / f".{workdir.name}.lock"):
        record = workdir / RECORD
        if reuse and record.is_file():
            return _read(record)
        run = _run(
            workdir,
            family=family,
            problem_type=problem_type,
            dataset=dataset or DEFAULT_DATASETS[problem_type],
            hyperparameters=hyperparameters,
            estimator=estimator,
            cv_folds=cv_folds,
            stream_logs=stream_logs,
        )
        _write(run, record)
        return run


def _run(
    workdir: Path,
    *,
    family: str,
    problem_type: str,
    dataset: str,
    hyperparameters: Mapping[str, str] | None,
    estimator: str | None,
    cv_folds: int,
    stream_logs: bool,
) -> ChainRun:
    info = DATASETS[dataset]
    if info.problem_type != problem_type:
        raise ValueError(
            f"data set '{dataset}' is a {info.problem_type} problem, not {problem_type}"
        )
    if family == "sklearn":
        estimator = estimator or DEFAULT_ESTIMATORS[problem_type]
    elif estimator is not None:
        raise ValueError(
            f"family '{family}' has one learner; estimator '{estimator}' is not for it"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    code = family_code_dir(family, workdir / "code")
    raw = workdir / "raw" / f"{dataset}.csv"
    raw.parent.mkdir(exist_ok=True)
    info.load().to_csv(raw, index=False)
    splits = {name: workdir / name for name in SPLITS}
    arguments = ["--target-column", "target", "--problem-type", problem_type]
    if info.positive_class is not None:
        arguments += ["--positive-class", info.positive_class]
    prepared = run_processing(
        code / "preprocess.py",
        inputs={f"{PROCESSING_ROOT}/input": raw},
        outputs={f"{PROCESSING_ROOT}/{name}": path for name, path in splits.items()},
        arguments=arguments,
        stream_logs=stream_logs,
    )
    _check("preprocess", prepared.failure_reason)
    # As the pipeline writes them: JSON-encoded strings, decoded by the training toolkit.
    job = {"sagemaker_program": '"train.py"', "problem_type": f'"{problem_type}"'}
    if estimator is not None:
        job["estimator"] = f'"{estimator}"'
    own = chain_hyperparameters(family, problem_type, estimator)
    training = run_training(
        code / "train.py",
        channels={"train": splits["train"], "validation": splits["validation"]},
        hyperparameters={**(own if hyperparameters is None else hyperparameters), **job},
        output_dir=workdir / "training",
        stream_logs=stream_logs,
    )
    _check("train", training.failure_reason)
    if training.model_artifact is None:
        raise ChainError("the train step succeeded but left no model.tar.gz")
    evaluation_dir = workdir / "evaluation"
    evaluated = run_processing(
        code / "evaluate.py",
        inputs={
            f"{PROCESSING_ROOT}/model": training.model_artifact,
            f"{PROCESSING_ROOT}/test": splits["test"],
            f"{PROCESSING_ROOT}/train": splits["train"],
        },
        outputs={f"{PROCESSING_ROOT}/evaluation": evaluation_dir},
        arguments=[
            "--problem-type",
            problem_type,
            *(["--cv-folds", str(cv_folds)] if cv_folds else []),
        ],
        stream_logs=stream_logs,
    )
    _check("evaluate", evaluated.failure_reason)
    return ChainRun(splits, training, evaluation_dir, family, problem_type, code)


def _check(step: str, failure_reason: str | None) -> None:
    if failure_reason is not None:
        raise ChainError(f"the {step} step failed: {failure_reason}")


def _write(run: ChainRun, record: Path) -> None:
    training = run.training
    record.write_text(
        json.dumps(
            {
                "family": run.family,
                "problem_type": run.problem_type,
                "code_dir": str(run.code_dir) if run.code_dir else None,
                "splits": {name: str(path) for name, path in run.splits.items()},
                "log_path": str(training.log_path),
                "model_artifact": str(training.model_artifact),
                "metrics": training.metrics,
                "evaluation_dir": str(run.evaluation_dir),
            },
            indent=1,
        )
    )


def _read(record: Path) -> ChainRun:
    data = json.loads(record.read_text())
    log_path = Path(data["log_path"])
    training = TrainingResult(
        exit_code=0,
        failure_reason=None,
        log_path=log_path,
        model_artifact=Path(data["model_artifact"]),
        metrics=data["metrics"],
        host_logs={"algo-1": log_path},
    )
    splits = {name: Path(path) for name, path in data["splits"].items()}
    code_dir = Path(data["code_dir"]) if data.get("code_dir") else None
    return ChainRun(
        splits,
        training,
        Path(data["evaluation_dir"]),
        data.get("family", "xgboost"),
        data.get("problem_type", "binary"),
        code_dir,
    )
