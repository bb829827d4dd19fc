"""Commands carried by the generation queue."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.phases import Phase


class RunPhase(BaseModel):
    """Run one phase of one generation. The SQS message body is exactly this, as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generation_id: uuid.UUID
    phase: Phase
    part: str | None = Field(default=None, min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9.-]*$")  # a page slug, or "styles.css"

    def body(self) -> dict[str, str]:
        body = {"generation_id": str(self.generation_id), "phase": self.phase.value}
        if self.part is not None:
            body["part"] = self.part
        return body

    def label(self) -> str:
        """"content" or "content/about": for log lines and reasons."""
        return self.phase.value if self.part is None else f"{self.phase.value}/{self.part}"
