"""The generation dashboard in a real browser against the real local stack."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.browser.conftest import ORDERS_TOKEN, PHONE, SHOTS, Stack, screenshot, sign_in

# Every test below uses the `stack` fixture, which skips (or fails under CI=true) without a browser.


def expect():  # imported lazily: the module must import even where playwright is not installed
    from playwright.sync_api import expect as _expect

    return _expect


def open_order(page: Any, stack: Stack, order_id: str) -> None:
    sign_in(page, stack, f"#/orders/{order_id}")
    expect()(page.get_by_test_id("order-title")).not_to_have_text(re.compile("Loading"))


# ---------- sign-in ----------


def test_wrong_token_shows_a_clear_message_then_signs_in(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.url}/")
    expect()(page.get_by_test_id("signin-form")).to_be_visible()
    page.get_by_test_id("signin-token").fill("not-the-token")
    page.get_by_test_id("signin-submit").click()
    error = page.get_by_test_id("signin-error")
    expect()(error).to_have_text(re.compile("Invalid token"))
    expect()(page.get_by_test_id("signin-token")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "signin-error")

    page.get_by_test_id("signin-token").fill(stack.token)
    page.keyboard.press("Enter")
    expect()(page.get_by_role("heading", name="Orders")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('sitegen.token')") == stack.token

    page.reload()  # the token is kept for the tab
    expect()(page.get_by_role("heading", name="Orders")).to_be_visible()

    # A token that stops working sends the user back to sign-in with the reason.
    page.evaluate("sessionStorage.setItem('sitegen.token', 'revoked')")
    page.get_by_test_id("nav-queue").click()
    expect()(page.get_by_test_id("signin-error")).to_have_text(re.compile("Invalid or expired token"))
    page.get_by_test_id("signin-token").fill(stack.token)
    page.get_by_test_id("signin-submit").click()
    expect()(page.get_by_role("heading", name="Queue")).to_be_visible()  # back where the user was


def test_language_follows_the_browser_and_the_toggle(make_page: Any, stack: Stack) -> None:
    page = make_page(locale="pt-BR")
    page.goto(f"{stack.url}/")
    expect()(page.get_by_role("heading", name="Entrar")).to_be_visible()
    page.get_by_test_id("signin-token").fill("errado")
    page.get_by_test_id("signin-submit").click()
    expect()(page.get_by_test_id("signin-error")).to_have_text(re.compile("Token inválido"))
    page.get_by_test_id("signin-token").fill(stack.token)
    page.get_by_test_id("signin-submit").click()
    expect()(page.get_by_role("heading", name="Pedidos")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "pt-BR"

    expect()(page.get_by_test_id("nav-queue")).to_have_text("Fila")
    screenshot(page, "orders-pt", full_page=False)

    page.get_by_test_id("lang-toggle").click()
    expect()(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect()(page.get_by_test_id("lang-toggle")).to_be_focused()
    page.reload()  # the choice is kept for the tab
    expect()(page.get_by_role("heading", name="Orders")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('sitegen.lang')") == "en"


# ---------- orders ----------


def test_create_order_shows_the_api_validation_messages_next_to_the_fields(page: Any, stack: Stack) -> None:
    sign_in(page, stack)
    page.get_by_test_id("orders-new").click()
    form = page.get_by_test_id("order-form")
    expect()(form).to_be_visible()
    name = f"Clínica Sorriso {uuid.uuid4().hex[:6]}"
    page.get_by_label("Business name").fill(name)
    page.get_by_label("Segment").fill("dental clinic")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label(re.compile(r"^Primary colour")).fill("blue")
    page.get_by_test_id("order-submit").click()

    email_error = page.get_by_test_id("error-contact.email")
    colour_error = page.get_by_test_id("error-brand.primary_color")
    expect()(email_error).to_be_visible()
    expect()(email_error).to_contain_text("valid email")
    expect()(email_error).to_contain_text("String should match pattern")  # the API's own message
    expect()(colour_error).to_be_visible()
    expect()(colour_error).to_contain_text("#RRGGBB")
    expect()(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect()(page.get_by_label("Email")).to_be_focused()  # the first invalid field
    expect()(page.get_by_test_id("form-errors")).to_be_visible()
    expect()(page.get_by_test_id("error-business_name")).to_be_hidden()
    # The error is next to its own field (inside the same field wrapper).
    assert form.locator("[data-field='contact.email']").get_by_test_id("error-contact.email").count() == 1
    screenshot(page, "order-form-errors")

    page.get_by_label("Email").fill("contato@sorriso.example.com")
    page.get_by_label(re.compile(r"^Primary colour")).fill("#0E7C86")
    page.get_by_label("Services").fill("Limpeza\nClareamento\n")
    page.get_by_label("City").fill("Recife")
    page.get_by_test_id("order-submit").click()

    expect()(page.get_by_test_id("order-title")).to_have_text(name)
    assert re.search(r"#/orders/[0-9a-f-]{36}$", page.url)
    expect()(page.get_by_test_id("order-summary")).to_contain_text("Clareamento")
    expect()(page.get_by_test_id("btn-generate")).to_be_enabled()
    expect()(page.get_by_test_id("btn-resend")).to_be_disabled()
    expect()(page.get_by_test_id("btn-cancel")).to_be_disabled()
    expect()(page.get_by_test_id("gen-empty")).to_be_visible()


def test_external_ref_conflict_is_shown_on_its_field(page: Any, stack: Stack) -> None:
    ref = f"crm-{uuid.uuid4().hex[:8]}"
    stack.create_order(external_ref=ref)
    sign_in(page, stack, "#/orders/new")
    page.get_by_label("Business name").fill("Duplicada")
    page.get_by_label("Segment").fill("bakery")
    page.get_by_label("External reference").fill(ref)
    page.get_by_test_id("order-submit").click()
    expect()(page.get_by_test_id("error-external_ref")).to_be_visible()
    expect()(page.get_by_test_id("error-external_ref")).to_contain_text("already used")


def test_orders_list_pages_with_the_cursor(page: Any, stack: Stack) -> None:
    for _ in range(21):
        stack.create_order()
    sign_in(page, stack)
    rows = page.get_by_test_id("order-row")
    expect()(rows).to_have_count(20)
    more = page.get_by_test_id("orders-more")
    expect()(more).to_be_visible()
    with page.expect_response(lambda r: "/orders?" in r.url and "cursor=" in r.url):
        more.click()
    expect()(rows.nth(20)).to_be_visible()
    ids = rows.evaluate_all("rows => rows.map(r => r.dataset.orderId)")
    assert len(ids) == len(set(ids)) > 20
    screenshot(page, "orders", full_page=False)


# ---------- one order: generate, logs, stepper, preview ----------


def test_generate_streams_logs_advances_the_stepper_and_previews_the_site(page: Any, stack: Stack) -> None:
    order = stack.create_order(f"Padaria Pão Quente {uuid.uuid4().hex[:6]}")
    open_order(page, stack, order["id"])
    generate = page.get_by_test_id("btn-generate")
    log_lines = page.get_by_test_id("log-line")

    with stack.workers_paused():
        generate.focus()
        page.keyboard.press("Enter")  # keyboard works: a real button
        expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "queued")
        expect()(page.locator("[data-testid=log-line][data-event=generation_queued]")).to_have_count(1)
        expect()(page.get_by_test_id("step-brief")).to_have_attribute("data-status", "pending")
        expect()(page.get_by_test_id("btn-cancel")).to_be_enabled()
        expect()(generate).to_be_disabled()
        expect()(page.get_by_test_id("btn-resend")).to_be_disabled()
        expect()(page.get_by_test_id("log-live")).to_be_visible()
        screenshot(page, "order-queued")
        queued_lines = log_lines.count()

    # The page keeps polling: the workers run the phases and the same page shows them, no reload.
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded", timeout=45_000)
    for phase in ("brief", "sitemap", "content", "code", "review", "publish"):
        expect()(page.get_by_test_id(f"step-{phase}")).to_have_attribute("data-status", "succeeded")
    expect()(page.get_by_test_id("step-publish")).to_contain_text("1 attempt")
    expect()(page.locator("[data-testid=log-line][data-event=generation_succeeded]")).to_have_count(1)
    assert log_lines.count() > queued_lines + 10
    assert page.locator("[data-testid=log-line][data-event=phase_started]").count() == 6
    cursors_unique = page.evaluate(
        "() => { const t = [...document.querySelectorAll('[data-testid=log-line] .log-msg')].map(e => e.parentElement.innerText);"
        " return t.length === new Set(t).size; }"
    )
    assert cursors_unique, "a log line was shown twice"
    expect()(page.get_by_test_id("gen-progress")).to_have_text("100% done")
    expect()(page.get_by_test_id("log-live")).to_be_hidden()
    expect()(page.get_by_test_id("btn-generate")).to_be_enabled()
    expect()(page.get_by_test_id("btn-resend")).to_be_disabled()
    expect()(page.get_by_test_id("btn-cancel")).to_be_disabled()

    # The log panel follows the newest line (auto-scroll: nobody scrolled up).
    at_bottom = page.get_by_test_id("log-panel").evaluate(
        "el => el.scrollHeight - el.scrollTop - el.clientHeight < 30"
    )
    assert at_bottom

    # The preview: a sandboxed iframe (no scripts) with the generated site, and a link to open it.
    frame_el = page.get_by_test_id("preview-frame")
    expect()(frame_el).to_be_visible()
    sandbox = frame_el.get_attribute("sandbox")
    assert sandbox is not None and "allow-scripts" not in sandbox
    gen = stack.api("GET", f"/orders/{order['id']}/generations", expect=200)["items"][0]
    expect()(frame_el).to_have_attribute("src", gen["site_url"])
    link = page.get_by_test_id("preview-open")
    expect()(link).to_have_attribute("href", gen["site_url"])
    expect()(link).to_have_attribute("target", "_blank")
    expect()(page.frame_locator("[data-testid=preview-frame]").locator("body")).to_contain_text(
        order["business_name"]
    )
    expect()(page.get_by_test_id("history-item")).to_have_count(1)

    # Polling stops once the generation finished (after its one final poll).
    page.wait_for_timeout(800)
    polled: list[str] = []
    page.on("request", lambda r: polled.append(r.url) if "/generations/" in r.url else None)
    page.wait_for_timeout(2500)
    assert polled == [], f"still polling after the generation finished: {polled}"

    screenshot(page, "order-success")
    page.get_by_test_id("log-panel").scroll_into_view_if_needed()
    page.locator(".log-card").screenshot(path=str(SHOTS / "order-logs.png"))


def test_while_nothing_changes_the_page_polls_only_the_log_and_still_sees_a_change_made_elsewhere(
    page: Any, stack: Stack
) -> None:
    order = stack.create_order()
    open_order(page, stack, order["id"])
    with stack.workers_paused():
        page.get_by_test_id("btn-generate").click()
        expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "queued")
        gen = stack.api("GET", f"/orders/{order['id']}/generations", expect=200)["items"][0]
        polled: list[str] = []
        page.on("request", lambda r: polled.append(r.url) if f"/generations/{gen['id']}" in r.url else None)
        page.wait_for_timeout(3500)
        log_polls = [u for u in polled if f"/generations/{gen['id']}/logs" in u]
        assert len(log_polls) >= 3, polled
        assert len(polled) == len(log_polls), f"fetched the unchanged generation: {polled}"
        # Cancelled from another tab: the next log page carries the new version, the page fetches it.
        stack.api("POST", f"/generations/{gen['id']}/cancel", expect=202)
        expect()(page.get_by_test_id("gen-status")).to_have_attribute(
            "data-status", "cancelled", timeout=5_000
        )
    expect()(page.get_by_test_id("btn-resend")).to_be_enabled()


def test_cancel_then_resend_resumes_to_success(page: Any, stack: Stack) -> None:
    order = stack.create_order(f"Oficina Boa {uuid.uuid4().hex[:6]}")
    open_order(page, stack, order["id"])
    with stack.workers_paused():
        page.get_by_test_id("btn-generate").click()
        expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "queued")
        page.get_by_test_id("btn-cancel").click()
        expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "cancelled")
        expect()(page.get_by_test_id("gen-cancelled")).to_be_visible()
        expect()(page.get_by_test_id("btn-resend")).to_be_enabled()
        expect()(page.get_by_test_id("btn-generate")).to_be_enabled()
        expect()(page.get_by_test_id("btn-cancel")).to_be_disabled()
        expect()(page.locator("[data-testid=log-line][data-event=generation_cancelled]")).to_have_count(1)
        screenshot(page, "order-cancelled")

    page.get_by_test_id("btn-resend").click()
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded", timeout=45_000)
    expect()(page.locator("[data-testid=log-line][data-event=generation_resumed]")).to_have_count(1)
    expect()(page.get_by_test_id("gen-cancelled")).to_have_count(0)
    expect()(page.frame_locator("[data-testid=preview-frame]").locator("body")).to_contain_text(
        order["business_name"]
    )
    expect()(page.get_by_test_id("history-item")).to_have_count(1)  # Resend resumes the same generation
    expect()(page.get_by_test_id("btn-resend")).to_be_disabled()


@pytest.fixture()
def review_unrouted(stack: Stack) -> Any:
    """Route the review task to nothing (no fallback either): the review phase then fails permanently
    with a plain reason. Restored afterwards."""
    rows = stack.sql("SELECT config_id FROM ai_routes WHERE task = 'review'")
    assert rows, "no review route in ai_routes"
    previous = rows[0][0]

    def restore() -> None:
        stack.sql("UPDATE ai_routes SET config_id = :c WHERE task = 'review'", c=previous)

    stack.sql("UPDATE ai_routes SET config_id = NULL WHERE task = 'review'")
    try:
        yield restore
    finally:
        restore()


def test_failed_generation_shows_the_reason_and_resend_resumes_it(
    page: Any, stack: Stack, review_unrouted: Any
) -> None:
    order = stack.create_order(f"Floricultura Ipê {uuid.uuid4().hex[:6]}")
    open_order(page, stack, order["id"])
    page.get_by_test_id("btn-generate").click()
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "failed", timeout=45_000)
    error = page.get_by_test_id("gen-error")
    expect()(error).to_be_visible()
    expect()(error).to_contain_text("It failed at the Review phase")
    expect()(page.get_by_test_id("gen-error-reason")).to_contain_text(
        "no enabled AI config is routed for task 'review'"
    )
    expect()(page.get_by_test_id("step-review")).to_have_attribute("data-status", "failed")
    expect()(page.get_by_test_id("step-code")).to_have_attribute("data-status", "succeeded")
    expect()(page.get_by_test_id("step-publish")).to_have_attribute("data-status", "pending")
    expect()(page.locator("[data-testid=log-line][data-level=error]").first).to_be_visible()
    expect()(page.get_by_test_id("btn-resend")).to_be_enabled()
    expect()(page.get_by_test_id("btn-cancel")).to_be_disabled()
    expect()(page.get_by_test_id("preview")).to_have_count(0)
    screenshot(page, "order-failed")

    # The user scrolls the log up to read it: new lines must not yank it back down.
    panel = page.get_by_test_id("log-panel")
    assert panel.evaluate("el => el.scrollHeight > el.clientHeight + 40"), "the log should overflow its panel"
    panel.evaluate("el => { el.scrollTop = 0; }")
    page.wait_for_timeout(200)

    review_unrouted()  # the cause is fixed; Resend resumes at the phase that failed
    with stack.workers_paused():
        page.get_by_test_id("btn-resend").click()
        expect()(page.locator("[data-testid=log-line][data-event=generation_resumed]")).to_have_count(1)
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded", timeout=45_000)
    expect()(page.locator("[data-testid=log-line][data-event=generation_succeeded]")).to_have_count(1)
    assert panel.evaluate("el => el.scrollTop") == 0, "the log jumped although the user had scrolled up"
    jump = page.get_by_test_id("log-jump")
    expect()(jump).to_be_visible()
    jump.click()
    assert panel.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight < 30")
    expect()(jump).to_be_hidden()
    expect()(page.get_by_test_id("gen-error")).to_have_count(0)
    started = "[data-testid=log-line][data-event=phase_started]"
    expect()(page.locator(f"{started}[data-phase=brief]")).to_have_count(
        1
    )  # earlier phases did not run again
    expect()(page.locator(f"{started}[data-phase=code]")).to_have_count(1)
    expect()(page.locator(f"{started}[data-phase=review]")).to_have_count(2)
    expect()(page.get_by_test_id("step-review")).to_have_attribute("data-status", "succeeded")
    expect()(page.frame_locator("[data-testid=preview-frame]").locator("body")).to_contain_text(
        order["business_name"]
    )


def test_history_lists_generations_and_shows_an_older_one(page: Any, stack: Stack) -> None:
    order = stack.create_order()
    first = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
    stack.wait_generation(first["id"], ("succeeded",))
    second = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
    stack.wait_generation(second["id"], ("succeeded",))
    open_order(page, stack, order["id"])
    items = page.get_by_test_id("history-item")
    expect()(items).to_have_count(2)
    expect()(items.first).to_have_attribute("data-generation-id", second["id"])
    expect()(items.first).to_have_attribute("aria-current", "true")
    items.nth(1).click()
    expect()(items.nth(1)).to_have_attribute("aria-current", "true")
    expect()(page.get_by_test_id("preview-frame")).to_have_attribute("src", re.compile(first["id"]))
    expect()(page.locator("[data-testid=log-line][data-event=generation_succeeded]")).to_have_count(1)


def test_regenerate_one_page_from_the_dashboard_reuses_the_others(page: Any, stack: Stack) -> None:
    order = stack.create_order()
    first = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
    stack.wait_generation(first["id"], ("succeeded",))
    open_order(page, stack, order["id"])
    regen = page.get_by_test_id("regen")
    expect()(regen).to_be_visible()
    expect()(page.locator("[data-testid^=regen-]").filter(has_text="sobre")).to_have_count(1)
    page.get_by_test_id("regen-wishes").fill("Mention the sourdough")
    page.get_by_test_id("regen-sobre").click()
    expect()(page.get_by_test_id("history-item")).to_have_count(2)
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded", timeout=45_000)
    expect()(page.get_by_test_id("history-item").first).to_contain_text("sobre")
    latest = stack.api("GET", f"/orders/{order['id']}/generations", expect=200)["items"][0]
    assert latest["source_generation_id"] == first["id"] and latest["regenerated_page"] == "sobre"
    reused = {p["name"] for ph in latest["phases"] for p in ph["parts"] if p["reused"]}
    assert reused == {"index", "servicos", "contato", "styles.css"}
    expect()(page.get_by_test_id("step-parts")).to_have_count(0)  # parts show while a phase runs or failed


def test_versions_publish_and_roll_back_the_one_live_address(page: Any, make_page: Any, stack: Stack) -> None:
    order = stack.create_order()
    first = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
    stack.wait_generation(first["id"], ("succeeded",))
    second = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
    stack.wait_generation(second["id"], ("succeeded",))
    live_url = order["live_url"]
    assert re.fullmatch(
        rf"http://{order['id']}\.localhost:\d+/", live_url
    )  # the site at the root of its host
    open_order(page, stack, order["id"])
    versions = page.get_by_test_id("version")
    expect()(versions).to_have_count(2)
    expect()(page.get_by_test_id("live-url")).to_have_attribute("href", live_url)
    expect()(versions.first).to_have_attribute("data-live", "true")
    expect()(versions.nth(1).get_by_test_id("version-rollback")).to_be_visible()
    expect()(versions.first.get_by_test_id("version-preview")).to_have_attribute(
        "href", re.compile(second["id"])
    )

    site = make_page()  # a visitor: Chromium resolves <order>.localhost to this machine
    site.goto(live_url)
    expect()(site.locator("link[rel=stylesheet]")).to_have_attribute("href", f"styles.css?v={second['id']}")
    assert f"Sitemap: {live_url}sitemap.xml" in site.goto(f"{live_url}robots.txt").text()

    versions.nth(1).get_by_test_id("version-rollback").click()
    expect()(versions.nth(1)).to_have_attribute("data-live", "true")
    expect()(versions.first.get_by_test_id("version-publish")).to_be_visible()
    site.goto(live_url)
    expect()(site.locator("link[rel=stylesheet]")).to_have_attribute("href", f"styles.css?v={first['id']}")

    page.get_by_test_id("auto-publish").uncheck()
    expect()(page.get_by_test_id("action-message")).to_contain_text("wait as previews")
    assert stack.api("GET", f"/orders/{order['id']}", expect=200)["auto_publish"] is False
    page.get_by_test_id("btn-generate").click()
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded", timeout=45_000)
    expect()(versions).to_have_count(3)
    expect()(versions.nth(2)).to_have_attribute("data-live", "true")  # the new one waits as a preview
    screenshot(page, "order-versions")
    versions.first.get_by_test_id("version-publish").click()
    expect()(versions.first).to_have_attribute("data-live", "true")
    assert stack.api("GET", f"/orders/{order['id']}/versions", expect=200)[
        "live_generation_id"
    ] == versions.first.get_attribute("data-generation-id")


def test_a_generation_started_elsewhere_shows_up_on_an_open_order_page(page: Any, stack: Stack) -> None:
    order = stack.create_order()
    open_order(page, stack, order["id"])
    expect()(page.get_by_test_id("gen-empty")).to_be_visible()
    started = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)  # e.g. by the CRM itself
    expect()(page.get_by_test_id("history-item")).to_have_attribute(
        "data-generation-id", started["id"], timeout=20_000
    )
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded", timeout=20_000)


# ---------- queue and AI ----------


def test_queue_view_shows_numbers_and_refreshes_itself(page: Any, stack: Stack) -> None:
    sign_in(page, stack, "#/queue")
    for key in ("visible", "in_flight", "delayed", "dead_letter"):
        expect()(page.get_by_test_id(f"queue-{key}")).to_have_text(re.compile(r"^\d+$"))
    expect()(page.get_by_test_id("queue-oldest")).not_to_have_text("–")
    expect()(page.get_by_test_id("queue-name")).to_contain_text("generation")
    expect()(page.get_by_test_id("check-database")).to_contain_text("ok")
    with page.expect_response(lambda r: r.url.endswith("/queue"), timeout=12_000):
        pass  # the next automatic refresh
    screenshot(page, "queue")


def test_ai_view_renders_even_before_its_endpoints_exist(page: Any, stack: Stack) -> None:
    sign_in(page, stack, "#/ai")
    for section in ("ai-configs", "ai-routing", "ai-doctor"):
        body = page.get_by_test_id(f"{section}-body")
        expect()(body).not_to_contain_text("Loading")
        missing = page.get_by_test_id(f"{section}-missing")
        if missing.count():
            expect()(missing).to_have_text("Not available on this API yet.")
    expect()(page.get_by_test_id("error-notice")).to_have_count(0)
    screenshot(page, "ai")


def test_ai_view_masks_keys_and_shows_routes_and_findings(page: Any, stack: Stack) -> None:
    """The AI endpoints' answers as documented, served by the test (the endpoints may not exist yet)."""
    secret = "sk-test-0123456789abcdef"
    configs = {
        "items": [
            {
                "id": "c1",
                "name": "template",
                "provider": "template",
                "model": None,
                "base_url": None,
                "account_id": None,
                "enabled": True,
                "params": {},
                "has_api_key": False,
                "api_key_hint": None,
            },
            {
                "id": "c2",
                "name": "openai-main",
                "provider": "openai",
                "model": "gpt-4o-mini",
                "base_url": "https://api.openai.com/v1",
                "account_id": None,
                "enabled": True,
                "params": {"temperature": 0.4},
                "has_api_key": True,
                "api_key_hint": "…" + secret[-4:],
                "api_key": secret,
            },
            {
                "id": "c3",
                "name": "workers-ai",
                "provider": "cloudflare",
                "model": "@cf/meta/llama-3.1-8b-instruct",
                "base_url": None,
                "account_id": "acc-42",
                "enabled": False,
                "params": {},
                "has_api_key": True,
                "api_key_hint": "…wxyz",
            },
        ]
    }
    routing = {
        "routes": {"planning": "c2", "copywriting": "c2", "coding": "c1", "review": None},
        "fallback": "c1",
    }
    doctor = {
        "findings": [
            {
                "severity": "warning",
                "code": "no_route",
                "message": "task review has no route; the fallback serves it",
                "config_id": None,
                "task": "review",
            },
            {
                "severity": "error",
                "code": "disabled_config",
                "message": "workers-ai is disabled",
                "config_id": "c3",
                "task": None,
            },
            {
                "severity": "info",
                "code": "template_in_use",
                "message": "the offline template provider serves coding",
                "config_id": "c1",
                "task": "coding",
            },
        ]
    }
    import json

    def answer(body: Any) -> Any:
        return lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    for path, body in (("configs", configs), ("routing", routing), ("doctor", doctor)):
        page.route(f"**/ai/{path}", answer(body))
    sign_in(page, stack, "#/ai")
    rows = page.get_by_test_id("ai-config-row")
    expect()(rows).to_have_count(3)
    expect()(rows.nth(1).get_by_test_id("ai-key")).to_have_text("••••cdef")
    expect()(rows.nth(0).get_by_test_id("ai-key")).to_have_text(
        "not used"
    )  # the offline template takes no key
    assert secret not in page.content()
    chosen = lambda task: page.get_by_test_id(f"route-select-{task}").locator("option:checked")  # noqa: E731
    expect()(page.get_by_test_id("route-select-planning")).to_have_value("c2")
    expect()(chosen("planning")).to_have_text("openai-main")
    expect()(page.get_by_test_id("route-select-review")).to_have_value("")
    expect()(chosen("review")).to_have_text("not routed")
    expect()(chosen("fallback")).to_have_text("template")
    # A disabled config cannot be picked for a route (the API would refuse it).
    expect()(page.get_by_test_id("route-select-coding").locator("option[value=c3]")).to_be_disabled()
    findings = page.get_by_test_id("ai-finding")
    expect()(findings).to_have_count(3)
    expect()(findings.first).to_have_attribute("data-severity", "error")  # most severe first
    expect()(findings.first.locator(".sev")).to_have_text("error")
    screenshot(page, "ai-with-data")


def test_an_orders_token_does_not_see_what_it_cannot_do(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.url}/#/ai")
    page.get_by_test_id("signin-token").fill(ORDERS_TOKEN)
    page.get_by_test_id("signin-submit").click()
    expect()(page.get_by_role("heading", name="Orders")).to_be_visible()  # #/ai is not for this token
    assert page.evaluate("sessionStorage.getItem('sitegen.scope')") == "orders"
    expect()(page.get_by_test_id("nav-queue")).to_be_visible()
    expect()(page.get_by_test_id("nav-ai")).to_have_count(0)
    page.get_by_test_id("nav-queue").click()
    expect()(page.get_by_test_id("check-database")).to_contain_text("ok")  # deep health: orders may read it
    page.evaluate("window.location.hash = '#/ai'")
    expect()(page.get_by_role("heading", name="Orders")).to_be_visible()
    assert stack.call("GET", "/ai/configs", token=ORDERS_TOKEN, expect=403)["code"] == "forbidden"

    page.get_by_test_id("signout").click()  # the admin token sees the AI view again
    page.get_by_test_id("signin-token").fill(stack.token)
    page.get_by_test_id("signin-submit").click()
    expect()(page.get_by_test_id("nav-ai")).to_be_visible()


# ---------- phone ----------


def test_phone_layout_is_readable(make_page: Any, stack: Stack) -> None:
    order = stack.create_order(f"Café da Esquina {uuid.uuid4().hex[:6]}")
    gen = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
    stack.wait_generation(gen["id"], ("succeeded",))
    page = make_page(viewport=PHONE)

    def no_sideways_scroll() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"

    page.goto(f"{stack.url}/")
    page.get_by_test_id("signin-token").fill("nope")
    page.get_by_test_id("signin-submit").click()
    expect()(page.get_by_test_id("signin-error")).to_be_visible()
    no_sideways_scroll()
    screenshot(page, "phone-signin-error")
    page.get_by_test_id("signin-token").fill(stack.token)
    page.get_by_test_id("signin-submit").click()
    expect()(page.get_by_test_id("order-row").first).to_be_visible()
    no_sideways_scroll()
    screenshot(page, "phone-orders", full_page=False)

    page.goto(f"{stack.url}/#/orders/{order['id']}")
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded")
    expect()(page.frame_locator("[data-testid=preview-frame]").locator("body")).to_contain_text(
        order["business_name"]
    )
    expect()(page.get_by_test_id("preview-phone")).to_be_hidden()  # the page is already phone-sized
    no_sideways_scroll()
    screenshot(page, "phone-order-success")

    page.goto(f"{stack.url}/#/orders/new")
    page.get_by_test_id("order-submit").click()
    expect()(page.get_by_test_id("error-business_name")).to_be_visible()
    no_sideways_scroll()
    screenshot(page, "phone-order-form-errors", full_page=False)

    page.goto(f"{stack.url}/#/queue")
    expect()(page.get_by_test_id("queue-visible")).to_have_text(re.compile(r"^\d+$"))
    no_sideways_scroll()
    screenshot(page, "phone-queue")
    page.goto(f"{stack.url}/#/ai")
    expect()(page.get_by_test_id("ai-configs-body")).not_to_contain_text("Loading")
    no_sideways_scroll()
    screenshot(page, "phone-ai")


def test_static_files_carry_the_csp_and_index_uses_relative_assets(stack: Stack) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{stack.url}/", timeout=10) as response:
        html = response.read().decode()
        csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert 'src="ui/app.js"' in html and 'href="ui/styles.css"' in html
    assert "<style" not in html and " style=" not in html and "<script>" not in html
    for name in (
        "app.js",
        "api.js",
        "i18n.js",
        "dom.js",
        "common.js",
        "signin.js",
        "orders.js",
        "order.js",
        "queue.js",
        "ai.js",
        "ai_form.js",
        "dialog.js",
        "styles.css",
        "logo.svg",
    ):
        with urllib.request.urlopen(f"{stack.url}/ui/{name}", timeout=10) as response:
            assert response.status == 200
