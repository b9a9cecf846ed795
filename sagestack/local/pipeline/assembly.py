"""The SageMaker pipelines of one environment, read from a synthesized cloud assembly.

Each `AWS::SageMaker::Pipeline` carries its definition body, whose CDK tokens are resolved
from the same assembly (sagestack/intrinsics.py). The file assets a definition names (the code
tarball) are listed with their local file and their S3 destination, so that a local run can
publish them the way `cdk deploy` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ground.naming import TRAINING, pipeline_kind
from sagestack.assembly import CloudAssembly, FileAsset, StackTemplate
from sagestack.intrinsics import Resolver

PIPELINE_TYPE = "AWS::SageMaker::Pipeline"
GROUP_TYPE = "AWS::SageMaker::ModelPackageGroup"


class AssemblyError(Exception):
    """The assembly is missing or holds no such pipeline; the message says what to run."""


@dataclass(frozen=True)
class PipelineSource:
    pipeline_name: str
    model_package_group: str | None
    region: str
    account: str
    definition: dict
    assets: tuple[FileAsset, ...]


def _environment_stacks(assembly_dir: Path, environment: str) -> dict[str, StackTemplate]:
    if not (Path(assembly_dir) / "manifest.json").is_file():
        raise AssemblyError(
            f"{assembly_dir}: no synthesized assembly; run `cdk synth -c envs={environment}` "
            "(or `make synth`) first"
        )
    stacks = CloudAssembly(Path(assembly_dir)).environment_stacks(environment)
    if not stacks:
        raise AssemblyError(
            f"{assembly_dir}: no stacks of environment '{environment}'; run "
            f"`cdk synth -c envs={environment}` (or `make synth`) first"
        )
    return stacks


def load_pipelines(assembly_dir: Path, environment: str) -> dict[str, PipelineSource]:
    """Every pipeline of the environment by name, with every token resolved locally."""
    stacks = _environment_stacks(assembly_dir, environment)
    resolver = Resolver(stacks)
    found: dict[str, PipelineSource] = {}
    for stack in stacks.values():
        resources = resolver.template(stack).get("Resources", {}).values()
        groups = [
            resolver.resolve(r["Properties"], stack)["ModelPackageGroupName"]
            for r in resources
            if r["Type"] == GROUP_TYPE
        ]
        for resource in resources:
            if resource["Type"] != PIPELINE_TYPE:
                continue
            pipeline = resolver.resolve(resource["Properties"], stack)
            body = pipeline["PipelineDefinition"]["PipelineDefinitionBody"]
            definition = json.loads(body)
            found[pipeline["PipelineName"]] = PipelineSource(
                pipeline_name=pipeline["PipelineName"],
                model_package_group=_group_of(definition, groups),
                region=stack.region,
                account=stack.account,
                definition=definition,
                assets=tuple(a for a in stack.file_assets() if a.uri in body),
            )
    return found


def _group_of(definition: dict, groups: list[str]) -> str | None:
    """The stack's model package group that the definition registers into, if any."""
    text = json.dumps(definition)
    return next((group for group in groups if f'"{group}"' in text), None)


def load_pipeline(assembly_dir: Path, environment: str, name: str | None = None) -> PipelineSource:
    """One pipeline of the environment: `name`, or its training pipeline."""
    pipelines = load_pipelines(assembly_dir, environment)
    if name is not None:
        if name not in pipelines:
            raise AssemblyError(
                f"environment '{environment}' has no pipeline {name!r} "
                f"(pipelines: {', '.join(sorted(pipelines)) or 'none'})"
            )
        return pipelines[name]
    training = [p for p in pipelines.values() if pipeline_kind(p.pipeline_name) == TRAINING]
    if len(training) != 1:
        raise AssemblyError(
            f"environment '{environment}' has {len(training)} training pipelines "
            f"({', '.join(sorted(p.pipeline_name for p in training)) or 'none'}); name one "
            f"of {', '.join(sorted(pipelines))}"
        )
    return training[0]
