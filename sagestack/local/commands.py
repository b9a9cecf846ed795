"""`sagestack local train|process|serve`: the container runner and endpoint from the shell."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from ground.config import ConfigError
from ground.config.loader import CONFIG_DIR, load_environment, load_model_config
from ground.problems import PROBLEM_TYPES
from sagestack.local import emulator, endpoint, runner, script_chain
from sagestack.local.data_capture import CaptureConfig
from sagestack.local.deployed_model import (
    DeployedModelError,
    download_served_model,
    served_capture,
)
from sagestack.storage import S3Storage


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise SystemExit(f"sagestack: {flag} takes KEY=VALUE, got '{value}'")
        pairs[key] = rest
    return pairs


def _train(args: argparse.Namespace) -> int:
    result = runner.run_training(
        args.entry_point,
        channels={k: Path(v) for k, v in _pairs(args.channel, "--channel").items()},
        hyperparameters=_pairs(args.hyperparameter, "--hyperparameter"),
        output_dir=args.output_dir,
        instance_count=args.instance_count,
        checkpoint_dir=args.checkpoint_dir,
        source_dir=args.source_dir,
        distribution=args.distribution,
        stream_logs=True,
    )
    if not result.succeeded:
        print(f"training failed (exit code {result.exit_code}): {result.failure_reason}")
        print(f"log: {result.log_path}")
        return 1
    print(f"model: {result.model_artifact}")
    for name, value in sorted(result.metrics.items()):
        print(f"{name} = {value:g}")
    return 0


def _process(args: argparse.Namespace) -> int:
    result = runner.run_processing(
        args.script,
        inputs={k: Path(v) for k, v in _pairs(args.input, "--input").items()},
        outputs={k: Path(v) for k, v in _pairs(args.output, "--output").items()},
        arguments=shlex.split(args.arguments),
        workdir=args.workdir,
        source_dir=args.source_dir,
        stream_logs=True,
    )
    if not result.succeeded:
        print(f"processing failed (exit code {result.exit_code}): {result.failure_reason}")
        print(f"log: {result.log_path}")
        return 1
    for container_path, local in result.outputs.items():
        print(f"{container_path} -> {local}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    """`sagestack local serve FILE`, or `--model NAME`: what the emulator deployed for it."""
    if (args.model is None) == (args.model_name is None):
        print("sagestack: give a model.tar.gz or --model NAME (one of them)", file=sys.stderr)
        return 1
    if args.model_name is not None:
        try:
            args.model, args.endpoint_name, args.data_capture = _deployed(args)
        except (ConfigError, emulator.EmulatorError, DeployedModelError) as error:
            print(f"sagestack: {error}", file=sys.stderr)
            return 1
    return endpoint.serve_command(args)


def _deployed(args: argparse.Namespace) -> tuple[Path, str, CaptureConfig | None]:
    """The model.tar.gz the emulator's endpoint of the model serves, the endpoint's name, and
    the data capture its config declares (written to the emulator's S3)."""
    deployment = load_environment(args.env).model(args.model_name)
    server = emulator.current(args.state_dir)
    if server is None:
        raise emulator.EmulatorError(
            f"no emulator is running (none recorded in {args.state_dir}); start it with "
            "`sagestack local up` and deploy, or run `sagestack demo --keep`"
        )
    region = deployment.environment.region
    storage = S3Storage(server.client("s3", region), create_buckets=False, label="the emulator")
    name = deployment.endpoint_name
    directory = Path(tempfile.mkdtemp(prefix=f"sagestack-serve-{deployment.name}-"))
    sagemaker = server.client("sagemaker", region)
    artifact = download_served_model(sagemaker, storage, name, directory)
    return artifact, name, served_capture(sagemaker, name, region, server.url)


def _run_chain(args: argparse.Namespace) -> int:
    try:
        model = load_model_config(args.model, args.config_dir)
        run = script_chain.run_chain(
            args.workdir / model.name,
            family=model.family,
            problem_type=model.problem_type,
            dataset=model.data.sample_dataset,
            hyperparameters={k: str(v) for k, v in model.hyperparameters.items()},
            estimator=model.estimator,
            stream_logs=True,
        )
    except (ConfigError, script_chain.ChainError) as error:
        print(f"sagestack: {error}")
        return 1
    gate = model.gate_metric
    objective = PROBLEM_TYPES[model.problem_type].objective_metric
    print(f"model: {run.training.model_artifact}")
    print(
        f"{objective} {run.training.metrics.get(objective, float('nan')):.4f}, "
        f"test {gate} {run.test_metrics[gate]['value']:.4f} "
        f"(gate: {model.gate.threshold})"
    )
    print(f"report: {run.evaluation_dir / 'report.html'}")
    print(f"serve it with: sagestack local serve {run.training.model_artifact}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="run a training script (script mode) under the SageMaker training contract",
        description="Run a training script as a SageMaker training job would: /opt/ml tree, "
        "SM_* environment, hyperparameters as --name value, model.tar.gz at the end.",
        epilog="example: sagestack local train training_code/train.py "
        "--channel train=data/train --channel validation=data/validation "
        "-H num_round=200 -H eta=0.1 --output-dir out/job",
    )
    train.add_argument("entry_point", type=Path, help="the script, e.g. training_code/train.py")
    train.add_argument(
        "--channel", action="append", default=[], metavar="NAME=DIR", help="an input channel"
    )
    train.add_argument(
        "-H",
        "--hyperparameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a hyperparameter (repeat)",
    )
    train.add_argument("--output-dir", type=Path, required=True, help="model.tar.gz, logs/")
    train.add_argument("--instance-count", type=int, default=1, help="hosts (local processes)")
    train.add_argument("--checkpoint-dir", type=Path, help="kept checkpoints: resume from them")
    train.add_argument("--source-dir", type=Path, help="code directory (default: the script's)")
    train.add_argument(
        "--distribution",
        choices=["FullyReplicated", "ShardedByS3Key"],
        default="FullyReplicated",
        help="how channel files reach the hosts",
    )
    train.set_defaults(handler=_train)

    process = subparsers.add_parser(
        "process",
        help="run a processing script under the SageMaker processing contract",
        description="Run a processing script as a SageMaker processing job would: inputs "
        "copied into an /opt/ml tree, the script's directory as the code input, outputs "
        "copied out after success.",
        epilog="example: sagestack local process training_code/preprocess.py "
        "--input /opt/ml/processing/input=raw.csv --output /opt/ml/processing/train=out/train "
        '--arguments "--target-column target --positive-class malignant"',
    )
    process.add_argument("script", type=Path, help="the script, e.g. training_code/preprocess.py")
    process.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="CONTAINER_PATH=LOCAL",
        help="copy a local file or directory in",
    )
    process.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="CONTAINER_PATH=LOCAL",
        help="copy a container directory out after success",
    )
    process.add_argument("--workdir", type=Path, help="keep the /opt/ml tree and log here")
    process.add_argument("--source-dir", type=Path, help="code directory (default: the script's)")
    process.add_argument(
        "--arguments",
        default="",
        metavar='"ARGS"',
        help="the job's own arguments, one quoted string (/opt/ml paths are mapped)",
    )
    process.set_defaults(handler=_process)

    serve = subparsers.add_parser(
        "serve",
        help="serve a model.tar.gz on 127.0.0.1 (hosting contract and Runtime API)",
        description="Serve a model with inference.py: GET /ping, POST /invocations and "
        "POST /endpoints/<name>/invocations (boto3 invoke_endpoint with endpoint_url).",
    )
    endpoint.add_arguments(serve)
    serve.add_argument(
        "--model",
        dest="model_name",
        metavar="NAME",
        help="instead of a file: what the running emulator's endpoint of model NAME serves, "
        "under its endpoint name",
    )
    serve.add_argument("--env", default="dev", help="with --model: the environment (dev)")
    emulator.add_state_dir_argument(serve, "with --model: ")
    serve.set_defaults(handler=_serve)

    chain = subparsers.add_parser(
        "scripts",
        help="run a model's preprocess, train and evaluate on its bundled sample data "
        "(no pipeline, no emulator; `sagestack demo` runs the whole lifecycle)",
        description="Run a model's sample data set through preprocess.py, its family's "
        "train.py and evaluate.py with the local runner, with the model's problem type, "
        "estimator and hyperparameters from config/models/<NAME>.yaml.",
    )
    chain.add_argument(
        "--model", default="cancer", metavar="NAME", help="the model (default: cancer)"
    )
    chain.add_argument(
        "--config-dir", type=Path, default=CONFIG_DIR, help="the config folder (default: config/)"
    )
    chain.add_argument(
        "--workdir",
        type=Path,
        default=Path(".sagestack/local-scripts"),
        help="where results go, a folder per model",
    )
    chain.set_defaults(handler=_run_chain)
