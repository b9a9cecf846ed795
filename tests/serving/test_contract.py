"""With a model pinned everywhere: serving and batch pipelines, endpoints and monitors too."""

from tests.contract_checks import checked_pipelines, resource_problems
from tests.serving.pinned import MODELS, PINNED, PinnedSynth


def test_every_pipeline_with_a_model_pinned_validates(pinned: PinnedSynth) -> None:
    pipelines = checked_pipelines(pinned.assembly.directory)
    for env in PINNED:
        for model in MODELS:
            assert f"sagestack-{env}-{model}-batch-transform" in pipelines
    assert {name: found for name, found in pipelines.items() if found} == {}


def test_every_endpoint_model_and_monitor_validates(pinned: PinnedSynth) -> None:
    assert resource_problems(pinned.assembly.directory) == []
