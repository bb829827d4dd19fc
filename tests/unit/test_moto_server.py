"""infra/moto_server.py answers every Query exactly as moto does, while reading only what DynamoDB
would read: the same queries run through moto's own Table methods and through the patched ones, on
the same data, before and after puts, overwrites and deletes made with the patch on. Its
TransactWriteItems answers as moto's does, and is atomic under concurrent requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from infra import moto_server

PATCHED = {
    Table: ("query", "all_items", "put_item", "delete_item"),
    DynamoDBBackend: ("transact_write_items",),
}
ORIGINAL = {(cls, name): getattr(cls, name) for cls, names in PATCHED.items() for name in names}


def use_moto_as_is() -> None:
    for (cls, name), method in ORIGINAL.items():
        setattr(cls, name, method)


@pytest.fixture()
def db() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name, sort_type in (("logs", "S"), ("numbers", "N")):
            client.create_table(
                TableName=name,
                KeySchema=[
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "c", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "g", "AttributeType": "S"},
                    {"AttributeName": "c", "AttributeType": sort_type},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        try:
            yield client
        finally:
            use_moto_as_is()


def put(client: Any, table: str, g: str, c: str | int, **attrs: str) -> None:
    sort = {"N": str(c)} if table == "numbers" else {"S": c}
    item = {"g": {"S": g}, "c": sort, **{k: {"S": v} for k, v in attrs.items()}}
    client.put_item(TableName=table, Item=item)


def fill(client: Any) -> None:
    for i in range(60):
        put(client, "logs", "gen-a", f"{i:06d}", level="info" if i % 3 else "error")
        put(client, "logs", "gen-b", f"{i:06d}")
        put(client, "numbers", "n", i * 7 - 100)
    for c in ("ab", "abc", "abd", "ac", "b"):
        put(client, "logs", "gen-p", c)


def v(s: str) -> dict[str, str]:
    return {"S": s}


def queries() -> list[dict[str, Any]]:
    key = "g = :g"
    cases: list[dict[str, Any]] = []
    for forward in (True, False):
        for limit in (None, 1, 10, 200):
            page = {"ScanIndexForward": forward, **({"Limit": limit} if limit else {})}
            cases += [
                {"KeyConditionExpression": key, "ExpressionAttributeValues": {":g": v("gen-a")}, **page},
                {
                    "KeyConditionExpression": f"{key} AND c > :a",
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("000049")},
                    **page,
                },
                {
                    "KeyConditionExpression": f"{key} AND c >= :a",
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("000049")},
                    **page,
                },
                {
                    "KeyConditionExpression": f"{key} AND c < :a",
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("000012")},
                    **page,
                },
                {
                    "KeyConditionExpression": f"{key} AND c <= :a",
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("000012x")},
                    **page,
                },
                {
                    "KeyConditionExpression": f"{key} AND c = :a",
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("000030")},
                    **page,
                },
                {
                    "KeyConditionExpression": f"{key} AND c BETWEEN :a AND :b",
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("000010"), ":b": v("000020")},
                    **page,
                },
                {
                    "KeyConditionExpression": f"{key} AND begins_with(c, :a)",
                    "ExpressionAttributeValues": {":g": v("gen-p"), ":a": v("ab")},
                    **page,
                },
                {
                    "KeyConditionExpression": f"{key} AND c > :a",
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("999999")},
                    **page,
                },
                {"KeyConditionExpression": key, "ExpressionAttributeValues": {":g": v("nobody")}, **page},
                {
                    "KeyConditionExpression": f"{key} AND c > :a",
                    "FilterExpression": "#l = :l",
                    "ExpressionAttributeNames": {"#l": "level"},
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("000005"), ":l": v("error")},
                    **page,
                },
                {
                    "KeyConditions": {
                        "g": {"ComparisonOperator": "EQ", "AttributeValueList": [v("gen-a")]},
                        "c": {"ComparisonOperator": "GT", "AttributeValueList": [v("000040")]},
                    },
                    **page,
                },
                {
                    "KeyConditionExpression": f"{key} AND c > :a",
                    "Select": "COUNT",
                    "ExpressionAttributeValues": {":g": v("gen-b"), ":a": v("000001")},
                    **page,
                },
            ]
            cases.append(
                {
                    "KeyConditionExpression": f"{key} AND c > :a",
                    "ConsistentRead": True,
                    "ProjectionExpression": "c",
                    "ExpressionAttributeValues": {":g": v("gen-a"), ":a": v("000")},
                    **page,
                }
            )
            cases.append(
                {
                    "TableName": "numbers",
                    "KeyConditionExpression": f"{key} AND c > :a",
                    "ExpressionAttributeValues": {":g": v("n"), ":a": {"N": "-8"}},
                    **page,
                }
            )
    return cases


def run_all(client: Any) -> list[Any]:
    """Every query's pages, following LastEvaluatedKey to the end."""
    answers = []
    for query in queries():
        query = {"TableName": "logs", **query}
        pages = []
        while True:
            page = client.query(**query)
            pages.append({k: page.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
            if "LastEvaluatedKey" not in page or len(pages) > 100:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        answers.append(pages)
    return answers


def change(client: Any) -> None:
    for i in range(60, 90):
        put(client, "logs", "gen-a", f"{i:06d}")
    put(client, "logs", "gen-a", "000030", level="overwritten")
    for c in ("000012", "000049", "000050", "000089"):
        client.delete_item(TableName="logs", Key={"g": v("gen-a"), "c": v(c)})
    client.delete_item(TableName="logs", Key={"g": v("gen-p"), "c": v("abc")})
    put(client, "logs", "gen-p", "aba")
    client.delete_item(TableName="numbers", Key={"g": v("n"), "c": {"N": "-2"}})
    put(client, "numbers", "n", -1)


def test_the_patched_query_answers_as_moto_does(db: Any) -> None:
    fill(db)
    before = run_all(db)
    moto_server.patch()
    assert run_all(db) == before
    change(db)  # with the patch on: its sorted keys follow puts and deletes
    after = run_all(db)
    use_moto_as_is()
    assert run_all(db) == after
    assert after != before


def test_a_query_hands_moto_only_the_page_it_can_return(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(2_000):
        put(db, "logs", "big", f"{i:06d}")
    put(db, "logs", "small", "000001")
    moto_server.patch()
    seen: list[int] = []
    selected = moto_server._selected_items

    def counting(table: Table, q: dict[str, Any]) -> list[Any]:
        items = selected(table, q)
        seen.append(len(items))
        return items

    monkeypatch.setattr(moto_server, "_selected_items", counting)
    last10 = db.query(
        TableName="logs",
        KeyConditionExpression="g = :g AND c > :a",
        Limit=200,
        ExpressionAttributeValues={":g": v("big"), ":a": v("001989")},
    )
    first = db.query(
        TableName="logs",
        KeyConditionExpression="g = :g",
        Limit=25,
        ExpressionAttributeValues={":g": v("big")},
    )
    assert [i["c"]["S"] for i in last10["Items"]] == [f"{i:06d}" for i in range(1990, 2000)]
    assert [i["c"]["S"] for i in first["Items"]] == [f"{i:06d}" for i in range(25)]
    assert "LastEvaluatedKey" in first and "LastEvaluatedKey" not in last10
    assert seen == [11, 26]  # of 2,001 items in the table: the page and the next item


def transactions() -> list[dict[str, Any]]:
    """Transactions like the log store's (conditional puts of new keys), and every other shape moto takes."""

    def put(g: str, c: str, condition: bool = True, **extra: Any) -> dict[str, Any]:
        op: dict[str, Any] = {"TableName": "logs", "Item": {"g": v(g), "c": v(c), "m": v(f"{g}/{c}")}}
        if condition:
            op.update(ConditionExpression="attribute_not_exists(#c)", ExpressionAttributeNames={"#c": "c"})
        return {"Put": {**op, **extra}}

    return [
        {"TransactItems": [put("t", "#guard-1"), put("t", "L1"), put("t", "L2")]},  # written
        {"TransactItems": [put("t", "#guard-1"), put("t", "L3")]},  # the guard is there: nothing written
        {
            "TransactItems": [put("t", "#guard-2"), put("t", "L2"), put("t", "L3")]
        },  # L2 taken: nothing written
        {"TransactItems": [put("t", "#guard-2"), put("t", "L3"), put("t", "L4")]},  # written
        {
            "TransactItems": [put("t", "L4", ReturnValuesOnConditionCheckFailure="ALL_OLD")]
        },  # the old item comes back
        {"TransactItems": [put("t", "L5"), put("t", "L5")]},  # one item twice: a validation error
        {"TransactItems": [put("t", "L4", condition=False), put("t", "L5")]},  # an unconditional overwrite
        {
            "TransactItems": [
                {
                    "ConditionCheck": {
                        "TableName": "logs",
                        "Key": {"g": v("t"), "c": v("L1")},
                        "ConditionExpression": "attribute_exists(c)",
                    }
                },
                {"Delete": {"TableName": "logs", "Key": {"g": v("t"), "c": v("L2")}}},
                put("t", "L6"),
            ]
        },
        {
            "TransactItems": [
                {
                    "ConditionCheck": {
                        "TableName": "logs",
                        "Key": {"g": v("t"), "c": v("L2")},
                        "ConditionExpression": "attribute_exists(c)",
                    }
                },
                put("t", "L7"),
            ]
        },  # L2 is gone
        {
            "TransactItems": [
                put("t", "L8"),
                {"Put": {"TableName": "missing", "Item": {"g": v("t"), "c": v("x")}}},
            ]
        },
        {
            "TransactItems": [
                {
                    "Update": {
                        "TableName": "logs",
                        "Key": {"g": v("t"), "c": v("L1")},
                        "UpdateExpression": "SET m = :m",
                        "ExpressionAttributeValues": {":m": v("u")},
                    }
                },
                put("t", "L1"),
            ]
        },  # moto's own code (under the lock): one item twice
        {
            "TransactItems": [
                {
                    "Update": {
                        "TableName": "logs",
                        "Key": {"g": v("t"), "c": v("L1")},
                        "UpdateExpression": "SET m = :m",
                        "ExpressionAttributeValues": {":m": v("u")},
                    }
                },
                put("t", "L9"),
            ]
        },
    ]


def run_transactions(client: Any) -> list[Any]:
    """Each transaction's answer (its error code and cancellation reasons), then the table."""
    answers: list[Any] = []
    for transaction in transactions():
        try:
            client.transact_write_items(**transaction)
            answers.append("ok")
        except ClientError as exc:
            answers.append((exc.response["Error"]["Code"], exc.response.get("CancellationReasons")))
    items = client.scan(TableName="logs")["Items"]
    return answers + [sorted(items, key=lambda i: (i["g"]["S"], i["c"]["S"]))]


def test_a_transaction_answers_as_motos_does(db: Any) -> None:
    as_is = run_transactions(db)
    db.delete_table(TableName="logs")
    db.create_table(
        TableName="logs",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "c", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "c", "AttributeType": "S"},
        ],
    )
    moto_server.patch()
    patched = run_transactions(db)
    assert patched == as_is  # word for word, the table included
    failed = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
    assert patched[:4] == [
        "ok",
        ("TransactionCanceledException", [failed, {"Code": "None"}]),
        ("TransactionCanceledException", [{"Code": "None"}, failed, {"Code": "None"}]),
        "ok",
    ]
    assert {i["c"]["S"]: i["m"]["S"] for i in patched[-1]} == {
        "#guard-1": "t/#guard-1",
        "#guard-2": "t/#guard-2",
        "L1": "u",
        "L3": "t/L3",
        "L4": "t/L4",
        "L5": "t/L5",
        "L6": "t/L6",
        "L9": "t/L9",
    }


def test_concurrent_transactions_never_share_a_key_nor_lose_a_write(db: Any) -> None:
    """Threads append numbered lines to one partition as the log store does (read the highest number,
    write the next ones if free, else read again): every line is written once, the numbers dense."""
    from chalicelib.adapters.dynamo_logs import DynamoLogStore
    from chalicelib.ports import LogLine

    db.create_table(
        TableName="lines",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "generation_id", "KeyType": "HASH"},
            {"AttributeName": "cursor", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "generation_id", "AttributeType": "S"},
            {"AttributeName": "cursor", "AttributeType": "S"},
        ],
    )
    moto_server.patch()
    store = DynamoLogStore(db, "lines", 1)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(15):
                line = LogLine("g", "", "2026-01-01T00:00:00.000Z", "info", None, None, f"w{w} line {i}")
                if i % 5 == 0:
                    assert store.put_once(LogLine(**{**line.__dict__, "event": "e", "once_key": f"w{w}-{i}"}))
                else:
                    store.put_many([line, LogLine(**{**line.__dict__, "message": f"w{w} line {i}b"})])
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    items = [
        i
        for page in db.get_paginator("query").paginate(
            TableName="lines",
            KeyConditionExpression="generation_id = :g AND #c > :l",
            ExpressionAttributeNames={"#c": "cursor"},
            ExpressionAttributeValues={":g": v("g"), ":l": v("L")},
        )
        for i in page["Items"]
    ]
    messages = [i["message"]["S"] for i in items]
    assert len(messages) == len(set(messages)) == 6 * (3 + 12 * 2)
    assert [i["cursor"]["S"] for i in items] == [f"L{n:012d}" for n in range(1, len(items) + 1)]
