"""The model simulator's pure parts: the critical path, seeded faults, spoiled answers, reading requests;
and `python -m infra.model_sim` as the local stack runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from chalicelib.ai.prompts import DATA_CLOSE, DATA_OPEN
from infra.model_sim import critical_path, find_data, step_durations
from infra.sim_faults import (
    VAGUE_LINK,
    VAGUE_LINK_FINDING,
    Faults,
    break_a11y,
    break_link_text,
    break_schema,
    review_notes,
)
from infra.sim_wire import read_call

ROOT = Path(__file__).resolve().parents[2]


def call(
    schema: str, part: str | None, started: float, seconds: float, finished: bool = True
) -> dict[str, object]:
    return {
        "schema": schema,
        "part": part,
        "started": started,
        "finished": started + seconds if finished else None,
    }


def test_critical_path_sums_the_longest_part_of_each_step_and_retries_add_up() -> None:
    log = [
        call("Ping", None, 0, 9),  # not part of a generation
        call("Brief", None, 0, 1),
        call("Sitemap", None, 1, 0.5),
        call("Sitemap", None, 2, 1.5),  # a 429, then the answer: 2 s
        call("PageCopy", "index", 3, 2),
        call("PageCopy", "about", 3, 3),
        call("PageCopy", "index", 5, 1.5),  # index repaired: 3.5 s, the longest content part
        call("PageMarkup", "index", 7, 4),
        call("Stylesheet", "styles", 7, 6),
        call("PageMarkup", "about", 7, 2),
        call("PageMarkup", "about", 9, 5),  # 7 s: the longest code part
        call("Review", None, 20, 1),
        call("Review", None, 21, 8, finished=False),  # still running: not counted
    ]
    assert step_durations(log) == {"brief": 1, "sitemap": 2, "content": 3.5, "code": 7, "review": 1}
    assert critical_path(log) == pytest.approx(14.5)
    assert critical_path([]) == 0


def test_critical_path_takes_the_whole_phase_calls_too() -> None:
    log = [call("Brief", None, 0, 1), call("Content", None, 1, 4), call("SiteFiles", None, 5, 20)]
    assert critical_path(log) == pytest.approx(25)


def test_fault_draws_are_seeded_and_only_apply_where_they_may() -> None:
    def draws(seed: int) -> list[str | None]:
        faults = Faults(seed, rate_429=0.3, rate_500=0.3)
        return [faults.draw(repair=False, markup=False, fixing=False) for _ in range(40)]

    assert draws(7) == draws(7) != draws(8)
    assert {"429", "500", None} == set(draws(7))
    faults = Faults(0, rate_bad_json=1.0, rate_a11y=1.0)
    assert (faults.draw(repair=False, markup=True, fixing=False) or "").startswith("bad_json")
    assert faults.draw(repair=True, markup=True, fixing=False) == "a11y"
    assert faults.draw(repair=True, markup=True, fixing=True) is None
    assert faults.draw(repair=True, markup=False, fixing=False) is None
    vague = Faults(0, rate_vague_link=1.0)
    assert vague.draw(repair=False, markup=True, fixing=False) == "vague_link"
    assert vague.draw(repair=False, markup=True, fixing=True) is None  # a rewrite with findings is clean
    assert vague.draw(repair=False, markup=False, fixing=False) is None
    with pytest.raises(ValueError, match="rate_typo"):
        faults.set(rate_typo=0.5)
    with pytest.raises(ValueError, match="0 to 1"):
        faults.set(rate_500=1.5)


def test_spoiled_answers_fail_the_schema() -> None:
    answer = {"slug": "about", "main_html": '<h1>A</h1><h2 class="x">B</h2><p>c</p><h2>D</h2>'}
    schema = {"required": ["slug", "main_html"]}
    assert break_schema(answer, schema, "missing_field") == {"main_html": answer["main_html"]}
    text = break_schema(answer, schema, "not_json")
    assert isinstance(text, str)
    with pytest.raises(ValueError):
        json.loads(text)
    assert break_a11y(answer)["main_html"] == '<h1>A</h1><h4 class="x">B</h4><p>c</p><h2>D</h2>'
    assert break_a11y({"slug": "a", "main_html": "<h1>A</h1>"})["main_html"].endswith("<h4>More</h4>")


def test_the_simulated_reviewer_flags_each_page_with_a_vague_link() -> None:
    markup = {"slug": "sobre", "main_html": "<h1>Sobre</h1><p>Texto.</p>"}
    broken = break_link_text(markup)["main_html"]
    assert broken.startswith(markup["main_html"]) and VAGUE_LINK in broken
    site = {
        "files": [
            {"path": "index.html", "content_type": "text/html", "body": "<main><h1>Oi</h1></main>"},
            {"path": "sobre.html", "content_type": "text/html", "body": f"<main>{broken}</main>"},
            {"path": "styles.css", "content_type": "text/css", "body": VAGUE_LINK},  # no page: not flagged
        ]
    }
    notes: dict[str, Any] = {
        "passed": True,
        "checked_files": 3,
        "findings": [{"severity": "warning", "file": "x", "message": "m"}],
    }
    flagged = review_notes(notes, site)
    assert flagged["passed"] is False
    assert flagged["findings"] == [
        notes["findings"][0],
        {"severity": "error", "file": "sobre.html", "message": VAGUE_LINK_FINDING},
    ]
    clean = {"files": [{**f, "body": "<main></main>"} for f in site["files"]]}
    assert review_notes(notes, clean) == notes and review_notes(notes, None) == notes


def test_requests_of_each_api_are_read_alike() -> None:
    block = DATA_OPEN + json.dumps({"answer_schema": "Brief", "order": {}}) + DATA_CLOSE
    openai = read_call(
        "openai",
        {
            "model": "m",
            "max_completion_tokens": 9,
            "messages": [
                {"role": "system", "content": "rules"},
                {"role": "user", "content": "task " + block},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "Brief", "schema": {"type": "object"}},
            },
        },
    )
    assert (openai.system, openai.max_tokens, openai.schema_name, openai.schema) == (
        "rules",
        9,
        "Brief",
        {"type": "object"},
    )
    anthropic = read_call(
        "anthropic",
        {
            "model": "m",
            "max_tokens": 7,
            "system": "rules",
            "messages": [
                {"role": "user", "content": "task " + block},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "submit", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "invalid"}],
                },
            ],
            "tools": [
                {"name": "other", "input_schema": {}},
                {"name": "submit", "input_schema": {"required": ["a"]}},
            ],
            "tool_choice": {"type": "tool", "name": "submit"},
        },
    )
    assert (anthropic.tool, anthropic.schema, anthropic.max_tokens) == ("submit", {"required": ["a"]}, 7)
    assert find_data(anthropic) == {"answer_schema": "Brief", "order": {}}  # found behind the tool_result
    cloudflare = read_call(
        "cloudflare",
        {
            "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 5,
            "response_format": {"type": "json_schema", "json_schema": {"type": "object"}},
        },
        model="@cf/x",
    )
    assert (cloudflare.model, cloudflare.schema, cloudflare.max_tokens) == ("@cf/x", {"type": "object"}, 5)
    assert find_data(cloudflare) is None
    with pytest.raises(ValueError):
        read_call("openai", {"model": "m"})


def test_the_cli_serves_logs_to_a_file_and_loads_no_database_or_aws_code(tmp_path: Path) -> None:
    log = tmp_path / "sim.jsonl"
    probe = (
        "import sys, runpy; sys.argv = ['model_sim', '--port', '0', '--quiet', '--log', sys.argv[1]];"
        "import infra.model_sim as m;"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('sqlalchemy', 'boto3', 'pg8000', 'urllib3')"
        " or n.startswith(('chalicelib.db', 'chalicelib.services', 'chalicelib.adapters'))];"
        "print('loaded:', bad, flush=True); m.main()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", probe, str(log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "SITEGEN_SIM_TTFT": "0", "SITEGEN_SIM_TPS": "40000"},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "loaded: []"
        line = proc.stdout.readline()
        assert "(ttft 0 s, 40000 tokens/s)" in line
        url = line.split()[2]
        with urllib.request.urlopen(url + "/_sim/health", timeout=5) as response:
            assert json.loads(response.read())["tps"] == 40000
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": "ping"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "Ping", "schema": {}}},
        }
        req = urllib.request.Request(
            url + "/v1/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as response:
            assert json.loads(json.loads(response.read())["choices"][0]["message"]["content"]) == {"ok": True}
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    [entry] = [json.loads(line) for line in log.read_text().splitlines()]
    assert (entry["schema"], entry["status"], entry["api"]) == ("Ping", 200, "openai")
