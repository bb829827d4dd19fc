"""The dashboard's Webhooks view in a real browser against the real local stack (which allows loopback
webhook URLs), with a loopback receiver playing the CRM."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.browser.conftest import PHONE, Stack, screenshot, sign_in
from tests.support.webhook_receiver import Receiver


def expect():  # imported lazily: the module must import even where playwright is not installed
    from playwright.sync_api import expect as _expect

    return _expect


def test_add_a_webhook_see_its_secret_once_its_deliveries_redeliver_rotate_delete(
    page: Any, stack: Stack
) -> None:
    receiver = Receiver()
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        sign_in(page, stack, "#/webhooks")
        expect()(page.get_by_test_id("nav-webhooks")).to_have_attribute("aria-current", "page")

        page.get_by_test_id("webhook-url").fill("ftp://example.com/hook")
        page.get_by_test_id("webhook-add").click()
        expect()(page.get_by_test_id("webhook-url-error")).to_contain_text("http(s)")
        for name in ("generation.succeeded", "generation.failed", "generation.cancelled"):
            page.get_by_test_id(f"webhook-event-{name}").uncheck()
        page.get_by_test_id("webhook-url").fill(receiver.url)
        page.get_by_test_id("webhook-add").click()
        expect()(page.get_by_test_id("webhook-events-error")).to_be_visible()
        page.get_by_test_id("webhook-event-generation.succeeded").check()
        page.get_by_test_id("webhook-add").click()

        secret = page.get_by_test_id("webhook-secret")
        expect()(secret).to_have_text(re.compile(r"^whsec_\S{40,}$"))
        first_secret = secret.inner_text()
        row = page.get_by_test_id("webhook-row").filter(has_text=receiver.url)
        expect()(row).to_contain_text("generation.succeeded")
        screenshot(page, "webhooks-secret-once")
        page.reload()  # the secret is never kept: gone after a reload
        expect()(page.get_by_test_id("webhook-row").filter(has_text=receiver.url)).to_have_count(1)
        expect()(page.get_by_test_id("webhook-secret")).to_have_count(0)
        assert first_secret not in page.content()

        order = stack.create_order(f"Webhook Bakery {uuid.uuid4().hex[:6]}")
        gen = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
        stack.wait_generation(gen["id"], ("succeeded",))
        receiver.wait_for(1, timeout_s=60)
        row = page.get_by_test_id("webhook-row").filter(has_text=receiver.url)
        row.get_by_test_id("webhook-toggle").click()
        delivery = row.get_by_test_id("webhook-delivery-row").first
        expect()(delivery).to_have_attribute("data-status", "succeeded")
        expect()(delivery).to_contain_text("200")
        delivery.get_by_test_id("webhook-redeliver").click()
        receiver.wait_for(2, timeout_s=60)
        assert receiver.requests[0].json()["id"] == receiver.requests[1].json()["id"]  # the same event again
        screenshot(page, "webhooks-deliveries")

        row.get_by_test_id("webhook-rotate").click()
        expect()(page.get_by_test_id("webhook-secret")).not_to_have_text(first_secret)
        page.get_by_test_id("webhook-secret-dismiss").click()
        expect()(page.get_by_test_id("webhook-secret")).to_have_count(0)

        page.set_viewport_size(PHONE)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"
        screenshot(page, "phone-webhooks")

        row.get_by_test_id("webhook-delete").click()
        expect()(page.get_by_test_id("webhook-row").filter(has_text=receiver.url)).to_have_count(0)
    finally:
        receiver.close()


def test_the_webhooks_view_speaks_portuguese(make_page: Any, stack: Stack) -> None:
    page = make_page(locale="pt-BR")
    sign_in(page, stack, "#/webhooks")
    expect()(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect()(page.get_by_test_id("webhook-add")).to_have_text("Adicionar webhook")
    expect()(page.get_by_test_id("nav-webhooks")).to_have_text("Webhooks")
