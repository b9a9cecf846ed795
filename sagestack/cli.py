"""`sagestack` command line: each feature module registers its own sub-commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

# Modules that expose `register(subparsers)`; each adds its commands under a group.
# `local` commands live in sagestack.local.*; add a module here to add commands.
LOCAL_COMMAND_MODULES: tuple[str, ...] = (
    "sagestack.local.emulator_commands",
    "sagestack.local.commands",
    "sagestack.local.pipeline.commands",
    "sagestack.local.monitor_commands",
    "sagestack.local.studio",
)
TOP_LEVEL_COMMAND_MODULES: tuple[str, ...] = (
    "sagestack.baselines",
    "sagestack.demo",
    "sagestack.promotion.command",
    "sagestack.review.command",
)


def _register_all(subparsers: argparse._SubParsersAction, modules: tuple[str, ...]) -> None:
    for name in modules:
        register: Callable[[argparse._SubParsersAction], None] = importlib.import_module(
            name
        ).register
        register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sagestack",
        description="Operator tools of the sagestack SageMaker platform.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    local = commands.add_parser(
        "local",
        help="run the platform on this machine: container runner, pipeline, endpoint, emulator",
        description="Run SageMaker workloads locally under the container contract.",
    )
    _register_all(
        local.add_subparsers(dest="local_command", required=True, metavar="COMMAND"),
        LOCAL_COMMAND_MODULES,
    )
    _register_all(commands, TOP_LEVEL_COMMAND_MODULES)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen command's handler (`args.handler(args) -> int`)."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
