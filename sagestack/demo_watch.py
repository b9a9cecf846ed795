"""The demo's monitoring loop: one model watched in dev, drift found, retraining started.

The repository's dev serves every model serverless (no capture, nothing to monitor). The demo's
copy of config/ moves the watched model onto an instance variant that captures every request,
turns its data-quality monitor on and lets drift retrain it through the guard: the same
settings staging and prod have, so the loop that runs is the one they deploy.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ground.config import ModelDeployment
from ground.naming import DATA_QUALITY
from sagestack.local.event_routing import PipelineStart
from sagestack.local.monitor import Clients, MonitorRun, run_monitor, start_pipelines
from sagestack.local.monitor_commands import describe, describe_executions
from sagestack.local.pipeline.executor import ExecutionResult
from sagestack.promotion.pin import project_yaml

WATCHED = "cancer"
SHIFTED_COLUMN = 0  # the first feature (mean radius, for breast cancer)
SHIFT_STANDARD_DEVIATIONS = 4.0
# What staging and prod set, applied to the watched model in the demo's dev.
WATCH_SETTINGS: dict[str, Any] = {
    "serving": {
        "instance": {"instance_type": "ml.m5.large", "initial_count": 1},
        "data_capture_percent": 100,
    },
    "monitoring": {"model_monitor": {"enabled": True}},
    "training": {
        "triggers": {"on_drift": True, "guard": {"max_runs": 1, "window_hours": 24}},
    },
}


def watch_in_dev(model_file: Path, environment: str) -> None:
    """Merge WATCH_SETTINGS into `environments.<environment>` of the model's file, keeping
    its comments and its pin."""
    yaml = project_yaml()
    data = yaml.load(model_file.read_text(encoding="utf-8"))
    section = data["environments"].setdefault(environment, {}) or {}
    data["environments"][environment] = section
    _merge(section, WATCH_SETTINGS)
    with model_file.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)


def _merge(target: Any, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def shifted(rows: list[str], column: int, deviations: float) -> list[str]:
    """The rows with one feature moved `deviations` standard deviations (of these rows)."""
    values = [float(row.split(",")[column]) for row in rows]
    step = deviations * statistics.pstdev(values)
    moved = []
    for row in rows:
        fields = row.split(",")
        fields[column] = f"{float(fields[column]) + step:.6g}"
        moved.append(",".join(fields))
    return moved


def send(runtime: Any, endpoint_name: str, rows: list[str]) -> None:
    """One request per row, each with an inference id (the ground-truth join key)."""
    for row in rows:
        runtime.invoke_endpoint(
            EndpointName=endpoint_name,
            ContentType="text/csv",
            Accept="text/csv",
            Body=row,
            InferenceId=uuid.uuid4().hex,
        )


def monitor(
    clients: Clients,
    deployment: ModelDeployment,
    at: datetime,
    start_pipeline: Callable[[PipelineStart], ExecutionResult],
    say: Callable[[str], None],
) -> MonitorRun:
    """The data-quality schedule's run at `at`, printed as `sagestack local monitor` does, then
    the pipelines its outcome starts."""
    run = run_monitor(clients, deployment, DATA_QUALITY, at)
    for line in describe(run):
        say(line)
    start_pipelines(run, start_pipeline)
    for line in describe_executions(run):
        say(line)
    return run
