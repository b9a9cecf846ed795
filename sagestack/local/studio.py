"""`sagestack local studio`: JupyterLab on 127.0.0.1 with the repository's notebooks, and a
kernel whose boto3 and `sagemaker` SDK talk to the embedded emulator.

The kernel is the standard `python3` one with AWS_ENDPOINT_URL (and credentials and region)
set for the emulator, and AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME set for the model's endpoint
served locally, so a notebook's code is what a data scientist runs in SageMaker Studio: only
the endpoint URLs differ, and they come from the environment, not from the notebook.
JupyterLab's configuration, data and runtime files live under the state directory, so nothing
of the user's own Jupyter set-up leaks in or is changed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from ground.config import ConfigError, ModelDeployment, load_environment
from ground.naming import TRAINING, pipeline_name
from sagestack.cdk_cli import PROJECT_ROOT
from sagestack.local import emulator
from sagestack.local.deployed_model import DeployedModelError, download_served_model
from sagestack.local.endpoint import EndpointError, LocalEndpoint, start_endpoint
from sagestack.storage import S3Storage

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
# Where `sagestack demo --keep` leaves its emulator running.
DEMO_EMULATOR_DIR = emulator.STATE_DIR / "demo" / "emulator"
KERNEL_NAME = "python3"  # the name Studio's notebooks carry, so they open unchanged
START_TIMEOUT_SECONDS = 60.0
HOST = "127.0.0.1"


class StudioError(Exception):
    """JupyterLab could not be started; the message says what to do."""


def kernel_environment(
    server: emulator.Emulator, region: str, runtime_url: str | None
) -> dict[str, str]:
    """What the notebooks' kernel sees: AWS SDKs pointed at the emulator (and the endpoint)."""
    env = {k: v for k, v in server.client_environment(region).items() if k.startswith("AWS_")}
    if runtime_url is not None:
        env["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = runtime_url
    return env


def write_kernel(jupyter_dir: Path, env: dict[str, str]) -> Path:
    """The `python3` kernel spec with `env`, under `jupyter_dir` (put first on JUPYTER_PATH)."""
    directory = jupyter_dir / "kernels" / KERNEL_NAME
    directory.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (sagestack emulator)",
        "language": "python",
        "env": {**env, "IPYTHONDIR": str(jupyter_dir / "ipython")},
    }
    (directory / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return directory


def jupyter_environment(jupyter_dir: Path) -> dict[str, str]:
    """Jupyter's own folders, all under `jupyter_dir`."""
    return {
        "JUPYTER_PATH": str(jupyter_dir),
        "JUPYTER_CONFIG_DIR": str(jupyter_dir / "config"),
        "JUPYTER_DATA_DIR": str(jupyter_dir / "data"),
        "JUPYTER_RUNTIME_DIR": str(jupyter_dir / "runtime"),
        "IPYTHONDIR": str(jupyter_dir / "ipython"),
    }


@dataclass
class Studio:
    """A running JupyterLab: `lab_url` opens it (the token is part of it)."""

    url: str
    token: str
    log_path: Path
    process: subprocess.Popen

    @property
    def lab_url(self) -> str:
        return f"{self.url}/lab?token={self.token}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def check_port(port: int) -> None:
    """StudioError when `port` (0: any free one) cannot be had on the loopback address."""
    if port and not _port_free(port):
        raise StudioError(f"port {port} on {HOST} is in use; choose another with --port")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _answers(studio: Studio) -> bool:
    status = f"{studio.url}/api/status?token={studio.token}"
    try:
        with urllib.request.urlopen(status, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_studio(
    server: emulator.Emulator,
    *,
    region: str,
    jupyter_dir: Path,
    notebooks: Path = NOTEBOOKS_DIR,
    port: int = 0,
    runtime_url: str | None = None,
) -> Studio:
    """JupyterLab on 127.0.0.1:`port` (0: a free one), serving `notebooks`, started and
    answering; StudioError when it cannot be."""
    if not notebooks.is_dir():
        raise StudioError(f"no notebooks folder at {notebooks}")
    check_port(port)
    port = port or _free_port()
    write_kernel(jupyter_dir, kernel_environment(server, region, runtime_url))
    token = secrets.token_hex(24)
    log_path = jupyter_dir / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={notebooks}",
        f"--IdentityProvider.token={token}",
        f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}",
        # Offline: no update checks nor news feed fetched from the internet.
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # containers and CI run as root; Jupyter refuses unless told
        command.append("--allow-root")
    env = {**_clean_environment(), **jupyter_environment(jupyter_dir)}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    studio = Studio(f"http://{HOST}:{port}", token, log_path, process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _answers(studio):
        if process.poll() is not None:
            raise StudioError(f"JupyterLab exited with code {process.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            studio.stop()
            raise StudioError(f"JupyterLab did not answer within 60 s; see {log_path}")
        time.sleep(0.2)
    return studio


def _clean_environment() -> dict[str, str]:
    """This process's environment without Jupyter's own folders (they are set per studio)."""
    hidden = {"JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"}
    return {k: v for k, v in os.environ.items() if k not in hidden}


def serve_deployed_endpoint(
    server: emulator.Emulator, deployment: ModelDeployment, directory: Path
) -> LocalEndpoint:
    """What the emulator's endpoint of the model serves, served locally under its name."""
    region = deployment.environment.region
    storage = S3Storage(server.client("s3", region), create_buckets=False, label="the emulator")
    name = deployment.endpoint_name
    artifact = download_served_model(server.client("sagemaker", region), storage, name, directory)
    return start_endpoint(artifact, in_process=False, endpoint_name=name)


def _emulator(state_dir: Path | None) -> emulator.Emulator:
    """The emulator of `state_dir`; by default a running one (ours, the demo's), or a new one."""
    if state_dir is not None:
        return emulator.start(state_dir)
    for candidate in (emulator.STATE_DIR, DEMO_EMULATOR_DIR):
        running = emulator.current(candidate)
        if running is not None:
            return running
    return emulator.start(emulator.STATE_DIR)


def _deployed(server: emulator.Emulator, deployment: ModelDeployment) -> bool:
    sagemaker = server.client("sagemaker", deployment.environment.region)
    try:
        sagemaker.describe_pipeline(PipelineName=pipeline_name(deployment.prefix, TRAINING))
    except ClientError:
        return False
    return True


@contextmanager
def _model_endpoint(
    server: emulator.Emulator, deployment: ModelDeployment
) -> Iterator[LocalEndpoint | None]:
    with tempfile.TemporaryDirectory(prefix="sagestack-studio-") as directory:
        try:
            endpoint = serve_deployed_endpoint(server, deployment, Path(directory))
        except (DeployedModelError, EndpointError) as error:
            print(f"sagestack: {deployment.name}'s endpoint is not served: {error}")
            yield None
            return
        try:
            yield endpoint
        finally:
            endpoint.stop()


def _run(args: argparse.Namespace) -> int:
    try:
        deployment = load_environment(args.env).model(args.model)
        check_port(args.port)
        server = _emulator(args.state_dir)
    except (ConfigError, StudioError, emulator.EmulatorError) as error:
        print(f"sagestack: {error}", file=sys.stderr)
        return 1
    print(f"emulator at {server.url} (moto server on loopback; this is not AWS)")
    if not _deployed(server, deployment):
        print(
            f"the emulator has no {args.env} platform yet: run `sagestack demo --keep` (or "
            "`sagestack local deploy` and `sagestack local pipeline run`) for the notebooks' data"
        )
    try:
        return _serve_studio(args, server, deployment)
    except KeyboardInterrupt:
        print("stopped")
        return 130


def _serve_studio(
    args: argparse.Namespace, server: emulator.Emulator, deployment: ModelDeployment
) -> int:
    """The model's endpoint and JupyterLab, until JupyterLab stops or Ctrl-C."""
    with _model_endpoint(server, deployment) as endpoint:
        if endpoint is not None:
            print(f"{deployment.endpoint_name} served at {endpoint.url} (InvokeEndpoint)")
        try:
            studio = start_studio(
                server,
                region=deployment.environment.region,
                jupyter_dir=Path(args.work_dir).resolve(),
                notebooks=args.notebooks.resolve(),
                port=args.port,
                runtime_url=endpoint.url if endpoint else None,
            )
        except StudioError as error:
            print(f"sagestack: {error}", file=sys.stderr)
            return 1
        print(f"JupyterLab: {studio.lab_url}")
        print("press Ctrl-C to stop JupyterLab (the emulator keeps running)")
        try:
            studio.process.wait()
        finally:
            studio.stop()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = "JupyterLab with the notebooks, its kernel pointed at the emulator"
    parser = subparsers.add_parser("studio", help=summary, description=__doc__)
    parser.add_argument(
        "--model", default="cancer", help="whose endpoint is served locally (default: cancer)"
    )
    parser.add_argument("--env", default="dev", help="the environment (default: dev)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the emulator's state folder (default: the running one in .sagestack or the "
        "demo's; else a new one in .sagestack)",
    )
    parser.add_argument("--port", type=int, default=8888, help="JupyterLab's port (8888)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, help=argparse.SUPPRESS)
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=emulator.STATE_DIR / "studio",
        help="JupyterLab's configuration, kernel and log (default: .sagestack/studio)",
    )
    parser.set_defaults(handler=_run)
