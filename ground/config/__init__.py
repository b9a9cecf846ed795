"""Environment configuration: the typed schema and its loader."""

from ground.config.loader import ConfigError, load_environment, load_environments
from ground.config.schema import EnvironmentConfig

__all__ = ["ConfigError", "EnvironmentConfig", "load_environment", "load_environments"]
