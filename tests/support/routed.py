"""A whole generation with `coding` routed to an AI config made through the API, answered by the AI tests'
fake provider (tests/ai/conftest.py) as a coding model would."""

from __future__ import annotations

from typing import Any

from chalicelib.ai.prompts import parse_data
from chalicelib.ai.template import answer_data
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import openai_reply
from tests.support.orders import WORKSHOP_ORDER
from tests.support.stack import drain

KEY = "sk-test-COMPAT-5f1e2d3c4b5a69788796"


CALLS = 5  # code: styles.css and one part per page (4)


USAGE = (840, 1820)  # what the fake reports per call


def coder(deps: Any, generation_id: str) -> Any:
    """Plays a coding model: answers each part's request from its prompt's data block, as the template
    writes it, in the Chat Completions wire format with a usage block."""

    def answer(request: Any) -> dict[str, Any]:
        user = next(m["content"] for m in reversed(request.json["messages"]) if m["role"] == "user")
        return openai_reply(answer_data(parse_data(user)), usage=USAGE)

    return answer


def generate_with_coding_on(
    config_body: dict[str, Any], client: Any, aws: Any, deps: Any, fake: FakeProvider
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create the config through the API, route `coding` to it, run a whole generation."""
    config = client.json("POST", "/ai/configs", config_body, expect=201)
    routing = client.json("GET", "/ai/routing")
    routing["routes"]["coding"] = config["id"]
    client.json("PUT", "/ai/routing", routing)
    order = client.json("POST", "/orders", WORKSHOP_ORDER, expect=201)
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    fake.reply(*[Scripted(body=coder(deps, gen["id"])) for _ in range(CALLS)])
    drain(client, aws)
    return config, client.json("GET", f"/generations/{gen['id']}")
