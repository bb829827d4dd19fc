"""Create, list and read orders."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chalicelib.api_models import OrderCreate, OrderList, OrderPublic, OrderUpdate
from chalicelib.db.models import Order
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.order import OrderData
from chalicelib.ports import Deps


def parse_id(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"{what} {raw!r} not found") from None


def to_public(deps: Deps, order: Order) -> OrderPublic:
    return OrderPublic(
        id=str(order.id),
        business_name=order.business_name,
        segment=order.segment,
        description=order.description,
        services=order.services,
        contact=order.contact,
        brand=order.brand,
        locale=order.locale,
        external_ref=order.external_ref,
        created_at=order.created_at,
        auto_publish=order.auto_publish,
        live_url=deps.live_url(str(order.id)),
        live_generation_id=str(order.live_generation_id) if order.live_generation_id else None,
    )


def to_data(order: Order) -> OrderData:
    return OrderData(
        id=str(order.id),
        business_name=order.business_name,
        segment=order.segment,
        description=order.description,
        services=order.services,
        contact=order.contact,
        brand=order.brand,
        locale=order.locale,
    )


def create_order(deps: Deps, command: OrderCreate) -> OrderPublic:
    with deps.uow() as uow:
        order = Order(
            business_name=command.business_name,
            segment=command.segment,
            description=command.description,
            services=command.services,
            contact=command.contact.model_dump(),
            brand=command.brand.model_dump(),
            locale=command.locale,
            external_ref=command.external_ref,
            auto_publish=command.auto_publish,
        )
        uow.session.add(order)
        try:
            uow.session.flush()
        except IntegrityError:
            raise Conflict(f"an order with external_ref {command.external_ref!r} already exists") from None
        uow.session.refresh(order)
        uow.commit()
        return to_public(deps, order)


def get_order(deps: Deps, order_id: str) -> OrderPublic:
    with deps.uow() as uow:
        order = uow.session.get(Order, parse_id(order_id, "order"))
        if order is None:
            raise NotFound(f"order {order_id!r} not found")
        return to_public(deps, order)


def list_orders(deps: Deps, limit: int, cursor: str | None) -> OrderList:
    query = select(Order).order_by(Order.seq.desc()).limit(limit + 1)
    if cursor:
        # ascii: "²".isdigit() is true but int("²") fails; seq is a bigint
        if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 19 or int(cursor) >= 2**63:
            raise InvalidInput("cursor is not valid", field="cursor")
        query = query.where(Order.seq < int(cursor))
    with deps.uow() as uow:
        rows = list(uow.session.scalars(query))
        page = rows[:limit]
        next_cursor = str(page[-1].seq) if len(rows) > limit else None
        return OrderList(items=[to_public(deps, o) for o in page], next_cursor=next_cursor)


def update_order(deps: Deps, order_id: str, command: OrderUpdate) -> OrderPublic:
    """PATCH /orders/{id}. Turning auto_publish on does not publish anything by itself: it applies to
    the next generation that succeeds."""
    with deps.uow() as uow:
        order = uow.session.get(Order, parse_id(order_id, "order"), with_for_update={"key_share": True})
        if order is None:
            raise NotFound(f"order {order_id!r} not found")
        order.auto_publish = command.auto_publish
        uow.commit()
        return to_public(deps, order)
