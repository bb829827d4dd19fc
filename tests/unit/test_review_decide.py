"""The review's decision on errors: which pages go back to the coding route, and when it fails instead."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import PermanentError
from chalicelib.domain.review import FINDINGS_PER_PART, MAX_REVIEW_ROUNDS, Finding, decide

PARTS = {"index.html": "index", "sobre.html": "sobre", "styles.css": "styles.css"}


def test_errors_in_pages_and_the_stylesheet_send_those_parts_back_with_their_own_findings() -> None:
    back = decide(
        [
            Finding("sobre.html", "img without alt"),
            Finding("styles.css", "low contrast"),
            Finding("sobre.html", "img without alt"),  # the gate and the reviewer both saw it
            Finding("sobre.html", "h4 after h2"),
        ],
        PARTS,
        rounds_done=0,
    )
    assert back.round == 1
    assert back.pages == {"sobre": ("img without alt", "h4 after h2"), "styles.css": ("low contrast",)}
    assert back.files == {"sobre": "sobre.html", "styles.css": "styles.css"}


def test_the_second_round_is_the_last() -> None:
    assert decide([Finding("index.html", "x")], PARTS, rounds_done=1).round == 2
    with pytest.raises(PermanentError) as failed:
        decide(
            [Finding("index.html", "no h1"), Finding("sobre.html", "empty link")], PARTS, MAX_REVIEW_ROUNDS
        )
    reason = failed.value.reason
    assert "index.html, sobre.html" in reason and "no h1" in reason and "empty link" in reason
    assert f"after {MAX_REVIEW_ROUNDS} round(s)" in reason and not failed.value.retryable


def test_an_error_in_a_file_no_part_wrote_fails_at_once() -> None:
    with pytest.raises(PermanentError) as failed:
        decide([Finding("sobre.html", "x"), Finding("sitemap.xml", "bad loc")], PARTS, rounds_done=0)
    assert "sitemap.xml: bad loc" in failed.value.reason and "2 error(s)" in failed.value.reason


def test_findings_sent_with_one_part_are_capped_and_the_reason_quotes_five() -> None:
    many = [Finding("index.html", f"finding {n}") for n in range(30)]
    assert len(decide(many, PARTS, 0).pages["index"]) == FINDINGS_PER_PART
    with pytest.raises(PermanentError) as failed:
        decide(many, PARTS, MAX_REVIEW_ROUNDS)
    assert "finding 4" in failed.value.reason and "finding 5;" not in failed.value.reason
    assert "(and 25 more)" in failed.value.reason


def test_no_errors_is_not_a_decision() -> None:
    with pytest.raises(ValueError):
        decide([], PARTS, 0)
