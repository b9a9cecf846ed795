"""Where things live in the platform's buckets: one place, so stacks and tools agree."""

RAW_DATA_PREFIX = "raw/"
CODE_PREFIX = "code/"
PIPELINE_PREFIX = "pipelines/"
MODELS_PREFIX = "models/"
CHECKPOINTS_PREFIX = "checkpoints/"
DATA_CAPTURE_PREFIX = "data-capture/"
MONITORING_PREFIX = "monitoring/"
BATCH_PREFIX = "batch/"

# A Model Monitor baseline is a folder holding these two files (preprocess.py writes them).
BASELINE_STATISTICS_FILE = "statistics.json"
BASELINE_CONSTRAINTS_FILE = "constraints.json"
