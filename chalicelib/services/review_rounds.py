"""A review round: the review sends the pages it found errors in back to the coding route.

One transaction (the review invocation's second, like a completion), guarded by the review's lease:
- the review run goes back to `pending`, the code phase to `running`, the generation to phase `code`
  with one more review round;
- each page sent back (its code part) goes back to `pending` with its findings, keeping its last answer
  (the next run sends both to the coding route) and the outbox rows of those parts are added;
then the parts go to SQS in one batch. When they succeed, the code phase joins again (the other pages'
parts are kept as they are) and the review runs again. The rounds are bounded by chalicelib/domain/review.py.
"""

from __future__ import annotations

from sqlalchemy import case, literal, update
from sqlalchemy.dialects.postgresql import JSONB

from chalicelib.db.models import Generation, PartRun, PhaseRun
from chalicelib.domain import lifecycle
from chalicelib.domain.commands import RunPhase
from chalicelib.domain.phases import Phase
from chalicelib.domain.review import MAX_REVIEW_ROUNDS, SendBack
from chalicelib.ports import Deps
from chalicelib.services import outbox
from chalicelib.services.pipeline import Claim
from chalicelib.services.progress import ProgressLog


def send_back(deps: Deps, command: RunPhase, claim: Claim, back: SendBack, log: ProgressLog) -> str:
    now = deps.clock()
    gid, parts = command.generation_id, sorted(back.pages)
    with deps.uow() as uow:
        s = uow.session
        gen = s.get(Generation, gid, with_for_update=True)
        assert gen is not None
        review = s.get(PhaseRun, claim.run_id, with_for_update=True)
        if review is None or review.lease_token != claim.token:
            return "discarded: lease was taken over by another delivery"
        if not lifecycle.is_active(gen.status):  # cancelled meanwhile: the review ends here, a failure
            lifecycle.fail_run(review, now, str(back))
            uow.commit()
            return f"stopped: generation is {gen.status}"
        lifecycle.send_back_run(review)
        review.usage = claim.with_prior(back.usage) or None  # the next review adds its own
        reopen, send = lifecycle.Action.REOPEN, lifecycle.Action.SEND_BACK
        s.execute(
            update(PhaseRun)
            .where(
                PhaseRun.generation_id == gid,
                PhaseRun.phase == Phase.CODE.value,
                PhaseRun.status.in_(lifecycle.sources(lifecycle.RUN_TRANSITIONS, reopen)),
            )
            .values(
                status=lifecycle.target(lifecycle.RUN_TRANSITIONS, reopen), started_at=now, finished_at=None
            )
        )
        s.execute(
            update(PartRun)
            .where(
                PartRun.generation_id == gid,
                PartRun.phase == Phase.CODE.value,
                PartRun.part.in_(parts),
                PartRun.status.in_(lifecycle.sources(lifecycle.RUN_TRANSITIONS, send)),
            )
            .values(
                status=lifecycle.target(lifecycle.RUN_TRANSITIONS, send),
                **lifecycle.RUN_RESET,
                review_findings=case(
                    *((PartRun.part == p, literal(list(back.pages[p]), JSONB)) for p in parts)
                ),
                reused=False,
            )
        )
        commands = outbox.add_parts(s, gid, Phase.CODE, parts)
        gen.review_rounds, gen.current_phase, gen.updated_at = back.round, Phase.CODE.value, now
        uow.commit()
    for part in parts:
        shown = "; ".join(back.pages[part][:5])
        log.info(
            f"Review round {back.round} of {MAX_REVIEW_ROUNDS}: {back.files[part]}: {shown}; "
            "sending it back to the coding model",
            phase=Phase.REVIEW.value,
            level="warning",
            part=part,
        )
    log.flush()
    log.lifecycle(
        "phase_started",
        now,
        f"Phase code started again: the review sent {len(parts)} file(s) back "
        f"(round {back.round} of {MAX_REVIEW_ROUNDS}): {', '.join(back.files[p] for p in parts)}",
        phase=Phase.CODE.value,
        key=f"review-round-{back.round}",
    )
    outbox.send_many(deps, commands)
    return f"sent back (round {back.round}): {', '.join(parts)}"
