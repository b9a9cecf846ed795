"""The bundled data set through preprocess → train → evaluate with the local runner.

A quick way to see the scripts work together (`sagestack local scripts`), and the shared
starting point of the tests. With `reuse=True` a finished run in `workdir` is read back
instead of run again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sagestack.datasets import POSITIVE_CLASS, breast_cancer
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
RECORD = "chain.json"


class ChainError(RuntimeError):
    """A step of the chain failed; the message names the step and its reason."""


@dataclass(frozen=True)
class ChainRun:
    splits: dict[str, Path]  # train, validation, test, baseline directories
    training: TrainingResult
    evaluation_dir: Path  # evaluation.json, report.html, PNGs

    @property
    def test_auc(self) -> float:
        report = json.loads((self.evaluation_dir / "evaluation.json").read_text())
        return report["binary_classification_metrics"]["auc"]["value"]


def run_chain(workdir: Path, *, reuse: bool = False, stream_logs: bool = False) -> ChainRun:
    workdir = Path(workdir)
    record = workdir / RECORD
    if reuse and record.is_file():
        return _read(record)
    workdir.mkdir(parents=True, exist_ok=True)
    raw = workdir / "raw" / "breast_cancer.csv"
    raw.parent.mkdir(exist_ok=True)
    breast_cancer().to_csv(raw, index=False)
    splits = {name: workdir / name for name in SPLITS}
    prepared = run_processing(
        TRAINING_CODE / "preprocess.py",
        inputs={"/opt/ml/processing/input": raw},
        outputs={f"/opt/ml/processing/{name}": path for name, path in splits.items()},
        arguments=["--target-column", "target", "--positive-class", POSITIVE_CLASS],
        stream_logs=stream_logs,
    )
    _check("preprocess", prepared.failure_reason)
    training = run_training(
        TRAINING_CODE / "train.py",
        channels={"train": splits["train"], "validation": splits["validation"]},
        hyperparameters={**CHAIN_HYPERPARAMETERS, "sagemaker_program": '"train.py"'},
        output_dir=workdir / "training",
        stream_logs=stream_logs,
    )
    _check("train", training.failure_reason)
    if training.model_artifact is None:
        raise ChainError("the train step succeeded but left no model.tar.gz")
    evaluation_dir = workdir / "evaluation"
    evaluated = run_processing(
        TRAINING_CODE / "evaluate.py",
        inputs={
            "/opt/ml/processing/model": training.model_artifact,
            "/opt/ml/processing/test": splits["test"],
            "/opt/ml/processing/train": splits["train"],
        },
        outputs={"/opt/ml/processing/evaluation": evaluation_dir},
        arguments=["--cv-folds", "3"],
        stream_logs=stream_logs,
    )
    _check("evaluate", evaluated.failure_reason)
    run = ChainRun(splits, training, evaluation_dir)
    _write(run, record)
    return run


def _check(step: str, failure_reason: str | None) -> None:
    if failure_reason is not None:
        raise ChainError(f"the {step} step failed: {failure_reason}")


def _write(run: ChainRun, record: Path) -> None:
    training = run.training
    record.write_text(
        json.dumps(
            {
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
    return ChainRun(splits, training, Path(data["evaluation_dir"]))
