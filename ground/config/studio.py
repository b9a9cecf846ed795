"""An environment's SageMaker Studio: the `studio` section of `config/<env>.yaml`.

The domain is shared by the environment; each user profile has a persona and a team, and its
grants follow the models that team owns (`team:` in `config/models/<name>.yaml`) and the
environment hosts. A production environment declares no profile: no Studio user reaches
production data (data scientists work in the environments before it).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from ground.config.base import Section
from ground.contract.service_model import member_enum

if TYPE_CHECKING:  # the deployment module imports the environment, which imports this one
    from ground.config.deployment import ModelDeployment

Persona = Literal["data-scientist", "ml-engineer"]
StudioApp = Literal["jupyterlab", "code-editor", "canvas"]
# Every instance type a JupyterLab app accepts, from botocore's service model.
APP_INSTANCE_TYPES = member_enum(
    "sagemaker",
    "CreateDomain",
    "DefaultUserSettings.JupyterLabAppSettings.DefaultResourceSpec.InstanceType",
)
# IdleSettings accepts 60 to 525600 minutes: API reference, "IdleSettings"
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_IdleSettings.html).
MIN_IDLE_MINUTES = 60
MAX_IDLE_MINUTES = 525_600
# Profile names become role names `sagestack-<env>-studio-<name>` (at most 64 characters, and
# the environment's name at most 16): 30 characters are left.
PROFILE_NAME = r"^[a-z][a-z0-9-]{0,28}[a-z0-9]$"
DEFAULT_ROLE = "default"  # `sagestack-<env>-studio-default`: users without a profile of their own


class IdleShutdown(Section):
    """The domain's built-in idle shutdown of JupyterLab apps (AppLifecycleManagement)."""

    enabled: bool = True
    timeout_minutes: int = Field(
        default=60,
        ge=MIN_IDLE_MINUTES,
        le=MAX_IDLE_MINUTES,
        description="Minutes an app may stay idle before SageMaker shuts it down.",
    )
    max_timeout_minutes: int = Field(
        default=240,
        ge=MIN_IDLE_MINUTES,
        le=MAX_IDLE_MINUTES,
        description="The longest idle time a user may choose for their own space.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> IdleShutdown:
        if self.timeout_minutes > self.max_timeout_minutes:
            raise ValueError(
                f"timeout_minutes ({self.timeout_minutes}) is above max_timeout_minutes "
                f"({self.max_timeout_minutes})"
            )
        return self


class UserProfileConfig(Section):
    """One Studio user: a persona, the team whose models it works on."""

    name: str = Field(pattern=PROFILE_NAME, description="The user profile's name.")
    persona: Persona
    team: str = Field(description="A team that owns models in config/models/.")
    sso_user: str | None = Field(
        default=None, description="With auth: sso, the user's IAM Identity Center user name."
    )


class StudioConfig(Section):
    """The environment's Studio domain, its guardrails and its user profiles."""

    auth: Literal["iam", "sso"] = Field(
        default="iam", description="IAM, or IAM Identity Center (sso) sign-in."
    )
    apps: list[StudioApp] = Field(
        default=["jupyterlab"],
        description="The apps users see; JupyterLab is the default experience, Canvas is off "
        "unless listed.",
    )
    default_instance_type: str = "ml.t3.medium"
    allowed_instance_types: list[str] = Field(
        default=["ml.t3.medium", "ml.t3.large", "ml.m5.large"],
        min_length=1,
        description="The only instance types Studio apps may run on.",
    )
    idle_shutdown: IdleShutdown = IdleShutdown()
    user_profiles: list[UserProfileConfig] = Field(default_factory=list)

    @field_validator("apps")
    @classmethod
    def _jupyterlab_first(cls, value: list[str]) -> list[str]:
        if "jupyterlab" not in value:
            raise ValueError("jupyterlab is the default experience and cannot be left out")
        return value

    @field_validator("allowed_instance_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in APP_INSTANCE_TYPES]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: not an instance type JupyterLab apps accept "
                "(botocore's AppInstanceType)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StudioConfig:
        if self.default_instance_type not in self.allowed_instance_types:
            raise ValueError(
                f"default_instance_type {self.default_instance_type} is not in "
                "allowed_instance_types"
            )
        names = [profile.name for profile in self.user_profiles]
        if DEFAULT_ROLE in names:
            raise ValueError(f"user_profiles: '{DEFAULT_ROLE}' names the domain's default role")
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"user_profiles: {', '.join(twice)} declared more than once")
        for index, profile in enumerate(self.user_profiles):
            if (self.auth == "sso") != (profile.sso_user is not None):
                need = "needs sso_user" if self.auth == "sso" else "takes no sso_user"
                raise ValueError(f"user_profiles.{index}: with auth {self.auth}, a profile {need}")
        return self


def studio_problems(
    studio: StudioConfig, production: bool, path: Path, teams: Collection[str]
) -> list[str]:
    """What is wrong in an environment's studio section given the models' `teams` (one line
    each). A team with no model in this environment is fine: its profiles reach no data."""
    if production and studio.user_profiles:
        return [
            f"{path}: studio.user_profiles: a production environment gives no Studio user "
            "access to its data; declare profiles in the environments before it"
        ]
    return [
        f"{path}: studio.user_profiles.{index}.team: no model in config/models/ belongs to "
        f"team {profile.team} (teams: {', '.join(sorted(teams)) or 'none'})"
        for index, profile in enumerate(studio.user_profiles)
        if profile.team not in teams
    ]


def granted_models(
    profile: UserProfileConfig, deployments: Sequence[ModelDeployment]
) -> list[ModelDeployment]:
    """The models a profile works on: those its team owns, in the profile's environment."""
    return [d for d in deployments if d.model.team == profile.team]
