"""`sagestack demo`: the platform's whole lifecycle on this machine, without an AWS account.

Emulator up → deploy dev with the real CDK CLI → upload the bundled data → run the deployed
training pipeline locally → approve the registered package → pin it and deploy the serving
stack → serve the model on the hosting contract → invoke it through boto3 → run the batch
pipeline → promote the model to staging (gates, pin, cdk diff) → report.
Each phase prints its duration; a failure names the phase, the reason and the log.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import tarfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ground.config import EnvironmentConfig, load_environments
from ground.config.loader import CONFIG_DIR
from ground.layout import artifacts_bucket_name
from sagestack import cli
from sagestack.local import emulator
from sagestack.local.deploy import deploy, describe_gaps
from sagestack.local.endpoint import LocalEndpoint, start_endpoint
from sagestack.local.pipeline.commands import seed_input
from sagestack.local.pipeline.executor import ExecutionResult, Executor
from sagestack.local.pipeline.registry import ModelRegistry
from sagestack.promotion.candidate import package_baseline
from sagestack.promotion.pin import rewrite_pin
from sagestack.storage import S3Storage

ENVIRONMENT = "dev"
STAGING = "staging"
INVOCATION_ROWS = 5
BATCH = "batch-transform"


class DemoError(Exception):
    """A phase failed; `log` is where its full output went, when it has one."""

    def __init__(self, message: str, log: Path | None = None) -> None:
        super().__init__(message)
        self.log = log


@dataclass
class DemoState:
    """What the phases hand to each other."""

    work_dir: Path
    config: EnvironmentConfig
    server: emulator.Emulator | None = None
    execution: ExecutionResult | None = None
    package: dict[str, Any] = field(default_factory=dict)
    endpoint: LocalEndpoint | None = None
    storage: S3Storage | None = None
    rows: list[str] = field(default_factory=list)
    predictions: dict[str, Any] = field(default_factory=dict)
    batch_outputs: list[str] = field(default_factory=list)
    report_dir: Path | None = None
    staging: EnvironmentConfig | None = None

    @property
    def region(self) -> str:
        return self.config.region

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


def start_emulator(state: DemoState) -> None:
    state.server = emulator.start(state.emulator_dir)
    state.storage = S3Storage(state.client("s3"), create_buckets=False, label="the emulator's S3")
    print(f"  emulator at {state.server.url} (moto server on loopback; this is not AWS)")


def deploy_platform(state: DemoState, config_dir: Path = CONFIG_DIR) -> None:
    log = state.log("deploy")
    print(f"  cdk bootstrap + cdk deploy '{ENVIRONMENT}/*' (CLI output: {log})")
    assert state.server is not None
    gaps = deploy(
        state.config,
        state.server,
        context=(f"config_dir={config_dir}",),
        log_path=log,
        assembly_dir=state.work_dir / "cdk.out",
    )
    print("  " + describe_gaps(gaps).replace("\n", "\n  "))


def deployed_definition(state: DemoState, pipeline: str = "training") -> dict:
    described = state.client("sagemaker").describe_pipeline(
        PipelineName=f"{state.config.prefix}-{pipeline}"
    )
    return json.loads(described["PipelineDefinition"])


def run_deployed_pipeline(state: DemoState, pipeline: str) -> ExecutionResult:
    """The definition CloudFormation deployed for `pipeline`, run by the local executor."""
    assert state.storage is not None
    print(f"  running the deployed definition of {state.config.prefix}-{pipeline} locally")
    result = Executor(
        deployed_definition(state, pipeline),
        pipeline_name=f"{state.config.prefix}-{pipeline}",
        region=state.region,
        account=state.config.account,
        storage=state.storage,
        registry=ModelRegistry(state.client("sagemaker")),
        workdir=state.work_dir / "pipeline-runs",
    ).run({})
    if not result.succeeded:
        raise DemoError(f"step {result.failed_step}: {result.failure_reason}", result.failure_log)
    return result


def input_location(state: DemoState, pipeline: str) -> str:
    """The default of the deployed pipeline's InputDataUrl parameter."""
    parameters = {p["Name"]: p for p in deployed_definition(state, pipeline)["Parameters"]}
    return parameters["InputDataUrl"]["DefaultValue"]


def upload_data(state: DemoState) -> None:
    assert state.storage is not None
    seed_input(state.storage, input_location(state, "training"), None)


def train(state: DemoState) -> None:
    state.execution = run_deployed_pipeline(state, "training")
    if not state.execution.model_package_arn:
        raise DemoError("the pipeline succeeded but registered no model package")


def approve(state: DemoState) -> None:
    assert state.execution is not None
    sagemaker = state.client("sagemaker")
    arn = state.execution.model_package_arn
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    state.package = sagemaker.describe_model_package(ModelPackageName=arn)
    print(f"  {arn}: {state.package['ModelApprovalStatus']}")


def pinned_config_dir(state: DemoState) -> Path:
    """A copy of config/ where dev pins the approved package (the repo's files stay as they are)."""
    target = state.config_dir
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(CONFIG_DIR, target)
    dev_file = target / f"{ENVIRONMENT}.yaml"
    arn, baseline = state.package["ModelPackageArn"], package_baseline(state.package)
    dev_file.write_text(rewrite_pin(dev_file.read_text(), arn, str(dev_file), baseline))
    return target


def deploy_serving(state: DemoState) -> None:
    config_dir = pinned_config_dir(state)
    print(f"  dev pins {state.package['ModelPackageArn']} in {config_dir}/{ENVIRONMENT}.yaml")
    (state.config,) = load_environments([ENVIRONMENT], config_dir)
    pin = state.config.serving.model
    print(f"  with its data-quality baseline {pin.baseline_uri if pin else None}")
    deploy_platform(state, config_dir)


def _download(state: DemoState, uri: str, directory: Path) -> Path:
    """The one object at `uri`, downloaded into `directory`."""
    assert state.storage is not None
    (path,) = state.storage.download(uri, directory)
    return path


def serve(state: DemoState) -> None:
    container = state.package["InferenceSpecification"]["Containers"][0]
    artifact = _download(state, container["ModelDataUrl"], state.work_dir / "model")
    with tarfile.open(artifact) as archive:
        print(f"  model.tar.gz from {container['ModelDataUrl']}: {archive.getnames()}")
    state.endpoint = start_endpoint(artifact)
    print(f"  endpoint at {state.endpoint.url} (GET /ping, POST /invocations, Runtime API),")
    print("  handlers: the model's own code/inference.py, as the SageMaker container loads them")


def test_rows(state: DemoState) -> list[str]:
    """A few rows of the pipeline's test split, features only (the target comes first)."""
    assert state.storage is not None
    bucket = artifacts_bucket_name(state.config.prefix, state.config.account, state.region)
    keys = [k for k in state.storage.list_keys(f"s3://{bucket}/") if k.endswith("/test/test.csv")]
    if not keys:
        raise DemoError(f"no test split (…/test/test.csv) in s3://{bucket}")
    split = _download(state, f"s3://{bucket}/{sorted(keys)[-1]}", state.work_dir / "test-split")
    body = split.read_text(encoding="utf-8")
    rows = body.strip().splitlines()[1 : 1 + INVOCATION_ROWS]
    return [row.split(",", 1)[1] for row in rows]


def invoke(state: DemoState) -> None:
    import boto3

    assert state.endpoint is not None
    runtime = boto3.client(
        "sagemaker-runtime",
        endpoint_url=state.endpoint.url,
        region_name=state.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    state.rows = test_rows(state)
    response = runtime.invoke_endpoint(
        EndpointName=state.config.endpoint_name,
        ContentType="text/csv",
        Accept="application/json",
        Body="\n".join(state.rows),
    )
    state.predictions = json.loads(response["Body"].read())
    print(f"  invoke_endpoint({len(state.rows)} rows, text/csv) → {json.dumps(state.predictions)}")


def batch(state: DemoState) -> None:
    """The batch pipeline on the invoked rows: a Transform step with the model's own handlers."""
    assert state.storage is not None
    rows_file = state.work_dir / "batch" / "demo.csv"
    rows_file.parent.mkdir(parents=True, exist_ok=True)
    rows_file.write_text("\n".join(state.rows), encoding="utf-8")
    state.storage.upload_file(rows_file, f"{input_location(state, BATCH).rstrip('/')}/demo.csv")
    result = run_deployed_pipeline(state, BATCH)
    output_uri = result.steps[-1].detail
    state.batch_outputs = state.storage.list_keys(output_uri)
    print(f"  predictions written under {output_uri}: {', '.join(state.batch_outputs)}")


def promote_to_staging(state: DemoState) -> None:
    """The next step of a model's life: `sagestack promote --to staging`, gates run here.

    The gates read the emulator (dev's registry, endpoint and baseline); the new pin is
    written to the demo's copy of config/ and its `cdk diff` to a file, as a pull request
    would show them. Deploying staging is the delivery pipeline's job, so the demo stops there.
    """
    diff_file = state.log("promote-diff")
    command = ["promote", "--to", STAGING, "--config-dir", str(state.config_dir)]
    command += ["--emulator", "--state-dir", str(state.emulator_dir), "--diff-file", str(diff_file)]
    with contextlib.redirect_stdout(io.StringIO()) as output:
        outcome = cli.main(command)
    print(textwrap.indent(output.getvalue().rstrip(), "  "))
    if outcome != 0:
        raise DemoError(f"promotion to {STAGING} was refused; the gates above say why")
    (state.staging,) = load_environments([STAGING], state.config_dir)


def report(state: DemoState) -> None:
    assert state.execution is not None
    statistics = state.package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    state.report_dir = state.work_dir / "evaluation"
    for name in ("evaluation.json", "report.html"):
        _download(state, statistics.rsplit("/", 1)[0] + f"/{name}", state.report_dir)
    for name, value in sorted(state.execution.metrics.items()):
        print(f"  {name} = {value:.4f}")
    print(f"  evaluation report: {state.report_dir / 'report.html'}")


def teardown(state: DemoState, keep: bool) -> None:
    if keep and state.server is not None:
        print("\nleft running (--keep):")
        print(f"  emulator: export AWS_ENDPOINT_URL={state.server.url}")
        if state.endpoint is not None:
            path = f"/endpoints/{state.config.endpoint_name}/invocations"
            print(f"  endpoint: {state.endpoint.url}{path}")
            print("  (the endpoint stops with this process; press Ctrl-C to stop both)")
        return
    if state.endpoint is not None:
        state.endpoint.stop()
    emulator.stop(state.emulator_dir)


def lifecycle(state: DemoState) -> None:
    """Every phase, in order; raises DemoError naming the phase that failed."""
    with phase("start the embedded AWS emulator"):
        start_emulator(state)
    with phase("deploy dev (network, data, training) with the CDK CLI"):
        deploy_platform(state)
    with phase("upload the bundled data set to the raw-data bucket"):
        upload_data(state)
    with phase("run the training pipeline locally (deployed definition)"):
        train(state)
    with phase("approve the registered model package"):
        approve(state)
    with phase("pin the package for dev and deploy serving + monitoring"):
        deploy_serving(state)
    with phase("serve the model locally on the hosting contract"):
        serve(state)
    with phase("invoke the endpoint through boto3"):
        invoke(state)
    with phase("run the batch transform pipeline locally (deployed definition)"):
        batch(state)
    with phase("promote the model to staging (gates, pin, cdk diff)"):
        promote_to_staging(state)
    with phase("evaluation"):
        report(state)


def run(work_dir: Path, keep: bool) -> int:
    (config,) = load_environments([ENVIRONMENT])
    state = DemoState(work_dir=work_dir, config=config)
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
        help="where logs, the model and the report go (default: .sagestack/demo)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the emulator and the endpoint running and print how to reach them",
    )
    parser.set_defaults(handler=_handle)
