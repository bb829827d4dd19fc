"""The doctor on the old system's exact mistakes, and on the other things it must catch."""

from __future__ import annotations

from chalicelib.ai.doctor import ConfigInfo, Finding, diagnose

TEMPLATE = ConfigInfo("t", "Offline template", "template", "template-v1", None, None, False, True)
ALL_TEMPLATE = {"planning": "t", "copywriting": "t", "coding": "t", "review": "t", "fallback": None}


def cfg(
    id: str,
    name: str,
    provider: str,
    model: str | None = "m",
    *,
    key: bool = True,
    enabled: bool = True,
    base_url: str | None = None,
    account_id: str | None = None,
) -> ConfigInfo:
    return ConfigInfo(id, name, provider, model, base_url, account_id, key, enabled)


def codes(findings: list[Finding]) -> set[tuple[str, str, str | None, str | None]]:
    return {(f.severity, f.code, f.config_id, f.task) for f in findings}


def test_a_healthy_setup_has_no_errors_or_warnings() -> None:
    assert diagnose([TEMPLATE], ALL_TEMPLATE) == []


def test_old_mistake_misspelled_provider() -> None:
    [finding] = [
        f
        for f in diagnose([TEMPLATE, cfg("c", "Workers", "cloudflarre")], ALL_TEMPLATE)
        if f.severity == "error"
    ]
    assert (finding.code, finding.config_id) == ("unknown_provider", "c")
    assert "'cloudflarre'" in finding.message and "Did you mean 'cloudflare'?" in finding.message
    assert finding.suggestion == "cloudflare"  # what the dashboard offers to switch to


def test_an_unknown_provider_nothing_resembles_has_no_suggestion() -> None:
    [finding] = [
        f for f in diagnose([TEMPLATE, cfg("c", "Mystery", "zzqx")], ALL_TEMPLATE) if f.severity == "error"
    ]
    assert finding.code == "unknown_provider" and finding.suggestion is None
    assert "Did you mean" not in finding.message


def test_old_mistake_openai_name_on_cloudflare() -> None:
    gpt = cfg("g", "OpenAI GPT-4o", "cloudflare", "@cf/meta/llama-3.1-8b-instruct", account_id="acc")
    findings = diagnose([TEMPLATE, gpt], ALL_TEMPLATE)
    [mismatch] = [f for f in findings if f.code == "name_provider_mismatch"]
    assert mismatch.severity == "warning" and mismatch.config_id == "g"
    assert (
        "'OpenAI GPT-4o'" in mismatch.message
        and "OpenAI" in mismatch.message
        and "'cloudflare'" in mismatch.message
    )


def test_old_mistake_coding_routed_to_a_disabled_config() -> None:
    off = cfg("d", "Claude coder", "anthropic", "claude-sonnet-4", enabled=False)
    findings = diagnose([TEMPLATE, off], {**ALL_TEMPLATE, "coding": "d"})
    [finding] = [f for f in findings if f.code == "route_to_disabled_config"]
    assert (finding.severity, finding.task, finding.config_id) == ("error", "coding", "d")
    assert "'Claude coder'" in finding.message and "disabled" in finding.message and "code" in finding.message


def test_disabled_route_is_a_warning_when_a_fallback_covers_it() -> None:
    off = cfg("d", "Claude coder", "anthropic", "claude-sonnet-4", enabled=False)
    findings = diagnose([TEMPLATE, off], {**ALL_TEMPLATE, "coding": "d", "fallback": "t"})
    [finding] = [f for f in findings if f.code == "route_to_disabled_config"]
    assert finding.severity == "warning" and "fallback 'Offline template'" in finding.message


def test_route_to_missing_config_and_task_without_route() -> None:
    findings = diagnose([TEMPLATE], {**ALL_TEMPLATE, "review": "gone", "copywriting": None})
    assert ("error", "route_to_missing_config", "gone", "review") in codes(findings)
    assert ("error", "no_route", None, "copywriting") in codes(findings)
    routes: dict[str, str | None] = {
        "planning": "t",
        "coding": "t",
        "review": "t",
        "fallback": "t",
    }  # copywriting row absent
    assert ("info", "uses_fallback", None, "copywriting") in codes(diagnose([TEMPLATE], routes))


def test_incomplete_configs() -> None:
    configs = [
        TEMPLATE,
        cfg("k", "GPT mini", "openai", "gpt-4o-mini", key=False),
        cfg("m", "Claude", "anthropic", None),
        cfg("a", "Workers AI llama", "cloudflare", "@cf/meta/llama-3.1-8b-instruct"),
        cfg("b", "Local llama", "openai_compatible", "llama3.1", key=False),
        cfg("u", "Proxy", "openai", "gpt-4o", base_url="ftp://proxy"),
    ]
    found = codes(diagnose(configs, ALL_TEMPLATE))
    assert {
        ("error", "missing_api_key", "k", None),
        ("error", "missing_model", "m", None),
        ("error", "missing_account_id", "a", None),
        ("error", "missing_base_url", "b", None),
        ("error", "invalid_base_url", "u", None),
    } <= found
    assert not any(
        code == "missing_api_key" and cid == "b" for _, code, cid, _ in found
    )  # key optional there
    assert {("info", "unused_config", cid, None) for cid in "kmabu"} <= found


def test_names_and_models_that_fit_their_provider_are_not_flagged() -> None:
    configs = [
        cfg("1", "GPT-OSS on Workers AI", "cloudflare", "@cf/openai/gpt-oss-120b", account_id="a"),
        cfg(
            "2",
            "Llama 3.3 (Cloudflare)",
            "cloudflare",
            "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
            account_id="a",
        ),
        cfg(
            "3",
            "Claude via OpenRouter",
            "openai_compatible",
            "anthropic/claude-sonnet-4",
            base_url="https://x.io",
        ),
        cfg("4", "Writer", "openai", "gpt-4o"),
    ]
    routes = {"planning": "1", "copywriting": "2", "coding": "3", "review": "4", "fallback": None}
    assert diagnose(configs, routes) == []


def test_model_that_names_another_provider_is_flagged() -> None:
    findings = diagnose([cfg("x", "Writer", "anthropic", "gpt-4o")], {**ALL_TEMPLATE, "copywriting": "x"})
    [finding] = [f for f in findings if f.code == "name_provider_mismatch"]
    assert "model ('gpt-4o')" in finding.message and "'anthropic'" in finding.message


def test_errors_come_first() -> None:
    findings = diagnose([TEMPLATE, cfg("c", "X", "cloudflarre")], {**ALL_TEMPLATE, "review": None})
    severities = [f.severity for f in findings]
    assert (
        severities == sorted(severities, key=["error", "warning", "info"].index) and severities[0] == "error"
    )
