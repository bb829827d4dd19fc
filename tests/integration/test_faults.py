"""Every fault point x every phase (and a part of each per-page phase): the generation still ends
`succeeded`, each phase's and each part's effect once."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chalicelib.faults import POINTS
from tests.support.orders import create_and_generate
from tests.support.stack import PHASES, each_output_once, logs, run_like_aws

TARGETS = PHASES + ["content/sobre", "code/styles.css", "code/contato"]  # a phase's target hits its fan-out


@pytest.mark.parametrize("phase", TARGETS)
@pytest.mark.parametrize("point", POINTS)
def test_crash_at_every_point_of_every_phase(
    client, aws, deps, clock, output_writes, monkeypatch, point, phase
):
    monkeypatch.setenv("SITEGEN_FAULTS", f"once:{point}@{phase}")
    from chalicelib import faults

    faults._fired.clear()
    _, gen = create_and_generate(client)
    stats = run_like_aws(client, aws, deps, clock)

    assert stats["crashes"] == 1 and stats["errors"] == 0, stats  # the fault really fired, nothing else did
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded", done
    events = [(line["event"], line["phase"]) for line in logs(client, gen["id"])]
    for p in PHASES:
        assert events.count(("phase_succeeded", p)) == 1, (p, events)
    assert events.count(("generation_succeeded", None)) == 1
    assert output_writes() == each_output_once()
    with deps.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
    attrs = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert (
        attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    )
