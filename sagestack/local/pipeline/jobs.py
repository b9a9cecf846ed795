"""Processing, training and tuning steps, run with the local container runner.

Each runner takes the step's evaluated arguments (the CreateProcessingJob /
CreateTrainingJob / CreateHyperParameterTuningJob request), fetches the inputs from storage,
runs the real script under the container contract, uploads what SageMaker would upload and
returns the step's properties, shaped like the Describe* answer the service would give.
"""

from __future__ import annotations

import json
import math
import random
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ground.container import CHANNEL_ROOT
from ground.pipeline.entrypoint import parse_script_entrypoint
from sagestack.local import runner
from sagestack.storage import Storage, upload_tree


class StepFailed(Exception):
    """The step's job failed; the message is its failure reason, `log` where to read more."""

    def __init__(self, reason: str, log: Path | None = None) -> None:
        super().__init__(reason)
        self.log = log


@dataclass(frozen=True)
class JobContext:
    storage: Storage
    workdir: Path
    job_name: str


def _unpack(archive_dir: Path, file_name: str, destination: Path, what: str) -> Path:
    archive = archive_dir / file_name
    if not archive.is_file():
        raise StepFailed(f"{what}: code archive {file_name} was not among the fetched files")
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="r:gz") as bundle:
        bundle.extractall(destination, filter="data")
    return destination


def run_processing(arguments: dict, context: JobContext) -> tuple[dict, dict[str, Path]]:
    """Run a processing step; return its properties and each output's local directory."""
    entrypoint = arguments["AppSpecification"].get("ContainerEntrypoint", [])
    parsed = parse_script_entrypoint(entrypoint)
    if parsed is None:
        raise StepFailed(
            f"entrypoint {entrypoint!r} is not one the local executor can run: it runs the "
            "entrypoints of ground.pipeline.entrypoint.script_entrypoint"
        )
    code_dir, archive, script = parsed
    inputs: dict[str, Path] = {}
    source_dir: Path | None = None
    for item in arguments.get("ProcessingInputs", []):
        s3_input = item["S3Input"]
        local = context.workdir / "inputs" / item["InputName"]
        context.storage.download(s3_input["S3Uri"], local)
        if s3_input["LocalPath"] == code_dir:
            source_dir = _unpack(local, archive, context.workdir / "code", "code input")
        else:
            inputs[s3_input["LocalPath"]] = local
    if source_dir is None:
        raise StepFailed(f"no processing input is mounted at {code_dir}, where the code goes")
    outputs = {
        item["S3Output"]["LocalPath"]: context.workdir / "outputs" / item["OutputName"]
        for item in arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
    }
    result = runner.run_processing(
        source_dir / script,
        source_dir=source_dir,
        inputs=inputs,
        outputs=outputs,
        arguments=[
            str(argument)
            for argument in arguments["AppSpecification"].get("ContainerArguments", [])
        ],
        environment={k: str(v) for k, v in arguments.get("Environment", {}).items()},
        workdir=context.workdir / "job",
    )
    if not result.succeeded:
        raise StepFailed(result.failure_reason or "the job failed", result.log_path)
    described = {}
    local_outputs = {}
    for item in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
        local = outputs[item["S3Output"]["LocalPath"]]
        upload_tree(context.storage, local, item["S3Output"]["S3Uri"])
        described[item["OutputName"]] = item
        local_outputs[item["OutputName"]] = local
    properties = {
        "ProcessingJobName": context.job_name,
        "ProcessingJobStatus": "Completed",
        "ProcessingOutputConfig": {"Outputs": described},
    }
    return properties, local_outputs


def _script_mode(hyperparameters: dict[str, str]) -> tuple[str, str, str]:
    """(channel, tarball file, entry point) of a script-mode job whose code is a channel."""

    def decoded(name: str) -> str:
        value = hyperparameters.get(name)
        if value is None:
            raise StepFailed(f"hyperparameter {name} is missing: the job is not in script mode")
        return str(json.loads(value)) if value.startswith('"') else value

    program, directory = decoded("sagemaker_program"), decoded("sagemaker_submit_directory")
    if not directory.startswith(CHANNEL_ROOT):
        raise StepFailed(
            f"sagemaker_submit_directory {directory!r} is not in a channel ({CHANNEL_ROOT}...): "
            "with network isolation the code must arrive as a channel"
        )
    channel, _, file_name = directory[len(CHANNEL_ROOT) :].partition("/")
    return channel, file_name, program


def run_training(arguments: dict, context: JobContext) -> dict:
    """Run a training job definition; upload model.tar.gz; return DescribeTrainingJob-like."""
    hyperparameters = {
        k: str(v)
        for k, v in (
            arguments.get("HyperParameters") or arguments.get("StaticHyperParameters", {})
        ).items()
    }
    code_channel, archive, program = _script_mode(hyperparameters)
    channels: dict[str, Path] = {}
    source_dir = None
    for channel in arguments.get("InputDataConfig", []):
        name = channel["ChannelName"]
        local = context.workdir / "channels" / name
        context.storage.download(channel["DataSource"]["S3DataSource"]["S3Uri"], local)
        if name == code_channel:
            source_dir = _unpack(local, archive, context.workdir / "code", f"channel {name}")
        else:
            channels[name] = local
    if source_dir is None:
        raise StepFailed(f"no channel named {code_channel!r} carries the code")
    checkpoint = arguments.get("CheckpointConfig", {}).get("S3Uri")
    checkpoint_dir = context.workdir / "checkpoints"
    if checkpoint:
        context.storage.download(checkpoint, checkpoint_dir)
    result = runner.run_training(
        source_dir / program,
        source_dir=source_dir,
        channels=channels,
        hyperparameters=hyperparameters,
        output_dir=context.workdir / "output",
        instance_count=int(arguments["ResourceConfig"]["InstanceCount"]),
        checkpoint_dir=checkpoint_dir,
        metric_definitions=arguments["AlgorithmSpecification"].get("MetricDefinitions", []),
        environment={k: str(v) for k, v in arguments.get("Environment", {}).items()},
    )
    if checkpoint and checkpoint_dir.is_dir():
        upload_tree(context.storage, checkpoint_dir, checkpoint)
    if not result.succeeded or result.model_artifact is None:
        raise StepFailed(result.failure_reason or "the job failed", result.log_path)
    output = arguments["OutputDataConfig"]["S3OutputPath"].rstrip("/")
    model_uri = f"{output}/{context.job_name}/output/model.tar.gz"
    context.storage.upload_file(result.model_artifact, model_uri)
    return {
        "TrainingJobName": context.job_name,
        "TrainingJobStatus": "Completed",
        "HyperParameters": hyperparameters,
        "ModelArtifacts": {"S3ModelArtifacts": model_uri},
        "FinalMetricDataList": [
            {"MetricName": name, "Value": value} for name, value in sorted(result.metrics.items())
        ],
    }


def _sample(ranges: dict, rng: random.Random) -> dict[str, str]:
    """One candidate: each range drawn uniformly, or log-uniformly when so scaled."""
    candidate = {}
    for kind in ("ContinuousParameterRanges", "IntegerParameterRanges"):
        for item in ranges.get(kind, []):
            low, high = float(item["MinValue"]), float(item["MaxValue"])
            if item.get("ScalingType") == "Logarithmic":
                value = math.exp(rng.uniform(math.log(low), math.log(high)))
            else:
                value = rng.uniform(low, high)
            integer = kind == "IntegerParameterRanges"
            candidate[item["Name"]] = str(round(value)) if integer else f"{value:.6g}"
    for item in ranges.get("CategoricalParameterRanges", []):
        candidate[item["Name"]] = rng.choice(item["Values"])
    return candidate


def _objective_value(summary: dict) -> float:
    return float(summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])


def run_tuning(arguments: dict, context: JobContext, log: Callable[[str], None]) -> dict:
    """Seeded random search over the ranges (not Bayesian), one training job at a time."""
    config = arguments["HyperParameterTuningJobConfig"]
    objective = config["HyperParameterTuningJobObjective"]
    metric, maximize = objective["MetricName"], objective["Type"] == "Maximize"
    definition = arguments["TrainingJobDefinition"]
    rng = random.Random(0)
    summaries = []
    total = int(config["ResourceLimits"]["MaxNumberOfTrainingJobs"])
    log(f"local tuning is a seeded random search of {total} jobs, one after another")
    for number in range(1, total + 1):
        tuned = _sample(config["ParameterRanges"], rng)
        job = dict(definition)
        job["HyperParameters"] = {**definition.get("StaticHyperParameters", {}), **tuned}
        job.pop("StaticHyperParameters", None)
        name = f"{context.job_name}-{number:03d}"
        described = run_training(job, JobContext(context.storage, context.workdir / name, name))
        values = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
        if metric not in values:
            raise StepFailed(f"training job {name} reported no {metric} metric")
        log(f"  {name}: {metric} = {values[metric]:.6g} with {tuned}")
        summaries.append(
            {
                "TrainingJobName": name,
                "TrainingJobStatus": "Completed",
                "TunedHyperParameters": tuned,
                "FinalHyperParameterTuningJobObjectiveMetric": {
                    "MetricName": metric,
                    "Value": values[metric],
                },
            }
        )
    summaries.sort(key=_objective_value, reverse=maximize)
    return {
        "HyperParameterTuningJobName": context.job_name,
        "HyperParameterTuningJobStatus": "Completed",
        "BestTrainingJob": summaries[0],
        "TrainingJobSummaries": summaries,
    }
