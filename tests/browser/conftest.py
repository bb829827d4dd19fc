"""Browser tests: the dashboard in Debian's Chromium (Playwright), against the REAL local stack.

The session starts `python -m infra.local` (tests/support/local_stack.py) on free ports with a
temporary state dir, and stops it at the end. Without Chromium or
Playwright the tests are skipped with the reason, except under CI=true, where they fail instead.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("SITEGEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
AXE = (
    ROOT / "node_modules" / "axe-core" / "axe.min.js"
)  # `make test` / `make setup` install it (package.json)
STACK_START_TIMEOUT_S = 90
ORDERS_TOKEN = "browser-orders-token-0123456789"  # a second token with the `orders` scope (the CRM's)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


# ---------- the local stack ----------


@dataclass
class Stack(LocalStack):
    """The real local stack (tests/support/local_stack.py), plus what the dashboard tests need."""

    _engine: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return str(self.info["api_url"])

    @property
    def token(self) -> str:
        return str(self.info["token"])

    def api(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        return self.call(method, path, body, expect=expect)

    def create_order(self, name: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {
            "business_name": name or f"Padaria Teste {uuid.uuid4().hex[:6]}",
            "segment": "bakery",
            "locale": "pt-BR",
            "services": ["Pães artesanais", "Bolos sob encomenda"],
            "contact": {"email": "contato@example.com", "phone": "+55 11 4000-1234", "city": "São Paulo"},
            "brand": {"primary_color": "#8B4513", "secondary_color": "#F5DEB3"},
            **extra,
        }
        return self.api("POST", "/orders", body, expect=201)

    def wait_generation(
        self, generation_id: str, statuses: tuple[str, ...], timeout_s: float = 60
    ) -> dict[str, Any]:
        return self.wait_for(generation_id, statuses, timeout_s)

    def wait_idle(self, timeout_s: float = 30) -> None:
        """No phase message waiting or in flight: no worker is in the middle of a phase."""
        deadline = time.monotonic() + timeout_s
        while True:
            q = self.api("GET", "/queue", expect=200)
            if q["visible"] == 0 and q["in_flight"] == 0:
                return
            assert time.monotonic() < deadline, f"queue not idle: {q}"
            time.sleep(0.3)

    # The stack's own database (its URL is in stack.json): used only to route a task to nothing, the
    # one deterministic way to make a phase fail permanently.
    def sql(self, statement: str, **params: Any) -> Any:
        from sqlalchemy import create_engine, text

        if self._engine is None:
            self._engine = create_engine(self.info["database_url"], pool_size=1)
        with self._engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.fetchall() if result.returns_rows else None

    def worker_pids(self) -> list[int]:
        """The queue workers the supervisor started (pids.json lists every process of the stack)."""
        pids = json.loads((self.state_dir / "pids.json").read_text())
        return [pid for name, pid in pids.items() if name.startswith("worker-")]

    @contextmanager
    def workers_paused(self) -> Iterator[None]:
        """SIGSTOP the stack's queue workers (SIGCONT on exit): generations stay queued meanwhile, so
        the UI's queued state, Cancel and live updates can be seen deterministically (a whole
        generation takes well under a second with the offline template provider)."""
        self.wait_idle()
        pids = self.worker_pids()
        assert pids, "no worker process found under the stack supervisor"
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._engine is not None:
            self._engine.dispose()
        super().stop(sig)


@pytest.fixture(scope="session")
def browser_available() -> None:
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright==1.65.2)")


@pytest.fixture(scope="session")
def stack(browser_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("sitegen-browser-stack")
    running = Stack(state, ["--schedule-interval", "2"], env={"SITEGEN_API_TOKENS": f"{ORDERS_TOKEN}:orders"})
    running.start(timeout_s=STACK_START_TIMEOUT_S)
    try:
        yield running
    finally:
        running.stop()


# ---------- the browser ----------


@pytest.fixture(scope="session")
def browser(browser_available: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageProblems:
    """Console errors that mean a broken page: CSP violations and uncaught exceptions."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page: Any) -> None:
        def on_console(message: Any) -> None:
            text = message.text
            if "Content Security Policy" in text or "Refused to" in text:
                self.items.append(f"console: {text}")

        page.on("console", on_console)
        page.on("pageerror", lambda err: self.items.append(f"pageerror: {err}"))


def _context(browser: Any, viewport: dict[str, int], locale: str, bypass_csp: bool = False) -> Any:
    context = browser.new_context(
        viewport=viewport,
        locale=locale,
        device_scale_factor=1,
        is_mobile=viewport["width"] < 600,
        has_touch=viewport["width"] < 600,
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(20_000)
    return context


@pytest.fixture()
def make_page(browser: Any, stack: Stack) -> Iterator[Any]:
    """make_page(viewport=DESKTOP, locale="en-US") -> a fresh page (own context, own sessionStorage).
    bypass_csp=True lets a test inject axe-core (an inline script the dashboard's CSP would refuse)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    contexts: list[Any] = []
    problems = PageProblems()

    def make(viewport: dict[str, int] = DESKTOP, locale: str = "en-US", bypass_csp: bool = False) -> Any:
        context = _context(browser, viewport, locale, bypass_csp)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems.items, "\n".join(problems.items)


@pytest.fixture()
def page(make_page: Any) -> Any:
    return make_page()


def sign_in(page: Any, stack: Stack, route: str = "") -> None:
    from playwright.sync_api import expect

    page.goto(f"{stack.url}/{route}")
    page.get_by_test_id("signin-token").fill(stack.token)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("signin-form")).to_have_count(0)


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save test-artifacts/screenshots/<name>.png. A full page is taken by growing the viewport to the
    page's height (Chromium paints cross-origin iframes, such as the preview, only inside the viewport)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    viewport = page.viewport_size
    if full_page and viewport:
        height = int(page.evaluate("document.documentElement.scrollHeight"))
        if height > viewport["height"]:
            page.set_viewport_size({"width": viewport["width"], "height": min(height, 6000)})
            page.wait_for_timeout(400)
    page.wait_for_timeout(150)  # let transitions settle
    try:
        page.screenshot(path=str(path), full_page=full_page)
    finally:
        if viewport:
            page.set_viewport_size(viewport)
    return path


# ---------- accessibility: axe-core from npm, injected into the page ----------

BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
def axe_available() -> None:
    if not AXE.exists():
        _unavailable(f"axe-core not found at {AXE} (run `make setup`, or `npm ci`)")


def axe_violations(page: Any, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[str]:
    """Run axe-core (every rule it runs by default) on the page as it is now; one line per violation of
    the given impacts, naming the rule, the impact and the first elements it found."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' +"
        " (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 240))})); }"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in result
        if v["impact"] in impacts
    ]
