"""The two bases of the API's models, and the number type they share.

Apart from :mod:`.models` so that the program codecs (:mod:`.op_objects`) can build their
models on the same bases without importing the schema that imports them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FiniteFloat", "RequestModel", "ResponseModel"]

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A float that is neither infinite nor NaN."""


class RequestModel(BaseModel):
    """Base of everything a client sends: strict, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=False)


class ResponseModel(BaseModel):
    """Base of everything a server answers: unknown fields tolerated."""

    model_config = ConfigDict(extra="ignore")
