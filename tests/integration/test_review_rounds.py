"""The review's errors in a model-written page send that page back to the coding route, with the
findings, at most 2 rounds; then the page and the generation fail, naming both. Real Postgres, SQS and
DynamoDB (moto), the real queue handler; the offline provider with the review's answers scripted."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select

from chalicelib.ai.base import AIResult
from chalicelib.db.models import PartRun
from chalicelib.phases.outputs import PageMarkup, Review, ReviewFinding
from infra.lambda_events import sqs_event
from tests.support.orders import create_and_generate
from tests.support.stack import drain, logs

SLIP = "img without alt text (the reviewer's own finding)"
REWRITTEN = "Rewritten after the review"


class Flagging:
    """A reviewer that reports one error: in the site's second page ("page"), or in the named file."""

    def __init__(self, file_of: str = "page", message: str = SLIP) -> None:
        self.file_of, self.message = file_of, message
        self.flagged: list[str] = []

    def __call__(self, request: Any, result: Any) -> AIResult:
        pages = [f.path for f in request.inputs["code"].files if f.path.endswith(".html")]
        file = pages[1] if self.file_of == "page" else self.file_of
        self.flagged.append(file)
        finding = ReviewFinding(severity="error", file=file, message=self.message)
        return AIResult(Review(passed=False, checked_files=1, findings=[finding]), result.usage)


def recorder(calls):
    def record(request, result):
        calls.append(request)
        return AIResult(result.output, {**result.usage, "tokens_out": 100, "calls": 1})

    return record


def test_a_page_the_reviewer_flags_goes_back_to_coding_alone_and_the_site_passes(client, aws, deps, scripted):
    reviewer, code_calls = Flagging(), list[Any]()
    scripted["review"] = [reviewer]
    scripted["code"] = [recorder(code_calls)] * 30
    _, gen = create_and_generate(client)
    drain(client, aws)

    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded", done
    assert done["review_rounds"] == 1
    per_part = Counter(r.part for r in code_calls)
    sent_back = [r for r in code_calls if r.findings]
    assert len(sent_back) == 1 and sent_back[0].findings == (SLIP,) and sent_back[0].previous is not None
    page = sent_back[0].part
    assert reviewer.flagged == [f"{page}.html"]
    assert per_part[page] == 2 and all(n == 1 for part, n in per_part.items() if part != page), per_part

    with deps.uow() as uow:
        row = uow.session.scalars(
            select(PartRun).where(
                PartRun.generation_id == uuid.UUID(gen["id"]), PartRun.phase == "code", PartRun.part == page
            )
        ).one()
        assert row.review_findings == [SLIP] and row.status == "succeeded"
    code = next(p for p in done["phases"] if p["name"] == "code")
    tokens = {p["name"]: (p["usage"]["tokens_out"], p["usage"]["calls"]) for p in code["parts"]}
    assert tokens[page] == (200, 2) and tokens["styles.css"] == (100, 1), tokens  # both runs count
    assert code["usage"]["tokens_out"] == 100 * len(code_calls)  # and the phase's total adds up

    lines = logs(client, gen["id"])
    round_lines = [x for x in lines if x["level"] == "warning" and "Review round 1 of 2" in x["message"]]
    assert (
        len(round_lines) == 1
        and SLIP in round_lines[0]["message"]
        and "back to the coding model" in (round_lines[0]["message"])
    )
    started = [(x["phase"], x["event"]) for x in lines if x["event"] == "phase_started"]
    assert started.count(("code", "phase_started")) == 2 and started.count(("review", "phase_started")) == 2
    assert lines[-1]["event"] == "generation_succeeded"


def test_a_page_still_flagged_after_two_rounds_fails_naming_the_page_and_its_findings(client, aws, scripted):
    reviewer = Flagging()
    scripted["review"] = [reviewer] * 3
    _, gen = create_and_generate(client)
    drain(client, aws)

    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed" and failed["review_rounds"] == 2
    assert len(reviewer.flagged) == 3  # the first review, and one after each of the two rounds
    page = reviewer.flagged[0]
    assert page in failed["error"] and SLIP in failed["error"] and "after 2 round(s)" in failed["error"]
    review = next(p for p in failed["phases"] if p["name"] == "review")
    assert review["status"] == "failed"
    messages = [x["message"] for x in logs(client, gen["id"])]
    assert any("Review round 1 of 2" in m for m in messages) and any(
        "Review round 2 of 2" in m for m in messages
    )
    assert not any("Review round 3" in m for m in messages)


def test_an_error_in_a_file_no_part_writes_fails_the_review_at_once(client, aws, scripted):
    reviewer, code_calls = Flagging("sitemap.xml"), list[Any]()
    scripted["review"] = [reviewer]
    scripted["code"] = [recorder(code_calls)] * 30
    _, gen = create_and_generate(client)
    drain(client, aws)

    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed" and failed["review_rounds"] == 0
    assert "sitemap.xml" in failed["error"] and SLIP in failed["error"]
    assert not any(r.findings for r in code_calls) and len(reviewer.flagged) == 1


def test_a_duplicate_review_message_during_a_round_runs_no_extra_review(client, aws, scripted):
    """A copy of the review's message delivered while the page sent back is being rewritten (the code
    phase running again) is stale: it must not review the old files."""
    reviewer, reviews, outcomes = Flagging(), list[Any](), list[Any]()
    gen_id: list[str] = []
    arn = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]

    def rewrite_while_a_duplicate_review_arrives(request: Any, result: Any) -> Any:
        if request.findings:  # the page sent back is being rewritten: deliver a copy of the review's message
            body = json.dumps({"generation_id": gen_id[0], "phase": "review"})
            message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "copy", "Body": body}
            outcomes.append(client.client.lambda_.invoke("run_phase", sqs_event([message], arn)).payload)
            markup = result.output
            fixed = PageMarkup(slug=markup.slug, main_html=markup.main_html + f"<p>{REWRITTEN}</p>")
            return AIResult(fixed, result.usage)
        return result

    scripted["review"] = [reviewer, recorder(reviews), recorder(reviews)]
    scripted["code"] = [rewrite_while_a_duplicate_review_arrives] * 30
    _, gen = create_and_generate(client)
    gen_id.append(gen["id"])
    drain(client, aws)

    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded" and done["review_rounds"] == 1, done
    assert len(outcomes) == 1  # the copy was delivered, while the page was rewritten
    assert len(reviewer.flagged) == 1 and len(reviews) == 1  # the review ran twice in all, not three times
    assert any(REWRITTEN in f.body for f in reviews[0].inputs["code"].files)  # and saw the rewritten page
    started = [x for x in logs(client, gen["id"]) if x["event"] == "phase_started" and x["phase"] == "review"]
    assert len(started) == 2
