"""XGBoost's train.py under the training contract: hyperparameters, formats, metrics,
checkpoint resume after a killed run, two-host training on loopback, and failures with their
reason."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from code_families import family
from common import JobError, load_labeled

from sagestack.datasets import synthetic, write_csv, write_parquet
from sagestack.local.runner import run_training
from sagestack.local.script_chain import CHAIN_HYPERPARAMETERS

XGB = family("xgboost")
TRAIN = XGB.code_dir / "train.py"  # in the flattened bundle, as the job runs it
METRIC_DEFINITIONS, format_line = XGB.metrics.METRIC_DEFINITIONS, XGB.metrics.format_line
parse_hyperparameters = XGB.train.parse_hyperparameters


def _booster(artifact: Path, tmp_path: Path) -> xgb.Booster:
    with tarfile.open(artifact) as tar:
        assert sorted(tar.getnames()) == [
            "code",
            "code/inference.py",
            "code/problems.py",
            "code/serving.py",
            "metadata.json",
            "model.ubj",
        ]
        tar.extractall(tmp_path / "model", filter="data")
    return xgb.Booster(model_file=str(tmp_path / "model" / "model.ubj"))


def test_hyperparameters_from_sm_hps_and_arguments() -> None:
    environ = {"SM_HPS": '{"eta": 0.05, "max_depth": 4, "sagemaker_program": "train.py"}'}
    hps = parse_hyperparameters(
        ["--max_depth", "7", "--eval_train=true", "--num_round", "9"], environ
    )
    assert (hps["eta"], hps["max_depth"], hps["eval_train"], hps["num_round"]) == (0.05, 7, True, 9)
    assert "sagemaker_program" not in hps
    assert parse_hyperparameters(["--_tuning_objective_metric", "validation:auc"], {})["eta"] == 0.3


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--max_depth", "deep"], "hyperparameter 'max_depth' must be int, got 'deep'"),
        (["--max_dpeth", "3"], "unknown hyperparameter 'max_dpeth'"),
        (["--eval_train", "maybe"], "hyperparameter 'eval_train' must be bool"),
        (["--num_round", "0"], "'num_round' must be at least 1"),
        (["--eta"], "hyperparameter --eta has no value"),
        (["stray"], "unexpected argument 'stray'"),
    ],
)
def test_bad_hyperparameters_are_named(argv: list[str], reason: str) -> None:
    with pytest.raises(XGB.common.JobError) as caught:
        parse_hyperparameters(argv, {})
    assert reason in str(caught.value)


def test_metric_regexes_pick_up_the_lines_train_prints() -> None:
    line = format_line(
        "final", {"best_iteration": 41, "validation-auc": 0.97, "validation-logloss": 1e-5}
    )
    found = {d["Name"]: re.search(d["Regex"], line) for d in METRIC_DEFINITIONS}
    assert float(found["validation:auc"][1]) == 0.97
    assert float(found["validation:logloss"][1]) == 1e-5
    assert found["train:auc"] is None


def test_trains_on_bundled_data_with_metrics_and_model(trained, tmp_path: Path) -> None:
    log = trained.log_path.read_text()
    assert "[round 1] validation-logloss=" in log
    assert trained.metrics["validation:auc"] >= 0.97  # recorded in bench/README.md
    assert 0 < trained.metrics["validation:logloss"] < 0.3
    booster = _booster(trained.model_artifact, tmp_path)
    best = int(re.search(r"best_iteration=(\d+)", log)[1])
    assert booster.num_boosted_rounds() == best + 1  # truncated at the best iteration


def test_parquet_and_csv_channels_give_the_same_model(
    splits: dict[str, Path], trained, tmp_path: Path
) -> None:
    channels = {}
    for name in ("train", "validation"):
        frame = pd.read_csv(splits[name] / f"{name}.csv")
        channels[name] = write_parquet(frame, tmp_path / name / "part-0.parquet").parent
    result = run_training(
        TRAIN, channels=channels, hyperparameters=CHAIN_HYPERPARAMETERS, output_dir=tmp_path / "job"
    )
    assert result.succeeded, result.failure_reason
    assert result.metrics == trained.metrics


def _kill_after_round(command: list[str], round_number: int, env: dict[str, str]) -> str:
    """Run the CLI, SIGKILL its whole process group once a round is logged; return the output."""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, start_new_session=True, env=env
    ) as process:
        seen = []
        for line in process.stdout:
            seen.append(line)
            if line.startswith(f"[round {round_number}]"):
                os.killpg(process.pid, signal.SIGKILL)
                break
        seen += process.stdout.readlines()
        process.wait()
    return "".join(seen)


def test_resume_after_kill_loses_at_most_one_checkpoint_interval(tmp_path: Path) -> None:
    data = synthetic(2500, 10, seed=3)
    cut = 2000
    train = write_csv(data.iloc[:cut], tmp_path / "train" / "train.csv").parent
    valid = write_csv(data.iloc[cut:], tmp_path / "validation" / "valid.csv").parent
    # 1,000 rounds (about a second of training): on a busy machine a shorter run could end
    # before the test reads the round it kills at (80 rounds took 0.16 s). A checkpoint every
    # 50 rounds keeps the saves of the growing model cheap.
    rounds, interval, kill_at = 1000, 50, 60
    hps = {"num_round": str(rounds), "eta": "0.05", "max_depth": "5"}
    hps["early_stopping_rounds"] = str(rounds)
    hps["nthread"] = "1"
    hps["checkpoint_interval"] = str(interval)
    command = [sys.executable, "-m", "sagestack.cli", "local", "train", str(TRAIN)]
    command += ["--channel", f"train={train}", "--channel", f"validation={valid}"]
    command += [arg for k, v in hps.items() for arg in ("-H", f"{k}={v}")]
    checkpoints = tmp_path / "checkpoints"
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the killed runner's scratch stays in here
    killed = _kill_after_round(
        [*command, "--output-dir", str(tmp_path / "killed"), "--checkpoint-dir", str(checkpoints)],
        kill_at,
        env,
    )
    last_round = max(int(n) for n in re.findall(r"^\[round (\d+)\]", killed, re.MULTILINE))
    assert last_round < rounds, "the run finished before it could be killed"
    assert not (tmp_path / "killed" / "model.tar.gz").exists()

    resumed = run_training(
        TRAIN,
        channels={"train": train, "validation": valid},
        hyperparameters=hps,
        output_dir=tmp_path / "resumed",
        checkpoint_dir=checkpoints,
    )
    assert resumed.succeeded, resumed.failure_reason
    start = int(
        re.search(r"resuming from checkpoint at round (\d+)", resumed.log_path.read_text())[1]
    )
    assert start % interval == 0
    assert 0 <= last_round - start <= interval  # lost at most one interval of rounds

    uninterrupted = run_training(
        TRAIN,
        channels={"train": train, "validation": valid},
        hyperparameters=hps,
        output_dir=tmp_path / "straight",
    )
    rows = data.drop(columns="target").to_numpy(np.float32)[cut:]
    np.testing.assert_array_equal(
        _booster(resumed.model_artifact, tmp_path / "a").inplace_predict(rows),
        _booster(uninterrupted.model_artifact, tmp_path / "b").inplace_predict(rows),
    )


def test_two_hosts_on_loopback_train_a_model_of_the_same_quality(
    splits: dict[str, Path], trained, tmp_path: Path
) -> None:
    result = run_training(
        TRAIN,
        channels={"train": splits["train"], "validation": splits["validation"]},
        hyperparameters=CHAIN_HYPERPARAMETERS,
        output_dir=tmp_path,
        instance_count=2,
    )
    assert result.succeeded, result.failure_reason
    rows = [
        int(re.search(r"rank \d of 2\): (\d+) train rows", log.read_text())[1])
        for log in result.host_logs.values()
    ]
    assert sum(rows) == 398 and min(rows) == 199  # each host trained on its half
    assert "[final]" in result.host_logs["algo-2"].read_text()
    assert abs(result.metrics["validation:auc"] - trained.metrics["validation:auc"]) < 0.02
    assert result.metrics["validation:auc"] >= 0.97


def test_sharded_channels_hand_each_host_its_files(splits: dict[str, Path], tmp_path: Path) -> None:
    for name in ("train", "validation"):
        frame = pd.read_csv(splits[name] / f"{name}.csv")
        for index in range(2):
            write_csv(frame.iloc[index::2], tmp_path / name / f"part-{index}.csv")
    result = run_training(
        TRAIN,
        channels={"train": tmp_path / "train", "validation": tmp_path / "validation"},
        hyperparameters={**CHAIN_HYPERPARAMETERS, "num_round": "5"},
        output_dir=tmp_path / "job",
        instance_count=2,
        distribution="ShardedByS3Key",
    )
    assert result.succeeded, result.failure_reason
    assert "199 train rows" in result.host_logs["algo-2"].read_text()


def test_a_failing_job_writes_its_reason_and_exits_non_zero(
    splits: dict[str, Path], tmp_path: Path
) -> None:
    result = run_training(
        TRAIN, channels={"train": splits["train"]}, hyperparameters={}, output_dir=tmp_path
    )
    assert result.exit_code == 1
    assert result.failure_reason == (
        "channel 'validation' is missing (SM_CHANNEL_VALIDATION is not set); provide it"
    )
    assert result.model_artifact is None


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (
            pd.DataFrame({"x": [1.0, 2.0], "colour": ["red", "blue"], "target": [0, 1]}),
            "column 'colour' in",
        ),
        (pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), "target column 'target' is not in"),
        (pd.DataFrame({"x": [1.0, 2.0], "target": [0, 2]}), "must hold 0 or 1; found [2.0]"),
        (pd.DataFrame({"x": [], "target": []}, dtype=float), "holds no rows"),
    ],
)
def test_unusable_channel_data_is_named(tmp_path: Path, frame: pd.DataFrame, reason: str) -> None:
    write_csv(frame, tmp_path / "part.csv")
    with pytest.raises(JobError) as caught:
        load_labeled(tmp_path, "target")
    assert reason in str(caught.value)


def test_without_pyarrow_csv_channels_load_the_same_through_pandas(
    splits: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = load_labeled(splits["train"], "target")
    write_parquet(pd.read_csv(splits["train"] / "train.csv"), tmp_path / "part.parquet")
    write_csv(
        pd.DataFrame({"x": [1.0, 2.0], "colour": ["red", "blue"], "target": [0, 1]}),
        tmp_path / "words" / "part.csv",
    )
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    features, labels, names = load_labeled(splits["train"], "target")
    np.testing.assert_array_equal(features, expected[0])
    np.testing.assert_array_equal(labels, expected[1])
    assert names == expected[2]
    with pytest.raises(JobError, match=r"holds Parquet files .* no pyarrow"):
        load_labeled(tmp_path, "target")
    with pytest.raises(JobError, match=r"column 'colour' in .* is object, not numeric"):
        load_labeled(tmp_path / "words", "target")
