"""`sagestack local up|down|status`: the embedded emulator's lifecycle from the shell."""

from __future__ import annotations

import argparse

from ground.config import ConfigError, load_environments
from sagestack.cdk_cli import CdkError
from sagestack.local import emulator
from sagestack.local.deploy import DeployError, deploy, describe_gaps


def _up(args: argparse.Namespace) -> int:
    try:
        running = emulator.start(args.state_dir)
    except emulator.EmulatorError as error:
        print(f"sagestack: {error}")
        return 1
    print(f"emulator up at {running.url} (pid {running.pid}, log {running.log_path})")
    print(f"point AWS tools at it with: export AWS_ENDPOINT_URL={running.url}")
    return 0


def _down(args: argparse.Namespace) -> int:
    stopped = emulator.stop(args.state_dir)
    print("emulator stopped" if stopped else "no emulator was running")
    return 0


def _status(args: argparse.Namespace) -> int:
    running = emulator.current(args.state_dir)
    if running is None:
        print("emulator: not running (start it with `sagestack local up`)")
        return 3
    print(f"emulator: running at {running.url} (pid {running.pid})")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    running = emulator.current(args.state_dir)
    if running is None:
        print("sagestack: no emulator is running; start it with `sagestack local up`")
        return 1
    try:
        (environment,) = load_environments([args.env])
        gaps = deploy(environment.config, running)
    except (ConfigError, DeployError, CdkError) as error:
        print(f"sagestack: {error}")
        return 1
    print(describe_gaps(gaps))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, handler, summary in (
        ("up", _up, "start the embedded AWS emulator (moto server) on 127.0.0.1"),
        ("down", _down, "stop the embedded AWS emulator"),
        ("status", _status, "say whether the emulator runs, and where (exit 3 when not)"),
        ("deploy", _deploy, "cdk bootstrap + cdk deploy of an environment into the emulator"),
    ):
        parser = subparsers.add_parser(name, help=summary, description=summary)
        emulator.add_state_dir_argument(parser)
        if name == "deploy":
            parser.add_argument("--env", default="dev", help="environment to deploy (default: dev)")
        parser.set_defaults(handler=handler)
