#!/usr/bin/env python3
"""Stage new model weights with evalfleet and wait for their drift flag.

Publishes a StagedWeightEvent (a JSON file, docs/wire-format.md) to evalfleet.weights.staged, keyed
by its model name, with confluent-kafka's default settings, then waits for the flag of its event_id
on evalfleet.drift-flags and prints it.

Exit status: 0 GREEN or WARN (WARN: inconclusive, or the model's first version; worth a look),
1 RED, 2 ERROR or INCOMPLETE, 3 no flag within --timeout, 4 the event could not be published
(or the flags topic cannot be read).

  python3 stage_and_wait.py --bootstrap-servers kafka:9092 --event event.json --timeout 1200
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

STAGED = "evalfleet.weights.staged"
FLAGS = "evalfleet.drift-flags"
EXIT_CODES = {"GREEN": 0, "WARN": 0, "RED": 1, "ERROR": 2, "INCOMPLETE": 2}
TIMED_OUT, NOT_PUBLISHED = 3, 4


def main():
    parser = argparse.ArgumentParser(description="Stage model weights with evalfleet and wait for their flag.")
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka brokers, host:port[,host:port]")
    parser.add_argument("--event", required=True, help="the StagedWeightEvent, a JSON file")
    parser.add_argument("--timeout", type=float, default=1200,
                        help="seconds to wait for the flag (default 1200; the fleet flags a run that is "
                             "not done by its deadline, 15 minutes by default, INCOMPLETE)")
    args = parser.parse_args()
    with open(args.event, "rb") as file:
        value = file.read()
    event = json.loads(value)
    event_id, model = event["event_id"], event["model"]

    # Start reading the flags where they end now, before staging: the flag cannot come before that.
    flags = Consumer({"bootstrap.servers": args.bootstrap_servers, "group.id": "evalfleet-stage-and-wait",
                      "enable.auto.commit": False})
    topic = flags.list_topics(FLAGS, timeout=30).topics[FLAGS]
    if topic.error is not None or not topic.partitions:
        print(f"cannot read {FLAGS} on {args.bootstrap_servers}: {topic.error or 'no partitions'}"
              " (are the topics created? evalfleet topics -b ...)", file=sys.stderr)
        return NOT_PUBLISHED
    partitions = []
    for partition in topic.partitions:
        low, high = flags.get_watermark_offsets(TopicPartition(FLAGS, partition), timeout=30)
        partitions.append(TopicPartition(FLAGS, partition, high))
    flags.assign(partitions)

    errors = []
    producer = Producer({"bootstrap.servers": args.bootstrap_servers})
    producer.produce(STAGED, key=model, value=value, on_delivery=lambda error, record: error and errors.append(error))
    if producer.flush(60) > 0 or errors:
        print(f"could not stage event {event_id}: {errors or 'not delivered within 60 s'}", file=sys.stderr)
        return NOT_PUBLISHED
    print(f"staged event {event_id} ({model} {event.get('version')}); waiting for its flag", flush=True)

    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            record = flags.poll(min(1.0, max(deadline - time.monotonic(), 0.01)))
            if record is None or record.error():
                continue
            flag = json.loads(record.value())
            if flag.get("event_id") != event_id:
                continue
            baseline = flag.get("baseline_version")
            print(f"{flag['flag']}: {model} {flag.get('version')}" + (f" against {baseline}" if baseline else ""))
            for reason in flag.get("reasons", []):
                print(f"  {reason}")
            return EXIT_CODES.get(flag["flag"], 2)
    finally:
        flags.close()
    print(f"no flag for event {event_id} within {args.timeout:g} s", file=sys.stderr)
    return TIMED_OUT


if __name__ == "__main__":
    sys.exit(main())
