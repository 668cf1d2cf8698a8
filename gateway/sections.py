"""The base of every configuration section (gateway/config.py and the modules it composes)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    # Unknown keys fail at start with their path, instead of being silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveFloat = Annotated[float, Field(gt=0)]
