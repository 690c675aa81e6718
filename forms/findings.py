"""A requirement check's finding: the contract of DESIGN 4.2 ``checks``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["pass", "fail", "warn", "not_applicable"]


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    status: Status
    #: Japanese, for the clerk.
    message: str
    #: Seed file and section, e.g. "004 7(2)".
    clause: str
    #: The values used and the numbers computed.
    evidence: dict[str, Any] = {}
