"""The live pointer on AWS: CloudFront KeyValueStore calls as botocore validates them (Stubber). Signing is
switched off here: KeyValueStore needs SigV4A, which botocore does only with awscrt (requirements.txt;
the test environment need not have it)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.s3_sites import KvsLivePointer

ARN = "arn:aws:cloudfront::123456789012:key-value-store/0f8fad5b-d9cb-469f-a165-70867728950e"
ORDER, GEN = "7c9e6679-7425-40de-944b-e07fc1f90ae7", "16fd2706-8baf-433b-82eb-8c7fada847da"


@pytest.fixture()
def kvs(monkeypatch):
    import botocore.auth

    if "v4a" not in botocore.auth.AUTH_TYPE_MAPS:  # without awscrt botocore refuses before choosing a signer
        monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "v4a", botocore.auth.SigV4Auth)
    client = boto3.client(
        "cloudfront-keyvaluestore", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    client.meta.events.register("choose-signer.cloudfront-keyvaluestore.*", lambda **_: botocore.UNSIGNED)
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def described(etag: str) -> dict:
    return {
        "ETag": etag,
        "KvsARN": ARN,
        "Created": "2026-12-01T00:00:00Z",
        "ItemCount": 1,
        "TotalSizeInBytes": 80,
    }


def put(etag: str) -> dict:
    return {"KvsARN": ARN, "Key": ORDER, "Value": GEN, "IfMatch": etag}


def test_a_switch_is_one_put_key_with_the_stores_etag(kvs):
    client, stub = kvs
    stub.add_response("describe_key_value_store", described("e1"), {"KvsARN": ARN})
    stub.add_response("put_key", {"ETag": "e2", "ItemCount": 1, "TotalSizeInBytes": 80}, put("e1"))
    KvsLivePointer(client, ARN).put(ORDER, GEN)


def test_a_put_that_raced_another_write_is_tried_again_with_the_new_etag(kvs):
    client, stub = kvs
    stub.add_response("describe_key_value_store", described("e1"), {"KvsARN": ARN})
    stub.add_client_error("put_key", "ConflictException", http_status_code=409, expected_params=put("e1"))
    stub.add_response("describe_key_value_store", described("e2"), {"KvsARN": ARN})
    stub.add_response("put_key", {"ETag": "e3", "ItemCount": 1, "TotalSizeInBytes": 80}, put("e2"))
    KvsLivePointer(client, ARN).put(ORDER, GEN)


def test_it_gives_up_after_five_conflicts_and_says_so(kvs):
    client, stub = kvs
    for n in range(KvsLivePointer.ATTEMPTS):
        stub.add_response("describe_key_value_store", described(f"e{n}"), {"KvsARN": ARN})
        stub.add_client_error(
            "put_key", "ConflictException", http_status_code=409, expected_params=put(f"e{n}")
        )
    with pytest.raises(client.exceptions.ConflictException):
        KvsLivePointer(client, ARN).put(ORDER, GEN)


def test_reading_a_pointer(kvs):
    client, stub = kvs
    stub.add_response(
        "get_key",
        {"Key": ORDER, "Value": GEN, "ItemCount": 1, "TotalSizeInBytes": 80},
        {"KvsARN": ARN, "Key": ORDER},
    )
    stub.add_client_error(
        "get_key",
        "ResourceNotFoundException",
        http_status_code=404,
        expected_params={"KvsARN": ARN, "Key": GEN},
    )
    pointer = KvsLivePointer(client, ARN)
    assert pointer.get(ORDER) == GEN and pointer.get(GEN) is None
