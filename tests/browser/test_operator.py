"""The operator's dashboard in a real browser against the real local stack: AI configs, routing, the
doctor, spend, dead letters and redrive, keyboard use, and axe-core on every view."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, Stack, axe_violations, screenshot, sign_in

SIM_MODEL = "gpt-4o-mini"  # a model with a known price, so the spend shows a cost


def expect():  # imported lazily: the module must import even where playwright is not installed
    from playwright.sync_api import expect as _expect

    return _expect


@pytest.fixture()
def ai_restored(stack: Stack) -> Iterator[None]:
    """Whatever a test does to the AI setup, the routing and the configs are put back afterwards."""
    routing = stack.api("GET", "/ai/routing", expect=200)
    before = {c["id"] for c in stack.api("GET", "/ai/configs", expect=200)["items"]}
    try:
        yield
    finally:
        stack.api("PUT", "/ai/routing", routing, expect=200)
        for config in stack.api("GET", "/ai/configs", expect=200)["items"]:
            if config["id"] not in before:
                stack.api("DELETE", f"/ai/configs/{config['id']}", expect=204)


@pytest.fixture()
def sim() -> Iterator[Any]:
    """The model simulator on loopback in this process: an OpenAI-compatible "provider" answering at once."""
    from infra.model_sim import start_sim

    with start_sim(ttft=0, tps=50_000) as running:
        yield running


def config_row(page: Any, name: str) -> Any:
    return page.locator(f"[data-testid=ai-config-row][data-name='{name}']")


def focus_is_visible(page: Any) -> bool:
    """The focused element draws a focus indicator: an outline or (inputs) a focus ring shadow."""
    return bool(
        page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)"
            " || (s.boxShadow && s.boxShadow !== 'none'); }"
        )
    )


def tab_to(page: Any, testid: str, limit: int = 40) -> None:
    """Press Tab until the element with this test id has the focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.dataset.testid") == testid:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{testid} never got the focus with Tab")


# ---------- AI: add, test, route, generate, spend ----------


def test_an_openai_compatible_config_on_a_loopback_model_is_added_tested_routed_and_used(
    page: Any, stack: Stack, sim: Any, ai_restored: None
) -> None:
    name = f"Loopback fake {uuid.uuid4().hex[:6]}"
    sign_in(page, stack, "#/ai")
    expect()(page.get_by_test_id("ai-config-row").first).to_be_visible()

    # Keyboard only: open the form, fill it, save.
    tab_to(page, "ai-add")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    form = page.get_by_test_id("ai-config-form")
    expect()(page.get_by_test_id("ai-field-name")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    expect()(page.get_by_test_id("ai-field-provider")).to_be_focused()
    page.get_by_test_id("ai-field-provider").select_option("openai_compatible")
    # The form fits the provider: no account_id, a required base_url, an optional key as a password.
    expect()(form.get_by_test_id("ai-field-account_id")).to_be_hidden()
    expect()(form.locator("[data-field=base_url] .req")).to_be_visible()
    expect()(form.locator("[data-field=api_key] .opt")).to_be_visible()
    expect()(form.get_by_test_id("ai-field-api_key")).to_have_attribute("type", "password")
    page.keyboard.press("Tab")
    expect()(page.get_by_test_id("ai-field-model")).to_be_focused()
    page.keyboard.type(SIM_MODEL)
    page.keyboard.press("Tab")
    expect()(page.get_by_test_id("ai-field-base_url")).to_be_focused()
    page.keyboard.type(f"{sim.url}/v1")
    page.keyboard.press("Tab")
    expect()(page.get_by_test_id("ai-field-api_key")).to_be_focused()
    page.keyboard.type("sk-loopback-0123456789WXYZ")
    page.keyboard.press("Enter")  # submits the form

    row = config_row(page, name)
    expect()(row).to_be_visible()
    expect()(page.get_by_test_id("ai-config-notice")).to_contain_text(f"“{name}” added")
    expect()(row.get_by_test_id("ai-key")).to_have_text("••••WXYZ")  # the hint, never the key
    assert "sk-loopback-0123456789" not in page.content()
    expect()(row.get_by_test_id("ai-test")).to_be_focused()  # where the next step is
    config_id = row.get_attribute("data-config-id")
    assert config_id

    # Test: ok and the latency, in plain words; the simulator saw the ping.
    sim.clear_log()
    page.keyboard.press("Enter")
    result = row.get_by_test_id("ai-test-result")
    expect()(result).to_have_attribute("data-ok", "true")
    expect()(result).to_contain_text("Works")
    expect()(result).to_contain_text(re.compile(r"answered in [\d.,]+ (ms|s)"))
    assert [e["schema"] for e in sim.log()] == ["Ping"]

    # Route coding to it; the row says which phases coding drives.
    expect()(page.get_by_test_id("route-phases-coding")).to_have_text("Code")
    expect()(page.get_by_test_id("route-phases-planning")).to_have_text("Brief, Sitemap")
    page.get_by_test_id("route-select-coding").select_option(config_id)
    page.get_by_test_id("routing-save").click()
    expect()(page.get_by_test_id("routing-status")).to_have_text("Routing saved.")
    routing = stack.api("GET", "/ai/routing", expect=200)
    assert routing["routes"]["coding"] == config_id and routing["routes"]["planning"] != config_id
    screenshot(page, "ai-config-added")

    # Generate: the code phase runs on the loopback model and the generation shows its usage.
    order = stack.create_order(f"Padaria Loopback {uuid.uuid4().hex[:6]}")
    sim.clear_log()
    page.goto(f"{stack.url}/#/orders/{order['id']}")
    page.get_by_test_id("btn-generate").click()
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect()(page.get_by_test_id("step-code")).to_contain_text(re.compile(r"[\d,]+ tokens"))
    expect()(page.get_by_test_id("step-brief")).not_to_contain_text(
        "tokens"
    )  # planning stayed on the template
    gen = stack.api("GET", f"/orders/{order['id']}/generations", expect=200)["items"][0]
    code = next(p for p in gen["phases"] if p["name"] == "code")
    assert code["usage"]["config_id"] == config_id and code["usage"]["tokens_out"] > 0
    assert {e["schema"] for e in sim.log()} >= {"PageMarkup"}
    expect()(page.get_by_test_id("gen-meta")).to_contain_text("tokens")

    # Its spend over the last 7 days, on the AI view: the tokens that generation used, and their cost.
    page.goto(f"{stack.url}/#/ai")
    spend = config_row(page, name).get_by_test_id("ai-spend")
    tokens = sum(p["usage"]["tokens_in"] + p["usage"]["tokens_out"] for p in code["parts"] if p["usage"])
    expect()(spend).to_contain_text(f"{tokens:,} tokens")
    expect()(spend).to_contain_text("US$")
    screenshot(page, "ai-spend")


# ---------- AI: typos, refusals, keys ----------


def test_a_misspelt_provider_is_found_with_its_suggestion_and_fixed_from_the_finding(
    page: Any, stack: Stack, ai_restored: None
) -> None:
    # The old system stored whatever was typed; the API refuses it now, with the suggestion.
    refused = stack.api(
        "POST", "/ai/configs", {"name": "typo", "provider": "opnai", "model": "gpt-4o-mini"}, expect=422
    )
    assert "did you mean 'openai'?" in json.dumps(refused)
    # A config imported from the old system with the typo: the doctor finds it and the form fixes it.
    legacy = str(uuid.uuid4())
    stack.sql(
        "INSERT INTO ai_configs (id, name, provider, model, enabled, params) "
        "VALUES (CAST(:i AS uuid), 'Legacy GPT', 'opnai', 'gpt-4o-mini', true, '{}'::jsonb)",
        i=legacy,
    )
    sign_in(page, stack, "#/ai")
    finding = page.locator("[data-testid=ai-finding][data-code=unknown_provider]")
    expect()(finding).to_have_count(1)
    expect()(finding).to_contain_text("Did you mean 'openai'?")
    expect()(finding.get_by_test_id("finding-fix")).to_contain_text(
        "pick its provider from the list (probably OpenAI)"
    )
    expect()(config_row(page, "Legacy GPT").get_by_test_id("ai-provider-unknown")).to_have_text(
        "unknown: opnai"
    )
    screenshot(page, "ai-typo-finding")

    finding.get_by_test_id("finding-config-link").click()
    form = page.get_by_test_id("ai-config-form")
    expect()(form).to_have_attribute("data-mode", "edit")
    expect()(page.get_by_test_id("ai-field-provider")).to_have_value("openai")  # the suggestion, preselected
    expect()(page.get_by_test_id("ai-field-provider")).to_be_focused()
    expect()(page.get_by_test_id("ai-provider-note")).to_contain_text("“opnai” is not one sitegen knows")
    # openai needs a key, which the legacy config never had: saving without one shows the API's error.
    page.get_by_test_id("ai-form-save").click()
    error = page.get_by_test_id("ai-error-api_key")
    expect()(error).to_contain_text("Enter the API key.")
    expect()(error).to_contain_text("needs an api_key")  # the API's own words, next to the field
    expect()(page.get_by_test_id("ai-field-api_key")).to_be_focused()
    expect()(page.get_by_test_id("ai-field-api_key")).to_have_attribute("aria-invalid", "true")
    page.keyboard.type("sk-legacy-0123456789ABCD")
    page.keyboard.press("Enter")
    expect()(page.get_by_test_id("ai-config-notice")).to_contain_text("“Legacy GPT” saved")
    expect()(page.locator("[data-testid=ai-finding][data-code=unknown_provider]")).to_have_count(0)
    expect()(config_row(page, "Legacy GPT")).to_contain_text("OpenAI")
    assert stack.api("GET", f"/ai/configs/{legacy}", expect=200)["provider"] == "openai"


def test_deleting_a_routed_config_is_refused_and_says_which_tasks_use_it(
    page: Any, stack: Stack, ai_restored: None
) -> None:
    created = stack.api(
        "POST", "/ai/configs", {"name": f"Routed {uuid.uuid4().hex[:6]}", "provider": "template"}, expect=201
    )
    routing = stack.api("GET", "/ai/routing", expect=200)
    stack.api(
        "PUT",
        "/ai/routing",
        {"routes": {**routing["routes"], "review": created["id"]}, "fallback": created["id"]},
        expect=200,
    )
    sign_in(page, stack, "#/ai")
    row = config_row(page, created["name"])
    row.get_by_test_id("ai-delete").click()
    dialog = page.get_by_test_id("ai-delete-dialog")
    expect()(dialog).to_be_visible()
    expect()(page.get_by_test_id("ai-delete-dialog-cancel")).to_be_focused()  # the safe choice first
    page.keyboard.press("Escape")  # cancels
    expect()(dialog).to_have_count(0)
    expect()(row.get_by_test_id("ai-delete")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_test_id("ai-delete-dialog-confirm").click()
    refused = page.get_by_test_id("ai-delete-refused")
    expect()(refused).to_have_text(f"“{created['name']}” was not deleted: it is in use for Review, Fallback.")
    expect()(page.get_by_test_id("ai-config-notice")).to_be_focused()
    expect()(row).to_be_visible()
    screenshot(page, "ai-delete-refused", full_page=False)
    # The notice links to the routes to change; route both elsewhere, then the delete goes through.
    page.get_by_test_id("ai-config-notice").get_by_test_id("link-route-review").click()
    expect()(page.get_by_test_id("route-select-review")).to_be_focused()
    page.get_by_test_id("route-select-review").select_option(routing["routes"]["review"])
    page.get_by_test_id("route-select-fallback").select_option("")
    page.get_by_test_id("routing-save").click()
    expect()(page.get_by_test_id("routing-status")).to_have_text("Routing saved.")
    row.get_by_test_id("ai-delete").click()
    page.get_by_test_id("ai-delete-dialog-confirm").click()
    expect()(page.get_by_test_id("ai-config-notice")).to_contain_text("deleted")
    expect()(row).to_have_count(0)
    stack.api("GET", f"/ai/configs/{created['id']}", expect=404)


def test_disabling_a_routed_config_is_confirmed_and_routing_errors_show_next_to_their_task(
    page: Any, stack: Stack, ai_restored: None
) -> None:
    suffix = uuid.uuid4().hex[:6]
    routed = stack.api(
        "POST", "/ai/configs", {"name": f"Reviewer {suffix}", "provider": "template"}, expect=201
    )
    spare = stack.api("POST", "/ai/configs", {"name": f"Spare {suffix}", "provider": "template"}, expect=201)
    routing = stack.api("GET", "/ai/routing", expect=200)
    stack.api(
        "PUT", "/ai/routing", {**routing, "routes": {**routing["routes"], "review": routed["id"]}}, expect=200
    )
    sign_in(page, stack, "#/ai")
    row = config_row(page, routed["name"])
    row.get_by_test_id("ai-toggle").click()
    dialog = page.get_by_test_id("ai-disable-dialog")
    expect()(dialog).to_contain_text("It is routed for Review")
    page.get_by_test_id("ai-disable-dialog-confirm").click()
    expect()(row.get_by_test_id("ai-status")).to_have_text("Disabled")
    expect()(row.get_by_test_id("ai-toggle")).to_be_focused()
    finding = page.locator("[data-testid=ai-finding][data-code=route_to_disabled_config]")
    expect()(finding.get_by_test_id("finding-fix")).to_contain_text(
        "Enable the configuration, or route this task"
    )
    finding.get_by_test_id("finding-route-link").click()
    expect()(page.get_by_test_id("route-select-review")).to_be_focused()
    # A disabled config cannot be picked for a route...
    expect()(
        page.get_by_test_id("route-select-coding").locator(f"option[value='{routed['id']}']")
    ).to_be_disabled()
    # ...and one disabled elsewhere after the page loaded is refused by the API, next to its task.
    stack.api("PATCH", f"/ai/configs/{spare['id']}", {"enabled": False}, expect=200)
    page.get_by_test_id("route-select-coding").select_option(spare["id"])
    page.get_by_test_id("routing-save").click()
    error = page.get_by_test_id("route-error-coding")
    expect()(error).to_contain_text(f"AI config '{spare['name']}' is disabled")
    expect()(page.get_by_test_id("route-select-coding")).to_be_focused()
    expect()(page.get_by_test_id("route-select-coding")).to_have_attribute("aria-invalid", "true")
    expect()(page.get_by_test_id("routing-errors")).to_be_visible()
    assert stack.api("GET", "/ai/routing", expect=200)["routes"]["coding"] == routing["routes"]["coding"]
    screenshot(page, "ai-routing-error")


def test_save_errors_show_next_to_their_fields_and_the_key_is_replaced_without_being_shown(
    page: Any, stack: Stack, sim: Any, ai_restored: None
) -> None:
    taken = stack.api("GET", "/ai/configs", expect=200)["items"][0]["name"]
    sign_in(page, stack, "#/ai")
    page.get_by_test_id("ai-add").click()
    page.get_by_test_id("ai-field-name").fill(taken)
    page.get_by_test_id("ai-field-provider").select_option("cloudflare")
    expect()(page.get_by_test_id("ai-field-account_id")).to_be_visible()  # only for cloudflare
    expect()(page.get_by_test_id("ai-field-base_url")).to_be_visible()
    expect()(page.locator("[data-field=base_url] .opt")).to_be_visible()  # optional for cloudflare
    page.get_by_test_id("ai-field-model").fill("@cf/meta/llama-3.1-8b-instruct")
    page.get_by_test_id("ai-field-account_id").fill("not valid!")
    page.get_by_test_id("ai-field-api_key").fill("cf-0123456789abcdef")
    page.get_by_test_id("ai-form-save").click()
    account_error = page.get_by_test_id("ai-error-account_id")
    expect()(account_error).to_contain_text("Only letters, digits, - and _.")
    expect()(account_error).to_contain_text("String should match pattern")  # the API's message
    expect()(page.get_by_test_id("ai-field-account_id")).to_be_focused()  # the first error
    assert focus_is_visible(page)
    expect()(page.get_by_test_id("ai-form-errors")).to_be_visible()
    screenshot(page, "ai-form-errors")
    page.get_by_test_id("ai-field-account_id").fill("acc-42")
    page.get_by_test_id("ai-form-save").click()
    expect()(page.get_by_test_id("ai-error-name")).to_contain_text(
        "Another configuration already has this name."
    )
    expect()(page.get_by_test_id("ai-field-name")).to_be_focused()
    expect()(page.get_by_test_id("ai-error-account_id")).to_be_hidden()
    page.get_by_test_id("ai-form-cancel").click()
    expect()(page.get_by_test_id("ai-config-form")).to_have_count(0)
    expect()(page.get_by_test_id("ai-add")).to_be_focused()  # focus goes back where it came from

    # Replace a key: the old one is never shown, the hint stays until the new one is saved.
    name = f"Keyed {uuid.uuid4().hex[:6]}"
    created = stack.api(
        "POST",
        "/ai/configs",
        {
            "name": name,
            "provider": "openai_compatible",
            "model": "m",
            "base_url": f"{sim.url}/v1",
            "api_key": "old-key-0123456789AAAA",
        },
        expect=201,
    )
    page.reload()
    row = config_row(page, name)
    expect()(row.get_by_test_id("ai-key")).to_have_text("••••AAAA")
    row.get_by_test_id("ai-replace").click()
    expect()(page.get_by_test_id("ai-config-form")).to_have_attribute("data-mode", "key")
    expect()(page.get_by_test_id("ai-field-api_key")).to_be_focused()
    expect()(page.get_by_test_id("ai-field-api_key")).to_have_value("")  # never filled from the API
    expect()(page.get_by_test_id("ai-stored-key")).to_contain_text("••••AAAA")
    page.keyboard.type("new-key-0123456789BBBB")
    page.keyboard.press("Enter")
    expect()(page.get_by_test_id("ai-config-notice")).to_contain_text(f"The key of “{name}” was replaced.")
    expect()(row.get_by_test_id("ai-key")).to_have_text("••••BBBB")
    expect()(row.get_by_test_id("ai-replace")).to_be_focused()
    assert "new-key-0123456789" not in page.content() and "old-key-0123456789" not in page.content()

    # Changing the endpoint asks for the key again (the stored key never follows a moved endpoint).
    row.get_by_test_id("ai-edit").click()
    expect()(page.get_by_test_id("ai-field-api_key")).to_be_hidden()
    page.get_by_test_id("ai-field-base_url").fill("http://127.0.0.1:9/v1")
    expect()(page.get_by_test_id("ai-field-api_key")).to_be_visible()
    expect()(page.locator("[data-field=api_key] .hint")).to_contain_text("The endpoint changes")
    page.get_by_test_id("ai-form-save").click()
    expect()(page.get_by_test_id("ai-error-api_key")).to_contain_text("Enter the key again")
    expect()(page.get_by_test_id("ai-field-api_key")).to_be_focused()
    assert stack.api("GET", f"/ai/configs/{created['id']}", expect=200)["base_url"] == f"{sim.url}/v1"
    page.get_by_test_id("ai-field-remove-key").check()  # or: drop the key for the new endpoint
    page.get_by_test_id("ai-form-save").click()
    expect()(page.get_by_test_id("ai-config-notice")).to_contain_text("saved")
    after = stack.api("GET", f"/ai/configs/{created['id']}", expect=200)
    assert after["base_url"] == "http://127.0.0.1:9/v1" and after["has_api_key"] is False


# ---------- queue: dead letters and redrive ----------


def dead_letter_for(stack: Stack, generation_id: str, phase: str = "brief") -> None:
    """Put a phase's message on the dead-letter queue, as SQS does after the last failed delivery; the
    stack's dead-letter worker records it and fails the generation."""
    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=stack.info["aws_endpoint_url"],
        region_name=stack.info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    sqs.send_message(
        QueueUrl=stack.info["dlq_url"],
        MessageBody=json.dumps({"generation_id": generation_id, "phase": phase}),
    )


def test_redrive_a_dead_letter_and_see_its_generation_resume(page: Any, stack: Stack) -> None:
    order = stack.create_order(f"Oficina Morta {uuid.uuid4().hex[:6]}")
    with stack.workers_paused():
        gen = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
        dead_letter_for(stack, gen["id"])
        failed = stack.wait_generation(gen["id"], ("failed",), timeout_s=30)
    assert failed["error"] == "gave up after 5 deliveries of phase brief"
    stack.wait_idle()

    sign_in(page, stack, "#/queue")
    letter = page.locator(f"[data-testid=dead-letter][data-generation-id='{gen['id']}']")
    expect()(letter).to_be_visible()
    expect()(letter).to_contain_text(order["business_name"])
    expect()(letter.get_by_test_id("letter-phase")).to_have_text("Brief")
    expect()(letter.get_by_test_id("letter-reason")).to_have_text("gave up after 5 deliveries of phase brief")
    expect()(letter.get_by_test_id("letter-age")).to_have_text(re.compile(r"^\d"))
    expect()(letter.get_by_test_id("letter-generation")).to_have_attribute("href", f"#/orders/{order['id']}")
    expect()(page.get_by_test_id("queue-dead_letter")).not_to_have_text("0")
    screenshot(page, "queue-dead-letters")

    redrive = page.get_by_test_id("redrive")
    redrive.click()
    expect()(page.get_by_test_id("redrive-dialog")).to_contain_text(
        "resumed at the phase that did not finish"
    )
    page.get_by_test_id("redrive-dialog-cancel").click()  # a confirmation: cancelling does nothing
    expect()(letter).to_be_visible()
    assert stack.api("GET", f"/generations/{gen['id']}", expect=200)["status"] == "failed"

    redrive.focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("redrive-dialog-confirm").focus()
    page.keyboard.press("Enter")
    counts = page.get_by_test_id("redrive-counts")
    expect()(counts).to_contain_text(re.compile(r"\d+ redriven"))
    expect()(counts).to_contain_text(re.compile(r"[1-9]\d* generations? resumed"))
    expect()(counts).to_contain_text("0 kept")
    resumed = page.locator(f"[data-testid=resumed-generation][data-generation-id='{gen['id']}']")
    expect()(resumed).to_be_visible()
    expect()(letter).to_have_count(0)  # handled letters leave the list
    screenshot(page, "queue-redriven", full_page=False)

    resumed.click()
    expect()(page.get_by_test_id("order-title")).to_have_text(order["business_name"])
    expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded", timeout=45_000)
    expect()(page.locator("[data-testid=log-line][data-event=generation_resumed]")).to_have_count(1)
    expect()(page.get_by_test_id("history-item")).to_have_count(1)  # the same generation, resumed


# ---------- accessibility: axe-core on every view, desktop and phone ----------


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violation_on_any_view(
    make_page: Any, stack: Stack, axe_available: None, viewport: dict[str, int]
) -> None:
    order = stack.create_order(f"Sorveteria Acessível {uuid.uuid4().hex[:6]}")
    for _ in range(2):  # two generations: the history shows a selected and an unselected item
        gen = stack.api("POST", f"/orders/{order['id']}/generations", expect=202)
        stack.wait_generation(gen["id"], ("succeeded",))
    letter = f"axe-{uuid.uuid4().hex}"  # a dead letter, so the queue view shows its table
    stack.sql(
        "INSERT INTO dead_letters (message_id, body, reason, generation_id, phase) VALUES (:m, :b, "
        "'gave up after 5 deliveries of phase code (part sobre)', CAST(:g AS uuid), 'code')",
        m=letter,
        b=json.dumps({"generation_id": gen["id"], "phase": "code", "part": "sobre"}),
        g=gen["id"],
    )
    page = make_page(viewport=viewport, bypass_csp=True)
    found: dict[str, list[str]] = {}

    def scan(view: str) -> None:
        page.wait_for_timeout(300)  # transitions settle
        violations = axe_violations(page)
        if violations:
            found[view] = violations

    try:
        page.goto(f"{stack.url}/")
        expect()(page.get_by_test_id("signin-form")).to_be_visible()
        scan("signin")
        sign_in(page, stack)
        expect()(page.get_by_test_id("order-row").first).to_be_visible()
        scan("orders")
        page.goto(f"{stack.url}/#/orders/new")
        page.get_by_test_id("order-submit").click()
        expect()(page.get_by_test_id("error-business_name")).to_be_visible()
        scan("new order with errors")
        page.goto(f"{stack.url}/#/orders/{order['id']}")
        expect()(page.get_by_test_id("gen-status")).to_have_attribute("data-status", "succeeded")
        expect()(page.get_by_test_id("history-item")).to_have_count(2)
        scan("order with history")
        page.goto(f"{stack.url}/#/queue")
        expect()(page.locator(f"[data-testid=dead-letter][data-generation-id='{gen['id']}']")).to_be_visible()
        expect()(page.get_by_test_id("check-database")).to_be_visible()
        scan("queue with a dead letter")
        page.goto(f"{stack.url}/#/ai")
        expect()(page.get_by_test_id("ai-config-row").first).to_be_visible()
        expect()(page.get_by_test_id("route-select-coding")).to_be_visible()
        expect()(page.get_by_test_id("ai-findings").or_(page.get_by_test_id("ai-doctor-ok"))).to_be_visible()
        page.get_by_test_id("ai-config-row").first.get_by_test_id("ai-test").click()
        expect()(page.get_by_test_id("ai-test-result").first).to_have_attribute(
            "data-ok", re.compile("true|false")
        )
        scan("ai")
        page.get_by_test_id("ai-add").click()
        page.get_by_test_id("ai-field-provider").select_option("cloudflare")
        page.get_by_test_id("ai-form-save").click()
        expect()(page.get_by_test_id("ai-form-errors")).to_be_visible()
        scan("ai: add form with errors")
        page.get_by_test_id("ai-form-cancel").click()
        page.get_by_test_id("ai-config-row").first.get_by_test_id("ai-delete").click()
        expect()(page.get_by_test_id("ai-delete-dialog")).to_be_visible()
        scan("ai: delete confirmation")
        page.keyboard.press("Escape")
    finally:
        stack.sql("UPDATE dead_letters SET redriven_at = now() WHERE message_id = :m", m=letter)
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(
        f"[{view}] {line}" for view, lines in found.items() for line in lines
    )
