"""Every fault point x every phase: the generation still ends `succeeded`, each phase's effect once."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from chalicelib.faults import POINTS
from tests.integration.test_generation_flow import create_and_generate
from tests.support.stack import FakeClock, logs, run_like_aws

PHASES = ["brief", "sitemap", "content", "code", "review", "publish"]


@pytest.fixture()
def clock(deps):
    deps.clock = FakeClock()
    return deps.clock


@pytest.fixture()
def output_writes(deps):
    """Count every time a phase's output is stored (a phase_run turning succeeded)."""
    with deps.engine.begin() as conn:
        conn.execute(text("""
            CREATE TABLE IF NOT EXISTS test_output_writes (phase_run_id bigint, phase text);
            TRUNCATE test_output_writes;
            CREATE OR REPLACE FUNCTION count_output_write() RETURNS trigger AS $$
            BEGIN
              IF NEW.status = 'succeeded' AND OLD.status <> 'succeeded' THEN
                INSERT INTO test_output_writes VALUES (NEW.id, NEW.phase);
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS count_output_write ON phase_runs;
            CREATE TRIGGER count_output_write AFTER UPDATE ON phase_runs
              FOR EACH ROW EXECUTE FUNCTION count_output_write();
        """))

    def counts():
        with deps.engine.connect() as conn:
            return dict(conn.execute(text("SELECT phase, count(*) FROM test_output_writes GROUP BY phase")).all())

    yield counts
    with deps.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER count_output_write ON phase_runs; DROP TABLE test_output_writes;"))


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("point", POINTS)
def test_crash_at_every_point_of_every_phase(client, aws, deps, clock, output_writes, monkeypatch, point, phase):
    monkeypatch.setenv("SITEGEN_FAULTS", f"once:{point}@{phase}")
    from chalicelib import faults

    faults._fired.clear()
    _, gen = create_and_generate(client)
    stats = run_like_aws(client, aws, deps, clock)

    assert stats["crashes"] == 1, stats  # the fault really fired
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded", done
    events = [(line["event"], line["phase"]) for line in logs(client, gen["id"])]
    for p in PHASES:
        assert events.count(("phase_succeeded", p)) == 1, (p, events)
    assert events.count(("generation_succeeded", None)) == 1
    assert output_writes() == {p: 1 for p in PHASES}
    with deps.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
    attrs = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
