"""Container image URIs per region, from the table the `sagemaker` SDK ships (no AWS call).

The stacks call these at synth time; the SDK reads its bundled JSON (image_uri_config/*.json),
so the result depends only on the region and the pinned SDK version: synth stays hermetic.
"""

from __future__ import annotations

from functools import cache

XGBOOST_VERSION = "3.0-5"
SKLEARN_VERSION = "1.9-0"


@cache
def _retrieve(framework: str, version: str, scope: str, region: str) -> str:
    from sagemaker.core import image_uris  # slow import: only when an image is asked for

    try:
        return image_uris.retrieve(framework, region=region, version=version, image_scope=scope)
    except ValueError as error:
        raise ValueError(
            f"no SageMaker {framework} {version} {scope} image for region '{region}' in the "
            f"sagemaker SDK's table ({error}); check the region in the environment config"
        ) from None


def training_image(region: str) -> str:
    """XGBoost 3.0-5: runs train.py in script mode."""
    return _retrieve("xgboost", XGBOOST_VERSION, "training", region)


def inference_image(region: str) -> str:
    """XGBoost 3.0-5 serving: runs inference.py."""
    return _retrieve("xgboost", XGBOOST_VERSION, "inference", region)


def processing_image(region: str) -> str:
    """scikit-learn 1.9-0: runs preprocess.py."""
    return _retrieve("sklearn", SKLEARN_VERSION, "training", region)


def evaluation_image(region: str) -> str:
    """XGBoost 3.0-5 as a processing job: evaluate.py needs xgboost."""
    return training_image(region)


@cache
def model_monitor_image(region: str) -> str:
    """The Model Monitor analyzer (Deequ on Spark) that data-quality schedules run."""
    from sagemaker.core import image_uris

    return image_uris.retrieve("model-monitor", region=region)
