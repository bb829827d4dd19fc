"""The operator's command line, over the HTTP API: `python -m infra.cli COMMAND`.

  logs GENERATION [--follow]   the generation's log lines, coloured by level; --follow: new ones as they
                               come, until the generation ends
  generate ORDER [--wait]      start a generation; --wait: live progress by phase and part, then the
                               live URL (exit 0) or the reason it failed (exit 1)
  queue                        depth, in flight, delayed, dead letters, age of the oldest waiting phase
  doctor                       findings as a table: dependencies down (/health), AI config problems
                               (/ai/doctor); exit 1 when any is an error
  redrive                      send the dead letters back (generations they failed are resumed)
  orders [--limit N]           the newest orders
  generations ORDER            an order's generations, newest first

The API's URL and token come from SITEGEN_API_URL and SITEGEN_API_TOKEN, else from the local stack's
stack.json (--state-dir, or SITEGEN_STATE_DIR, default .sitegen). The token is never printed. An
error is one line on stderr, with exit code 1 (2 for a command line it cannot parse).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

FINISHED = ("succeeded", "failed", "cancelled")
LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "default", "debug": "dim"}
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
NOUN = {"content": "pages", "code": "files"}

# Not a terminal (a pipe, a log file): wide tables, so that ids are never folded; lines never wrapped.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 240)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(click.ClickException):
    """One line on stderr, exit code 1."""


# --- the API ---------------------------------------------------------------------------------------------
@dataclass
class Api:
    url: str
    token: str
    where: str  # where the URL and token came from, for messages

    def call(self, method: str, path: str, body: Any = None, timeout_s: float = 30) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": "sitegen-cli",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise CliError(self._http_error(exc.code, exc.read())) from None
        except urllib.error.URLError as exc:
            raise CliError(
                self.redact(
                    f"cannot reach the API at {self.url} ({exc.reason}); is it running? "
                    f"(URL from {self.where})"
                )
            ) from None
        except (TimeoutError, OSError) as exc:
            raise CliError(
                self.redact(f"no answer from the API at {self.url} ({type(exc).__name__})")
            ) from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise CliError(f"the API at {self.url} answered something that is not JSON") from None

    def _http_error(self, status: int, raw: bytes) -> str:
        if status == 401:
            return f"the API at {self.url} refused the token (HTTP 401); check the token in {self.where}"
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        message = str(body.get("message") or raw[:200].decode("utf-8", "replace") or "no detail")
        if body.get("details"):
            message += (
                " (" + "; ".join(f"{d.get('field')}: {d.get('message')}" for d in body["details"][:3]) + ")"
            )
        if body.get("active_generation_id"):
            message += f"; the active one is {body['active_generation_id']}"
        code = f" {body['code']}" if body.get("code") else ""
        return self.redact(f"HTTP {status}{code}: {' '.join(message.split())}")

    def redact(self, text: str) -> str:
        return text.replace(self.token, "[token]") if self.token else text


def connect(state_dir: str | None) -> Api:
    url, token = (
        os.environ.get("SITEGEN_API_URL", "").strip(),
        os.environ.get("SITEGEN_API_TOKEN", "").strip(),
    )
    where = "SITEGEN_API_URL / SITEGEN_API_TOKEN"
    if not (url and token):
        stack = Path(state_dir or os.environ.get("SITEGEN_STATE_DIR") or ".sitegen") / "stack.json"
        try:
            info = json.loads(stack.read_text())
        except FileNotFoundError:
            raise CliError(
                f"no API to talk to: set SITEGEN_API_URL and SITEGEN_API_TOKEN, or start the local "
                f"stack (make run), which writes {stack}"
            ) from None
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read {stack} ({type(exc).__name__})") from None
        url, token = url or str(info.get("api_url") or ""), token or str(info.get("token") or "")
        where = str(stack) if not os.environ.get("SITEGEN_API_URL") else f"SITEGEN_API_URL and {stack}"
        if not (url and token):
            raise CliError(f"{stack} has no api_url or token; restart the local stack")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"the API URL must start with http:// or https:// (from {where})")
    return Api(url.rstrip("/"), token, where)


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


# --- output helpers --------------------------------------------------------------------------------------
def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(title=title, show_lines=False, header_style="bold", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _status(status: str) -> str:
    style = {
        "succeeded": "green",
        "failed": "red",
        "cancelled": "yellow",
        "running": "cyan",
        "queued": "blue",
    }
    return f"[{style.get(status, 'default')}]{escape(status)}[/]"


def _when(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    minutes, s = divmod(int(seconds), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}h {m}m" if hours else f"{m}m {s}s" if m else f"{s}s"


def _log_line(line: dict[str, Any]) -> str:
    level = str(line.get("level") or "info")
    style = LEVEL_STYLE.get(level, "default")
    phase = f" {escape(line['phase'])}" if line.get("phase") else ""
    return (
        f"[dim]{escape(str(line.get('ts', ''))[11:23])}[/] [{style}]{level.upper():7}[/]"
        f"[magenta]{phase}[/] [{style}]{escape(str(line.get('message', '')))}[/]"
    )


# --- commands --------------------------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--state-dir",
    default=None,
    metavar="DIR",
    help="the local stack's state dir, for stack.json (default: $SITEGEN_STATE_DIR or .sitegen)",
)
@click.pass_context
def cli(ctx: click.Context, state_dir: str | None) -> None:
    """sitegen's operator CLI, over the HTTP API."""
    ctx.obj = {"state_dir": state_dir}


def _api(ctx: click.Context) -> Api:
    return connect(ctx.obj["state_dir"])


@cli.command()
@click.argument("generation")
@click.option("--follow", "-f", is_flag=True, help="keep printing new lines until the generation ends")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls with --follow")
@click.pass_context
def logs(ctx: click.Context, generation: str, follow: bool, interval: float) -> None:
    """The log lines of GENERATION, oldest first, coloured by level."""
    api = _api(ctx)
    after = ""
    while True:
        page = api.call("GET", f"/generations/{_quote(generation)}/logs?limit=500&after={_quote(after)}")
        for line in page["items"]:
            out.print(_log_line(line))
        after = page["next_cursor"]
        if page["items"]:
            continue  # there may be more right away
        if not follow:
            return
        if page["generation_status"] in FINISHED:
            gen = api.call("GET", f"/generations/{_quote(generation)}")
            _finish_line(api, gen)
            return
        time.sleep(interval)


def _finish_line(api: Any, gen: dict[str, Any]) -> None:
    """The outcome: the order's live address when this version is live, else the version's preview."""
    if gen["status"] == "succeeded":
        order = api.call("GET", f"/orders/{_quote(gen['order_id'])}")
        if order.get("live_generation_id") == gen["id"]:
            out.print(f"{_status('succeeded')}: live at {escape(str(order['live_url']))}")
        else:
            out.print(
                f"{_status('succeeded')}: preview at {escape(str(gen.get('site_url')))} (not published)"
            )
    else:
        out.print(f"{_status(gen['status'])}: {escape(str(gen.get('error') or 'no reason given'))}")


@cli.command()
@click.argument("order")
@click.option("--wait", is_flag=True, help="show progress until it ends; exit 1 unless it succeeded")
@click.option("--timeout", default=3600.0, show_default=True, help="seconds to wait at most")
@click.option("--interval", default=0.5, show_default=True, help="seconds between polls")
@click.pass_context
def generate(ctx: click.Context, order: str, wait: bool, timeout: float, interval: float) -> None:
    """Start a generation of ORDER (an order id)."""
    api = _api(ctx)
    gen = api.call("POST", f"/orders/{_quote(order)}/generations")
    out.print(f"generation {gen['id']} {_status(gen['status'])} for order {escape(order)}")
    if not wait:
        return
    gen = _watch(api, gen, timeout, interval)
    _finish_line(api, gen)
    if gen["status"] != "succeeded":
        sys.exit(1)


def _phase_done(phase: dict[str, Any]) -> tuple[int, int]:
    parts = phase.get("parts") or []
    if parts:
        return phase.get("parts_done", 0), len(parts)
    return (1 if phase["status"] == "succeeded" else 0), 1


def _phase_text(phase: dict[str, Any]) -> str:
    done, total = _phase_done(phase)
    parts = f" {done}/{total} {NOUN.get(phase['name'], 'parts')}" if phase.get("parts") else ""
    attempts = f" (attempt {phase['attempts']})" if phase.get("attempts", 0) > 1 else ""
    return f"{phase['name']}: {phase['status']}{parts}{attempts}"


def _watch(api: Api, gen: dict[str, Any], timeout: float, interval: float) -> dict[str, Any]:
    """Poll until the generation ends: a live progress bar per phase on a terminal, one line per change
    otherwise (a log file, a CI job)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    deadline = time.monotonic() + timeout
    gid = gen["id"]
    if not out.is_terminal:
        shown: dict[str, str] = {}
        while True:
            for phase in gen["phases"]:
                text = _phase_text(phase)
                if phase["status"] != "pending" and shown.get(phase["name"]) != text:
                    out.print(escape(text))
                    shown[phase["name"]] = text
            if gen["status"] in FINISHED:
                return gen
            _sleep_or_give_up(deadline, interval, gid)
            gen = api.call("GET", f"/generations/{gid}")
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out, transient=False) as progress:
        overall = progress.add_task("[bold]generation", total=len(gen["phases"]))
        tasks = {p["name"]: progress.add_task(p["name"], total=_phase_done(p)[1]) for p in gen["phases"]}
        while True:
            for phase in gen["phases"]:
                done, total = _phase_done(phase)
                progress.update(
                    tasks[phase["name"]],
                    completed=done,
                    total=total,
                    description=escape(_phase_text(phase))[:28],
                )
            progress.update(
                overall,
                completed=round(gen["progress"] * len(gen["phases"]), 2),
                description=f"[bold]generation {escape(gen['status'])}",
            )
            if gen["status"] in FINISHED:
                return gen
            _sleep_or_give_up(deadline, interval, gid)
            gen = api.call("GET", f"/generations/{gid}")


def _sleep_or_give_up(deadline: float, interval: float, gid: str) -> None:
    if time.monotonic() > deadline:
        raise CliError(f"generation {gid} has not ended yet (gave up waiting; it goes on)")
    time.sleep(interval)


@cli.command()
@click.pass_context
def queue(ctx: click.Context) -> None:
    """Queue depth, in flight, delayed, dead letters, oldest age."""
    q = _api(ctx).call("GET", "/queue")
    table = _table("what", "value", title=f"queue {q['queue']}")
    dead = f"[bold red]{q['dead_letter']}[/]" if q["dead_letter"] else "0"
    for what, value in (
        ("depth (visible)", str(q["visible"])),
        ("in flight", str(q["in_flight"])),
        ("delayed", str(q["delayed"])),
        ("dead letters", dead),
        ("oldest waiting", _age(q["oldest_age_seconds"])),
    ):
        table.add_row(what, value)
    out.print(table)


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Findings as a table: dependencies down, AI configuration problems. Exit 1 if any is an error."""
    api = _api(ctx)
    findings: list[dict[str, Any]] = []
    health = _health(api)
    for name, state in sorted((health.get("checks") or {}).items()):
        if state != "ok":
            findings.append(
                {
                    "severity": "error",
                    "code": "dependency_down",
                    "where": name,
                    "message": f"{name} is {state}",
                }
            )
    for f in api.call("GET", "/ai/doctor")["findings"]:
        where = " ".join(x for x in (f.get("task"), (f.get("config_id") or "")[:8]) if x)
        findings.append(
            {"severity": f["severity"], "code": f["code"], "where": where, "message": f["message"]}
        )
    if not findings:
        out.print("[green]No findings.[/] Every dependency is up; the AI configuration has no problems.")
        return
    order = {"error": 0, "warning": 1, "info": 2}
    table = _table("severity", "code", "where", "finding")
    for f in sorted(findings, key=lambda f: order.get(f["severity"], 3)):
        style = SEVERITY_STYLE.get(f["severity"], "default")
        table.add_row(
            f"[{style}]{escape(f['severity'])}[/]",
            escape(f["code"]),
            escape(f["where"]),
            escape(f["message"]),
        )
    out.print(table)
    if any(f["severity"] == "error" for f in findings):
        sys.exit(1)


def _health(api: Api) -> dict[str, Any]:
    """/health answers 503 with the same body when something is down."""
    try:
        return api.call("GET", "/health")
    except CliError as exc:
        if "HTTP 503" not in exc.message:
            raise
    request = urllib.request.Request(api.url + "/health", headers={"Accept": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as again:
        try:
            return json.loads(again.read())
        except ValueError:
            pass
    except (urllib.error.URLError, OSError):
        pass
    return {"checks": {"api": "down: /health did not answer"}}


@cli.command()
@click.pass_context
def redrive(ctx: click.Context) -> None:
    """Send the dead letters back; generations they had failed are resumed."""
    r = _api(ctx).call("POST", "/queue/dead-letter/redrive")
    out.print(
        f"redriven {r['redriven']}: sent {r['sent']}, resumed {len(r['resumed_generations'])} generation(s), "
        f"skipped {r['skipped']}, kept {r['kept']}"
    )
    for gid in r["resumed_generations"]:
        out.print(f"  resumed {gid}")
    if r["kept"]:
        out.print(f"[yellow]{r['kept']} could not be handled now; run redrive again later[/]")


@cli.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.pass_context
def orders(ctx: click.Context, limit: int) -> None:
    """The newest orders."""
    page = _api(ctx).call("GET", f"/orders?limit={limit}")
    if not page["items"]:
        out.print("No orders yet.")
        return
    table = _table("id", "business", "segment", "locale", "external ref", "created")
    for o in page["items"]:
        table.add_row(
            o["id"],
            escape(o["business_name"]),
            escape(o["segment"]),
            o["locale"],
            escape(o.get("external_ref") or "-"),
            _when(o["created_at"]),
        )
    out.print(table)


@cli.command()
@click.argument("order")
@click.pass_context
def generations(ctx: click.Context, order: str) -> None:
    """ORDER's generations, newest first."""
    items = _api(ctx).call("GET", f"/orders/{_quote(order)}/generations")["items"]
    if not items:
        out.print(f"Order {escape(order)} has no generations yet.")
        return
    table = _table("id", "status", "phase", "progress", "created", "site or reason")
    for g in items:
        table.add_row(
            g["id"],
            _status(g["status"]),
            escape(g.get("current_phase") or "-"),
            f"{round(g['progress'] * 100)}%",
            _when(g["created_at"]),
            escape(g.get("site_url") or g.get("error") or ""),
        )
    out.print(table)


def main(argv: list[str] | None = None) -> NoReturn:
    try:
        cli.main(args=argv, prog_name="python -m infra.cli", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        err.print(f"error: {escape(exc.format_message())} (see --help)", markup=True)
        sys.exit(2)
    except click.ClickException as exc:
        err.print(f"error: {escape(exc.format_message())}")
        sys.exit(1)
    except click.Abort:
        err.print("error: interrupted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("error: interrupted")
        sys.exit(130)
    sys.exit(0)


if __name__ == "__main__":
    main()
