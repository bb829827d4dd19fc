"""The budget (issue 7) checked against the results, and the results as a readable table."""

from __future__ import annotations

from typing import Any

from bench.phases import MAX_SQS_SENDS, MAX_STATEMENTS, MAX_TRANSACTIONS, PHASE_LIMITS, limits

MAX_IMPORT_RATIO = 1.3
MAX_WORKER_RSS_MB = 200
MAX_POLL_TIME_RATIO = 1.2  # the median poll of each size, polled in turn
MAX_FIRST_LINE_P95_S = 1.0


def _row(name: str, measured: Any, budget: str, met: bool | None, note: str = "") -> dict[str, Any]:
    return {"what": name, "measured": measured, "budget": budget, "met": met, "note": note}


def _at_most(name: str, measured: float, limit: float, note: str = "") -> dict[str, Any]:
    return _row(name, measured, f"<= {limit:g}", measured <= limit, note)


def budget(r: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    if "phases" in r:
        ph = r["phases"]["phases"]
        worst = lambda m: max(p[m]["max"] for p in ph.values())  # noqa: E731
        # publish also switches the live address: its own limits (bench/phases.py PHASE_LIMITS)
        usual = lambda m: max([p[m]["max"] for n, p in ph.items() if n not in PHASE_LIMITS] or [0])  # noqa: E731
        rows += [
            _row(
                "Postgres transactions per phase (max)",
                usual("transactions"),
                f"<= {MAX_TRANSACTIONS}",
                usual("transactions") <= MAX_TRANSACTIONS,
            ),
            _row(
                "SQL statements per phase (max)",
                usual("statements"),
                f"<= {MAX_STATEMENTS}",
                usual("statements") <= MAX_STATEMENTS,
            ),
            *[
                _row(
                    f"{name}: transactions, statements (max)",
                    f"{ph[name]['transactions']['max']}, {ph[name]['statements']['max']}",
                    f"<= {limits(name)[0]}, <= {limits(name)[1]}",
                    ph[name]["transactions"]["max"] <= limits(name)[0]
                    and ph[name]["statements"]["max"] <= limits(name)[1],
                    "it also makes the version live: the order's row, then the live pointer's transaction",
                )
                for name in PHASE_LIMITS
                if name in ph
            ],
            _row(
                "SQS sends per phase (max)",
                worst("sqs_sends"),
                f"<= {MAX_SQS_SENDS}",
                worst("sqs_sends") <= MAX_SQS_SENDS,
            ),
            _row(
                "writes of free-text log lines per phase (max)",
                worst("ddb_free_text_writes"),
                "<= 1",
                worst("ddb_free_text_writes") <= 1 and worst("ddb_single_puts_free_text") == 0,
                "buffered, written in one TransactWriteItems (100 lines a call)",
            ),
            _row(
                "a statement repeated within one phase (N+1)",
                worst("repeated_sql"),
                "= 0",
                worst("repeated_sql") == 0,
            ),
            _row(
                "list routes: statements with few vs many rows",
                f"{sum(v['no_n_plus_one'] for v in r['phases']['n_plus_one'].values())} of "
                f"{len(r['phases']['n_plus_one'])} equal",
                "all equal",
                all(v["no_n_plus_one"] for v in r["phases"]["n_plus_one"].values()),
                ", ".join(f"{k} {v['few']}/{v['many']}" for k, v in r["phases"]["n_plus_one"].items()),
            ),
        ]
    if "coldstart" in r:
        c = r["coldstart"]
        rows += [
            _row(
                "import app / import of its dependencies alone",
                c["ratio"],
                f"<= {MAX_IMPORT_RATIO}",
                c["ratio"] <= MAX_IMPORT_RATIO,
                f"CPU {c['import_app_ms']} ms / {c['import_deps_ms']} ms (fastest of {c['runs']})",
            ),
            _row("network or database I/O at import", len(c["io_at_import"]), "= 0", not c["io_at_import"]),
            _row(
                "heavy modules imported by `import app`",
                len(c["should_be_lazy_but_imported"]),
                "= 0",
                not c["should_be_lazy_but_imported"],
                ", ".join(
                    sorted(
                        {
                            m.split(".")[0] if not m.startswith("chalicelib") else m
                            for m in c["should_be_lazy_but_imported"]
                        }
                    )
                ),
            ),
        ]
    if "e2e" in r:
        e = r["e2e"]
        peak = max(v["peak"] for k, v in e["rss_mb"].items() if k.startswith("worker-"))
        rows += [
            _row(
                "worker peak RSS through whole generations (MB)",
                peak,
                f"< {MAX_WORKER_RSS_MB}",
                peak < MAX_WORKER_RSS_MB,
                f"{e['generations']} generations",
            ),
            _row(
                "first visible log line p95 (s), polling every 1 s",
                e["first_line_visible"]["p95_s"],
                f"< {MAX_FIRST_LINE_P95_S}",
                e["first_line_visible"]["p95_s"] < MAX_FIRST_LINE_P95_S,
            ),
        ]
    if "realistic" in r:
        x = r["realistic"]
        rows += [
            _row(
                "real-model speed: time to succeeded / critical path (max)",
                x["ratio_max"],
                f"<= {x['budget']['ratio']}",
                x["ratio_max"] is not None and x["ratio_max"] <= x["budget"]["ratio"],
                f"median {x['ratio_median']}, {x['generations']} generations",
            ),
            _row(
                "real-model speed: time to succeeded (s, max)",
                x["seconds_max"],
                f"<= {x['budget']['seconds']:g}",
                x["seconds_max"] <= x["budget"]["seconds"],
                f"one call per phase: ~{x['one_call_per_phase_estimate_s']} s",
            ),
        ]
    if "audit" in r:
        a, limit = r["audit"], r["audit"]["budget"]
        rows += [
            _at_most(
                "review gate on hostile HTML (s, worst page)",
                a["worst_hostile_s"],
                limit["audit_s"],
                "inputs that took 13 s to over 4 min before issue 12",
            ),
            _at_most(
                "review gate on a site over the size limit (ms)",
                a["oversize_site_ms"],
                limit["oversize_ms"],
                "refused before parsing",
            ),
        ]
    if "logpoll" in r:
        lp = r["logpoll"]
        sizes = sorted(lp["sizes"].values(), key=lambda s: s["lines"])
        small, large = sizes[0]["last_10"], sizes[-1]["last_10"]
        label = f"{sizes[0]['lines']} vs {sizes[-1]['lines']} lines"
        rows += [
            _row(
                f"log poll, last 10 of {label}: DynamoDB calls",
                f"{small['ddb_calls']} / {large['ddb_calls']}",
                "1 Query each",
                small["ddb_calls_by_operation"] == large["ddb_calls_by_operation"] == {"dynamodb.Query": 1},
            ),
            _row(
                f"log poll, last 10 of {label}: items read",
                f"{small['items_read']} / {large['items_read']}",
                "= returned, same",
                lp["same_cost_for_any_size"] and small["items_read"] == small["returned"],
            ),
            _row(
                "log poll time, large / small (route, outside DynamoDB)",
                lp["time_ratio_outside_aws"],
                f"<= {MAX_POLL_TIME_RATIO}",
                lp["time_ratio_outside_aws"] <= MAX_POLL_TIME_RATIO,
            ),
            _row(
                "log poll time, large / small (with moto's Query)",
                lp["time_ratio_large_vs_small"],
                f"<= {MAX_POLL_TIME_RATIO}",
                lp["time_ratio_large_vs_small"] <= MAX_POLL_TIME_RATIO,
                "moto reads the key range by bisection (infra/moto_server.py), as DynamoDB does",
            ),
        ]
    return rows


# --- rendering ---------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def numeric(c: str) -> bool:
        try:
            float(c.replace(",", ""))
            return True
        except ValueError:
            return False

    def line(row: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i and numeric(c) else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=False))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _audit_section(a: dict[str, Any] | None) -> list[str]:
    if a is None:
        return []
    rows = [[name, x["bytes"], x["seconds"]] for name, x in a["hostile"].items()]
    return [
        "",
        f"7. Review gate on hostile HTML: one check_site of the standard site, the fastest of {a['repeats']}",
        _table(["index.html ends with", "bytes", "seconds"], rows),
        f"   the clean site: {a['clean_site_s']} s; a site over the size limit: {a['oversize_site_ms']} ms",
    ]


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    parts = [
        f"sitegen benchmarks ({r['mode']}), {r['date']}, commit {m['commit']}",
        f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}; "
        f"load average at start {m['load_average_at_start'][0]:.2f}",
    ]
    if "phases" in r:
        ph = r["phases"]
        rows = []
        for name, p in ph["phases"].items():
            calls = ", ".join(f"{k.split('.', 1)[1]} {v:g}" for k, v in p["aws_calls"].items())
            rows.append(
                [
                    name,
                    p["transactions"]["max"],
                    p["statements"]["max"],
                    p["round_trips"]["max"],
                    p["sqs_sends"]["max"],
                    calls,
                    p["cpu_ms_own"]["mean"],
                    p["cpu_ms"]["mean"],
                    p["wall_ms"]["mean"],
                ]
            )
        t = ph["generation_total"]
        rows.append(
            [
                "generation",
                t["transactions"],
                t["statements"],
                t["round_trips"],
                t["sqs_sends"],
                ", ".join(f"{k.split('.', 1)[1]} {v:g}" for k, v in ph["aws_calls_per_generation"].items()),
                t["cpu_ms_own"],
                t["cpu_ms"],
                t["wall_ms"],
            ]
        )
        parts += [
            "",
            f"1. Per phase, AI call excluded (offline provider; mean of {ph['generations']} generations, "
            "counts are the max)",
            _table(
                [
                    "phase",
                    "tx",
                    "stmts",
                    "pg round trips",
                    "SQS sends",
                    "AWS calls",
                    "CPU own ms",
                    "CPU all ms",
                    "wall ms",
                ],
                rows,
            ),
            "   CPU own = process CPU minus time inside AWS calls (botocore + moto's emulation) and the "
            "offline provider.",
            "   pg round trips: waits on the server's answer (pg8000 uses 3 per parameterised statement; "
            "pre-ping, BEGIN and COMMIT included).",
        ]
        api_rows = [
            [
                name,
                p["transactions"]["max"],
                p["statements"]["max"],
                ", ".join(f"{k.split('.', 1)[1]} {v:g}" for k, v in p["aws_calls"].items()),
                p["cpu_ms_own"]["mean"],
                p["wall_ms"]["mean"],
            ]
            for name, p in ph["api"].items()
        ]
        parts += [
            "",
            "   API requests of one generation",
            _table(["route", "tx", "stmts", "AWS calls", "CPU own ms", "wall ms"], api_rows),
        ]
        cold = ph["cold_first_generation"]
        extra = cold.get("brief", {})
        if extra:
            parts.append(
                f"   a container's first message (brief): {extra['transactions']} tx, {extra['statements']} "
                "statements (the AI config check runs once per container)"
            )
    if "coldstart" in r:
        c = r["coldstart"]
        fi = c["first_invocation"]
        w = c["wall"]
        parts += [
            "",
            f"2. Cold start: CPU ms, the fastest of {c['runs']} fresh processes each, run in turn "
            "(wall ms beside it)",
            _table(
                ["", "CPU ms", "wall ms", "ratio", "peak RSS MB"],
                [
                    ["import of app's dependencies alone", c["import_deps_ms"], w["import_deps_ms"], "", ""],
                    ["import app", c["import_app_ms"], w["import_app_ms"], c["ratio"], ""],
                    [
                        "import of the dependencies of import + first invocation",
                        fi["deps_of_invocation_import_ms"],
                        fi["deps_of_invocation_import_wall_ms"],
                        "",
                        fi["deps_maxrss_mb"],
                    ],
                    [
                        f"import app + first invocation ({fi['route']} -> {fi['status']})",
                        fi["import_plus_first_ms"],
                        fi["import_plus_first_wall_ms"],
                        fi["ratio"],
                        fi["maxrss_mb"],
                    ],
                ],
            ),
            f"   I/O at import: {len(c['io_at_import'])} connections; modules loaded by `import app`: "
            f"{c['modules_at_import']['total']} ({c['modules_at_import']['third_party']} third-party, "
            f"{c['modules_at_import']['own']} own)",
            "   import cost by package (-X importtime, self ms): "
            + ", ".join(f"{k} {v}" for k, v in list(c["importtime"]["by_package_ms"].items())[:8]),
        ]
    if "e2e" in r:
        e = r["e2e"]
        rows = [
            [label, e[key]["p50_s"], e[key]["p95_s"], e[key]["max_s"]]
            for label, key in [
                ("first log line visible (dashboard poll)", "first_line_visible"),
                ("first log line timestamp", "first_line_written"),
                ("first worker line visible (phase_started)", "first_worker_line_visible"),
                ("first worker line timestamp", "first_worker_line_written"),
                ("succeeded visible", "succeeded_visible"),
                ("succeeded (finished_at)", "succeeded_at"),
            ]
        ]
        parts += [
            "",
            f"3. End to end on the local stack: {e['generations']} generations, {e['workers']} workers, "
            f"{e['watchers']} concurrent watchers polling every {e['poll_interval_s']} s",
            f"   {e['generations_per_minute']} generations/minute ({e['elapsed_s']} s); "
            f"{e['api_requests_per_generation_watching']} API requests per watched generation",
            _table(["from POST .../generations to", "p50 s", "p95 s", "max s"], rows),
            "   RSS MB (idle -> peak): "
            + ", ".join(f"{k} {v['idle']} -> {v['peak']}" for k, v in e["rss_mb"].items()),
        ]
    if "logpoll" in r:
        lp = r["logpoll"]
        rows = []
        for size in lp["sizes"].values():
            for kind in ("last_10", "nothing_new"):
                p = size[kind]
                rows.append(
                    [
                        f"{size['lines']} lines, {kind.replace('_', ' ')}",
                        p["returned"],
                        p["ddb_calls"],
                        p["items_read"],
                        p["items_scanned"],
                        p["rru"],
                        p["statements"],
                        p["median_ms"],
                        p["median_ms_outside_aws"],
                        p["median_ms_in_aws_call"],
                    ]
                )
        parts += [
            "",
            f"4. Log polling: GET /generations/{{id}}/logs?after=<cursor>&limit={lp['page_limit']}",
            _table(
                [
                    "generation with",
                    "returned",
                    "DDB calls",
                    "items read",
                    "scanned",
                    "RRU",
                    "SQL",
                    "ms",
                    "ms outside DDB",
                    "ms in moto",
                ],
                rows,
            ),
            f"   ms: the median of {lp.get('repeats', '?')} polls of each, made in turn; the local stack's moto finds the key range by bisection, "
            "as DynamoDB reads it (infra/moto_server.py)",
        ]
    if "cost" in r:
        co = r["cost"]
        n = co["counts_per_generation"]
        rows = [[k, f"{v:.4f}"] for k, v in co["per_1000_sites_usd"].items()]
        rows.append(["total", f"{co['total_per_1000_sites_usd']:.4f}"])
        parts += [
            "",
            f"5. Cost per 1,000 sites, AI tokens excluded (USD, us-east-1, prices of {co['prices_date']}, "
            f"{n['memory_mb']} MB functions)",
            _table(["item", "USD / 1,000 sites"], rows),
            "   orchestration alone: "
            + "; ".join(f"{k}: ${v:.4f}" for k, v in co["orchestration_per_1000_sites_usd"].items()),
            "   storage a month: "
            + "; ".join(f"{k}: ${v:.6f}" for k, v in co["storage_per_1000_sites_per_month_usd"].items()),
            "   sensitivity: "
            + "; ".join(f"{k}: +${v:.4f}" for k, v in co["sensitivity_per_1000_sites_usd"].items()),
        ]
    if "realistic" in r:
        x = r["realistic"]
        rows = [
            [
                n + 1,
                run["seconds"],
                run["critical_path_s"],
                run["ratio"],
                run["model_calls"],
                run["tokens_out"],
                " ".join(f"{k} {v}" for k, v in run["steps_s"].items()),
            ]
            for n, run in enumerate(x["runs"])
        ]
        parts += [
            "",
            f"6. Real-model speed: the standard order, model simulator at {x['sim_ttft_s']} s + "
            f"{x['sim_tokens_per_s']:g} tokens/s, {x['workers']} workers",
            _table(
                [
                    "run",
                    "to succeeded (s)",
                    "critical path (s)",
                    "ratio",
                    "model calls",
                    "tokens out",
                    "steps (s)",
                ],
                rows,
            ),
            f"   one call per phase at the same pace (estimate): {x['one_call_per_phase_estimate_s']} s",
        ]
    parts += _audit_section(r.get("audit"))
    if r.get("budget"):
        rows = [
            [b["what"], b["measured"], b["budget"], "met" if b["met"] else "MISSED", b["note"]]
            for b in r["budget"]
        ]
        parts += ["", "Budget", _table(["", "measured", "budget", "", "note"], rows)]
    return "\n".join(parts)
