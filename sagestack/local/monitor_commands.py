"""`sagestack local monitor run`: a model's Model Monitor schedule, run now on this machine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ground.config import ConfigError, ModelDeployment, load_environment
from sagestack.local import emulator
from sagestack.local.event_routing import PipelineStart
from sagestack.local.monitor import (
    KINDS,
    Clients,
    MonitorError,
    MonitorRun,
    next_run_time,
    run_monitor,
    start_pipelines,
)
from sagestack.local.pipeline.deployed import run_deployed_pipeline
from sagestack.local.pipeline.executor import ExecutionResult
from sagestack.storage import S3Storage


def emulator_clients(server: emulator.Emulator, region: str) -> Clients:
    return Clients(
        sagemaker=server.client("sagemaker", region),
        s3=server.client("s3", region),
        events=server.client("events", region),
        cloudwatch=server.client("cloudwatch", region),
    )


def pipeline_starter(
    server: emulator.Emulator, deployment: ModelDeployment, workdir: Path
) -> Callable[[PipelineStart], ExecutionResult]:
    """Runs what EventBridge would start: the deployed pipeline, with the target's parameters."""
    region = deployment.environment.region
    storage = S3Storage(server.client("s3", region), create_buckets=False, label="the emulator")

    def start(target: PipelineStart) -> ExecutionResult:
        return run_deployed_pipeline(
            server.client("sagemaker", region),
            storage,
            target.pipeline_name,
            region=region,
            account=deployment.environment.account,
            workdir=workdir,
            parameters=target.parameters,
            echo=lambda line: print(f"    {line.strip()}"),
        )

    return start


def describe(run: MonitorRun) -> list[str]:
    """What a person reads after a run: the outcome, the violations, what it set off."""
    start, end = run.window
    lines = [
        f"{run.schedule}: {run.records} capture record(s) in [{start:%Y-%m-%d %H:%M}, "
        f"{end:%Y-%m-%d %H:%M}) UTC, {run.scored} scored; {run.exit_message}",
        f"  reports: {run.report_uri}/constraint_violations.json (and statistics.json)",
    ]
    for violation in run.violations:
        what = violation.get("feature_name") or violation.get("metric_name")
        lines.append(f"  {violation['constraint_check_type']} {what}: {violation['description']}")
    if run.rejected:
        lines.append(f"  {len(run.rejected)} record(s) not used, first: {run.rejected[0].reason}")
    routing = run.routing
    if routing.matched:
        lines.append(f"  rules matched: {', '.join(routing.matched)}")
    if routing.alarmed:
        lines.append(f"  alarms into ALARM: {', '.join(routing.alarmed)}")
    if routing.held:
        lines.append(f"  already in ALARM (no new start): {', '.join(routing.held)}")
    for target in run.routing.starts:
        lines.append(f"  {target.rule} starts {target.pipeline_name} with {target.parameters}")
    return lines


def describe_executions(run: MonitorRun) -> list[str]:
    """How the pipelines the run started ended."""
    return [
        f"  {target.pipeline_name}: {result.status} "
        f"({result.model_package_arn or result.failure_reason or 'no package'})"
        for target, result in run.executions
    ]


def _parse_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _run(args: argparse.Namespace) -> int:
    try:
        deployment = load_environment(args.env).model(args.model)
        server = emulator.current(args.state_dir)
        if server is None:
            raise MonitorError(
                f"no emulator is running (none recorded in {args.state_dir}); run "
                "`sagestack demo --keep` or start it with `sagestack local up` and deploy"
            )
        at = args.at or next_run_time(datetime.now(UTC))
        clients = emulator_clients(server, deployment.environment.region)
        run = run_monitor(clients, deployment, KINDS[args.type], at)
    except (ConfigError, MonitorError, emulator.EmulatorError) as error:
        print(f"sagestack: {error}", file=sys.stderr)
        return 1
    print("\n".join(describe(run)))
    if run.routing.starts and not args.no_retrain:
        start_pipelines(run, pipeline_starter(server, deployment, args.state_dir / "pipeline-runs"))
        print("\n".join(describe_executions(run)))
    return 3 if run.violations else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    monitor = subparsers.add_parser(
        "monitor",
        help="Model Monitor locally: run a deployed schedule now",
        description="Model Monitor locally, on what the emulator deployed.",
    )
    commands = monitor.add_subparsers(dest="monitor_command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="analyse the endpoint's captured data as the schedule's next run would, write the "
        "reports, and route the outcome through the deployed rules (which may retrain)",
    )
    run.add_argument("--model", required=True, metavar="NAME", help="the model to monitor")
    run.add_argument("--env", default="dev", help="its environment (default: dev)")
    run.add_argument(
        "--type",
        choices=sorted(KINDS),
        default="data",
        help="data quality (captured requests against the baseline) or model quality "
        "(predictions against ground truth); default: data",
    )
    run.add_argument(
        "--at",
        type=_parse_time,
        metavar="TIME",
        help="the scheduled run's time, ISO 8601 (default: the next top of the hour)",
    )
    run.add_argument(
        "--no-retrain",
        action="store_true",
        help="route the outcome but do not run the pipelines it would start",
    )
    emulator.add_state_dir_argument(run)
    run.set_defaults(handler=_run)
