"""The SageMaker container contract, reproduced on this machine.

A job sees a temporary tree shaped like the container's `/opt/ml` (input/data/<channel>,
input/config/*.json, model, output, checkpoints, processing/...). The scripts in training_code/
read their paths from SM_* variables and arguments whose defaults are the real `/opt/ml/...`
paths; here:

* `SAGESTACK_OPT_ML` points at the tree's root; the scripts resolve `/opt/ml` through it
  (training_code/common.py `opt_ml()`), SageMaker leaves it unset;
* `/opt/ml` prefixes in job arguments (`/opt/ml/x`, `--flag=/opt/ml/x`) are rewritten to the tree;
* SM_* variables point into the tree, as the training toolkit would set them.
"""

from __future__ import annotations

import json
import re
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ground.container import OPT_ML

OPT_ML_ENV = "SAGESTACK_OPT_ML"
TRACKER_ENV = "SAGESTACK_TRACKER"
_OPT_ML_PREFIX = re.compile(r"(^|=)/opt/ml(?=/|$)")


@dataclass(frozen=True)
class ContainerTree:
    """One container's `/opt/ml`, at `root` on this machine."""

    root: Path

    def local(self, container_path: str) -> Path:
        """The local path of a `/opt/ml/...` container path."""
        if not (container_path == OPT_ML or container_path.startswith(OPT_ML + "/")):
            raise ValueError(
                f"container path '{container_path}' is not under {OPT_ML}; jobs only see that tree"
            )
        return self.root / container_path[len(OPT_ML) :].lstrip("/")

    def rewrite(self, arguments: Sequence[str]) -> list[str]:
        """Job arguments with `/opt/ml` prefixes pointing into this tree."""
        return [_OPT_ML_PREFIX.sub(lambda m: m[1] + str(self.root), arg) for arg in arguments]

    def failure_reason(self, failure_file: str) -> str | None:
        path = self.root / failure_file
        if not path.is_file():
            return None
        return path.read_text(encoding="utf-8", errors="replace").strip() or None


def place(source: Path, destination: Path) -> None:
    """Put a file or directory's content into `destination` (hard links where possible).

    A file lands as destination/<name>, like an S3 object downloaded into a channel directory.
    """
    if not source.exists():
        raise FileNotFoundError(f"input {source} does not exist")
    destination.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        _link_or_copy(source, destination / source.name)
    else:
        shutil.copytree(source, destination, copy_function=_link_or_copy, dirs_exist_ok=True)


def _link_or_copy(source: str | Path, destination: str | Path) -> None:
    try:
        Path(destination).hardlink_to(source)
    except OSError:
        shutil.copy2(source, destination)


def decode_hyperparameters(hyperparameters: Mapping[str, str]) -> dict[str, object]:
    """Values as the training toolkit puts them in SM_HPS: JSON-decoded where they parse."""
    decoded: dict[str, object] = {}
    for name, value in hyperparameters.items():
        try:
            decoded[name] = json.loads(value)
        except (TypeError, ValueError):
            decoded[name] = value
    return decoded


def hyperparameter_arguments(hyperparameters: Mapping[str, str]) -> list[str]:
    """`--name value` for the script, leaving out the SDK's `sagemaker_*` bookkeeping."""
    arguments: list[str] = []
    for name, value in decode_hyperparameters(hyperparameters).items():
        if not name.startswith("sagemaker_"):
            text = value if isinstance(value, str) else json.dumps(value)
            arguments += [f"--{name}", text]
    return arguments


def write_training_config(
    tree: ContainerTree,
    *,
    hyperparameters: Mapping[str, str],
    channels: Sequence[str],
    hosts: Sequence[str],
    current_host: str,
    distribution: str,
) -> dict[str, object]:
    """Write input/config/{hyperparameters,resourceconfig,inputdataconfig}.json."""
    config_dir = tree.local("/opt/ml/input/config")
    config_dir.mkdir(parents=True, exist_ok=True)
    resource = {
        "current_host": current_host,
        "hosts": list(hosts),
        "current_instance_type": "local",
        "network_interface_name": "lo",
    }
    data_config = {
        name: {
            "ContentType": "text/csv",
            "TrainingInputMode": "File",
            "S3DistributionType": distribution,
            "RecordWrapperType": "None",
        }
        for name in channels
    }
    files = {
        "hyperparameters.json": dict(hyperparameters),
        "resourceconfig.json": resource,
        "inputdataconfig.json": data_config,
    }
    for name, content in files.items():
        (config_dir / name).write_text(json.dumps(content, indent=1))
    return {"resource": resource, "data": data_config}


def training_environment(
    tree: ContainerTree,
    *,
    hyperparameters: Mapping[str, str],
    channels: Sequence[str],
    config: Mapping[str, object],
    num_cpus: int,
    entry_point: str,
) -> dict[str, str]:
    """The SM_* variables of the training toolkit, pointing into `tree`."""
    resource: dict = config["resource"]  # type: ignore[assignment]
    decoded = decode_hyperparameters(hyperparameters)
    user_hps = {k: v for k, v in decoded.items() if not k.startswith("sagemaker_")}
    environment = {
        OPT_ML_ENV: str(tree.root),
        "SM_MODEL_DIR": str(tree.local("/opt/ml/model")),
        "SM_OUTPUT_DIR": str(tree.local("/opt/ml/output")),
        "SM_OUTPUT_DATA_DIR": str(tree.local("/opt/ml/output/data")),
        "SM_INPUT_DIR": str(tree.local("/opt/ml/input")),
        "SM_INPUT_CONFIG_DIR": str(tree.local("/opt/ml/input/config")),
        "SM_MODULE_DIR": str(tree.local("/opt/ml/code")),
        "SM_USER_ENTRY_POINT": entry_point,
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(user_hps),
        "SM_USER_ARGS": json.dumps(hyperparameter_arguments(hyperparameters)),
        "SM_HOSTS": json.dumps(resource["hosts"]),
        "SM_CURRENT_HOST": resource["current_host"],
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": "0",
        "SM_RESOURCE_CONFIG": json.dumps(resource),
        "SM_INPUT_DATA_CONFIG": json.dumps(config["data"]),
        "SM_NETWORK_INTERFACE_NAME": resource["network_interface_name"],
    }
    for name in channels:
        environment[f"SM_CHANNEL_{name.upper()}"] = str(tree.local(f"/opt/ml/input/data/{name}"))
    for name, value in user_hps.items():
        environment[f"SM_HP_{name.upper()}"] = (
            value if isinstance(value, str) else json.dumps(value)
        )
    return environment


def package_model(model_dir: Path, archive: Path) -> Path:
    """model.tar.gz with the model directory's content at the top, as SageMaker uploads it."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def parse_metrics(log_text: str, definitions: Sequence[Mapping[str, str]]) -> dict[str, float]:
    """The last value each definition's regex captures in the log, as SageMaker would."""
    metrics: dict[str, float] = {}
    for definition in definitions:
        matches = re.findall(definition["Regex"], log_text)
        if matches:
            last = matches[-1]
            metrics[definition["Name"]] = float(last[0] if isinstance(last, tuple) else last)
    return metrics
