"""One Stage per environment: the same stacks everywhere, differing only by config."""

from __future__ import annotations

import sys

from aws_cdk import Annotations, Environment, Stage, Tags
from constructs import Construct

from ground.config import EnvironmentConfig
from stacks.data import DataStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.serving import ServingStack
from stacks.training import TrainingStack


class SageStackStage(Stage):
    """`sagestack-<env>-<stack>` stacks of one environment, in its account and region."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config.name)
        env = Environment(account=config.account, region=config.region)

        def names(stack: str) -> dict:
            return {"stack_name": f"{config.prefix}-{stack}", "env": env}

        self.data = DataStack(self, "data", config=config, **names("data"))
        self.network = NetworkStack(
            self, "network", config=config, logs_key=self.data.logs_key, **names("network")
        )
        self.training = TrainingStack(
            self,
            "training",
            config=config,
            network=self.network,
            data=self.data,
            **names("training"),
        )
        if config.serving.model is None:
            # An info annotation records it in the assembly; a warning would fail the gate.
            note = f"{config.name}: no model pinned (serving.model is null): no endpoint, no "
            note += "serving or monitoring stack"
            Annotations.of(self.data).add_info(note)
            print(f"sagestack: {note}", file=sys.stderr)
        else:
            self.serving = ServingStack(
                self,
                "serving",
                config=config,
                data=self.data,
                network=self.network,
                **names("serving"),
            )
            self.monitoring = MonitoringStack(
                self,
                "monitoring",
                config=config,
                data=self.data,
                network=self.network,
                serving=self.serving,
                pipeline_names=[*self.training.pipeline_names, self.serving.batch_pipeline_name],
                **names("monitoring"),
            )
        Tags.of(self).add("sagestack:environment", config.name)
        Tags.of(self).add("sagestack:managed-by", "cdk")
