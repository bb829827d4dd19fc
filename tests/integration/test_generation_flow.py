"""A whole generation through the Chalice test client: routes, SQS handler, Postgres, moto."""

from __future__ import annotations

from tests.support.orders import create_and_generate
from tests.support.stack import drain, logs


def test_full_generation_runs_every_phase_and_publishes(client, aws):
    order, generation = create_and_generate(client)
    assert generation["status"] == "queued"
    assert [p["name"] for p in generation["phases"]] == [
        "brief",
        "sitemap",
        "content",
        "code",
        "review",
        "publish",
    ]

    # one invocation per phase, and per part: content has one per page (4), code one per page + styles.css
    assert drain(client, aws) == 6 + 4 + 5

    done = client.json("GET", f"/generations/{generation['id']}")
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0
    assert all(p["status"] == "succeeded" and p["attempts"] == 1 for p in done["phases"])
    parts = {p["name"]: [x["name"] for x in p["parts"]] for p in done["phases"]}
    assert parts["content"] == ["index", "servicos", "sobre", "contato"]
    assert parts["code"] == ["styles.css", "index", "servicos", "sobre", "contato"]
    assert all(x["status"] == "succeeded" and x["attempts"] == 1 for p in done["phases"] for x in p["parts"])
    assert parts["brief"] == [] and done["phases"][2]["parts_done"] == 4
    assert done["site_url"].endswith(f"/sites/{generation['id']}/index.html")

    key = f"sites/{generation['id']}/index.html"
    html = aws.s3.get_object(Bucket=aws.resources.bucket, Key=key)["Body"].read().decode()
    assert "Padaria Pão Quente" in html and 'lang="pt-BR"' in html

    events = [line["event"] for line in logs(client, generation["id"])]
    assert events[0] == "generation_queued"
    assert events.count("phase_succeeded") == 6
    assert events[-1] == "generation_succeeded"
    assert None in events  # free-text progress lines are there too
