"""One Stage per environment: the shared stacks, then three stacks per model it hosts.

    sagestack-<env>-data, sagestack-<env>-network            keys, buckets, topic; the VPC
    sagestack-<env>-<model>-training                         pipelines, registry group, triggers
    sagestack-<env>-<model>-serving, -monitoring             once a package is pinned

A model's stacks hold only that model: each stays far below CloudFormation's 500 resources
whatever the portfolio's size, deploys, diffs and rolls back alone (`cdk deploy
'dev/churn-*'`), and review and promotion read per model.
"""

from __future__ import annotations

import sys
from typing import Any

from aws_cdk import Annotations, Environment, Stage, Tags
from constructs import Construct

from ground.config import ModelDeployment
from ground.config.loader import Environment as EnvironmentSettings
from ground.naming import model_stack_id
from stacks.data import DataStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.serving import ServingStack
from stacks.studio import StudioStack
from stacks.training import TrainingStack


class SageStackStage(Stage):
    """`sagestack-<env>-...` stacks of one environment, in its account and region."""

    def __init__(self, scope: Construct, environment: EnvironmentSettings) -> None:
        config = environment.config
        super().__init__(scope, config.name)
        self.target = Environment(account=config.account, region=config.region)
        self.data = DataStack(self, "data", config=config, **self._names(config.prefix, "data"))
        self.network = NetworkStack(
            self,
            "network",
            config=config,
            logs_key=self.data.logs_key,
            **self._names(config.prefix, "network"),
        )
        self.training: dict[str, TrainingStack] = {}
        self.serving: dict[str, ServingStack] = {}
        self.monitoring: dict[str, MonitoringStack] = {}
        for deployment in environment.models:
            self._add_model(deployment)
        self.studio = StudioStack(
            self,
            "studio",
            config=config,
            deployments=environment.models,
            training=self.training,
            data=self.data,
            network=self.network,
            **self._names(config.prefix, "studio"),
        )
        unpinned = [d.name for d in environment.models if d.serving.model is None]
        if unpinned:
            # An info annotation records it in the assembly; a warning would fail the gate.
            note = f"{config.name}: no package pinned for {', '.join(unpinned)}: no endpoint, "
            note += "no serving or monitoring stack for them"
            Annotations.of(self.data).add_info(note)
            print(f"sagestack: {note}", file=sys.stderr)
        Tags.of(self).add("sagestack:environment", config.name)
        Tags.of(self).add("sagestack:managed-by", "cdk")

    def _names(self, prefix: str, stack: str) -> dict[str, Any]:
        return {"stack_name": f"{prefix}-{stack}", "env": self.target}

    def _add_model(self, deployment: ModelDeployment) -> None:
        name = deployment.name
        training = TrainingStack(
            self,
            model_stack_id(name, "training"),
            deployment=deployment,
            network=self.network,
            data=self.data,
            **self._names(deployment.prefix, "training"),
        )
        Tags.of(training).add("sagestack:model", name)
        self.training[name] = training
        if deployment.serving.model is None:
            return
        serving = ServingStack(
            self,
            model_stack_id(name, "serving"),
            deployment=deployment,
            data=self.data,
            network=self.network,
            **self._names(deployment.prefix, "serving"),
        )
        monitoring = MonitoringStack(
            self,
            model_stack_id(name, "monitoring"),
            deployment=deployment,
            data=self.data,
            network=self.network,
            serving=serving,
            pipeline_names=[*training.pipeline_names, serving.batch_pipeline_name],
            **self._names(deployment.prefix, "monitoring"),
        )
        for stack in (serving, monitoring):
            Tags.of(stack).add("sagestack:model", name)
        self.serving[name] = serving
        self.monitoring[name] = monitoring
