"""Watch rules as configured in ``[[rules]]``.

The model lives in ``alerts`` (the layer that evaluates rules) and is composed into the
daemon's settings, so validation and evaluation can never disagree about a field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Rule(BaseModel):
    """One watch rule: what to look for, and which channels hear about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    keywords: tuple[str, ...] = ()
    query: str | None = None
    regions: tuple[str, ...] = ()
    exclude_regions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    min_mentions: int = Field(default=1, ge=1)
    min_score: float = Field(default=0.0, ge=0)
    channels: tuple[str, ...] = Field(min_length=1)
    on_update: Literal["ignore", "alert"] = "ignore"
    enabled: bool = True

    @model_validator(mode="after")
    def _has_a_condition(self) -> Rule:
        # A rule with nothing to look for would alert on every article: almost always a typo.
        if not (self.keywords or self.query or self.regions):
            raise ValueError("a rule needs at least one of 'keywords', 'query' or 'regions'")
        if any(not k.strip() for k in self.keywords):
            raise ValueError("'keywords' holds an empty string")
        return self
