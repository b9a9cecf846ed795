"""Where things live in the platform's buckets: one place, so stacks and tools agree."""

import re

from ground.naming import PIPELINE_KINDS, pipeline_name

S3_SCHEME = "s3://"

# Each environment's artifacts bucket; other environments find its models and baselines by name.
ARTIFACTS_BUCKET = re.compile(
    r"^(?P<prefix>.+)-ml-artifacts-(?P<account>\d{12})-(?P<region>[a-z0-9-]+)$"
)


# The data stack's buckets, by role; names are `<prefix>-<role>-<account>-<region>`.
ACCESS_LOGS, RAW_DATA, ARTIFACTS = "access-logs", "raw-data", "ml-artifacts"
BUCKET_ROLES = (ACCESS_LOGS, RAW_DATA, ARTIFACTS)
# "Bucket names must be between 3 (min) and 63 (max) characters long."
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
MAX_BUCKET_NAME = 63


def bucket_name(prefix: str, role: str, account: str, region: str) -> str:
    """The name of environment `prefix`'s bucket of `role` (one of BUCKET_ROLES)."""
    return f"{prefix}-{role}-{account}-{region}"


def artifacts_bucket_name(prefix: str, account: str, region: str) -> str:
    """The artifacts bucket of environment `prefix`, as the data stack names it."""
    return bucket_name(prefix, ARTIFACTS, account, region)


def bucket_name_problems(prefix: str, account: str, region: str) -> list[str]:
    """Why some bucket of the environment could not be created under its name."""
    return [
        f"bucket {name} has {len(name)} characters; S3 allows {MAX_BUCKET_NAME}"
        for name in (bucket_name(prefix, role, account, region) for role in BUCKET_ROLES)
        if len(name) > MAX_BUCKET_NAME
    ]


RAW_DATA_PREFIX = "raw/"
CODE_PREFIX = "code/"
PIPELINE_PREFIX = "pipelines/"
MODELS_PREFIX = "models/"
CHECKPOINTS_PREFIX = "checkpoints/"
DATA_CAPTURE_PREFIX = "data-capture/"
MONITORING_PREFIX = "monitoring/"
BATCH_PREFIX = "batch/"


def model_run_prefixes(model_prefix: str) -> tuple[str, ...]:
    """Where a model's pipeline runs write in its environment's artifacts bucket, one folder
    per pipeline (`models/<model prefix>-training/`, `...-tuning/`), a folder per execution
    below it: the model, its evaluation and its data-quality baseline."""
    return tuple(f"{MODELS_PREFIX}{pipeline_name(model_prefix, kind)}/" for kind in PIPELINE_KINDS)


def raw_data_prefix(model: str) -> str:
    """Where a model's raw data lands in the raw-data bucket (the new-data trigger watches it)."""
    return f"{RAW_DATA_PREFIX}{model}/"


def data_capture_prefix(model: str) -> str:
    """Where a model's endpoint captures requests (SageMaker adds endpoint/variant/date)."""
    return f"{DATA_CAPTURE_PREFIX}{model}/"


def monitoring_prefix(model: str) -> str:
    """Where a model's monitoring jobs write their reports."""
    return f"{MONITORING_PREFIX}{model}/"


def batch_prefix(model: str) -> str:
    """A model's batch transform folder: input/ and predictions/ below it."""
    return f"{BATCH_PREFIX}{model}/"


GROUND_TRUTH_PREFIX = "ground-truth/"


def ground_truth_prefix(model: str) -> str:
    """Where a model's ground-truth labels land for its model-quality monitor, in hour folders
    yyyy/mm/dd/hh/ as Model Monitor reads them (model-monitor-model-quality-merge.html)."""
    return f"{GROUND_TRUTH_PREFIX}{model}/"


# A training run's folders under models/<pipeline>/<execution id>/: the data-quality baseline
# preprocess.py writes, and evaluate.py's report with the model-quality baseline constraints.
RUN_BASELINE = "baseline"
RUN_EVALUATION = "evaluation"
MODEL_QUALITY_CONSTRAINTS_FILE = "model_quality_constraints.json"


def model_quality_constraints_uri(baseline_uri: str) -> str:
    """The model-quality constraints of the run whose data-quality baseline folder is
    `baseline_uri` (`.../<execution>/baseline/` -> `.../<execution>/evaluation/...`)."""
    run = baseline_uri.rstrip("/").removesuffix(RUN_BASELINE)
    return f"{run}{RUN_EVALUATION}/{MODEL_QUALITY_CONSTRAINTS_FILE}"


# A Model Monitor baseline is a folder holding these two files (preprocess.py writes them).
BASELINE_STATISTICS_FILE = "statistics.json"
BASELINE_CONSTRAINTS_FILE = "constraints.json"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); ValueError naming the URI when it is not one."""
    if not uri.startswith(S3_SCHEME):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri.removeprefix(S3_SCHEME).partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    return bucket, key
