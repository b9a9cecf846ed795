"""Where things live in the platform's buckets: one place, so stacks and tools agree."""

import re

S3_SCHEME = "s3://"

# Each environment's artifacts bucket; other environments find its models and baselines by name.
ARTIFACTS_BUCKET = re.compile(
    r"^(?P<prefix>.+)-ml-artifacts-(?P<account>\d{12})-(?P<region>[a-z0-9-]+)$"
)


def artifacts_bucket_name(prefix: str, account: str, region: str) -> str:
    """The artifacts bucket of environment `prefix`, as the data stack names it."""
    return f"{prefix}-ml-artifacts-{account}-{region}"


RAW_DATA_PREFIX = "raw/"
CODE_PREFIX = "code/"
PIPELINE_PREFIX = "pipelines/"
MODELS_PREFIX = "models/"
CHECKPOINTS_PREFIX = "checkpoints/"
DATA_CAPTURE_PREFIX = "data-capture/"
MONITORING_PREFIX = "monitoring/"
BATCH_PREFIX = "batch/"


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
