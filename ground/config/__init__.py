"""Configuration: the platform file, environments and models, typed and validated."""

from ground.config.deployment import ModelDeployment
from ground.config.environment import EnvironmentConfig
from ground.config.errors import ConfigError
from ground.config.loader import Environment, load_environment, load_environments
from ground.config.model import ModelConfig

__all__ = [
    "ConfigError",
    "Environment",
    "EnvironmentConfig",
    "ModelConfig",
    "ModelDeployment",
    "load_environment",
    "load_environments",
]
