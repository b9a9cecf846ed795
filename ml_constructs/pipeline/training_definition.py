"""The platform's training pipelines: preprocess, train (or tune), evaluate, register or fail.

Training and tuning are two pipelines, `<prefix>-training` and, when the config gives tuning
ranges, `<prefix>-tuning`: which one to start is the run-time choice. One pipeline choosing
between them with a condition step would need a second condition step (the metric gate)
inside its branches, and SageMaker Pipelines does not support nested condition steps
(developer guide, step types, Condition: limitations); branches never rejoin either, so no
flat single definition can gate both. Both pipelines share every step but the training one,
built by the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from ground.config.training import TrainingConfig
from ground.container import PROCESSING_ROOT, SERVING_CODE_IN_MODEL
from ground.layout import CHECKPOINTS_PREFIX, MODELS_PREFIX, PIPELINE_PREFIX
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

OBJECTIVE_METRIC = "validation:auc"
EVALUATION_FILE = "evaluation.json"
EVALUATION_PROPERTY_FILE = "EvaluationReport"
# Where evaluate.py writes the ROC-AUC inside evaluation.json (SageMaker model-quality layout).
ROC_AUC_PATH = "binary_classification_metrics.auc.value"
PREPROCESS_SCRIPT = "preprocess.py"
TRAIN_SCRIPT = "train.py"
EVALUATE_SCRIPT = "evaluate.py"
INFERENCE_SCRIPT = "inference.py"
CODE_CHANNEL = "code"
SPLITS = ("train", "validation", "test")
MODEL_ARTIFACTS = "ModelArtifacts.S3ModelArtifacts"


@dataclass(frozen=True)
class PipelineImages:
    """Container images by job, from the SageMaker SDK's region table."""

    preprocess: str
    training: str
    evaluation: str
    inference: str


@dataclass(frozen=True)
class TrainingPipelineSpec:
    """Everything the definition needs from the stack: names, ARNs, images and code."""

    config: TrainingConfig
    name_prefix: str
    model_package_group: str
    raw_data_uri: str
    artifacts_bucket: str
    security: JobSecurity
    processing_role_arn: str
    training_role_arn: str
    images: PipelineImages
    sourcedir_url: str
    metric_definitions: tuple[dict[str, str], ...]


def pipeline_kinds(config: TrainingConfig) -> tuple[str, ...]:
    """Training always; tuning when the config gives ranges to tune."""
    return (TRAINING, TUNING) if config.tuning.ranges else (TRAINING,)


def parameter_name(hyperparameter: str) -> str:
    """`early_stopping_rounds` -> `EarlyStoppingRounds`: the pipeline parameter setting it."""
    return "".join(part.capitalize() for part in hyperparameter.split("_"))


class _Builder:
    """Holds the parameters and shared pieces while the steps are put together."""

    def __init__(self, spec: TrainingPipelineSpec, kind: str) -> None:
        self.spec = spec
        self.kind = kind
        self.pipeline_name = pipeline_name(spec.name_prefix, kind)
        config = spec.config
        self.input_data = Parameter("InputDataUrl", "String", spec.raw_data_uri)
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
        self.min_roc_auc = Parameter("MinRocAuc", "Float", config.min_roc_auc)
        self.hyperparameters = {
            name: Parameter(parameter_name(name), "String", str(value))
            for name, value in config.hyperparameters.items()
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
        optional = [self.max_wait]
        fixed = [
            self.input_data,
            self.processing_type,
            self.processing_count,
            self.training_type,
            self.training_count,
            self.max_runtime,
            self.min_roc_auc,
        ]
        found = [*fixed, *(p for p in optional if p), *self.hyperparameters.values()]
        names = [p.name for p in found]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ValueError(f"hyperparameter parameters clash with pipeline parameters: {clashes}")
        return tuple(found)

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
                "baseline", f"{PROCESSING_ROOT}/baseline", self.location(MODELS_PREFIX, "baseline")
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
        config = self.spec.config
        arguments: tuple[str, ...] = ("--target-column", config.target_column)
        if config.positive_class is not None:
            arguments += ("--positive-class", config.positive_class)
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
        """Evaluate the model, then register it when ROC-AUC reaches MinRocAuc, else fail."""
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
                    "evaluation",
                    f"{PROCESSING_ROOT}/evaluation",
                    self.location(MODELS_PREFIX, "evaluation"),
                ),
            ),
            property_files=(PropertyFile(EVALUATION_PROPERTY_FILE, "evaluation", EVALUATION_FILE),),
        )
        roc_auc = json_get(evaluate_name, EVALUATION_PROPERTY_FILE, ROC_AUC_PATH)
        report = join(self.output_uri(evaluate_name, "evaluation"), EVALUATION_FILE, on="/")
        register = RegisterModelStep(
            name="RegisterModel",
            group_name=spec.model_package_group,
            image=spec.images.inference,
            model_data=model_data,
            metrics_uri=report,
            description=f"{self.pipeline_name}: XGBoost binary classifier of "
            f"'{spec.config.target_column}'",
            environment={
                "SAGEMAKER_PROGRAM": INFERENCE_SCRIPT,
                # train.py packs the serving code into model.tar.gz's code/ folder.
                "SAGEMAKER_SUBMIT_DIRECTORY": SERVING_CODE_IN_MODEL,
            },
            metadata={"evaluation_report": report, "pipeline_execution": EXECUTION_ARN},
            options=self.register_options,
            data_quality_baseline=self.output_uri("Preprocess", "baseline"),
        )
        fail = FailStep(
            "RocAucBelowThreshold",
            join(
                "ROC-AUC ",
                roc_auc,
                f" of the {'tuned' if self.kind == TUNING else 'trained'} model is below the "
                "registration threshold MinRocAuc = ",
                self.min_roc_auc.ref,
                "; no model package was registered.",
            ),
        )
        check = ConditionStep(
            "CheckRocAuc",
            (Comparison("GreaterThanOrEqualTo", roc_auc, self.min_roc_auc.ref),),
            if_steps=(register,),
            else_steps=(fail,),
        )
        return [evaluate, check]

    def train(self) -> list[Step]:
        train = TrainingStep("Train", self.training_job("training"), self.job_options)
        return [train, *self.evaluate_and_register(step_property("Train", MODEL_ARTIFACTS))]

    def tune(self) -> list[Step]:
        config = self.spec.config.tuning
        tune = TuningStep(
            name="Tune",
            job=self.training_job("tuning"),
            objective_metric=OBJECTIVE_METRIC,
            ranges=tuple(
                HyperparameterRange(name, r.kind, r.min, r.max, r.scaling)
                for name, r in sorted(config.ranges.items())
            ),
            max_jobs=config.max_jobs,
            max_parallel_jobs=config.max_parallel_jobs,
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
    for kind in pipeline_kinds(spec.config):
        builder = _Builder(spec, kind)
        definitions[builder.pipeline_name] = PipelineDefinition(
            builder.parameters(), builder.steps()
        ).to_dict()
    return definitions
