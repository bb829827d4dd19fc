"""Local stand-ins for Lambda's event sources, one role per process:

  python -m infra.worker --role worker        long-poll the queue, invoke the SQS handler
  python -m infra.worker --role dead-letters  the same for the dead-letter queue's handler
  python -m infra.worker --role resume      re-enqueue what an earlier run left in flight, then exit
  python -m infra.worker --role scheduler   run the schedule each minute

The queue, the logs table and the database live outside these processes, so killing one loses nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from infra.lambda_events import LambdaContext, schedule_event
from infra.queue_feeder import poll_once

WORKER_TIMEOUT_S = float(os.environ.get("SITEGEN_WORKER_TIMEOUT_S", "120"))
_stop = False


def _on_signal(signum: int, frame: object) -> None:
    global _stop
    _stop = True


def run_worker(queue_env: str, function: str) -> None:
    import boto3

    from app import app

    sqs = boto3.client("sqs")
    queue_url = os.environ[queue_env]
    handler = app.handler_map[function]
    if function == "run_phase":  # Lambda does this on a container's first message; here, at start
        from chalicelib.bootstrap import get_deps
        from chalicelib.services.worker import check_ai_configs_once

        check_ai_configs_once(get_deps())
    while not _stop:
        poll_once(sqs, queue_url, handler, function, WORKER_TIMEOUT_S, wait_s=1)


def run_resume() -> None:
    """The supervisor runs this before the API and the workers start (infra/local.py): it voids every
    lease and sends every active generation's next phase again, which is only right while nothing
    else can create a generation or claim a phase."""
    from chalicelib.bootstrap import get_deps
    from chalicelib.services.sweeper import resume_in_flight

    report = resume_in_flight(get_deps())
    print(
        json.dumps(
            {"level": "info", "message": "resumed in-flight generations", "republished": report.republished}
        ),
        flush=True,
    )


def run_scheduler(interval_s: float) -> None:
    from app import app

    handler = app.handler_map["sweep"]
    next_run = time.monotonic() + interval_s
    while not _stop:
        if time.monotonic() >= next_run:
            try:
                handler(schedule_event(), LambdaContext("sweep", 60))
            except Exception as exc:  # a failed sweep is retried on the next tick, as on AWS
                print(
                    json.dumps({"level": "error", "message": "sweep failed", "error": type(exc).__name__}),
                    flush=True,
                )
            next_run = time.monotonic() + interval_s
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["worker", "dead-letters", "scheduler", "resume"], required=True)
    parser.add_argument("--interval", type=float, default=60.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if args.role == "worker":
        run_worker("SITEGEN_QUEUE_URL", "run_phase")
    elif args.role == "dead-letters":
        run_worker("SITEGEN_DLQ_URL", "on_dead_letter")
    elif args.role == "resume":
        run_resume()
    else:
        run_scheduler(args.interval)
    sys.exit(0)


if __name__ == "__main__":
    main()
