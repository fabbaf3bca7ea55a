"""The keys and names rubrics, their items and findings are known by: one home, so that a
finding or a unit addition checks them without loading the rubrics' models (start-up)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
"""A rubric item's, a metric's or a unit group's key (`on_time`, `district`)."""
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=60)]
"""A rubric's name (`shanghai-12345-2019`)."""
