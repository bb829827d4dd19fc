"""Feed the queue handler as Lambda's SQS event source mapping would (batch size 1).

Delete on success; on exception leave the message, so visibility timeout, redrive and the
dead-letter queue behave as on AWS.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from infra.lambda_events import LambdaContext, sqs_event

Handler = Callable[[dict[str, Any], Any], Any]


def receive(sqs: Any, queue_url: str, wait_s: int) -> list[dict[str, Any]]:
    return sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=1,
        WaitTimeSeconds=wait_s,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])


def deliver(
    sqs: Any,
    queue_url: str,
    queue_arn: str,
    message: dict[str, Any],
    handler: Handler,
    function_name: str,
    timeout_s: float,
) -> bool:
    context = LambdaContext(function_name, timeout_s)
    try:
        handler(sqs_event([message], queue_arn), context)
    except Exception as exc:
        print(
            json.dumps(
                {
                    "level": "error",
                    "message": "handler raised; message left on the queue",
                    "function": function_name,
                    "error": type(exc).__name__,
                    "where": traceback.format_tb(exc.__traceback__)[-2:],
                }
            ),
            file=sys.stderr,
            flush=True,
        )
        return False
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return True


def poll_once(
    sqs: Any, queue_url: str, handler: Handler, function_name: str, timeout_s: float, wait_s: int = 1
) -> int:
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    handled = 0
    for message in receive(sqs, queue_url, wait_s):
        deliver(sqs, queue_url, queue_arn, message, handler, function_name, timeout_s)
        handled += 1
    return handled
