"""Train an XGBoost model: `hist`, SageMaker script mode (XGBoost 3.0-5 image).

The problem type (hyperparameter `problem_type`) picks the objective: binary:logistic,
multi:softprob (num_class from the data) or reg:squarederror, and the default evaluation
metrics (logloss,auc / merror,mlogloss / mae,rmse; early stopping watches the last one; the
problem type's objective metric, validation:auc / validation:accuracy / validation:rmse, is
always measured).

Inputs (the SageMaker training contract):
  hyperparameters  `--name value` arguments and/or the SM_HPS JSON (arguments win); names
                   starting with `sagemaker_` or `_` (SDK and HPO bookkeeping) are ignored.
                   HYPERPARAMETERS lists the others; an unknown name ends the job.
  channels         SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION: CSV (header row) or Parquet files
                   holding `target_column` (0/1, class codes or numbers) and numeric features,
                   as preprocess.py writes them. Its preprocessing.json beside the split gives
                   the class names (without it, a multiclass model names its classes by code).
  cluster          SM_HOSTS / SM_CURRENT_HOST. With several hosts, the first one runs XGBoost's
                   tracker on port 9099 and every host trains the same model through XGBoost's
                   collective (allreduce), each on its shard: rows `rank::hosts` of a
                   FullyReplicated channel, or all of its files under ShardedByS3Key.
                   `SAGESTACK_TRACKER=host:port` overrides the tracker address (the local runner
                   uses 127.0.0.1 and a free port).
  checkpoints      /opt/ml/checkpoints: every `checkpoint_interval` rounds the first host writes
                   `checkpoint-<rounds>.ubj` (atomically); a restarted job (managed spot) resumes
                   from the latest one, so an interruption loses at most that many rounds. The
                   early-stopping state travels in the checkpoint (booster attributes).
Outputs: SM_MODEL_DIR/model.ubj, metadata.json (format, problem type, features, target,
classes, threshold, best iteration, hyperparameters, final validation metrics) and code/ (the
serving files: inference.py, serving.py, problems.py), metric lines on stdout (see metrics.py,
METRIC_DEFINITIONS), and on any failure the reason in /opt/ml/output/failure with a non-zero
exit code.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from common import (
    METADATA_FILE,
    TRAINING_FAILURE_FILE,
    Cluster,
    JobError,
    channel_dir,
    copy_serving_code,
    load_labeled,
    model_dir,
    opt_ml,
    read_preprocessing,
    run_job,
    typed,
    unknown_names,
)
from common import parse_hyperparameters as raw_hyperparameters
from metrics import METRIC_DEFINITIONS, format_line
from problems import BINARY, MULTICLASS, PROBLEM_TYPES, REGRESSION

__all__ = ["HYPERPARAMETERS", "METRIC_DEFINITIONS", "main"]

# name -> (type, default). Defaults keep a small data set fast; the config sets real values.
HYPERPARAMETERS: dict[str, tuple[type, Any]] = {
    "problem_type": (str, BINARY),
    "num_round": (int, 100),
    "early_stopping_rounds": (int, 10),
    "max_depth": (int, 6),
    "eta": (float, 0.3),
    "min_child_weight": (float, 1.0),
    "subsample": (float, 1.0),
    "colsample_bytree": (float, 1.0),
    "gamma": (float, 0.0),
    "lambda": (float, 1.0),
    "alpha": (float, 0.0),
    "scale_pos_weight": (float, 1.0),
    "max_bin": (int, 256),
    "eval_metric": (str, ""),  # "": the problem type's; early stopping watches the last one
    "eval_train": (bool, False),
    "checkpoint_interval": (int, 10),
    "seed": (int, 0),
    "nthread": (int, 0),  # 0: SM_NUM_CPUS
    "target_column": (str, "target"),
    "threshold": (float, 0.5),
}
_BOOSTER_PARAMS = [
    *("max_depth", "eta", "min_child_weight", "subsample", "colsample_bytree", "gamma"),
    *("lambda", "alpha", "scale_pos_weight", "max_bin", "seed", "nthread"),
]
TRACKER_TIMEOUT_SECONDS = 600
CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)\.ubj$")
MODEL_FILE = "model.ubj"
FORMAT = "sagestack-xgboost/2"
OBJECTIVES = {
    BINARY: "binary:logistic",
    MULTICLASS: "multi:softprob",
    REGRESSION: "reg:squarederror",
}
# Evaluation metrics by default (early stopping watches the last), and the one each problem
# type always needs for its objective metric (accuracy is 1 - merror).
EVAL_METRICS = {BINARY: "logloss,auc", MULTICLASS: "merror,mlogloss", REGRESSION: "mae,rmse"}
REQUIRED_METRIC = {BINARY: "auc", MULTICLASS: "merror", REGRESSION: "rmse"}


def parse_hyperparameters(argv: list[str], environ: dict[str, str]) -> dict[str, Any]:
    """Merge SM_HPS and `--name value` / `--name=value` arguments, typed and validated."""
    raw = raw_hyperparameters(argv, environ)
    unknown_names(raw, HYPERPARAMETERS, "xgboost")
    values = {name: default for name, (_, default) in HYPERPARAMETERS.items()}
    for name, value in raw.items():
        values[name] = typed(name, value, HYPERPARAMETERS[name][0])
    if values["problem_type"] not in PROBLEM_TYPES:
        raise JobError(
            f"hyperparameter 'problem_type' must be one of {', '.join(PROBLEM_TYPES)}, "
            f"got '{values['problem_type']}'"
        )
    for name in ("num_round", "checkpoint_interval", "early_stopping_rounds"):
        if values[name] < 1:
            raise JobError(f"hyperparameter '{name}' must be at least 1, got {values[name]}")
    return values


def eval_metrics(hps: dict[str, Any]) -> list[str]:
    """The evaluation metrics: the given or default ones, with the problem type's required one
    first when missing (early stopping keeps watching the last one given)."""
    problem_type = hps["problem_type"]
    text = hps["eval_metric"] or EVAL_METRICS[problem_type]
    metrics = [metric.strip() for metric in text.split(",") if metric.strip()]
    required = REQUIRED_METRIC[problem_type]
    return metrics if required in metrics else [required, *metrics]


class _Collective:
    """XGBoost's collective for a multi-host job; nothing for a single host.

    The first host starts the tracker on construction, before loading data, so the other
    hosts find it listening when they join (`with`) instead of backing off and retrying.
    """

    def __init__(self, cluster: Cluster, environ: dict[str, str]) -> None:
        self._cluster = cluster
        self._tracker: Any = None
        self._context: Any = None
        if cluster.size == 1:
            return
        self._address = cluster.tracker_address(environ)
        if cluster.rank == 0:
            from xgboost.tracker import RabitTracker

            host, port = self._address
            self._tracker = RabitTracker(
                n_workers=cluster.size,
                host_ip=host,
                port=port,
                sortby="task",
                timeout=TRACKER_TIMEOUT_SECONDS,
            )
            self._tracker.start()

    def __enter__(self) -> _Collective:
        if self._cluster.size == 1:
            return self
        host, port = self._address
        if self._cluster.rank != 0:
            _wait_for_tracker(host, port)
        self._context = xgb.collective.CommunicatorContext(
            dmlc_communicator="rabit",
            dmlc_tracker_uri=host,
            dmlc_tracker_port=port,
            dmlc_task_id=f"{self._cluster.rank:05d}",  # sortby=task: rank follows SM_HOSTS
            dmlc_timeout=TRACKER_TIMEOUT_SECONDS,
        )
        self._context.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc_info)
        if self._tracker is not None and exc_info[0] is None:
            self._tracker.wait_for()


def _wait_for_tracker(host: str, port: int) -> None:
    """Wait until the tracker accepts connections.

    XGBoost's own retry backs off for seconds (2, 4, ...) when a host joins before the tracker
    listens; a short poll joins as soon as it does. The tracker logs one "Failed to initialize
    worker proxy" warning for the probe and carries on.
    """
    deadline = time.monotonic() + TRACKER_TIMEOUT_SECONDS
    while True:
        try:
            socket.create_connection((host, port), timeout=5).close()
            return
        except OSError as error:
            if time.monotonic() > deadline:
                raise JobError(
                    f"the tracker at {host}:{port} (first host) did not answer within "
                    f"{TRACKER_TIMEOUT_SECONDS} s: {error}"
                ) from None
            time.sleep(0.05)


def _channel_is_sharded(channel: str, environ: dict[str, str]) -> bool:
    config = json.loads(environ.get("SM_INPUT_DATA_CONFIG") or "{}")
    return config.get(channel, {}).get("S3DistributionType") == "ShardedByS3Key"


def load_channel(
    channel: str,
    hps: dict[str, Any],
    cluster: Cluster,
    environ: dict[str, str],
    feature_names: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """This host's share of a channel's rows."""
    problem_type = hps["problem_type"]
    features, labels, names = load_labeled(
        channel_dir(channel, environ), hps["target_column"], feature_names, problem_type
    )
    if cluster.size > 1 and not _channel_is_sharded(channel, environ):
        shard = slice(cluster.rank, None, cluster.size)
        features, labels = features[shard], labels[shard]
    if problem_type != REGRESSION and len(np.unique(labels)) < 2 and cluster.size == 1:
        needs = "both 0 and 1" if problem_type == BINARY else "at least two classes"
        raise JobError(f"channel '{channel}' holds a single class; it needs {needs}")
    return features, labels, names


def class_names(
    hps: dict[str, Any], environ: dict[str, str], labels: list[np.ndarray], cluster: Cluster
) -> list[str]:
    """The classes of a classifier, by code: preprocess.py's names when its preprocessing.json
    came with the channels, else the codes themselves. A multiclass model's class count is the
    larger of the names' and the highest code seen on any host + 1 (hosts agree through the
    collective)."""
    if hps["problem_type"] == REGRESSION:
        return []
    schema = read_preprocessing(channel_dir("train", environ), channel_dir("validation", environ))
    names = [str(name) for name in (schema or {}).get("classes") or []]
    if hps["problem_type"] == BINARY:
        return names if len(names) == 2 else ["0", "1"]
    highest = max((int(part.max()) for part in labels if len(part)), default=0)
    if cluster.size > 1:
        highest = int(
            xgb.collective.allreduce(np.array([highest], np.int64), xgb.collective.Op.MAX)[0]
        )
    if highest >= len(names):
        if names:
            print(f"preprocessing.json names {len(names)} classes, the data has code {highest}")
        names = [str(code) for code in range(highest + 1)]
    return names


class _RoundLogger(xgb.callback.TrainingCallback):
    """Prints each round's metrics in the METRIC_DEFINITIONS format."""

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        values = {
            f"{data}-{metric}": history[-1]
            for data, metrics in evals_log.items()
            for metric, history in metrics.items()
        }
        print(format_line(f"round {model.num_boosted_rounds()}", with_accuracy(values)), flush=True)
        return False


def with_accuracy(values: dict[str, float]) -> dict[str, float]:
    """`<data>-accuracy` (1 - merror) beside each `<data>-merror`: multiclass's objective."""
    derived = {
        key.replace("-merror", "-accuracy"): 1.0 - float(value)
        for key, value in values.items()
        if key.endswith("-merror")
    }
    return {**values, **derived}


class _Checkpointer(xgb.callback.TrainingCallback):
    """Every `interval` rounds, rank 0 writes checkpoint-<rounds>.ubj atomically, keeping two."""

    def __init__(self, directory: Path, interval: int, is_writer: bool) -> None:
        super().__init__()
        self._directory = directory
        self._interval = interval
        self._is_writer = is_writer

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        rounds = model.num_boosted_rounds()
        if self._is_writer and rounds % self._interval == 0:
            self._directory.mkdir(parents=True, exist_ok=True)
            final = self._directory / f"checkpoint-{rounds:06d}.ubj"
            partial = final.with_name(f"partial-{final.name}")  # .ubj: no format warning
            model.save_model(partial)
            os.replace(partial, final)
            for old in _checkpoints(self._directory)[:-2]:
                old.unlink(missing_ok=True)
        return False


class _EarlyStopping(xgb.callback.TrainingCallback):
    """Stops after `rounds` rounds without improvement of the last validation metric.

    Its whole state is the booster's best_score / best_iteration attributes, which checkpoints
    carry, so a resumed job stops exactly where an uninterrupted one would.
    """

    def __init__(self, rounds: int, metric: str) -> None:
        super().__init__()
        self._rounds = rounds
        self._metric = metric
        self._maximize = metric.startswith(("auc", "aucpr", "pre", "map", "ndcg"))

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        score = float(evals_log["validation"][self._metric][-1])
        iteration = model.num_boosted_rounds() - 1
        best = model.attr("best_score")
        improved = best is None or (score > float(best) if self._maximize else score < float(best))
        if improved:
            model.set_attr(best_score=repr(score), best_iteration=str(iteration))
        return stopped(model, self._rounds)


def stopped(model: xgb.Booster, rounds: int) -> bool:
    best = model.attr("best_iteration")
    return best is not None and model.num_boosted_rounds() - 1 - int(best) >= rounds


def _checkpoints(directory: Path) -> list[Path]:
    rounds = {}
    for path in directory.glob("checkpoint-*.ubj"):
        match = CHECKPOINT_PATTERN.match(path.name)
        if match:
            rounds[path] = int(match[1])
    return sorted(rounds, key=rounds.__getitem__)


def latest_checkpoint(directory: Path) -> xgb.Booster | None:
    """The newest readable checkpoint (a torn newest one falls back to the one before)."""
    for path in reversed(_checkpoints(directory) if directory.is_dir() else []):
        try:
            return xgb.Booster(model_file=str(path))
        except xgb.core.XGBoostError:
            print(f"skipping unreadable checkpoint {path.name}", flush=True)
    return None


def booster_params(
    hps: dict[str, Any], environ: dict[str, str], n_classes: int = 0
) -> dict[str, Any]:
    params = {name: hps[name] for name in _BOOSTER_PARAMS}
    params["nthread"] = hps["nthread"] or int(environ.get("SM_NUM_CPUS") or os.cpu_count() or 1)
    params.update(
        objective=OBJECTIVES[hps["problem_type"]],
        tree_method="hist",
        eval_metric=eval_metrics(hps),
    )
    if hps["problem_type"] == MULTICLASS:
        params["num_class"] = n_classes
    if hps["problem_type"] != BINARY:
        del params["scale_pos_weight"]  # a binary parameter: XGBoost warns it is unused
    return params


def _final_metrics(model: xgb.Booster, dvalid: xgb.DMatrix) -> dict[str, float]:
    # eval_set answers "[0]\tvalidation-logloss:0.09\tvalidation-auc:0.99"
    fields = model.eval_set([(dvalid, "validation")]).split("\t")[1:]
    values = {key: float(value) for key, _, value in (f.rpartition(":") for f in fields)}
    return with_accuracy(values)


def train(hps: dict[str, Any], environ: dict[str, str]) -> None:
    cluster = Cluster.from_environment(environ)
    checkpoint_dir = opt_ml("checkpoints")
    collective = _Collective(cluster, environ)
    x_train, y_train, names = load_channel("train", hps, cluster, environ)
    x_valid, y_valid, _ = load_channel("validation", hps, cluster, environ, names)
    print(
        f"host {cluster.current_host} (rank {cluster.rank} of {cluster.size}): "
        f"{len(y_train)} train rows, {len(y_valid)} validation rows, {len(names)} features",
        flush=True,
    )
    with collective:
        classes = class_names(hps, environ, [y_train, y_valid], cluster)
        params = booster_params(hps, environ, len(classes))
        dtrain = xgb.QuantileDMatrix(
            x_train, y_train, feature_names=names, max_bin=hps["max_bin"], nthread=params["nthread"]
        )
        dvalid = xgb.QuantileDMatrix(x_valid, y_valid, feature_names=names, ref=dtrain)
        del x_train, x_valid
        model = latest_checkpoint(checkpoint_dir)
        done = 0 if model is None else model.num_boosted_rounds()
        if model is not None:
            print(f"resuming from checkpoint at round {done}", flush=True)
        remaining = hps["num_round"] - done
        finished = model is not None and stopped(model, hps["early_stopping_rounds"])
        if remaining > 0 and not finished:
            evals = [(dtrain, "train")] if hps["eval_train"] else []
            model = xgb.train(
                params,
                dtrain,
                num_boost_round=remaining,
                evals=[*evals, (dvalid, "validation")],
                xgb_model=model,
                verbose_eval=False,
                callbacks=[
                    _RoundLogger(),
                    _Checkpointer(checkpoint_dir, hps["checkpoint_interval"], cluster.rank == 0),
                    _EarlyStopping(hps["early_stopping_rounds"], params["eval_metric"][-1]),
                ],
            )
        if model is None:
            raise JobError("num_round is 0 and there is no checkpoint: nothing was trained")
        best_iteration = int(model.attr("best_iteration") or model.num_boosted_rounds() - 1)
        best = model[: best_iteration + 1]
        final = _final_metrics(best, dvalid)
    print(format_line("final", {"best_iteration": best_iteration, **final}), flush=True)
    if cluster.rank == 0:
        _save(best, model_dir(environ), hps, names, classes, best_iteration, final)


def _save(
    model: xgb.Booster,
    directory: Path,
    hps: dict[str, Any],
    names: list[str],
    classes: list[str],
    best_iteration: int,
    final: dict[str, float],
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    model.save_model(directory / MODEL_FILE)
    metadata: dict[str, Any] = {
        "format": FORMAT,
        "family": "xgboost",
        "problem_type": hps["problem_type"],
        "xgboost_version": xgb.__version__,
        "feature_names": names,
        "target_column": hps["target_column"],
        "classes": classes,
        "best_iteration": best_iteration,
        "validation_metrics": final,
        "hyperparameters": hps,
    }
    if hps["problem_type"] == BINARY:
        metadata["threshold"] = hps["threshold"]
    (directory / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
    copy_serving_code(directory, Path(__file__).resolve().parent)


def cross_validation_scores(
    metadata: dict[str, Any], x_fit: np.ndarray, y_fit: np.ndarray, x_held: np.ndarray
) -> np.ndarray:
    """evaluate.py --cv-folds: refit the model's hyperparameters on `x_fit` for as many rounds
    as the model kept, and score `x_held` as the model would (P(1), probabilities, values)."""
    hps = metadata["hyperparameters"]
    problem_type = metadata.get("problem_type", BINARY)
    params = {
        "objective": OBJECTIVES[problem_type],
        "tree_method": "hist",
        **{k: hps[k] for k in ("max_depth", "eta", "min_child_weight", "subsample", "seed")},
    }
    if problem_type == MULTICLASS:
        params["num_class"] = len(metadata["classes"])
    booster = xgb.train(params, xgb.DMatrix(x_fit, y_fit), metadata["best_iteration"] + 1)
    return booster.inplace_predict(x_held)


def main() -> None:
    environ = dict(os.environ)
    train(parse_hyperparameters(sys.argv[1:], environ), environ)


if __name__ == "__main__":
    run_job(main, TRAINING_FAILURE_FILE)
