"""Run the pipeline definition that was deployed (read back from the emulator) locally."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagestack.local.pipeline.executor import ExecutionResult, Executor
from sagestack.local.pipeline.registry import ModelRegistry
from sagestack.storage import Storage


def deployed_definition(sagemaker: Any, name: str) -> dict:
    described = sagemaker.describe_pipeline(PipelineName=name)
    return dict(json.loads(described["PipelineDefinition"]))


def run_deployed_pipeline(
    sagemaker: Any,
    storage: Storage,
    name: str,
    *,
    region: str,
    account: str,
    workdir: Path,
    parameters: dict[str, str] | None = None,
    echo: Callable[[str], None] = print,
) -> ExecutionResult:
    """The definition CloudFormation deployed for pipeline `name`, run on this machine with
    `parameters` (as a StartPipelineExecution with PipelineParameters would)."""
    return Executor(
        deployed_definition(sagemaker, name),
        pipeline_name=name,
        region=region,
        account=account,
        storage=storage,
        registry=ModelRegistry(sagemaker),
        workdir=workdir,
        echo=echo,
    ).run(dict(parameters or {}))
