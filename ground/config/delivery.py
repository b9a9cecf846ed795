"""The delivery pipeline's settings: `config/delivery/pipeline.yaml`.

It lives in a sub-folder on purpose: every `config/*.yaml` is an environment, and the
pipeline is not one. It is read only when the app is synthesized with `-c delivery=true`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ground.config.base import Section
from ground.config.loader import (
    CONFIG_DIR,
    ConfigError,
    environment_names,
    read_mapping,
    validated,
)
from ground.config.schema import AccountId, Region

DELIVERY_FILE = Path("delivery") / "pipeline.yaml"


class SmokeTest(Section):
    """One request sent to an environment's endpoint right after the pipeline deploys it."""

    environments: list[str] = Field(
        default_factory=lambda: ["staging"],
        description="Environments whose endpoint is invoked after their deployment.",
    )
    content_type: str = "text/csv"
    body: str = Field(min_length=1, description="A request the model must answer, e.g. one row.")


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

    def check_environments(self, names: list[str], path: Path) -> None:
        """Every environment this file names must exist; ConfigError naming the unknown ones."""
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
    names against `<config_dir>/*.yaml`; ConfigError naming file, field and reason."""
    path = config_dir / DELIVERY_FILE
    raw = read_mapping(path, " (copy and edit the one in git)")
    delivery = validated(DeliveryConfig, raw, path)
    delivery.check_environments(environment_names(config_dir), path)
    return delivery
