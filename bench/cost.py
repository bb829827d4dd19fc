"""Cost per 1,000 generated sites, AI tokens excluded: the calls counted per generation (bench/phases.py,
bench/e2e.py) times AWS's published on-demand prices (us-east-1). Postgres is a fixed monthly cost (an
instance, not per request) and is left out, as is the free tier.

Durations: each invocation is billed for the handler's wall time measured here, in-process, with a local
PostgreSQL and moto standing in for AWS (bench/phases.py); `SENSITIVITY` says what every extra 100 ms
per invocation, and every second spent waiting for an AI provider, adds.
"""

from __future__ import annotations

from typing import Any

PRICES_DATE = "2026-11-25"  # the date this table was written; see docs/benchmarks.md for the sources
PRICES: dict[str, tuple[float, str]] = {
    "lambda_gb_s": (0.0000166667, "Lambda x86, per GB-second"),
    "lambda_request": (0.20 / 1e6, "Lambda, per request ($0.20 per 1M)"),
    "api_request": (3.50 / 1e6, "API Gateway REST API, per request ($3.50 per 1M, first 333M)"),
    "sqs_request": (0.40 / 1e6, "SQS standard, per request of up to 64 KB ($0.40 per 1M)"),
    "ddb_wru": (0.625 / 1e6, "DynamoDB on-demand, per write request unit ($0.625 per 1M, since 2024-11-01)"),
    "ddb_rru": (0.125 / 1e6, "DynamoDB on-demand, per read request unit ($0.125 per 1M, since 2024-11-01)"),
    "s3_put": (0.005 / 1000, "S3 Standard PUT/COPY/POST/LIST ($0.005 per 1,000)"),
    "s3_get": (0.0004 / 1000, "S3 Standard GET ($0.0004 per 1,000)"),
    "logs_gb": (0.50, "CloudWatch Logs ingestion, per GB"),
    "s3_gb_month": (0.023, "S3 Standard storage, per GB-month (first 50 TB)"),
    "ddb_gb_month": (0.25, "DynamoDB Standard table storage, per GB-month"),
    "sfn_transition": (0.025 / 1000, "Step Functions Standard, per state transition ($0.025 per 1,000)"),
}
LAMBDA_REPORT_BYTES = 330  # START, END and REPORT lines Lambda writes per invocation (approximate)


def _price(key: str) -> float:
    return PRICES[key][0]


def per_generation(
    phases: dict[str, Any], e2e: dict[str, Any] | None, memory_mb: int = 256
) -> dict[str, Any]:
    """Counts per generated site, from the measured figures."""
    gb = memory_mb / 1024
    phase_rows = phases["phases"]
    api_rows = phases["api"]
    worker_invocations = len(phase_rows)
    worker_s = sum(p["wall_ms"]["mean"] for p in phase_rows.values()) / 1000
    # the dashboard's polls while a user watches (measured on the local stack), else one of each
    status_polls = e2e.get("status_polls_per_generation_watching", 1.0) if e2e else 1.0
    logs_polls = e2e.get("log_polls_per_generation_watching", 1.0) if e2e else 1.0
    api_requests = 2 + status_polls + logs_polls  # POST /orders, POST /orders/{id}/generations, the polls
    api_s = (
        api_rows["POST /orders"]["wall_ms"]["mean"]
        + api_rows["POST /orders/{id}/generations"]["wall_ms"]["mean"]
        + status_polls * api_rows["GET /generations/{id}"]["wall_ms"]["mean"]
        + logs_polls * api_rows["GET /generations/{id}/logs"]["wall_ms"]["mean"]
    ) / 1000
    total = phases["generation_total"]
    start = api_rows["POST /orders/{id}/generations"]
    sends = total["sqs_sends"] + start["sqs_sends"]["mean"]
    wru = total["ddb_wru"] + start["ddb_wru"]["mean"]
    rru_per_poll = api_rows["GET /generations/{id}/logs"].get("ddb_rru", {}).get("mean", 0.5) or 0.5
    log_bytes = total["stdout_bytes"] + (worker_invocations + api_requests) * LAMBDA_REPORT_BYTES
    return {
        "memory_mb": memory_mb,
        "worker_invocations": worker_invocations,
        "worker_gb_s": round(worker_s * gb, 5),
        "api_requests": round(api_requests, 1),
        "api_gb_s": round(api_s * gb, 5),
        # every message: sent once, received once and deleted once by Lambda's event source mapping
        "sqs_requests": round(sends * 3, 1),
        # reads: the watchers' polls, and the writers' (each write reads the generation's last line number)
        "ddb_wru": wru,
        "ddb_rru": round(logs_polls * rru_per_poll + total["ddb_rru"] + start["ddb_rru"]["mean"], 2),
        "s3_puts": total["s3_puts"],
        "site_bytes": total.get("s3_bytes", 0),
        "log_bytes": round(log_bytes),
        "log_line_bytes": total["ddb_bytes_written"] + start["ddb_bytes_written"]["mean"],
        "sfn_transitions": worker_invocations,  # one Task state per phase, in a Standard state machine
        "status_poll_gb_s": round(api_rows["GET /generations/{id}"]["wall_ms"]["mean"] / 1000 * gb, 6),
        "log_poll_gb_s": round(api_rows["GET /generations/{id}/logs"]["wall_ms"]["mean"] / 1000 * gb, 6),
        "rru_per_poll": rru_per_poll,
    }


GENERATION_EVERY = 30  # frontend/ui/order_watch.js: the generation is fetched at least every 30 polls
WATCHING_QUIET = "each minute a user watches the dashboard while nothing changes (a log poll a second)"
WATCHING_BUSY = (
    "each minute a user watches while the generation changes every second (a log and a status poll)"
)


def _watching(counts: dict[str, Any], status_polls: float) -> float:
    """USD for a minute of the dashboard's polling: 60 log polls, and the generation when it moved."""
    requests = 60 + status_polls
    return (
        requests * (_price("api_request") + _price("lambda_request"))
        + 60 * (counts["rru_per_poll"] * _price("ddb_rru") + counts["log_poll_gb_s"] * _price("lambda_gb_s"))
        + status_polls * counts["status_poll_gb_s"] * _price("lambda_gb_s")
    )


def price(counts: dict[str, Any]) -> dict[str, Any]:
    lines = {
        "Lambda requests (worker + API)": (counts["worker_invocations"] + counts["api_requests"])
        * _price("lambda_request"),
        "Lambda duration (worker)": counts["worker_gb_s"] * _price("lambda_gb_s"),
        "Lambda duration (API)": counts["api_gb_s"] * _price("lambda_gb_s"),
        "API Gateway requests": counts["api_requests"] * _price("api_request"),
        "SQS requests": counts["sqs_requests"] * _price("sqs_request"),
        "DynamoDB writes": counts["ddb_wru"] * _price("ddb_wru"),
        "DynamoDB reads": counts["ddb_rru"] * _price("ddb_rru"),
        "S3 puts": counts["s3_puts"] * _price("s3_put"),
        "CloudWatch Logs": counts["log_bytes"] / 1e9 * _price("logs_gb"),
    }
    total = sum(lines.values())
    orchestration_sqs = lines["SQS requests"]
    sfn = counts["sfn_transitions"] * _price("sfn_transition")
    gb = counts["memory_mb"] / 1024
    return {
        "per_1000_sites_usd": {k: round(v * 1000, 4) for k, v in lines.items()},
        "total_per_1000_sites_usd": round(total * 1000, 4),
        "orchestration_per_1000_sites_usd": {
            "SQS (send + receive + delete per phase)": round(orchestration_sqs * 1000, 4),
            "Step Functions Standard (one transition per phase)": round(sfn * 1000, 4),
        },
        "storage_per_1000_sites_per_month_usd": {
            "S3 (the published site)": round(counts["site_bytes"] * 1000 / 1e9 * _price("s3_gb_month"), 6),
            "DynamoDB (log lines, until their 30-day TTL)": round(
                counts["log_line_bytes"] * 1000 / 1e9 * _price("ddb_gb_month"), 6
            ),
        },
        "sensitivity_per_1000_sites_usd": {
            "each extra 100 ms per worker invocation": round(
                counts["worker_invocations"] * 0.1 * gb * _price("lambda_gb_s") * 1000, 4
            ),
            "each second a worker waits for an AI provider, per AI phase (4 of 6)": round(
                4 * 1.0 * gb * _price("lambda_gb_s") * 1000, 4
            ),
            WATCHING_QUIET: round(_watching(counts, status_polls=60 / GENERATION_EVERY) * 1000, 4),
            WATCHING_BUSY: round(_watching(counts, status_polls=60) * 1000, 4),
        },
        "prices": {k: {"usd": v, "what": what} for k, (v, what) in PRICES.items()},
        "prices_date": PRICES_DATE,
    }


def run(phases: dict[str, Any], e2e: dict[str, Any] | None, memory_mb: int = 256) -> dict[str, Any]:
    counts = per_generation(phases, e2e, memory_mb)
    return {"counts_per_generation": counts, **price(counts)}
