"""Container image URIs per region, from the table the `sagemaker` SDK ships (no AWS call).

The stacks call these at synth time; the SDK reads its bundled JSON (image_uri_config/*.json),
so the result depends only on the region, the family and the pinned SDK version: synth stays
hermetic.
"""

from __future__ import annotations

from functools import cache

from ground.families import FAMILIES, PREPARATION_FAMILY, Family


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


def _family(name: str) -> Family:
    return FAMILIES[name]


def training_image(family: str, region: str) -> str:
    """The family's framework image: runs its train.py in script mode, and evaluate.py."""
    spec = _family(family)
    return _retrieve(spec.framework, spec.version, "training", region)


def inference_image(family: str, region: str) -> str:
    """The family's serving image: runs the inference.py packed in the model."""
    spec = _family(family)
    return _retrieve(spec.framework, spec.version, "inference", region)


def processing_image(region: str) -> str:
    """scikit-learn's image: runs preprocess.py for every family."""
    return training_image(PREPARATION_FAMILY, region)


@cache
def model_monitor_image(region: str) -> str:
    """The Model Monitor analyzer (Deequ on Spark) that data-quality schedules run."""
    from sagemaker.core import image_uris

    return image_uris.retrieve("model-monitor", region=region)
