"""Shared pydantic base for every configuration section, and value types several sections use."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

S3Folder = Annotated[
    str,
    Field(
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        examples=["s3://bucket/folder/"],
    ),
]


class Section(BaseModel):
    """A config section: unknown keys are errors and values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
