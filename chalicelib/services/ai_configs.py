"""AI configs and routing: create, read, change, delete, route, test, diagnose.

API keys go to the secret store (deps.secrets); Postgres keeps only the secret's ref and the key's
last characters. No key is ever returned, logged or put in an error.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Numeric, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chalicelib import log as logger
from chalicelib.ai import egress
from chalicelib.ai.api_models import (
    AIConfigCreate,
    AIConfigList,
    AIConfigPublic,
    AIConfigUpdate,
    ConfigSpend,
    DoctorReport,
    RoutingPublic,
    RoutingUpdate,
    SpendReport,
    TaskRoutes,
    TestResult,
)
from chalicelib.ai.base import AIRequest, ResolvedConfig, resolved_from
from chalicelib.ai.doctor import ConfigInfo, diagnose
from chalicelib.ai.egress import EndpointRefused, check_url, host_label
from chalicelib.ai.http import http_status, redact
from chalicelib.ai.prompts import Ping, ping_messages
from chalicelib.ai.registry import KNOWN_PROVIDERS, missing_settings, needs_key
from chalicelib.db.models import AIConfig, AIRoute, PartRun, PhaseRun
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, PhaseError
from chalicelib.domain.order import OrderData
from chalicelib.domain.phases import Phase, TaskType
from chalicelib.phases.outputs import Brief
from chalicelib.ports import Deps
from chalicelib.services.orders import parse_id

ROUTE_KEYS = tuple(t.value for t in TaskType) + ("fallback",)
SAMPLE_ORDER = OrderData(id="test", business_name="Sitegen Test", segment="bakery", locale="en")
# Where a config's requests go: changing one of these moves its key to another server.
ENDPOINT_FIELDS = ("base_url", "provider", "account_id")
# POST /ai/configs/{id}/test runs inside the API function (15 s timeout): one call, no repair round.
TEST_CONNECT_TIMEOUT_S = 3.0
TEST_READ_TIMEOUT_S = 6.0


def _last_chars(key: str) -> str:
    """At most the last 4 characters, fewer for short keys, so the hint never gives most of a key away."""
    count = 4 if len(key) >= 16 else len(key) // 4
    return key[-count:] if count else ""


def to_public(row: AIConfig) -> AIConfigPublic:
    return AIConfigPublic(
        id=str(row.id),
        name=row.name,
        provider=row.provider,
        model=row.model,
        base_url=row.base_url,
        account_id=row.account_id,
        enabled=row.enabled,
        params=dict(row.params or {}),
        has_api_key=bool(row.secret_ref),
        api_key_hint=f"\u2026{row.api_key_last4 or ''}" if row.secret_ref else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def to_resolved(row: AIConfig) -> ResolvedConfig:
    return resolved_from(row)


def _require_settings(provider: str, model: str | None, base_url: str | None, account_id: str | None) -> None:
    for setting in missing_settings(provider, model, base_url, account_id):
        raise InvalidInput(f"provider {provider!r} needs {setting}", field=setting)


def _check_endpoint(base_url: str | None, sends_key: bool) -> None:
    """A base_url sitegen may not call is refused when it is saved (it is checked again at each call)."""
    if base_url:
        try:
            check_url(base_url, sends_key)
        except EndpointRefused as exc:
            raise InvalidInput(exc.reason, field="base_url") from None


def _load(session: Session, config_id: str, lock: bool = False) -> AIConfig:
    row = session.get(AIConfig, parse_id(config_id, "AI config"), with_for_update=lock)
    if row is None:
        raise NotFound(f"AI config {config_id!r} not found")
    return row


def _name_taken(session: Any, name: str, other_than: uuid.UUID | None = None) -> bool:
    found = session.scalar(select(AIConfig.id).where(AIConfig.name == name))
    return found is not None and found != other_than


def _forget(deps: Deps, ref: str) -> None:
    try:
        deps.secrets.delete(ref)
    except Exception as exc:  # the config change stands; the leftover secret is reported, not fatal
        logger.warning("could not delete an AI key secret", ref=ref, error=type(exc).__name__)


def create_config(deps: Deps, command: AIConfigCreate) -> AIConfigPublic:
    _require_settings(command.provider, command.model, command.base_url, command.account_id)
    key = command.api_key.get_secret_value() if command.api_key else None
    if key is None and needs_key(command.provider):
        raise InvalidInput(f"provider {command.provider!r} needs an api_key", field="api_key")
    _check_endpoint(command.base_url, sends_key=key is not None)
    config_id = uuid.uuid4()
    with deps.uow() as uow:  # checked first so a taken name writes no secret
        if _name_taken(uow.session, command.name):
            raise Conflict(f"an AI config named {command.name!r} already exists")
    ref = deps.secrets.put(str(config_id), key) if key else None
    try:
        with deps.uow() as uow:
            row = AIConfig(
                id=config_id,
                name=command.name,
                provider=command.provider,
                model=command.model,
                base_url=command.base_url,
                account_id=command.account_id,
                secret_ref=ref,
                api_key_last4=_last_chars(key) if key else None,
                enabled=command.enabled,
                params=command.params.model_dump(exclude_none=True),
            )
            uow.session.add(row)
            try:
                uow.session.flush()
            except IntegrityError:
                raise Conflict(f"an AI config named {command.name!r} already exists") from None
            uow.session.refresh(row)
            uow.commit()
            return to_public(row)
    except Exception:
        if ref:
            _forget(deps, ref)
        raise


def list_configs(deps: Deps) -> AIConfigList:
    with deps.uow() as uow:
        rows = uow.session.scalars(select(AIConfig).order_by(AIConfig.created_at, AIConfig.name))
        return AIConfigList(items=[to_public(r) for r in rows])


def get_config(deps: Deps, config_id: str) -> AIConfigPublic:
    with deps.uow() as uow:
        return to_public(_load(uow.session, config_id))


def update_config(deps: Deps, config_id: str, command: AIConfigUpdate) -> AIConfigPublic:
    sent = command.model_fields_set
    changes = {
        f: getattr(command, f)
        for f in ("name", "provider", "model", "base_url", "account_id", "enabled")
        if f in sent
    }
    with deps.uow() as uow:
        row = _load(uow.session, config_id)
        merged = {f: changes.get(f, getattr(row, f)) for f in ("provider", "model", "base_url", "account_id")}
        _require_settings(**merged)
        if "name" in changes and _name_taken(uow.session, changes["name"], row.id):
            raise Conflict(f"an AI config named {changes['name']!r} already exists")
        will_have_key = command.api_key is not None if "api_key" in sent else bool(row.secret_ref)
        if needs_key(merged["provider"]) and not will_have_key:
            raise InvalidInput(f"provider {merged['provider']!r} needs an api_key", field="api_key")
        moved = [f for f in ENDPOINT_FIELDS if f in changes and changes[f] != getattr(row, f)]
        if moved and row.secret_ref and "api_key" not in sent:  # the stored key never follows a new endpoint
            raise InvalidInput(
                f"changing {', '.join(moved)} sends requests somewhere else: send api_key again "
                "in the same request (or null to remove the key)",
                field="api_key",
            )
        cid = row.id
    if "base_url" in sent or "api_key" in sent or moved:
        _check_endpoint(merged["base_url"], sends_key=will_have_key)
    key = command.api_key.get_secret_value() if command.api_key else None
    # A new key goes to a new secret; the config points at it only when the change commits, and the
    # old secret is forgotten only after that: a change that fails leaves the stored key as it was.
    new_ref = deps.secrets.put(f"{cid}-{uuid.uuid4().hex[:12]}", key) if key is not None else None
    try:
        with deps.uow() as uow:
            row = _load(uow.session, config_id, lock=True)
            old_ref = row.secret_ref
            for field, value in changes.items():
                setattr(row, field, value)
            if command.params is not None:
                row.params = _merged_params(row.params, command.params)
            if "api_key" in sent:
                row.secret_ref, row.api_key_last4 = new_ref, _last_chars(key) if key else None
            row.updated_at = deps.clock()
            try:
                uow.session.flush()
            except IntegrityError:
                raise Conflict(f"an AI config named {changes.get('name')!r} already exists") from None
            uow.commit()
            public = to_public(row)
    except Exception:
        if new_ref:
            _forget(deps, new_ref)
        raise
    if "api_key" in sent and old_ref and old_ref != new_ref:
        _forget(deps, old_ref)
    return public


def _merged_params(stored: dict[str, Any] | None, sent: BaseModel) -> dict[str, Any]:
    """The stored params with the sent ones applied; a null removes a parameter."""
    params = dict(stored or {})
    for name in sent.model_fields_set:
        params[name] = getattr(sent, name)
    return {k: v for k, v in params.items() if v is not None}


def delete_config(deps: Deps, config_id: str) -> None:
    with deps.uow() as uow:
        row = _load(uow.session, config_id, lock=True)
        tasks = sorted(uow.session.scalars(select(AIRoute.task).where(AIRoute.config_id == row.id)))
        if tasks:
            raise Conflict(
                f"AI config {row.name!r} is routed for {', '.join(tasks)}; route those to another "
                "config first (PUT /ai/routing)",
                tasks=tasks,
            )
        ref = row.secret_ref
        uow.session.delete(row)
        try:
            uow.session.flush()
        except IntegrityError:  # routed meanwhile: the foreign key says no
            raise Conflict(f"AI config {config_id!r} was just routed; route it elsewhere first") from None
        uow.commit()
    if ref:
        _forget(deps, ref)


# --- routing ---------------------------------------------------------------------------------
def _routing(routes: dict[str, str | None]) -> RoutingPublic:
    return RoutingPublic(
        routes=TaskRoutes(**{t.value: routes.get(t.value) for t in TaskType}), fallback=routes.get("fallback")
    )


def get_routing(deps: Deps) -> RoutingPublic:
    with deps.uow() as uow:
        rows = uow.session.scalars(select(AIRoute))
        return _routing({r.task: str(r.config_id) if r.config_id else None for r in rows})


def put_routing(deps: Deps, command: RoutingUpdate) -> RoutingPublic:
    wanted: dict[str, str | None] = {**command.routes.model_dump(), "fallback": command.fallback}
    fields = {task: "fallback" if task == "fallback" else f"routes.{task}" for task in ROUTE_KEYS}
    ids: dict[str, uuid.UUID | None] = {}
    for task, raw in wanted.items():
        try:
            ids[task] = uuid.UUID(raw) if raw else None
        except ValueError:
            raise InvalidInput(f"{raw!r} is not an AI config id", field=fields[task]) from None
    with deps.uow() as uow:
        s = uow.session
        # FOR SHARE: a config being routed to cannot be deleted or disabled until this commits
        configs = {
            c.id: c
            for c in s.scalars(
                select(AIConfig)
                .where(AIConfig.id.in_([i for i in ids.values() if i]))
                .with_for_update(read=True)
            )
        }
        current = {r.task: r for r in s.scalars(select(AIRoute).with_for_update())}
        for task, cid in ids.items():
            changed = task not in current or current[task].config_id != cid
            if cid is None or not changed:
                continue
            if cid not in configs:
                raise InvalidInput(f"AI config {wanted[task]!r} does not exist", field=fields[task])
            config = configs[cid]
            if not config.enabled:
                raise InvalidInput(
                    f"AI config {config.name!r} is disabled; enable it before routing {task} to it",
                    field=fields[task],
                )
            if config.provider not in KNOWN_PROVIDERS:
                raise InvalidInput(
                    f"AI config {config.name!r} has an unknown provider {config.provider!r}",
                    field=fields[task],
                )
        for task, cid in ids.items():
            if task in current:
                current[task].config_id = cid
            else:
                s.add(AIRoute(task=task, config_id=cid))
        uow.commit()
    return _routing({task: str(cid) if cid else None for task, cid in ids.items()})


# --- checks ----------------------------------------------------------------------------------
def test_config(deps: Deps, config_id: str) -> TestResult:
    """One cheap call through the real provider: a short timeout, no repair round. The result never
    carries a key, and says what another server answered only as its HTTP status (its own text is
    shown for the providers' official hosts only): the test is not a way to read or scan other hosts."""
    with deps.uow() as uow:
        resolved = to_resolved(_load(uow.session, config_id))
    started = time.monotonic()
    status: int | None = None
    try:
        provider = deps.provider(resolved)
    except PhaseError as exc:  # the config itself is incomplete: sitegen's own words
        return _tested(started, error=redact(exc.reason))
    url = getattr(provider, "url", None)
    try:
        run = getattr(provider, "run", None)
        if callable(run):
            provider.timeout_s = min(provider.timeout_s, TEST_READ_TIMEOUT_S)
            provider.connect_timeout_s = TEST_CONNECT_TIMEOUT_S
            system, user = ping_messages()
            run(system, user, Ping, repair=False)
        else:  # offline providers: the real path, no network
            provider.generate(AIRequest(Phase.BRIEF, TaskType.PLANNING, SAMPLE_ORDER, {}, Brief))
        error = None
    except EndpointRefused as exc:  # refused before anything was sent
        error = exc.reason
    except PhaseError as exc:
        status = http_status(exc)
        error = (
            redact(exc.reason) if url is None or egress.is_official(url) else _generic_failure(url, status)
        )
    except Exception as exc:
        error = f"unexpected {type(exc).__name__} while calling the provider"
    return _tested(started, error=error, status=status)


def _generic_failure(url: str, status: int | None) -> str:
    host = host_label(url)
    if status is None:
        return f"no usable answer from {host}"
    if 200 <= status < 300:
        return f"{host} answered HTTP {status}, but not with what sitegen expects"
    return f"{host} answered HTTP {status}"


def _tested(started: float, error: str | None, status: int | None = None) -> TestResult:
    latency = round((time.monotonic() - started) * 1000, 2)
    return TestResult(ok=error is None, latency_ms=latency, error=error, status=status)


test_config.__dict__["__test__"] = False  # not a pytest test, though test modules import it


def doctor(deps: Deps) -> DoctorReport:
    with deps.uow() as uow:
        configs = [
            ConfigInfo(
                str(c.id),
                c.name,
                c.provider,
                c.model,
                c.base_url,
                c.account_id,
                bool(c.secret_ref),
                c.enabled,
            )
            for c in uow.session.scalars(select(AIConfig))
        ]
        routes = {
            r.task: str(r.config_id) if r.config_id else None for r in uow.session.scalars(select(AIRoute))
        }
    return DoctorReport(findings=diagnose(configs, routes))


# --- spend -----------------------------------------------------------------------------------
PER_PAGE_PHASES = (Phase.CONTENT.value, Phase.CODE.value)


def _spend_query(model: Any, since: Any, *where: Any) -> Any:
    usage = model.usage

    def number(key: str) -> Any:  # a JSON null reads as NULL
        return usage[key].astext.cast(Numeric)

    runs = (
        select(
            usage["config_id"].astext.label("config_id"),
            func.coalesce(number("calls"), 1).label("calls"),
            func.coalesce(number("tokens_in"), 0).label("t_in"),
            func.coalesce(number("tokens_out"), 0).label("t_out"),
            number("cost_usd").label("cost"),
        )
        .where(usage.is_not(None), model.finished_at >= since, *where)
        .subquery()
    )
    return (
        select(
            runs.c.config_id,
            func.count(),
            func.sum(runs.c.calls),
            func.sum(runs.c.t_in),
            func.sum(runs.c.t_out),
            func.sum(runs.c.cost),
            func.count(runs.c.cost),
        )  # unknown cost: not free
        .where(runs.c.config_id.is_not(None))
        .group_by(runs.c.config_id)
    )


def spend(deps: Deps, days: int = 7) -> SpendReport:
    """Tokens and cost per AI config over the last `days`, from the usage recorded with each run. A
    per-page phase's usage is the sum of its parts': its parts are counted, not the phase (a phase
    run without parts with usage, e.g. from before parts existed, counts itself)."""
    since = deps.clock() - timedelta(days=days)
    parts_with_usage = exists().where(
        PartRun.generation_id == PhaseRun.generation_id,
        PartRun.phase == PhaseRun.phase,
        PartRun.usage.is_not(None),
    )
    phases = _spend_query(PhaseRun, since, or_(PhaseRun.phase.not_in(PER_PAGE_PHASES), ~parts_with_usage))
    parts = _spend_query(PartRun, since, PartRun.reused.is_(False))
    totals: dict[str, list[Any]] = {}
    with deps.uow() as uow:
        for query in (phases, parts):
            for config_id, runs, calls, tokens_in, tokens_out, cost, priced in uow.session.execute(query):
                row = totals.setdefault(config_id, [0, 0, 0, 0, None, 0])
                row[0] += runs
                row[1] += int(calls or 0)
                row[2] += int(tokens_in or 0)
                row[3] += int(tokens_out or 0)
                row[4] = cost if row[4] is None else row[4] + (cost or 0)
                row[5] += priced
    items = [
        ConfigSpend(
            config_id=cid,
            runs=runs,
            calls=calls,
            tokens_in=t_in,
            tokens_out=t_out,
            cost_usd=round(float(cost), 6) if cost is not None else None,
            cost_complete=priced == runs,
        )
        for cid, (runs, calls, t_in, t_out, cost, priced) in totals.items()
    ]
    items.sort(key=lambda i: (-(i.tokens_in + i.tokens_out), i.config_id))
    return SpendReport(days=days, since=since, items=items)
