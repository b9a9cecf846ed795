"""The delivery pipeline's stages hold the same stacks: they validate the same way."""

from sagestack.assembly import CloudAssembly
from tests.contract_checks import checked_pipelines, resource_problems


def test_every_pipeline_and_resource_inside_the_delivery_stack_validates(
    delivery_assembly: CloudAssembly,
) -> None:
    pipelines = checked_pipelines(delivery_assembly.directory)
    assert "sagestack-staging-cancer-batch-transform" in pipelines
    assert "sagestack-prod-cancer-training" in pipelines
    assert {name: found for name, found in pipelines.items() if found} == {}
    assert resource_problems(delivery_assembly.directory) == []
