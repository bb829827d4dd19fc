"""Issue 11's sizing rule: with per-page parts, no model call needs more than 4,096 output tokens for a
site of up to 8 pages, and every call fits its timeout with room for one repair round. Measured on the
template's answers (what the model simulator returns) at the estimate hosted models show: 3.5
characters a token; the simulator's defaults give the time (0.6 s + 70 tokens/s)."""

from __future__ import annotations

import pytest

from chalicelib.ai.chat import DEFAULT_MAX_TOKENS, MAX_TIMEOUT_S
from chalicelib.ai.template import answer
from chalicelib.domain.order import OrderData
from chalicelib.domain.phases import Phase
from chalicelib.phases.outputs import STYLES_PART, PagePlan, SiteFiles, Sitemap, as_model
from chalicelib.phases.part_steps import join_parts, parts_of

CHARS_PER_TOKEN = 3.5
TTFT_S, TOKENS_PER_S = 0.6, 70


def tokens(model) -> float:
    return len(model.model_dump_json()) / CHARS_PER_TOKEN


def big_order(locale: str) -> OrderData:
    return OrderData(
        id="o",
        business_name="Padaria e Confeitaria Pão Quente do Centro Histórico",
        segment="padaria",
        description="Pães artesanais de fermentação natural, bolos, doces e cafés especiais. " * 6,
        services=[f"Serviço número {n} com um nome comprido" for n in range(10)],
        locale=locale,
        contact={
            "email": "contato@example.com",
            "phone": "+55 11 5555-0000",
            "whatsapp": "+55 11 9999",
            "address": "Rua das Flores, 100",
            "city": "São Paulo",
        },
    )


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_no_call_needs_more_than_4096_tokens_for_eight_pages(locale: str) -> None:
    order = big_order(locale)
    brief = answer("Brief", order, {})
    planned = as_model(Sitemap, answer("Sitemap", order, {"brief": brief}))
    extra = [
        PagePlan(slug=f"extra-{n}", title=f"Extra page {n}", nav_label=f"Extra {n}", purpose="More about us.")
        for n in range(8 - len(planned.pages))
    ]
    sitemap = Sitemap(pages=[*planned.pages, *extra])
    inputs = {"brief": brief, "sitemap": sitemap}
    copies = {slug: answer("PageCopy", order, inputs, slug) for slug in parts_of(Phase.CONTENT, inputs)}
    content = join_parts(Phase.CONTENT, order, inputs, {k: v.model_dump() for k, v in copies.items()})
    inputs["content"] = content
    code = {
        part: answer("Stylesheet" if part == STYLES_PART else "PageMarkup", order, inputs, part)
        for part in parts_of(Phase.CODE, inputs)
    }
    site = join_parts(Phase.CODE, order, inputs, {k: v.model_dump() for k, v in code.items()})
    review = answer("Review", order, {**inputs, "code": site})
    sizes = {
        "brief": tokens(brief),
        "sitemap": tokens(planned),
        "review": tokens(review),
        **{f"content/{k}": tokens(v) for k, v in copies.items()},
        **{f"code/{k}": tokens(v) for k, v in code.items()},
    }
    assert len(as_model(SiteFiles, site).files) == 8 + 4 and len(copies) == 8
    assert max(sizes.values()) <= DEFAULT_MAX_TOKENS, sizes
    # one call plus one repair round of the longest answer fits the cap on a provider call
    longest_s = TTFT_S + max(sizes.values()) / TOKENS_PER_S
    assert 2 * longest_s < MAX_TIMEOUT_S, (longest_s, sizes)
    # and one call for the whole site, as before the parts, would not have fitted
    assert tokens(site) > DEFAULT_MAX_TOKENS
