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
    part: str | None = Field(
        default=None, min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9.-]*$"
    )  # a page slug, or "styles.css"

    def body(self) -> dict[str, str]:
        body = {"generation_id": str(self.generation_id), "phase": self.phase.value}
        if self.part is not None:
            body["part"] = self.part
        return body

    def label(self) -> str:
        """ "content" or "content/about": for log lines and reasons."""
        return self.phase.value if self.part is None else f"{self.phase.value}/{self.part}"


class DeliverWebhook(BaseModel):
    """Send one webhook delivery (an event to one endpoint). Its own message on the generation queue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webhook_delivery_id: uuid.UUID

    def body(self) -> dict[str, str]:
        return {"webhook_delivery_id": str(self.webhook_delivery_id)}

    def label(self) -> str:
        return f"webhook delivery {self.webhook_delivery_id}"


Command = RunPhase | DeliverWebhook


def parse_command(body: str) -> Command:
    """A queue message's command. A body that names a webhook delivery is one (and nothing else);
    any other body must be a RunPhase. Raises pydantic's ValidationError for a malformed body."""
    import json

    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and "webhook_delivery_id" in data:
        return DeliverWebhook.model_validate(data)
    return RunPhase.model_validate_json(body)
