"""`sagestack demo`: the platform's whole lifecycle on this machine, without an AWS account.

Emulator up → deploy dev with the real CDK CLI → upload each model's sample data → run every
model's deployed training pipeline locally (side by side) → approve the registered packages →
pin them and deploy their serving stacks → serve each model on the hosting contract → invoke
each through boto3 → run each model's batch pipeline → promote one model to staging (gates,
pin, cdk diff) → report every model's evaluation.
Each phase prints its duration; a failure names the phase, the model, the reason and the log.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import tarfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ground.config import ModelDeployment, load_environment
from ground.config.loader import CONFIG_DIR, Environment
from ground.layout import artifacts_bucket_name
from ground.naming import BATCH_TRANSFORM, TRAINING, pipeline_name
from sagestack import cli
from sagestack.aws_clients import contract_client
from sagestack.demo_watch import (
    SHIFT_STANDARD_DEVIATIONS,
    SHIFTED_COLUMN,
    WATCHED,
    monitor,
    send,
    shifted,
    watch_in_dev,
)
from sagestack.local import emulator
from sagestack.local.deploy import deploy, describe_gaps
from sagestack.local.deployed_model import download_served_model, served_capture
from sagestack.local.endpoint import LocalEndpoint, start_endpoint
from sagestack.local.event_routing import PipelineStart
from sagestack.local.monitor import MonitorRun, next_run_time
from sagestack.local.monitor_commands import emulator_clients
from sagestack.local.pipeline.commands import seed_input
from sagestack.local.pipeline.deployed import deployed_definition, run_deployed_pipeline
from sagestack.local.pipeline.executor import ExecutionResult
from sagestack.promotion.candidate import package_baseline
from sagestack.promotion.pin import pin_path, rewrite_pin
from sagestack.storage import S3Storage

ENVIRONMENT = "dev"
STAGING = "staging"
# The model promoted to staging at the end (one promotion shows the gates; each synthesizes
# staging twice for its cdk diff).
PROMOTED = "cancer"
INVOCATION_ROWS = 5
# Pipelines run side by side: their jobs are short processes that mostly start and load.
PARALLEL_MODELS = 3


class DemoError(Exception):
    """A phase failed; `log` is where its full output went, when it has one."""

    def __init__(self, message: str, log: Path | None = None) -> None:
        super().__init__(message)
        self.log = log


@dataclass
class ModelRun:
    """One model's way through the demo."""

    deployment: ModelDeployment
    execution: ExecutionResult | None = None
    package: dict[str, Any] = field(default_factory=dict)
    endpoint: LocalEndpoint | None = None
    rows: list[str] = field(default_factory=list)
    predictions: dict[str, Any] = field(default_factory=dict)
    batch_outputs: list[str] = field(default_factory=list)
    report_dir: Path | None = None

    @property
    def name(self) -> str:
        return self.deployment.name

    @property
    def prefix(self) -> str:
        return self.deployment.prefix


@dataclass
class DemoState:
    """What the phases hand to each other."""

    work_dir: Path
    environment: Environment
    models: dict[str, ModelRun] = field(default_factory=dict)
    server: emulator.Emulator | None = None
    storage: S3Storage | None = None
    staging: Environment | None = None  # staging's config once the promotion pinned it
    watched: list[MonitorRun] = field(default_factory=list)  # the monitoring runs of WATCHED
    printing: threading.Lock = field(default_factory=threading.Lock)

    @property
    def region(self) -> str:
        return self.environment.config.region

    @property
    def emulator_dir(self) -> Path:
        """Where `sagestack local up` state of the demo's emulator is kept."""
        return self.work_dir / "emulator"

    @property
    def config_dir(self) -> Path:
        """The demo's copy of config/, where the pins change."""
        return self.work_dir / "config"

    def client(self, service: str) -> Any:
        assert self.server is not None
        return self.server.client(service, self.region)

    def log(self, phase: str) -> Path:
        return self.work_dir / "logs" / f"{phase}.log"

    def echo(self, model: str) -> Callable[[str], None]:
        """A printer whose lines say which model they are about (models run side by side)."""

        def say(line: str) -> None:
            with self.printing:
                print(f"  [{model}] {line.strip()}", flush=True)

        return say


@contextmanager
def phase(title: str) -> Iterator[None]:
    """Print the phase, run it, print its duration; re-raise failures as DemoError."""
    print(f"\n▶ {title}", flush=True)
    started = time.monotonic()
    try:
        yield
    except DemoError:
        print(f"✖ {title}: failed after {time.monotonic() - started:.1f} s")
        raise
    except Exception as error:  # every failure of a phase is reported the same way
        print(f"✖ {title}: failed after {time.monotonic() - started:.1f} s")
        raise DemoError(f"{type(error).__name__}: {error}") from error
    print(f"✔ {title} ({time.monotonic() - started:.1f} s)", flush=True)


def each_model(state: DemoState, step: Callable[[DemoState, ModelRun], None]) -> None:
    """`step` for every model, side by side; the first failure, named by model, is raised."""
    with ThreadPoolExecutor(max_workers=PARALLEL_MODELS) as pool:
        futures = {name: pool.submit(step, state, run) for name, run in state.models.items()}
    for name, future in futures.items():
        error = future.exception()
        if isinstance(error, DemoError):
            raise DemoError(f"{name}: {error}", error.log)
        if error is not None:
            raise DemoError(f"{name}: {type(error).__name__}: {error}") from error


def start_emulator(state: DemoState) -> None:
    state.server = emulator.start(state.emulator_dir)
    state.storage = S3Storage(state.client("s3"), create_buckets=False, label="the emulator's S3")
    print(f"  emulator at {state.server.url} (moto server on loopback; this is not AWS)")


def deploy_platform(state: DemoState, config_dir: Path = CONFIG_DIR) -> None:
    log = state.log("deploy")
    print(f"  cdk bootstrap + cdk deploy '{ENVIRONMENT}/*' (CLI output: {log})")
    assert state.server is not None
    gaps = deploy(
        state.environment.config,
        state.server,
        context=(f"config_dir={config_dir}",),
        log_path=log,
        assembly_dir=state.work_dir / "cdk.out",
    )
    print("  " + describe_gaps(gaps).replace("\n", "\n  "))


def run_pipeline(
    state: DemoState, run: ModelRun, name: str, parameters: dict[str, str] | None = None
) -> ExecutionResult:
    """The definition CloudFormation deployed for pipeline `name`, run locally."""
    assert state.storage is not None
    say = state.echo(run.name)
    say(f"running the deployed definition of {name} locally")
    result = run_deployed_pipeline(
        state.client("sagemaker"),
        state.storage,
        name,
        region=state.region,
        account=state.environment.config.account,
        workdir=state.work_dir / "pipeline-runs",
        parameters=parameters,
        echo=say,
    )
    if not result.succeeded:
        raise DemoError(f"step {result.failed_step}: {result.failure_reason}", result.failure_log)
    return result


def run_model_pipeline(state: DemoState, run: ModelRun, kind: str) -> ExecutionResult:
    """The model's `kind` pipeline as deployed, run locally with its defaults."""
    return run_pipeline(state, run, pipeline_name(run.prefix, kind))


def input_location(state: DemoState, name: str) -> str:
    """The default of a deployed pipeline's InputDataUrl parameter."""
    definition = deployed_definition(state.client("sagemaker"), name)
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    return str(parameters["InputDataUrl"]["DefaultValue"])


def upload_data(state: DemoState) -> None:
    assert state.storage is not None
    for run in state.models.values():
        location = input_location(state, pipeline_name(run.prefix, TRAINING))
        with contextlib.redirect_stdout(io.StringIO()) as said:
            seed_input(state.storage, location, None, run.deployment.model.data.sample_dataset)
        state.echo(run.name)(said.getvalue())


def train(state: DemoState, run: ModelRun) -> None:
    run.execution = run_model_pipeline(state, run, TRAINING)
    if not run.execution.model_package_arn:
        raise DemoError("the pipeline succeeded but registered no model package")


def approve(state: DemoState) -> None:
    sagemaker = state.client("sagemaker")
    for run in state.models.values():
        assert run.execution is not None and run.execution.model_package_arn
        arn = run.execution.model_package_arn
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        run.package = sagemaker.describe_model_package(ModelPackageName=arn)
        print(f"  {arn}: {run.package['ModelApprovalStatus']}")


def pinned_config_dir(state: DemoState) -> Path:
    """A copy of config/ where dev pins each approved package (the repo's files stay as they
    are), with its data-quality baseline, as `sagestack promote` writes pins."""
    target = state.config_dir
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(CONFIG_DIR, target)
    for run in state.models.values():
        model_file = target / "models" / f"{run.name}.yaml"
        arn, baseline = run.package["ModelPackageArn"], package_baseline(run.package)
        text = rewrite_pin(
            model_file.read_text(), pin_path(ENVIRONMENT), arn, str(model_file), baseline
        )
        model_file.write_text(text)
        print(f"  {run.name}: dev pins {arn} (baseline {baseline}) in {model_file}")
    watched = target / "models" / f"{WATCHED}.yaml"
    watch_in_dev(watched, ENVIRONMENT)
    print(f"  {WATCHED}: dev serves it from an instance variant, captured and monitored")
    return target


def deploy_serving(state: DemoState) -> None:
    config_dir = pinned_config_dir(state)
    state.environment = load_environment(ENVIRONMENT, config_dir)
    for deployment in state.environment.models:
        state.models[deployment.name].deployment = deployment
    deploy_platform(state, config_dir)


def _download(state: DemoState, uri: str, directory: Path) -> Path:
    """The one object at `uri`, downloaded into `directory`."""
    assert state.storage is not None
    (path,) = state.storage.download(uri, directory)
    return path


def serve(state: DemoState, run: ModelRun) -> None:
    """What the deployed endpoint serves (endpoint → config → model → package), served locally
    under the endpoint's name."""
    assert state.storage is not None
    name = run.deployment.endpoint_name
    artifact = download_served_model(
        state.client("sagemaker"), state.storage, name, state.work_dir / "model" / run.name
    )
    with tarfile.open(artifact) as archive:
        contents = archive.getnames()
    assert state.server is not None
    capture = served_capture(state.client("sagemaker"), name, state.region, state.server.url)
    run.endpoint = start_endpoint(artifact, in_process=False, endpoint_name=name, capture=capture)
    captured = ""
    if capture is not None:
        captured = f"; captures {capture.sampling_percentage}% to {capture.destination}"
    state.echo(run.name)(
        f"{name} at {run.endpoint.url}, serving model.tar.gz "
        f"({', '.join(sorted(contents))}) with its own code/inference.py{captured}"
    )


def test_rows(state: DemoState, run: ModelRun, count: int | None = INVOCATION_ROWS) -> list[str]:
    """Rows of the model's test split (`count`; None: all), features only (target first)."""
    assert state.storage is not None
    config = state.environment.config
    bucket = artifacts_bucket_name(config.prefix, config.account, state.region)
    folder = f"s3://{bucket}/pipelines/{pipeline_name(run.prefix, TRAINING)}/"
    keys = [k for k in state.storage.list_keys(folder) if k.endswith("/test/test.csv")]
    if not keys:
        raise DemoError(f"no test split (…/test/test.csv) under {folder}")
    split = _download(
        state, f"s3://{bucket}/{sorted(keys)[-1]}", state.work_dir / "test" / run.name
    )
    rows = split.read_text(encoding="utf-8").strip().splitlines()[1:]
    rows = rows[:count] if count is not None else rows
    return [row.split(",", 1)[1] for row in rows]


def runtime_client(state: DemoState, run: ModelRun) -> Any:
    """boto3's sagemaker-runtime, pointed at the model's local endpoint."""
    assert run.endpoint is not None
    return contract_client(
        "sagemaker-runtime",
        state.region,
        endpoint_url=run.endpoint.url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def invoke(state: DemoState, run: ModelRun) -> None:
    runtime = runtime_client(state, run)
    run.rows = test_rows(state, run)
    response = runtime.invoke_endpoint(
        EndpointName=run.deployment.endpoint_name,
        ContentType="text/csv",
        Accept="application/json",
        Body="\n".join(run.rows),
    )
    run.predictions = json.loads(response["Body"].read())
    first = json.dumps(run.predictions.get("predictions", [None])[0])
    state.echo(run.name)(
        f"invoke_endpoint({len(run.rows)} rows, text/csv) → {run.deployment.problem.name} "
        f"answers, e.g. {first}"
    )


def batch(state: DemoState, run: ModelRun) -> None:
    """The batch pipeline on the invoked rows: a Transform step with the model's own handlers."""
    assert state.storage is not None
    rows_file = state.work_dir / "batch" / run.name / "demo.csv"
    rows_file.parent.mkdir(parents=True, exist_ok=True)
    rows_file.write_text("\n".join(run.rows), encoding="utf-8")
    name = pipeline_name(run.prefix, BATCH_TRANSFORM)
    state.storage.upload_file(rows_file, f"{input_location(state, name).rstrip('/')}/demo.csv")
    result = run_model_pipeline(state, run, BATCH_TRANSFORM)
    output_uri = result.steps[-1].detail
    run.batch_outputs = state.storage.list_keys(output_uri)
    state.echo(run.name)(f"predictions written under {output_uri}: {', '.join(run.batch_outputs)}")


def promote_to_staging(state: DemoState) -> None:
    """The next step of a model's life: `sagestack promote --to staging --model M`.

    The gates read the emulator (dev's registry, endpoint and baseline); the new pin is
    written to the demo's copy of config/ and its `cdk diff` to a file, as a pull request
    would show them. Deploying staging is the delivery pipeline's job, so the demo stops there.
    """
    diff_file = state.log("promote-diff")
    command = ["promote", "--to", STAGING, "--model", PROMOTED]
    command += ["--config-dir", str(state.config_dir), "--emulator"]
    command += ["--state-dir", str(state.emulator_dir), "--diff-file", str(diff_file)]
    with contextlib.redirect_stdout(io.StringIO()) as output:
        outcome = cli.main(command)
    print(textwrap.indent(output.getvalue().rstrip(), "  "))
    if outcome != 0:
        raise DemoError(f"promotion of {PROMOTED} to {STAGING} was refused; the gates say why")
    state.staging = load_environment(STAGING, state.config_dir)


def watch(state: DemoState) -> None:
    """Held-out traffic, a clean data-quality run; shifted traffic, drift found, retraining
    started by the deployed rule; more drift in the same hour, and the guard holds."""
    assert state.server is not None
    run = state.models[WATCHED]
    say = state.echo(WATCHED)
    runtime, endpoint = runtime_client(state, run), run.deployment.endpoint_name
    clients = emulator_clients(state.server, state.region)
    at = next_run_time(datetime.now(UTC))

    def start(target: PipelineStart) -> ExecutionResult:
        return run_pipeline(state, run, target.pipeline_name, target.parameters)

    rows = test_rows(state, run, count=None)
    send(runtime, endpoint, rows)
    say(f"{len(rows)} requests of held-out rows; the schedule's run at {at:%H:%M} UTC:")
    clean = monitor(clients, run.deployment, at, start, say)
    if clean.violations or clean.executions:
        raise DemoError(f"held-out traffic raised violations: {clean.report_uri}")
    send(runtime, endpoint, shifted(rows, SHIFTED_COLUMN, SHIFT_STANDARD_DEVIATIONS))
    say(f"{len(rows)} more, feature {SHIFTED_COLUMN} moved {SHIFT_STANDARD_DEVIATIONS:g} sd:")
    drifted = monitor(clients, run.deployment, at, start, say)
    retrained = [result for _, result in drifted.executions if result.model_package_arn]
    if not drifted.violations or not retrained:
        raise DemoError(f"drift did not retrain {WATCHED}: {drifted.report_uri}")
    package = state.client("sagemaker").describe_model_package(
        ModelPackageName=retrained[0].model_package_arn
    )
    say(f"retrained package {package['ModelPackageArn']}: {package['ModelApprovalStatus']}")
    send(runtime, endpoint, shifted(rows, SHIFTED_COLUMN, SHIFT_STANDARD_DEVIATIONS))
    say("still drifting, the run again (the guard allows one retraining a day):")
    held = monitor(clients, run.deployment, at, start, say)
    if held.executions:
        raise DemoError(f"the guard let a second retraining through: {held.report_uri}")
    state.watched = [clean, drifted, held]


def report(state: DemoState) -> None:
    for run in state.models.values():
        assert run.execution is not None
        statistics = run.package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
        run.report_dir = report_dir = state.work_dir / "evaluation" / run.name
        for name in ("evaluation.json", "report.html"):
            _download(state, statistics.rsplit("/", 1)[0] + f"/{name}", report_dir)
        model = run.deployment.model
        gate = model.gate_metric
        metrics = run.execution.metrics
        print(
            f"  {run.name} ({model.family} {model.problem_type}): gate {gate} = "
            f"{metrics.get(gate, float('nan')):.4f} (threshold {run.deployment.gate_threshold})"
        )
        others = ", ".join(f"{k} = {v:.4f}" for k, v in sorted(metrics.items()) if k != gate)
        print(textwrap.fill(others, width=96, initial_indent="    ", subsequent_indent="    "))
        print(f"    report: {report_dir / 'report.html'}")


def teardown(state: DemoState, keep: bool) -> None:
    if keep and state.server is not None:
        print("\nleft running (--keep):")
        print(f"  emulator: export AWS_ENDPOINT_URL={state.server.url}")
        for run in state.models.values():
            if run.endpoint is not None:
                path = f"/endpoints/{run.deployment.endpoint_name}/invocations"
                print(f"  {run.name}: {run.endpoint.url}{path}")
        print("  (the endpoints stop with this process; press Ctrl-C to stop them all)")
        return
    for run in state.models.values():
        if run.endpoint is not None:
            run.endpoint.stop()
    emulator.stop(state.emulator_dir)


def lifecycle(state: DemoState) -> None:
    """Every phase, in order; raises DemoError naming the phase (and model) that failed."""
    names = ", ".join(state.models)
    with phase("start the embedded AWS emulator"):
        start_emulator(state)
    with phase(f"deploy dev (network, data, training of {names}) with the CDK CLI"):
        deploy_platform(state)
    with phase("upload each model's sample data set to its raw-data prefix"):
        upload_data(state)
    with phase("run every model's training pipeline locally (deployed definitions)"):
        each_model(state, train)
    with phase("approve the registered model packages"):
        approve(state)
    with phase("pin the packages for dev and deploy serving + monitoring"):
        deploy_serving(state)
    with phase("serve every model locally on the hosting contract"):
        each_model(state, serve)
    with phase("invoke every endpoint through boto3"):
        each_model(state, invoke)
    with phase("run every model's batch transform pipeline locally (deployed definitions)"):
        each_model(state, batch)
    with phase(f"promote {PROMOTED} to staging (gates, pin, cdk diff)"):
        promote_to_staging(state)
    with phase(f"watch {WATCHED}: capture, data-quality monitor, drift, retraining (guarded)"):
        watch(state)
    with phase("evaluation"):
        report(state)


def new_state(work_dir: Path) -> DemoState:
    """The demo's start: dev as config/ declares it, each of its models yet to be trained."""
    environment = load_environment(ENVIRONMENT)
    return DemoState(
        work_dir=work_dir,
        environment=environment,
        models={d.name: ModelRun(d) for d in environment.models},
    )


def run(work_dir: Path, keep: bool) -> int:
    state = new_state(work_dir)
    started = time.monotonic()
    try:
        lifecycle(state)
    except DemoError as error:
        print(f"\ndemo failed: {error}")
        if error.log:
            print(f"log: {error.log}")
        teardown(state, keep=False)
        return 1
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s")
    if keep:
        print(
            "next: in another terminal, .venv/bin/sagestack local studio opens the worked "
            "notebooks in JupyterLab against this emulator"
        )
    else:
        print(
            "next: make demo DEMO_ARGS=--keep, then .venv/bin/sagestack local studio in another "
            "terminal: the worked notebooks in JupyterLab against the demo's emulator"
        )
    teardown(state, keep)
    if keep:
        wait_forever()
    return 0


def wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping")


def _handle(args: argparse.Namespace) -> int:
    return run(args.work_dir, args.keep)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the whole lifecycle locally, with no AWS account",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(".sagestack") / "demo",
        help="where logs, the models and the reports go (default: .sagestack/demo)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the emulator and the endpoints running and print how to reach them",
    )
    parser.set_defaults(handler=_handle)
