"""Commands carried by the generation queue."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.phases import Phase


class RunPhase(BaseModel):
    """Run one phase of one generation. The SQS message body is exactly this, as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generation_id: uuid.UUID
    phase: Phase

    def body(self) -> dict[str, str]:
        return {"generation_id": str(self.generation_id), "phase": self.phase.value}
