"""Publishes staged events with a Python Kafka client at its default settings, for ClientMatrixIT.

  /usr/bin/python3 produce.py CLIENT KEYING BOOTSTRAP TOPIC MIN_COUNT < events

CLIENT is confluent-kafka or kafka-python; KEYING says what each record is keyed by: model (the
model name, as the wire format asks), event-id (a key that is not the model name) or null. Each line
of standard input is "<model>\t<event id>\t<event JSON>". At least MIN_COUNT events are published,
one after another, and then more until every partition of TOPIC holds one (the records of a null key
go to random partitions), while lines last. Prints "<event id>\t<partition>" for each.
"""
import sys

client, keying, bootstrap, topic, min_count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
events = [line.rstrip("\n").split("\t", 2) for line in sys.stdin if line.strip()]


def key_of(model, event_id):
    return {"model": model, "event-id": event_id, "null": None}[keying]


if client == "confluent-kafka":
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    partitions_of = len(producer.list_topics(topic, timeout=30).topics[topic].partitions)

    def send(key, value):
        delivered = []
        producer.produce(topic, key=key, value=value,
                         on_delivery=lambda error, record: delivered.append((error, record)))
        producer.flush(30)
        error, record = delivered[0]
        if error is not None:
            raise RuntimeError(str(error))
        return record.partition()
elif client == "kafka-python":
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap)
    partitions_of = len(producer.partitions_for(topic))

    def send(key, value):
        return producer.send(topic, key=None if key is None else key.encode(), value=value).get(timeout=30).partition
else:
    raise SystemExit("unknown client " + client)

hit = set()
for count, (model, event_id, value) in enumerate(events):
    if count >= min_count and len(hit) == partitions_of:
        break
    partition = send(key_of(model, event_id), value.encode())
    hit.add(partition)
    print(f"{event_id}\t{partition}", flush=True)
