"""Shared API schema bases."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class Strict(Schema):
    """Input schemas refuse fields they do not know (422 ``unknown_field``), so a typo in a
    client's payload is an error, not a silently ignored field."""

    model_config = ConfigDict(extra="forbid")
