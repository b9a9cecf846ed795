"""Every pipeline and SageMaker resource of the committed configs, as AWS would take them."""

from tests.contract_checks import checked_pipelines, resource_problems
from tests.synth import Assembly


def test_every_pipeline_of_every_environment_validates(assembly: Assembly) -> None:
    pipelines = checked_pipelines(assembly.directory)
    assert sorted(pipelines) == sorted(
        f"sagestack-{env}-{model}-{kind}"
        for env in ("dev", "staging", "prod")
        for model in ("cancer", "diabetes", "wine")
        for kind in ("training", "tuning")
    )
    assert {name: found for name, found in pipelines.items() if found} == {}


def test_every_sagemaker_resource_validates(assembly: Assembly) -> None:
    assert resource_problems(assembly.directory) == []
