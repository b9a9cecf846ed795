"""Run training_code/ scripts locally under the SageMaker container contract.

`run_processing` and `run_training` build a temporary `/opt/ml` tree per container (see
contract.py for how container paths map onto it), run the script with this interpreter the way
the job would (`python <script> <arguments>` for processing, with the whole source directory
at /opt/ml/processing/input/code; `python <entry point> --hp value ...` from /opt/ml/code with
the SM_* environment for training), and collect what SageMaker would upload: processing outputs,
model.tar.gz, output.tar.gz. A multi-instance training job runs one process per host; they talk
over 127.0.0.1 through XGBoost's tracker (SAGESTACK_TRACKER); if one fails the others are stopped.

Failures do not raise: the result carries exit_code != 0 and failure_reason, read from the
container's failure file (/opt/ml/output/failure for training, /opt/ml/output/message for
processing) or, failing that, the last lines of the log.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ground.container import (
    PROCESSING_CODE_DIR,
    PROCESSING_FAILURE_FILE,
    S3_DISTRIBUTIONS,
    TRAINING_FAILURE_FILE,
    load_metric_definitions,
)
from sagestack.local.contract import (
    OPT_ML_ENV,
    TRACKER_ENV,
    ContainerTree,
    hyperparameter_arguments,
    package_model,
    parse_metrics,
    place,
    training_environment,
    write_training_config,
)

LOG_TAIL_LINES = 5
STOP_GRACE_SECONDS = 5


@dataclass(frozen=True)
class ProcessingResult:
    exit_code: int
    failure_reason: str | None
    log_path: Path
    outputs: dict[str, Path] = field(default_factory=dict)  # container path -> local copy

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class TrainingResult:
    exit_code: int
    failure_reason: str | None
    log_path: Path  # the first host's log (algo-1)
    model_artifact: Path | None  # model.tar.gz; None when the job failed
    metrics: dict[str, float] = field(default_factory=dict)
    host_logs: dict[str, Path] = field(default_factory=dict)
    output_artifact: Path | None = None  # output.tar.gz of /opt/ml/output/data, if any

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


def run_processing(
    script: Path,
    *,
    inputs: Mapping[str, Path],
    outputs: Mapping[str, Path],
    arguments: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
    workdir: Path | None = None,
    source_dir: Path | None = None,
    stream_logs: bool = False,
) -> ProcessingResult:
    """Run a processing script; copy each output's container directory to its local path.

    The script's directory (or `source_dir`) is the code input at /opt/ml/processing/input/code,
    so sibling modules import as they do in the job. `workdir` keeps the tree and log there;
    without it the tree is removed afterwards and only the log is kept (in a temporary folder).
    """
    script, code_dir = _resolve_code(script, source_dir)
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="sagestack-processing-"))
    tree = ContainerTree(base / "opt" / "ml")
    try:
        for container_path, source in {**inputs, PROCESSING_CODE_DIR: code_dir}.items():
            place(Path(source), tree.local(container_path))
        for container_path in outputs:
            tree.local(container_path).mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            str(tree.local(PROCESSING_CODE_DIR) / script.name),
            *tree.rewrite(arguments),
        ]
        log_path = base / "processing.log"
        env = _environment({OPT_ML_ENV: str(tree.root)}, environment)
        exit_code = _Fleet([_Member("job", command, env, tree.root, log_path)], stream_logs).wait()
        if exit_code != 0:
            reason = tree.failure_reason(PROCESSING_FAILURE_FILE) or _tail(log_path)
            return ProcessingResult(exit_code, reason, log_path)
        copied = {}
        for container_path, destination in outputs.items():
            place(tree.local(container_path), Path(destination))
            copied[container_path] = Path(destination)
        return ProcessingResult(0, None, log_path, copied)
    finally:
        if workdir is None:
            shutil.rmtree(base / "opt", ignore_errors=True)


def run_training(
    entry_point: Path,
    *,
    channels: Mapping[str, Path],
    hyperparameters: Mapping[str, str],
    output_dir: Path,
    instance_count: int = 1,
    checkpoint_dir: Path | None = None,
    environment: Mapping[str, str] | None = None,
    source_dir: Path | None = None,
    distribution: str = "FullyReplicated",
    metric_definitions: Sequence[Mapping[str, str]] | None = None,
    stream_logs: bool = False,
) -> TrainingResult:
    """Run a script-mode training job; write model.tar.gz and logs/<host>.log in output_dir.

    `checkpoint_dir` stands for the job's checkpoint S3 URI: it is /opt/ml/checkpoints on every
    host (kept in sync continuously, like SageMaker's upload), so a rerun resumes from it.
    `distribution` is the channels' S3DistributionType: ShardedByS3Key hands each host a
    round-robin share of the files. Metrics are parsed from the first host's log with
    `metric_definitions`, by default METRIC_DEFINITIONS of the source directory's metrics.py.
    """
    if instance_count < 1:
        raise ValueError(f"instance_count must be at least 1, got {instance_count}")
    if distribution not in S3_DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {S3_DISTRIBUTIONS}, not '{distribution}'")
    entry_point, code_dir = _resolve_code(entry_point, source_dir)
    output_dir = Path(output_dir)
    logs_dir = output_dir / "logs"
    hosts = [f"algo-{index}" for index in range(1, instance_count + 1)]
    definitions = (
        load_metric_definitions(code_dir) if metric_definitions is None else metric_definitions
    )
    shared = {TRACKER_ENV: f"127.0.0.1:{_free_port()}"} if instance_count > 1 else {}
    with tempfile.TemporaryDirectory(prefix="sagestack-training-") as scratch:
        trees = {host: ContainerTree(Path(scratch) / host / "opt" / "ml") for host in hosts}
        members = []
        for host, tree in trees.items():
            _prepare_host(tree, host, channels, distribution, hosts, checkpoint_dir, code_dir)
            config = write_training_config(
                tree,
                hyperparameters=hyperparameters,
                channels=list(channels),
                hosts=hosts,
                current_host=host,
                distribution=distribution,
            )
            contract = training_environment(
                tree,
                hyperparameters=hyperparameters,
                channels=list(channels),
                config=config,
                num_cpus=max(1, (os.cpu_count() or 1) // instance_count),
                entry_point=entry_point.name,
            )
            command = [
                sys.executable,
                str(tree.local("/opt/ml/code") / entry_point.name),
                *hyperparameter_arguments(hyperparameters),
            ]
            env = _environment({**contract, **shared}, environment)
            cwd = tree.local("/opt/ml/code")
            members.append(_Member(host, command, env, cwd, logs_dir / f"{host}.log"))
        fleet = _Fleet(members, stream_logs)
        exit_code = fleet.wait()
        host_logs = {member.name: member.log for member in members}
        first = hosts[0]
        metrics = parse_metrics(host_logs[first].read_text(errors="replace"), definitions)
        if exit_code != 0:
            failed = fleet.first_failure or first
            reason = trees[failed].failure_reason(TRAINING_FAILURE_FILE) or _tail(host_logs[failed])
            prefix = f"{failed}: " if instance_count > 1 else ""
            return TrainingResult(
                exit_code, prefix + reason, host_logs[first], None, metrics, host_logs
            )
        model = package_model(trees[first].local("/opt/ml/model"), output_dir / "model.tar.gz")
        data_dir = trees[first].local("/opt/ml/output/data")
        output = (
            package_model(data_dir, output_dir / "output.tar.gz")
            if any(data_dir.iterdir())
            else None
        )
        return TrainingResult(0, None, host_logs[first], model, metrics, host_logs, output)


def _resolve_code(script: Path, source_dir: Path | None) -> tuple[Path, Path]:
    script = Path(script)
    code_dir = Path(source_dir) if source_dir else script.parent
    if not (code_dir / script.name).is_file():
        raise FileNotFoundError(f"script {script.name} is not in {code_dir}")
    return script, code_dir


def _prepare_host(
    tree: ContainerTree,
    host: str,
    channels: Mapping[str, Path],
    distribution: str,
    hosts: list[str],
    checkpoint_dir: Path | None,
    code_dir: Path,
) -> None:
    place(code_dir, tree.local("/opt/ml/code"))
    for name, source in channels.items():
        destination = tree.local(f"/opt/ml/input/data/{name}")
        destination.mkdir(parents=True, exist_ok=True)
        source = Path(source)
        if distribution == "ShardedByS3Key" and source.is_dir():
            files = sorted(p for p in source.rglob("*") if p.is_file())
            for path in files[hosts.index(host) :: len(hosts)]:
                place(path, destination / path.parent.relative_to(source))
        else:
            place(source, destination)
    for container_dir in ("/opt/ml/model", "/opt/ml/output/data"):
        tree.local(container_dir).mkdir(parents=True, exist_ok=True)
    checkpoints = tree.local("/opt/ml/checkpoints")
    if checkpoint_dir is None:
        checkpoints.mkdir(parents=True)
    else:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
        checkpoints.symlink_to(Path(checkpoint_dir).resolve(), target_is_directory=True)


def _environment(contract: Mapping[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    """This process's environment without stray contract variables, plus the job's."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SM_", OPT_ML_ENV, TRACKER_ENV))
    }
    return {**inherited, **contract, **(extra or {})}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(log_path: Path) -> str:
    lines = log_path.read_text(errors="replace").strip().splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "the job exited without output"


@dataclass(frozen=True)
class _Member:
    """One container's process: its name (host), command, environment, directory and log."""

    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path


class _Fleet:
    """Processes of one job (one per host): logs teed to files, all stopped if one fails."""

    def __init__(self, members: list[_Member], stream_logs: bool) -> None:
        self.first_failure: str | None = None
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen] = {}
        self._pumps = []
        for member in members:
            member.log.parent.mkdir(parents=True, exist_ok=True)
            process = subprocess.Popen(
                member.command,
                cwd=member.cwd,
                env={**member.env, "PYTHONUNBUFFERED": "1"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
            self._processes[member.name] = process
            prefix = f"{member.name} | " if len(members) > 1 else ""
            pump = threading.Thread(
                target=self._pump,
                args=(process, member.log, prefix if stream_logs else None),
                daemon=True,
            )
            pump.start()
            self._pumps.append(pump)

    @staticmethod
    def _pump(process: subprocess.Popen, log: Path, echo_prefix: str | None) -> None:
        stream: TextIO = process.stdout  # type: ignore[assignment]
        with log.open("w") as sink:
            for line in stream:
                sink.write(line)
                sink.flush()
                if echo_prefix is not None:
                    sys.stdout.write(echo_prefix + line)
                    sys.stdout.flush()

    def wait(self) -> int:
        """Wait for every process; the first non-zero exit stops the others and is returned."""
        waiters = [
            threading.Thread(target=self._watch, args=(host, process), daemon=True)
            for host, process in self._processes.items()
        ]
        for thread in waiters:
            thread.start()
        for thread in waiters + self._pumps:
            thread.join()
        if self.first_failure is None:
            return 0
        return self._processes[self.first_failure].returncode

    def _watch(self, host: str, process: subprocess.Popen) -> None:
        if process.wait() == 0:
            return
        with self._lock:
            if self.first_failure is not None:
                return
            self.first_failure = host
        for other in self._processes.values():
            if other.poll() is None:
                other.terminate()
        for other in self._processes.values():
            try:
                other.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                other.kill()
