"""One typed builder per step kind; each produces the step's JSON dict of the definition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ground.container import CHECKPOINT_LOCAL_PATH
from ground.layout import BASELINE_CONSTRAINTS_FILE, BASELINE_STATISTICS_FILE
from ground.pipeline.expressions import Value, join
from ground.pipeline.jobs import JobSecurity, StepOptions

CSV = "text/csv"


class Step(Protocol):
    @property
    def name(self) -> str: ...

    def to_dict(self) -> dict: ...


@dataclass(frozen=True)
class ProcessingInput:
    name: str
    source: Value
    destination: str

    def to_dict(self) -> dict:
        return {
            "InputName": self.name,
            "AppManaged": False,
            "S3Input": {
                "S3Uri": self.source,
                "LocalPath": self.destination,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
                "S3CompressionType": "None",
            },
        }


@dataclass(frozen=True)
class ProcessingOutput:
    name: str
    source: str
    destination: Value

    def to_dict(self) -> dict:
        return {
            "OutputName": self.name,
            "AppManaged": False,
            "S3Output": {
                "S3Uri": self.destination,
                "LocalPath": self.source,
                "S3UploadMode": "EndOfJob",
            },
        }


@dataclass(frozen=True)
class PropertyFile:
    """A JSON file a processing step writes into one of its outputs, read by `JsonGet`."""

    name: str
    output_name: str
    path: str

    def to_dict(self) -> dict:
        return {
            "PropertyFileName": self.name,
            "OutputName": self.output_name,
            "FilePath": self.path,
        }


@dataclass(frozen=True)
class Compute:
    instance_type: Value
    instance_count: Value
    volume_size_gb: int = 30


@dataclass(frozen=True)
class ProcessingStep:
    """A processing job: `entrypoint` plus `arguments` in `image`, code among the inputs."""

    name: str
    image: str
    role_arn: Value
    entrypoint: tuple[str, ...]
    compute: Compute
    max_runtime_seconds: Value
    security: JobSecurity
    inputs: tuple[ProcessingInput, ...]
    outputs: tuple[ProcessingOutput, ...]
    arguments: tuple[Value, ...] = ()
    environment: Mapping[str, Value] = field(default_factory=dict)
    property_files: tuple[PropertyFile, ...] = ()
    options: StepOptions = field(default_factory=StepOptions)

    def app_specification(self) -> dict:
        """Image, entrypoint and arguments; no `ContainerArguments` member when there are none,
        as CreateProcessingJob requires that list to hold at least one item when present."""
        specification: dict = {
            "ImageUri": self.image,
            "ContainerEntrypoint": list(self.entrypoint),
        }
        if self.arguments:
            specification["ContainerArguments"] = list(self.arguments)
        return specification

    def to_dict(self) -> dict:
        key = self.security.kms_key_id
        arguments = {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": self.compute.instance_type,
                    "InstanceCount": self.compute.instance_count,
                    "VolumeSizeInGB": self.compute.volume_size_gb,
                    "VolumeKmsKeyId": key,
                }
            },
            "AppSpecification": self.app_specification(),
            "RoleArn": self.role_arn,
            "ProcessingInputs": [item.to_dict() for item in self.inputs],
            "ProcessingOutputConfig": {
                "Outputs": [item.to_dict() for item in self.outputs],
                "KmsKeyId": key,
            },
            "NetworkConfig": {
                "EnableNetworkIsolation": True,
                "EnableInterContainerTrafficEncryption": True,
                "VpcConfig": self.security.vpc_config(),
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": self.max_runtime_seconds},
            "Environment": dict(self.environment),
        }
        step: dict = {"Name": self.name, "Type": "Processing", "Arguments": arguments}
        if self.property_files:
            step["PropertyFiles"] = [item.to_dict() for item in self.property_files]
        return self.options.apply(step)


@dataclass(frozen=True)
class Channel:
    name: str
    source: Value
    content_type: str = "text/csv"

    def to_dict(self) -> dict:
        return {
            "ChannelName": self.name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": self.source,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": self.content_type,
            "InputMode": "File",
        }


@dataclass(frozen=True)
class TrainingJob:
    """The training job shared by a Training step and the jobs of a Tuning step.

    `max_wait_seconds` turns managed spot on: SageMaker requires a max wait with spot and
    rejects one without, so both follow from the same field.
    """

    image: str
    role_arn: Value
    channels: tuple[Channel, ...]
    hyperparameters: Mapping[str, Value]
    metric_definitions: tuple[Mapping[str, str], ...]
    output_path: Value
    checkpoint_uri: Value
    compute: Compute
    max_runtime_seconds: Value
    security: JobSecurity
    max_wait_seconds: Value | None = None

    def definition(self) -> dict:
        """Fields common to CreateTrainingJob and a tuning job's TrainingJobDefinition."""
        key = self.security.kms_key_id
        stopping = {"MaxRuntimeInSeconds": self.max_runtime_seconds}
        if self.max_wait_seconds is not None:
            stopping["MaxWaitTimeInSeconds"] = self.max_wait_seconds
        return {
            "AlgorithmSpecification": {
                "TrainingImage": self.image,
                "TrainingInputMode": "File",
                "MetricDefinitions": [dict(item) for item in self.metric_definitions],
            },
            "RoleArn": self.role_arn,
            "InputDataConfig": [channel.to_dict() for channel in self.channels],
            "OutputDataConfig": {"S3OutputPath": self.output_path, "KmsKeyId": key},
            "ResourceConfig": {
                "InstanceType": self.compute.instance_type,
                "InstanceCount": self.compute.instance_count,
                "VolumeSizeInGB": self.compute.volume_size_gb,
                "VolumeKmsKeyId": key,
            },
            "StoppingCondition": stopping,
            "VpcConfig": self.security.vpc_config(),
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "EnableManagedSpotTraining": self.max_wait_seconds is not None,
            "CheckpointConfig": {"S3Uri": self.checkpoint_uri, "LocalPath": CHECKPOINT_LOCAL_PATH},
        }


@dataclass(frozen=True)
class TrainingStep:
    name: str
    job: TrainingJob
    options: StepOptions = field(default_factory=StepOptions)

    def to_dict(self) -> dict:
        arguments = {**self.job.definition(), "HyperParameters": dict(self.job.hyperparameters)}
        return self.options.apply({"Name": self.name, "Type": "Training", "Arguments": arguments})


@dataclass(frozen=True)
class HyperparameterRange:
    name: str
    kind: Literal["continuous", "integer"]
    min: float
    max: float
    scaling: str = "Auto"

    def to_dict(self) -> dict:
        def text(number: float) -> str:
            return str(int(number)) if self.kind == "integer" else repr(float(number))

        return {
            "Name": self.name,
            "MinValue": text(self.min),
            "MaxValue": text(self.max),
            "ScalingType": self.scaling,
        }


@dataclass(frozen=True)
class TuningStep:
    """Bayesian tuning of `job` over `ranges`; the tuned names leave the static hyperparameters."""

    name: str
    job: TrainingJob
    objective_metric: str
    ranges: tuple[HyperparameterRange, ...]
    max_jobs: int
    max_parallel_jobs: int
    maximize: bool = True
    options: StepOptions = field(default_factory=StepOptions)

    def __post_init__(self) -> None:
        metrics = {item["Name"] for item in self.job.metric_definitions}
        if self.objective_metric not in metrics:
            raise ValueError(
                f"step {self.name}: objective {self.objective_metric} is not among the metric "
                f"definitions ({', '.join(sorted(metrics))})"
            )

    def to_dict(self) -> dict:
        tuned = {item.name for item in self.ranges}
        definition = self.job.definition()
        definition["StaticHyperParameters"] = {
            name: value for name, value in self.job.hyperparameters.items() if name not in tuned
        }
        config = {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {
                "Type": "Maximize" if self.maximize else "Minimize",
                "MetricName": self.objective_metric,
            },
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": self.max_jobs,
                "MaxParallelTrainingJobs": self.max_parallel_jobs,
            },
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    r.to_dict() for r in self.ranges if r.kind == "continuous"
                ],
                "IntegerParameterRanges": [r.to_dict() for r in self.ranges if r.kind == "integer"],
                "CategoricalParameterRanges": [],
            },
            "TrainingJobEarlyStoppingType": "Off",
        }
        arguments = {"HyperParameterTuningJobConfig": config, "TrainingJobDefinition": definition}
        return self.options.apply({"Name": self.name, "Type": "Tuning", "Arguments": arguments})


ComparisonKind = Literal[
    "Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo"
]


@dataclass(frozen=True)
class Comparison:
    kind: ComparisonKind
    left: Value
    right: Value

    def to_dict(self) -> dict:
        return {"Type": self.kind, "LeftValue": self.left, "RightValue": self.right}


@dataclass(frozen=True)
class ConditionStep:
    """Runs `if_steps` when every comparison holds, else `else_steps` (they never rejoin)."""

    name: str
    conditions: tuple[Comparison, ...]
    if_steps: tuple[Step, ...]
    else_steps: tuple[Step, ...]
    options: StepOptions = field(default_factory=StepOptions)

    def to_dict(self) -> dict:
        arguments = {
            "Conditions": [item.to_dict() for item in self.conditions],
            "IfSteps": [step.to_dict() for step in self.if_steps],
            "ElseSteps": [step.to_dict() for step in self.else_steps],
        }
        return self.options.apply({"Name": self.name, "Type": "Condition", "Arguments": arguments})


def _json_source(uri: Value) -> dict:
    """A MetricsSource of a JSON file."""
    return {"ContentType": "application/json", "S3Uri": uri}


@dataclass(frozen=True)
class RegisterModelStep:
    """A model package version in a group, awaiting manual approval, with its metrics."""

    name: str
    group_name: Value
    image: str
    model_data: Value
    metrics_uri: Value
    description: str
    environment: Mapping[str, Value] = field(default_factory=dict)
    content_types: tuple[str, ...] = ("text/csv",)
    response_types: tuple[str, ...] = ("text/csv",)
    metadata: Mapping[str, Value] = field(default_factory=dict)
    options: StepOptions = field(default_factory=StepOptions)
    # Folder of the training data's Model Monitor baseline: recorded as the package's
    # DriftCheckBaselines, so whoever pins the package knows what to monitor it against.
    data_quality_baseline: Value | None = None
    # evaluate.py's model-quality constraints (thresholds from the test split): recorded as the
    # package's ModelMetrics and DriftCheckBaselines ModelQuality constraints.
    model_quality_constraints: Value | None = None

    def to_dict(self) -> dict:
        arguments = {
            "ModelPackageGroupName": self.group_name,
            "ModelPackageDescription": self.description,
            "InferenceSpecification": {
                "Containers": [
                    {
                        "Image": self.image,
                        "ModelDataUrl": self.model_data,
                        "Environment": dict(self.environment),
                    }
                ],
                "SupportedContentTypes": list(self.content_types),
                "SupportedResponseMIMETypes": list(self.response_types),
            },
            "ModelApprovalStatus": "PendingManualApproval",
            "ModelMetrics": {"ModelQuality": {"Statistics": _json_source(self.metrics_uri)}},
            "CustomerMetadataProperties": dict(self.metadata),
        }
        baselines: dict[str, dict] = {}
        if self.data_quality_baseline is not None:
            baselines["ModelDataQuality"] = {
                part: _json_source(join(self.data_quality_baseline, file_name, on="/"))
                for part, file_name in (
                    ("Statistics", BASELINE_STATISTICS_FILE),
                    ("Constraints", BASELINE_CONSTRAINTS_FILE),
                )
            }
        if self.model_quality_constraints is not None:
            constraints = _json_source(self.model_quality_constraints)
            arguments["ModelMetrics"]["ModelQuality"]["Constraints"] = constraints
            baselines["ModelQuality"] = {"Constraints": constraints}
        if baselines:
            arguments["DriftCheckBaselines"] = baselines
        return self.options.apply(
            {"Name": self.name, "Type": "RegisterModel", "Arguments": arguments}
        )


@dataclass(frozen=True)
class FailStep:
    name: str
    message: Value

    def to_dict(self) -> dict:
        return {"Name": self.name, "Type": "Fail", "Arguments": {"ErrorMessage": self.message}}


@dataclass(frozen=True)
class TransformStep:
    """A Transform step: CSV lines in, CSV lines out, volumes and output under `kms_key_id`."""

    name: str
    model_name: Value
    input_uri: Value
    output_uri: Value
    instance_type: Value
    instance_count: Value
    kms_key_id: Value
    max_payload_mb: int

    def to_dict(self) -> dict:
        arguments = {
            "ModelName": self.model_name,
            "BatchStrategy": "MultiRecord",
            "MaxPayloadInMB": self.max_payload_mb,
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": self.input_uri}},
                "ContentType": CSV,
                "SplitType": "Line",
                "CompressionType": "None",
            },
            "TransformOutput": {
                "S3OutputPath": self.output_uri,
                "Accept": CSV,
                "AssembleWith": "Line",
                "KmsKeyId": self.kms_key_id,
            },
            "TransformResources": {
                "InstanceType": self.instance_type,
                "InstanceCount": self.instance_count,
                "VolumeKmsKeyId": self.kms_key_id,
            },
        }
        return {"Name": self.name, "Type": "Transform", "Arguments": arguments}
