#!/usr/bin/env python3
"""Stage new model weights with evalfleet and wait for their drift flag.

Publishes a StagedWeightEvent (a JSON file, docs/wire-format.md) to evalfleet.weights.staged, keyed
by its model name, with confluent-kafka's default settings, then waits for the flag of its event_id
on evalfleet.drift-flags and prints it.

Exit status, as evalfleet's own commands use it: 0 GREEN or WARN (WARN: inconclusive, or the
model's first version; worth a look), 1 RED, ERROR or INCOMPLETE (do not promote), 2 bad usage or an
unreadable event file, 3 the event could not be published, the flags topic cannot be read, or no
flag came within --timeout.

  python3 stage_and_wait.py --bootstrap-servers kafka:9092 --event event.json --timeout 1200
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

STAGED = "evalfleet.weights.staged"
FLAGS = "evalfleet.drift-flags"
EXIT_CODES = {"GREEN": 0, "WARN": 0, "RED": 1, "ERROR": 1, "INCOMPLETE": 1}
BAD_INPUT, UNREACHABLE = 2, 3


def main():
    parser = argparse.ArgumentParser(description="Stage model weights with evalfleet and wait for their flag.")
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka brokers, host:port[,host:port]")
    parser.add_argument("--event", required=True, help="the StagedWeightEvent, a JSON file")
    parser.add_argument("--timeout", type=float, default=1200,
                        help="seconds to wait for the flag (default 1200; the fleet flags a run that is "
                             "not done by its deadline, 15 minutes by default, INCOMPLETE)")
    args = parser.parse_args()
    try:
        with open(args.event, "rb") as file:
            value = file.read()
        event = json.loads(value)
        event_id, model = event["event_id"], event["model"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"cannot read the staged event {args.event}: {error!r}", file=sys.stderr)
        return BAD_INPUT

    # Start reading the flags where they end now, before staging: the flag cannot come before that.
    flags = Consumer({"bootstrap.servers": args.bootstrap_servers, "group.id": "evalfleet-stage-and-wait",
                      "enable.auto.commit": False})
    topic = flags.list_topics(FLAGS, timeout=30).topics[FLAGS]
    if topic.error is not None or not topic.partitions:
        print(f"cannot read {FLAGS} on {args.bootstrap_servers}: {topic.error or 'no partitions'}"
              " (are the topics created? evalfleet topics -b ...)", file=sys.stderr)
        return UNREACHABLE
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
        return UNREACHABLE
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
            return EXIT_CODES.get(flag["flag"], 1)
    finally:
        flags.close()
    print(f"no flag for event {event_id} within {args.timeout:g} s", file=sys.stderr)
    return UNREACHABLE


if __name__ == "__main__":
    sys.exit(main())
