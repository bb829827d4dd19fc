"""The dead-letter queue's handler and the redrive.

A dead letter is archived in Postgres (so the count and the bodies survive), its generation is
marked failed with the reason, and a log line says so. The handler never raises: if Postgres is down
it puts the message back on the dead-letter queue, delayed, for a later attempt (no hot loop of
invocations while the database is away).
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from chalicelib import log as logger
from chalicelib.api_models import DeadLetterList, DeadLetterPublic, RedrivePublic
from chalicelib.db.models import DeadLetter, Generation, Order
from chalicelib.domain import lifecycle
from chalicelib.domain.commands import DeliverWebhook, parse_command
from chalicelib.domain.phases import GenerationStatus
from chalicelib.ports import Deps
from chalicelib.services.events import emit_generation_ended
from chalicelib.services.progress import ProgressLog

PUT_BACK_DELAY_S = 300


def _loose(body: str) -> tuple[uuid.UUID | None, str | None, str | None]:
    """(generation, phase, part) of a body, as far as they can be read."""
    try:
        data = json.loads(body)
        part = data.get("part")
        return (
            uuid.UUID(str(data["generation_id"])),
            str(data.get("phase"))[:20],
            str(part)[:60] if part else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None, None


def _webhook_delivery(body: str) -> str | None:
    try:
        data = json.loads(body)
        return str(data["webhook_delivery_id"])[:40] if isinstance(data, dict) else None
    except (ValueError, KeyError):
        return None


def handle_dead_letter(deps: Deps, message_id: str, body: str, reason: str | None) -> str:
    gid, phase, part = _loose(body)
    what = f"phase {phase}" + (f" (part {part})" if part else "")
    if (delivery := _webhook_delivery(body)) is not None:
        # archived for the redrive; the delivery itself stays as it is: the sweeper resends it until its
        # 24 hours are over, then dead-letters it
        what = f"webhook delivery {delivery}"
    reason = reason or f"gave up after {deps.settings.max_receive_count} deliveries of {what}"
    try:
        now = deps.clock()
        failed_at = None
        deliveries: list[DeliverWebhook] = []
        with deps.uow() as uow:
            s = uow.session
            first_time = (
                s.scalar(
                    insert(DeadLetter)
                    .values(
                        message_id=message_id,
                        body=body,
                        reason=reason[:2000],
                        generation_id=gid,
                        phase=phase,
                        received_at=now,
                    )
                    .on_conflict_do_nothing()
                    .returning(DeadLetter.message_id)
                )
                is not None
            )
            gen = s.get(Generation, gid, with_for_update=True) if gid else None
            # The same dead letter again (its handler died after the commit) must not fail a generation
            # that was resent since.
            if gen is not None and lifecycle.is_active(gen.status) and first_time:
                lifecycle.fail_generation(gen, now, reason)
                # this function may not send to the generation queue: the sweeper sends the deliveries
                deliveries = emit_generation_ended(s, gen, queued=False)
            if gen is not None and gen.status == GenerationStatus.FAILED and gen.error == reason:
                failed_at = gen.finished_at  # also when this dead letter comes back: its line may be missing
            uow.commit()
        if failed_at is not None:
            ProgressLog(deps.logs, str(gid)).generation_failed(failed_at, reason)
        logger.error(
            "dead letter recorded",
            reason=reason,
            generation_id=str(gid) if gid else None,
            webhook_deliveries=len(deliveries) or None,
        )
        return f"recorded: {reason}"
    except Exception as exc:  # never raise: keep the message on the dead-letter queue instead
        try:
            deps.queue.send_dead_letter(body, reason, delay_seconds=PUT_BACK_DELAY_S)
            logger.error(
                "dead letter not recorded; put back on the dead-letter queue",
                error=type(exc).__name__,
                retry_in_s=PUT_BACK_DELAY_S,
            )
        except Exception as again:
            logger.error("dead letter could not be recorded or kept", error=type(again).__name__, body=body)
        return "kept on the dead-letter queue"


def redrive(deps: Deps) -> RedrivePublic:
    """Send archived dead letters back. A generation the dead letter had failed is resumed (Resend).
    A letter is marked redriven only once it was handled: one that cannot be handled now (the
    database or SQS failing), or a redrive that dies midway, leaves it for the next redrive. Two
    redrives at once may both send a letter: a duplicate delivery is a no-op."""
    from chalicelib.domain.errors import Conflict
    from chalicelib.services.generations import retry_generation

    with deps.uow() as uow:
        rows = [
            (r.id, r.body)
            for r in uow.session.scalars(
                select(DeadLetter).where(DeadLetter.redriven_at.is_(None)).order_by(DeadLetter.id).limit(500)
            )
        ]
    resumed: set[uuid.UUID] = set()
    sent = skipped = kept = 0
    handled: list[int] = []
    for row_id, body in rows:
        try:
            command = parse_command(body)
        except ValueError:
            skipped += 1  # malformed: sending it back would only bring it here again
            handled.append(row_id)
            continue
        try:
            if isinstance(command, DeliverWebhook):
                from chalicelib.services.webhook_delivery import redrive as redrive_delivery

                if redrive_delivery(deps, command):
                    sent += 1
                else:
                    skipped += 1  # delivered meanwhile, or its webhook was deleted
                handled.append(row_id)
                continue
            with deps.uow() as uow:
                status = uow.session.scalar(
                    select(Generation.status).where(Generation.id == command.generation_id)
                )
            if status == GenerationStatus.FAILED and command.generation_id not in resumed:
                retry_generation(deps, str(command.generation_id))
                resumed.add(command.generation_id)
            elif status is not None and lifecycle.is_active(status):
                deps.queue.send(command.body())
                sent += 1
            else:
                skipped += 1
        except Conflict:
            skipped += 1  # the order has moved on: another generation of it is active
        except Exception as exc:  # noqa: BLE001 - kept for the next redrive, said in the log and the answer
            logger.error("dead letter not redriven; kept", error=type(exc).__name__, dead_letter_id=row_id)
            kept += 1
            continue
        handled.append(row_id)
    if handled:
        with deps.uow() as uow:
            uow.session.execute(
                update(DeadLetter).where(DeadLetter.id.in_(handled)).values(redriven_at=deps.clock())
            )
            uow.commit()
    return RedrivePublic(
        redriven=len(handled) - skipped,
        resumed_generations=sorted(str(g) for g in resumed),
        sent=sent,
        skipped=skipped,
        kept=kept,
    )


def list_pending(deps: Deps, limit: int = 100) -> DeadLetterList:
    """The dead letters a redrive would handle, oldest first, with their generation's order and status.
    The part (per-page phases) is read from the body; the letter's own columns hold the phase."""
    now = deps.clock()
    with deps.uow() as uow:
        rows = uow.session.execute(
            select(
                DeadLetter.id,
                DeadLetter.body,
                DeadLetter.reason,
                DeadLetter.generation_id,
                DeadLetter.phase,
                DeadLetter.received_at,
                Generation.order_id,
                Generation.status,
                Order.business_name,
            )
            .outerjoin(Generation, Generation.id == DeadLetter.generation_id)
            .outerjoin(Order, Order.id == Generation.order_id)
            .where(DeadLetter.redriven_at.is_(None))
            .order_by(DeadLetter.id)
            .limit(limit)
        ).all()
    items = [
        DeadLetterPublic(
            id=r.id,
            generation_id=str(r.generation_id) if r.generation_id else None,
            order_id=str(r.order_id) if r.order_id else None,
            business_name=r.business_name,
            generation_status=r.status,
            phase=r.phase,
            part=_loose(r.body)[2],
            reason=r.reason,
            received_at=r.received_at,
            age_seconds=max(0, int((now - r.received_at).total_seconds())),
        )
        for r in rows
    ]
    return DeadLetterList(items=items, total=pending_count(deps) if len(items) == limit else len(items))


def pending_count(deps: Deps) -> int:
    with deps.uow() as uow:
        return int(
            uow.session.scalar(
                select(func.count()).select_from(DeadLetter).where(DeadLetter.redriven_at.is_(None))
            )
            or 0
        )
