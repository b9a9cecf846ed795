"""`sagestack local pipeline run`: the synthesized training pipeline, run on this machine."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from ground.config import ConfigError, ModelDeployment, load_environments
from ground.naming import TRAINING, pipeline_name
from sagestack.aws_clients import contract_client
from sagestack.cdk_cli import PROJECT_ROOT, CdkError, run_cdk
from sagestack.local import emulator
from sagestack.local.pipeline.assembly import AssemblyError, PipelineSource, load_pipeline
from sagestack.local.pipeline.executor import DefinitionError, ExecutionResult, Executor
from sagestack.local.pipeline.registry import ModelRegistry
from sagestack.storage import LocalStorage, S3Storage, Storage, StorageError

INPUT_PARAMETER = "InputDataUrl"


def _model(environment: str, model: str | None) -> ModelDeployment:
    """The model named, or the environment's only model; ConfigError naming the choices."""
    (hosting,) = load_environments([environment])
    if model is not None:
        return hosting.model(model)
    if len(hosting.models) != 1:
        names = ", ".join(d.name for d in hosting.models) or "none"
        raise ConfigError(f"--model: {environment} hosts {names}; name the model to run")
    return hosting.models[0]


def _overrides(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise SystemExit(f"sagestack: --parameter takes NAME=VALUE, got {value!r}")
        pairs[name] = rest
    return pairs


def _clients(region: str) -> tuple[Any, Any, str]:
    """S3 and SageMaker clients and how to name their S3: AWS_ENDPOINT_URL if set, else the
    embedded emulator (started when it is not running)."""
    url = os.environ.get("AWS_ENDPOINT_URL")
    if url:
        return (
            contract_client("s3", region),
            contract_client("sagemaker", region),
            f"S3 at {url}",
        )
    running = emulator.current()
    if running is None:
        running = emulator.start()
        print(f"started the embedded emulator at {running.url} (stop it: sagestack local down)")
    return (
        running.client("s3", region),
        running.client("sagemaker", region),
        f"the embedded emulator's S3 at {running.url}",
    )


def _storage(spec: str, s3_client: Any, label: str) -> Storage:
    if spec == "s3":
        return S3Storage(s3_client, create_buckets=True, label=label)
    if spec.startswith("local:") and len(spec) > len("local:"):
        return LocalStorage(Path(spec.removeprefix("local:")))
    raise SystemExit(f"sagestack: --storage takes 's3' or 'local:DIR', got {spec!r}")


def publish_assets(source: PipelineSource, storage: Storage) -> None:
    """Put the definition's code assets where `cdk deploy` would publish them."""
    for asset in source.assets:
        storage.upload_file(asset.path, asset.uri)


def seed_input(
    storage: Storage, input_uri: str, data: Path | None, sample: str | None = None
) -> None:
    """Upload `data` (a file or folder) to the input location; when it is not given and the
    location is empty, the model's sample data set (one that ships with scikit-learn)."""
    if data is None:
        if storage.list_keys(input_uri):
            print(f"input data: {input_uri} (already there)")
            return
        if sample is None:
            raise SystemExit(
                f"sagestack: {input_uri} is empty and the model names no sample_dataset; "
                "upload its data there or pass --data FILE"
            )
        from sagestack import datasets

        data = datasets.write_csv(datasets.load(sample), Path(tempfile.mkdtemp()) / f"{sample}.csv")
        print(f"input data: the bundled {sample} set, uploaded to {input_uri}")
    if not data.exists():
        raise SystemExit(f"sagestack: --data {data} does not exist")
    files = [data] if data.is_file() else sorted(p for p in data.rglob("*") if p.is_file())
    base = input_uri.rstrip("/")
    for path in files:
        relative = path.name if data.is_file() else path.relative_to(data).as_posix()
        storage.upload_file(path, f"{base}/{relative}")


def report(result: ExecutionResult) -> int:
    if result.succeeded:
        print(f"pipeline succeeded (execution {result.execution_id})")
        if result.model_package_arn:
            print(f"registered model package: {result.model_package_arn}")
        for name, value in sorted(result.metrics.items()):
            print(f"  {name} = {value:.4f}")
        return 0
    print(f"pipeline failed at step {result.failed_step}: {result.failure_reason}")
    if result.failure_log:
        print(f"log: {result.failure_log}")
    return 1


def _run(args: argparse.Namespace) -> int:
    try:
        if args.synth:
            print(f"synthesizing {args.env} into {args.assembly} ...")
            run_cdk(
                ["synth", "--quiet", "-c", f"envs={args.env}", "--output", str(args.assembly)],
                {},
                capture=True,
            )
        deployment = _model(args.env, args.model)
        name = args.pipeline or pipeline_name(deployment.prefix, TRAINING)
        source = load_pipeline(args.assembly, args.env, name)
        overrides = _overrides(args.parameter)
        s3_client, sagemaker_client, label = _clients(source.region)
        storage = _storage(args.storage, s3_client, label)
        executor = Executor(
            source.definition,
            pipeline_name=source.pipeline_name,
            region=source.region,
            account=source.account,
            storage=storage,
            registry=ModelRegistry(sagemaker_client),
            workdir=args.workdir,
        )
        executor.check(overrides)
        print(f"storage: {storage.describe()}")
        publish_assets(source, storage)
        declared = {p["Name"]: p for p in source.definition.get("Parameters", [])}
        if INPUT_PARAMETER in declared:
            input_uri = overrides.get(INPUT_PARAMETER, declared[INPUT_PARAMETER]["DefaultValue"])
            seed_input(storage, input_uri, args.data, deployment.model.data.sample_dataset)
        return report(executor.run(overrides))
    except (AssemblyError, DefinitionError, StorageError, CdkError, ConfigError) as error:
        print(f"sagestack: {error}")
        return 2


def register(subparsers: argparse._SubParsersAction) -> None:
    pipeline = subparsers.add_parser(
        "pipeline",
        help="run the synthesized SageMaker pipeline on this machine",
        description="The training pipeline definition, executed locally step by step.",
    )
    commands = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="synthesize, then run the environment's pipeline with the real scripts",
        description="Runs cdk.out/assembly-<env>'s pipeline definition: processing and "
        "training steps in the local container runner, data through S3 (the embedded "
        "emulator by default) and the model package registered through boto3.",
    )
    run.add_argument("--env", default="dev", help="environment (default: dev)")
    run.add_argument(
        "--model",
        metavar="NAME",
        help="the model whose pipeline runs (needed when the environment hosts several)",
    )
    run.add_argument(
        "--pipeline",
        metavar="NAME",
        help="another of the model's pipelines, e.g. sagestack-dev-cancer-tuning "
        "(default: its training pipeline)",
    )
    run.add_argument(
        "--assembly", type=Path, default=PROJECT_ROOT / "cdk.out", help="cloud assembly folder"
    )
    run.add_argument(
        "--no-synth",
        dest="synth",
        action="store_false",
        help="use the assembly as it is (default: synthesize the environment first)",
    )
    run.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a pipeline parameter, e.g. -p NumRound=20 (repeatable)",
    )
    run.add_argument(
        "--storage",
        default="s3",
        metavar="s3|local:DIR",
        help="s3: AWS_ENDPOINT_URL or the embedded emulator (default); local:DIR: a folder",
    )
    run.add_argument(
        "--data",
        type=Path,
        help="file or folder uploaded to the input location first "
        "(default: the bundled data set, when the location is empty)",
    )
    run.add_argument(
        "--workdir",
        type=Path,
        default=Path(".sagestack") / "pipeline-runs",
        help="where job folders and logs go (default: .sagestack/pipeline-runs)",
    )
    run.set_defaults(handler=_run)
