"""A model's training pipelines: preprocess, train (or tune), evaluate, register or fail.

Training and tuning are two pipelines, `<prefix>-training` and, when the model gives tuning
ranges, `<prefix>-tuning`: which one to start is the run-time choice. One pipeline choosing
between them with a condition step would need a second condition step (the metric gate)
inside its branches, and SageMaker Pipelines does not support nested condition steps
(developer guide, step types, Condition: limitations); branches never rejoin either, so no
flat single definition can gate both. Both pipelines share every step but the training one,
built by the same functions.

What differs between models follows from their declaration: the family's images and code,
the problem type's metrics, tuning objective and gate (ground.problems), the data's target.
"""

from __future__ import annotations

from dataclasses import dataclass

from ground.config.deployment import ModelDeployment
from ground.config.model import parameter_name
from ground.container import PROCESSING_ROOT, SERVING_CODE_IN_MODEL
from ground.layout import (
    CHECKPOINTS_PREFIX,
    MODEL_QUALITY_CONSTRAINTS_FILE,
    MODELS_PREFIX,
    PIPELINE_PREFIX,
    RUN_BASELINE,
    RUN_EVALUATION,
)
from ground.naming import TRAINING, TUNING, pipeline_name
from ground.pipeline.definition import PipelineDefinition
from ground.pipeline.entrypoint import script_entrypoint
from ground.pipeline.expressions import (
    EXECUTION_ARN,
    EXECUTION_ID,
    Parameter,
    Value,
    join,
    json_get,
    step_property,
)
from ground.pipeline.jobs import (
    CAPACITY_ERRORS,
    THROTTLING_ERRORS,
    JobSecurity,
    RetryPolicy,
    StepOptions,
)
from ground.pipeline.steps import (
    Channel,
    Comparison,
    ComparisonKind,
    Compute,
    ConditionStep,
    FailStep,
    HyperparameterRange,
    ProcessingInput,
    ProcessingOutput,
    ProcessingStep,
    PropertyFile,
    RegisterModelStep,
    Step,
    TrainingJob,
    TrainingStep,
    TuningStep,
)

EVALUATION_FILE = "evaluation.json"
EVALUATION_PROPERTY_FILE = "EvaluationReport"
PREPROCESS_SCRIPT = "preprocess.py"
TRAIN_SCRIPT = "train.py"
EVALUATE_SCRIPT = "evaluate.py"
INFERENCE_SCRIPT = "inference.py"
CODE_CHANNEL = "code"
SPLITS = ("train", "validation", "test")
MODEL_ARTIFACTS = "ModelArtifacts.S3ModelArtifacts"
REQUEST_TYPES = ("text/csv", "application/json", "application/x-npy")
RESPONSE_TYPES = ("text/csv", "application/json")
GATE_PARAMETER = "GateThreshold"
INPUT_DATA_PARAMETER = "InputDataUrl"


@dataclass(frozen=True)
class PipelineImages:
    """Container images by job, from the SageMaker SDK's region table."""

    preprocess: str
    training: str
    evaluation: str
    inference: str


@dataclass(frozen=True)
class TrainingPipelineSpec:
    """Everything the definitions need from the stack: the model, names, ARNs, images, code."""

    deployment: ModelDeployment
    raw_data_uri: str
    artifacts_bucket: str
    security: JobSecurity
    processing_role_arn: str
    training_role_arn: str
    images: PipelineImages
    sourcedir_url: str
    metric_definitions: tuple[dict[str, str], ...]


def pipeline_kinds(deployment: ModelDeployment) -> tuple[str, ...]:
    """Training always; tuning when the model gives ranges to tune."""
    return (TRAINING, TUNING) if deployment.model.tuning_ranges else (TRAINING,)


class _Builder:
    """Holds the parameters and shared pieces while the steps are put together."""

    def __init__(self, spec: TrainingPipelineSpec, kind: str) -> None:
        self.spec = spec
        self.kind = kind
        deployment = spec.deployment
        self.model = deployment.model
        self.problem = deployment.problem
        self.pipeline_name = pipeline_name(deployment.prefix, kind)
        config = deployment.training
        self.input_data = Parameter(INPUT_DATA_PARAMETER, "String", spec.raw_data_uri)
        self.processing_type = Parameter(
            "ProcessingInstanceType", "String", config.processing_instance_type
        )
        self.processing_count = Parameter(
            "ProcessingInstanceCount", "Integer", config.processing_instance_count
        )
        self.training_type = Parameter("TrainingInstanceType", "String", config.instance_type)
        self.training_count = Parameter("TrainingInstanceCount", "Integer", config.instance_count)
        self.max_runtime = Parameter("MaxRuntimeSeconds", "Integer", config.max_runtime_seconds)
        self.max_wait = (
            Parameter("MaxWaitSeconds", "Integer", config.max_wait_seconds)
            if config.use_spot
            else None
        )
        self.gate_threshold = Parameter(GATE_PARAMETER, "Float", deployment.gate_threshold)
        self.hyperparameters = {
            name: Parameter(parameter_name(name), "String", str(value))
            for name, value in deployment.hyperparameters.items()
        }
        cache = config.cache_expire_after if config.cache_steps else None
        retry = config.retry
        throttling = RetryPolicy(
            THROTTLING_ERRORS,
            retry.throttling_interval_seconds,
            retry.backoff_rate,
            retry.max_attempts,
        )
        capacity = RetryPolicy(
            CAPACITY_ERRORS,
            retry.capacity_interval_seconds,
            retry.backoff_rate,
            retry.max_attempts,
        )
        self.job_options = StepOptions(
            retry_policies=(throttling, capacity), cache_expire_after=cache
        )
        self.register_options = StepOptions(retry_policies=(throttling,))

    def parameters(self) -> tuple[Parameter, ...]:
        fixed = [
            self.input_data,
            self.processing_type,
            self.processing_count,
            self.training_type,
            self.training_count,
            self.max_runtime,
            *([self.max_wait] if self.max_wait else []),
            self.gate_threshold,
        ]
        return (*fixed, *self.hyperparameters.values())

    def location(self, prefix: str, *parts: Value) -> dict:
        """s3://<artifacts>/<prefix><pipeline>/<execution id>/<parts...>"""
        root = f"s3://{self.spec.artifacts_bucket}/{prefix}{self.pipeline_name}"
        return join(root, EXECUTION_ID, *parts, on="/")

    @property
    def sourcedir_file(self) -> str:
        """The tarball's object name, which is also its file name once SageMaker fetched it."""
        return self.spec.sourcedir_url.rsplit("/", 1)[-1]

    def processing(
        self, name: str, image: str, script: str, inputs: tuple[ProcessingInput, ...], **kwargs
    ) -> ProcessingStep:
        """A processing step that unpacks the code tarball and runs `script` from it."""
        code_dir = f"{PROCESSING_ROOT}/input/code"
        return ProcessingStep(
            name=name,
            image=image,
            role_arn=self.spec.processing_role_arn,
            entrypoint=tuple(script_entrypoint(code_dir, self.sourcedir_file, script)),
            inputs=(ProcessingInput(CODE_CHANNEL, self.spec.sourcedir_url, code_dir), *inputs),
            compute=Compute(self.processing_type.ref, self.processing_count.ref),
            max_runtime_seconds=self.max_runtime.ref,
            security=self.spec.security,
            options=self.job_options,
            **kwargs,
        )

    def preprocess(self) -> ProcessingStep:
        outputs = [
            ProcessingOutput(
                split,
                f"{PROCESSING_ROOT}/{split}",
                self.location(PIPELINE_PREFIX, "preprocess", split),
            )
            for split in SPLITS
        ]
        # The data-quality baseline travels with the model: the package records it
        # (DriftCheckBaselines) and promotion pins it, so targets monitor against it.
        outputs.append(
            ProcessingOutput(
                RUN_BASELINE,
                f"{PROCESSING_ROOT}/{RUN_BASELINE}",
                self.location(MODELS_PREFIX, RUN_BASELINE),
            )
        )
        return self.processing(
            "Preprocess",
            self.spec.images.preprocess,
            PREPROCESS_SCRIPT,
            # preprocess.py reads the CSV files directly in /opt/ml/processing/input.
            inputs=(ProcessingInput("data", self.input_data.ref, f"{PROCESSING_ROOT}/input"),),
            outputs=tuple(outputs),
            arguments=self.preprocess_arguments(),
        )

    def preprocess_arguments(self) -> tuple[str, ...]:
        data = self.model.data
        arguments: tuple[str, ...] = (
            "--target-column",
            data.target,
            "--problem-type",
            self.model.problem_type,
        )
        if data.positive_class is not None:
            arguments += ("--positive-class", data.positive_class)
        if data.categorical_columns is not None:
            arguments += ("--categorical-columns", ",".join(data.categorical_columns))
        return arguments

    def training_job(self, area: str) -> TrainingJob:
        spec = self.spec
        hyperparameters: dict[str, Value] = {
            name: parameter.ref for name, parameter in self.hyperparameters.items()
        }
        # Script mode under network isolation: the code arrives as a channel, not a download.
        hyperparameters["sagemaker_program"] = f'"{TRAIN_SCRIPT}"'
        hyperparameters["sagemaker_submit_directory"] = (
            f'"/opt/ml/input/data/{CODE_CHANNEL}/{self.sourcedir_file}"'
        )
        # As the SDK writes them in script mode: JSON, which the training toolkit decodes.
        hyperparameters["problem_type"] = f'"{self.model.problem_type}"'
        if self.model.estimator is not None:
            hyperparameters["estimator"] = f'"{self.model.estimator}"'
        channels = (
            Channel("train", self.split_uri("train")),
            Channel("validation", self.split_uri("validation")),
            Channel(CODE_CHANNEL, spec.sourcedir_url, content_type="application/x-tar"),
        )
        return TrainingJob(
            image=spec.images.training,
            role_arn=spec.training_role_arn,
            channels=channels,
            hyperparameters=hyperparameters,
            metric_definitions=spec.metric_definitions,
            output_path=self.location(MODELS_PREFIX, area),
            checkpoint_uri=self.location(CHECKPOINTS_PREFIX, area),
            compute=Compute(self.training_type.ref, self.training_count.ref),
            max_runtime_seconds=self.max_runtime.ref,
            max_wait_seconds=self.max_wait.ref if self.max_wait else None,
            security=spec.security,
        )

    @staticmethod
    def output_uri(step: str, output: str) -> dict:
        """Where a processing step wrote one of its outputs."""
        return step_property(step, f"ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri")

    @classmethod
    def split_uri(cls, split: str) -> dict:
        return cls.output_uri("Preprocess", split)

    def evaluate_and_register(self, model_data: Value) -> list[Step]:
        """Evaluate the model, then register it when it meets the gate, else fail."""
        spec = self.spec
        evaluate_name = "Evaluate"
        evaluate = self.processing(
            evaluate_name,
            spec.images.evaluation,
            EVALUATE_SCRIPT,
            inputs=(
                ProcessingInput("model", model_data, f"{PROCESSING_ROOT}/model"),
                ProcessingInput("test", self.split_uri("test"), f"{PROCESSING_ROOT}/test"),
            ),
            outputs=(
                ProcessingOutput(
                    RUN_EVALUATION,
                    f"{PROCESSING_ROOT}/{RUN_EVALUATION}",
                    self.location(MODELS_PREFIX, RUN_EVALUATION),
                ),
            ),
            arguments=("--problem-type", self.model.problem_type),
            property_files=(
                PropertyFile(EVALUATION_PROPERTY_FILE, RUN_EVALUATION, EVALUATION_FILE),
            ),
        )
        return [evaluate, self.gate(evaluate_name, model_data)]

    def gate(self, evaluate_name: str, model_data: Value) -> ConditionStep:
        """Register when the gate metric meets GateThreshold, else fail with both numbers."""
        metric = self.model.gate_metric
        at_least = self.problem.gate_metrics[metric] == "at_least"
        measured = json_get(evaluate_name, EVALUATION_PROPERTY_FILE, self.problem.gate_path(metric))
        evaluation = self.output_uri(evaluate_name, RUN_EVALUATION)
        report = join(evaluation, EVALUATION_FILE, on="/")
        register = RegisterModelStep(
            name="RegisterModel",
            group_name=self.spec.deployment.registry_group,
            image=self.spec.images.inference,
            model_data=model_data,
            metrics_uri=report,
            description=f"{self.pipeline_name}: {self.model.family} "
            f"{self.model.problem_type} model of '{self.model.data.target}'",
            environment={
                "SAGEMAKER_PROGRAM": INFERENCE_SCRIPT,
                # train.py packs the serving code into model.tar.gz's code/ folder.
                "SAGEMAKER_SUBMIT_DIRECTORY": SERVING_CODE_IN_MODEL,
            },
            content_types=REQUEST_TYPES,
            response_types=RESPONSE_TYPES,
            metadata={
                "evaluation_report": report,
                "pipeline_execution": EXECUTION_ARN,
                "model": self.model.name,
                "team": self.model.team,
                "problem_type": self.model.problem_type,
                "family": self.model.family,
            },
            options=self.register_options,
            data_quality_baseline=self.output_uri("Preprocess", RUN_BASELINE),
            model_quality_constraints=join(evaluation, MODEL_QUALITY_CONSTRAINTS_FILE, on="/"),
        )
        fail = FailStep(
            "BelowGate",
            join(
                f"{metric} ",
                measured,
                f" of the {'tuned' if self.kind == TUNING else 'trained'} model does not meet "
                f"the registration gate ({'at least' if at_least else 'at most'} "
                f"{GATE_PARAMETER} = ",
                self.gate_threshold.ref,
                "); no model package was registered.",
            ),
        )
        kind: ComparisonKind = "GreaterThanOrEqualTo" if at_least else "LessThanOrEqualTo"
        return ConditionStep(
            "CheckGate",
            (Comparison(kind, measured, self.gate_threshold.ref),),
            if_steps=(register,),
            else_steps=(fail,),
        )

    def train(self) -> list[Step]:
        train = TrainingStep("Train", self.training_job("training"), self.job_options)
        return [train, *self.evaluate_and_register(step_property("Train", MODEL_ARTIFACTS))]

    def tune(self) -> list[Step]:
        deployment = self.spec.deployment
        tuning = deployment.training.tuning
        tune = TuningStep(
            name="Tune",
            job=self.training_job("tuning"),
            objective_metric=self.problem.objective_metric,
            maximize=self.problem.maximize,
            ranges=tuple(
                HyperparameterRange(name, r.kind, r.min, r.max, r.scaling)
                for name, r in sorted(self.model.tuning_ranges.items())
            ),
            max_jobs=tuning.max_jobs,
            max_parallel_jobs=tuning.max_parallel_jobs,
            options=self.job_options,
        )
        best_model = join(
            self.location(MODELS_PREFIX, "tuning"),
            step_property("Tune", "BestTrainingJob.TrainingJobName"),
            "output",
            "model.tar.gz",
            on="/",
        )
        return [tune, *self.evaluate_and_register(best_model)]

    def steps(self) -> tuple[Step, ...]:
        job = self.tune() if self.kind == TUNING else self.train()
        return (self.preprocess(), *job)


def training_pipeline_definitions(spec: TrainingPipelineSpec) -> dict[str, dict]:
    """Each pipeline's definition dict by name; DefinitionError on any broken reference."""
    definitions = {}
    for kind in pipeline_kinds(spec.deployment):
        builder = _Builder(spec, kind)
        definitions[builder.pipeline_name] = PipelineDefinition(
            builder.parameters(), builder.steps()
        ).to_dict()
    return definitions
