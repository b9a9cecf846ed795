"""The embedded AWS emulator: moto's server on 127.0.0.1, started and stopped by sagestack.

Its URL and process id are written to `.sagestack/emulator.json` so that every other command
(deploy, pipeline run, promote, demo) finds it. It never binds to anything but loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sagestack.aws_clients import contract_client

STATE_DIR = Path(".sagestack")
STATE_FILE = "emulator.json"
LOG_FILE = "emulator.log"
# moto's default account; the dev environment is configured with it so a deploy matches.
EMULATOR_ACCOUNT = "123456789012"
START_TIMEOUT_SECONDS = 30.0
SERVER_MODULE = "sagestack.local.emulator_server"


class EmulatorError(Exception):
    """The emulator could not be started, reached or stopped; the message says what to do."""


@dataclass(frozen=True)
class Emulator:
    url: str
    pid: int
    log_path: str

    def client_environment(self, region: str) -> dict[str, str]:
        """Environment that points boto3, the CDK CLI and child processes at the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "emulator",
            "AWS_SECRET_ACCESS_KEY": "emulator",
            "AWS_SESSION_TOKEN": "emulator",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "CDK_DEFAULT_ACCOUNT": EMULATOR_ACCOUNT,
            "CDK_DEFAULT_REGION": region,
        }

    def client(self, service: str, region: str) -> Any:
        """A real boto3 client for `service`, talking to the emulator."""
        return contract_client(
            service,
            region,
            endpoint_url=self.url,
            aws_access_key_id="emulator",
            aws_secret_access_key="emulator",
            aws_session_token="emulator",
        )


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def add_state_dir_argument(parser: argparse.ArgumentParser, when: str = "") -> None:
    """`--state-dir` of commands that find the emulator; `when` prefixes its help."""
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=STATE_DIR,
        help=f"{when}where `sagestack local up` records the emulator (default: .sagestack)",
    )


def current(state_dir: Path = STATE_DIR) -> Emulator | None:
    """The running emulator recorded in `state_dir`, or None when none answers."""
    state = state_dir / STATE_FILE
    if not state.exists():
        return None
    emulator = Emulator(**json.loads(state.read_text(encoding="utf-8")))
    if _process_alive(emulator.pid) and _answers(emulator.url):
        return emulator
    return None


def start(state_dir: Path = STATE_DIR) -> Emulator:
    """Start the emulator (or return the one already running) and wait until it answers."""
    running = current(state_dir)
    if running:
        return running
    state_dir.mkdir(parents=True, exist_ok=True)
    port = _free_loopback_port()
    log_path = state_dir / LOG_FILE
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", SERVER_MODULE, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    emulator = Emulator(url=f"http://127.0.0.1:{port}", pid=process.pid, log_path=str(log_path))
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _answers(emulator.url):
        if process.poll() is not None:
            raise EmulatorError(
                f"the emulator exited with code {process.returncode} while starting; see {log_path}"
            )
        if time.monotonic() > deadline:
            process.kill()
            raise EmulatorError(
                f"the emulator did not answer on {emulator.url} within "
                f"{START_TIMEOUT_SECONDS:.0f} s; see {log_path}"
            )
        time.sleep(0.1)
    (state_dir / STATE_FILE).write_text(json.dumps(asdict(emulator)), encoding="utf-8")
    return emulator


def stop(state_dir: Path = STATE_DIR) -> bool:
    """Stop the recorded emulator; True when one was running."""
    state = state_dir / STATE_FILE
    if not state.exists():
        return False
    emulator = Emulator(**json.loads(state.read_text(encoding="utf-8")))
    state.unlink()
    if not _process_alive(emulator.pid):
        return False
    os.killpg(emulator.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _process_alive(emulator.pid) and time.monotonic() < deadline:
        _reap(emulator.pid)
        time.sleep(0.05)
    if _process_alive(emulator.pid):
        os.killpg(emulator.pid, signal.SIGKILL)
        _reap(emulator.pid)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when the emulator is our own child (avoids a zombie)."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@contextmanager
def running(state_dir: Path) -> Iterator[Emulator]:
    """An emulator for the duration of a block (tests, the demo), stopped afterwards."""
    emulator = start(state_dir)
    try:
        yield emulator
    finally:
        stop(state_dir)
