"""The delivery pipeline's settings: `config/delivery/pipeline.yaml`.

It lives in a sub-folder on purpose: `config/*.yaml` are the platform file and the
environments, and the pipeline is neither. It is read only when the app is synthesized with
`-c delivery=true`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ground.config.base import Section
from ground.config.errors import ConfigError, validated
from ground.config.loader import CONFIG_DIR, environment_names, load_models
from ground.config.values import AccountId, Region
from ground.config.yaml_source import read_mapping

DELIVERY_FILE = Path("delivery") / "pipeline.yaml"


class SmokeRequest(Section):
    """One request a model's endpoint must answer, e.g. one row of features."""

    content_type: str = "text/csv"
    body: str = Field(min_length=1)


class SmokeTest(Section):
    """Requests sent to an environment's endpoints right after the pipeline deploys it."""

    environments: list[str] = Field(
        default_factory=lambda: ["staging"],
        description="Environments whose endpoints are invoked after their deployment.",
    )
    requests: dict[str, SmokeRequest] = Field(
        description="By model: the request its endpoint must answer. A model without one is "
        "not smoke-tested."
    )


class DeliveryConfig(Section):
    """Where the pipeline runs, what it builds from, and where it stops for a human."""

    account: AccountId = Field(description="Tooling account of the pipeline.")
    region: Region
    repository: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name of the repository."
    )
    branch: str = "main"
    connection_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:"
        r"connection/[0-9a-f-]+$",
        description="CodeConnections connection to the repository's host (created and "
        "authorized once in the console).",
    )
    approval_before: list[str] = Field(
        default_factory=lambda: ["prod"],
        description="Environments the pipeline deploys only after a manual approval.",
    )
    smoke_test: SmokeTest

    def check_names(self, names: list[str], models: list[str], path: Path) -> None:
        """Every environment and model this file names must exist; ConfigError naming the
        unknown ones."""
        unknown_models = sorted(set(self.smoke_test.requests) - set(models))
        if unknown_models:
            raise ConfigError(
                f"{path}: smoke_test.requests: unknown model(s) {', '.join(unknown_models)}; "
                f"the models are {', '.join(models)}"
            )
        for field, listed in (
            ("approval_before", self.approval_before),
            ("smoke_test.environments", self.smoke_test.environments),
        ):
            unknown = sorted(set(listed) - set(names))
            if unknown:
                raise ConfigError(
                    f"{path}: {field}: unknown environment(s) {', '.join(unknown)}; "
                    f"the environments are {', '.join(names)}"
                )


def load_delivery(config_dir: Path = CONFIG_DIR) -> DeliveryConfig:
    """Load and validate `<config_dir>/delivery/pipeline.yaml`, and check the environments it
    names against `<config_dir>/platform.yaml`; ConfigError naming file, field and reason."""
    path = config_dir / DELIVERY_FILE
    raw = read_mapping(path, " (copy and edit the one in git)")
    delivery = validated(DeliveryConfig, raw, path)
    names = environment_names(config_dir)
    delivery.check_names(names, sorted(load_models(config_dir, names)), path)
    return delivery
