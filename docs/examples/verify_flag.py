#!/usr/bin/env python3
"""Verify evalfleet drift flags: the Ed25519 signature the dispatcher made over each flag's exact
value bytes (docs/promotion.md). Needs Debian's python3-cryptography; with --bootstrap-servers also
python3-confluent-kafka.

  python3 verify_flag.py --public-keys flags.pub.pem --bootstrap-servers kafka:9092 [--event-id ID]
  python3 verify_flag.py --public-keys flags.pub.pem --bootstrap-servers kafka-1:9093 -F promotion.conf
  python3 verify_flag.py --public-keys flags.pub.pem --signed-flag locks/m/v2.flag.signed.json

On a secured cluster, -F FILE reads librdkafka client settings (key=value per line, # comments, as
kcat's -F): security.protocol, sasl.*, ssl.*, the password among them, which never goes on a command
line. -X key=value adds or overrides one setting (repeatable; not for passwords). The consumer group
(--group, default evalfleet-promotion-verify-flag) must start with evalfleet-promotion for the
promotion-reader role's ACLs; the script commits no offsets.

Prints one line per flag: VERIFIED (key id, model, version, flag, event id) or REJECTED (why).
Exit status: 0 every flag read verified (and --event-id's was among them), 1 a flag was rejected,
2 the command line or its -F file is wrong, 3 the topic cannot be read or --event-id's flag did not
come within --timeout.
"""
import argparse
import base64
import hashlib
import json
import sys
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FLAGS = "evalfleet.drift-flags"
GROUP = "evalfleet-promotion-verify-flag"  # the promotion-reader ACLs allow evalfleet-promotion*


def trusted_keys(paths):
    """The Ed25519 public keys in the PEM files, by key id: the first 16 hex digits of the SHA-256
    of the key's SubjectPublicKeyInfo DER encoding."""
    keys = {}
    for path in paths:
        with open(path, "rb") as file:
            key = serialization.load_pem_public_key(file.read())
        if not isinstance(key, Ed25519PublicKey):
            sys.exit(f"{path} is not an Ed25519 public key")
        spki = key.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
        keys[hashlib.sha256(spki).hexdigest()[:16]] = key
    return keys


def verify(keys, value, headers):
    """The id of the trusted key that signed value; raises ValueError naming why not."""
    headers = dict(headers or [])  # the last header of a name wins, as in Kafka's lastHeader
    signature, key_id = headers.get("evalfleet.signature"), headers.get("evalfleet.signing-key")
    if signature is None or key_id is None:
        raise ValueError("unsigned")
    key_id = key_id.decode("ascii", "replace")
    if key_id not in keys:
        raise ValueError(f"unknown key {key_id}")
    try:
        keys[key_id].verify(base64.b64decode(signature), value)
    except (InvalidSignature, ValueError):
        raise ValueError(f"bad signature: not key {key_id}'s over these bytes (forged or altered)")
    if json.loads(value).get("signing_key_id") != key_id:
        raise ValueError("the flag's signing_key_id is not the header's key id")
    return key_id


def report(keys, key, value, headers):
    """Prints the flag's line; returns (verified, event id)."""
    try:
        flag = json.loads(value)
    except ValueError:
        flag = {}
    try:
        key_id = verify(keys, value, headers)
    except ValueError as why:
        print(f"REJECTED model={flag.get('model', key)} version={flag.get('version')} "
              f"event={flag.get('event_id')} claims={flag.get('flag')}: {why}")
        return False, flag.get("event_id")
    print(f"VERIFIED key={key_id} model={flag['model']} version={flag.get('version')} "
          f"flag={flag['flag']} event={flag['event_id']}")
    return True, flag["event_id"]


def from_archive(keys, path):
    with open(path, "rb") as file:
        archived = json.load(file)
    headers = [("evalfleet.signature", archived["signature"].encode("ascii")),
               ("evalfleet.signing-key", archived["signing_key_id"].encode("ascii"))]
    verified, _ = report(keys, None, base64.b64decode(archived["value"]), headers)
    return 0 if verified else 1


def settings_file(path):
    """The librdkafka settings of a properties file as kcat's -F reads it: key=value per line,
    blank lines and lines starting with # ignored."""
    settings = {}
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, equals, value = line.partition("=")
            if not equals or not key.strip():
                # the line may hold a secret: name its number only
                raise ValueError(f"{path}:{number}: not a key=value setting")
            settings[key.strip()] = value.strip()
    return settings


def setting(text):
    """One -X key=value; a password is refused, as a command line is visible to every user."""
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise argparse.ArgumentTypeError(f"'{text}' is not key=value")
    if key.strip().endswith(("password", "secret")):
        raise argparse.ArgumentTypeError(
            f"{key.strip()}: a secret never goes on a command line; put it in a -F file")
    return key.strip(), value.strip()


def from_topic(keys, settings, event_id, timeout):
    from confluent_kafka import (Consumer, KafkaError, KafkaException, OFFSET_BEGINNING,
                                 TopicPartition)
    try:
        consumer = Consumer(settings)
    except KafkaException as e:
        print(f"cannot configure the consumer: {e}", file=sys.stderr)
        return 3
    try:
        partitions = consumer.list_topics(FLAGS, timeout=30).topics[FLAGS].partitions
        consumer.assign([TopicPartition(FLAGS, p, OFFSET_BEGINNING) for p in partitions])
        at_end, rejected, deadline = set(), False, time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition())
                    if event_id is None and len(at_end) == len(partitions):
                        return 1 if rejected else 0
                    continue
                raise KafkaException(message.error())
            key = message.key().decode("utf-8", "replace") if message.key() else None
            verified, flag_event = report(keys, key, message.value(), message.headers())
            rejected |= not verified
            if verified and event_id is not None and flag_event == event_id:
                return 0
        print(f"no verified flag for event {event_id} within {timeout} s", file=sys.stderr)
        return 1 if rejected else 3
    except KafkaException as e:
        print(f"cannot read {FLAGS}: {e}", file=sys.stderr)
        return 3
    finally:
        consumer.close()


def main():
    parser = argparse.ArgumentParser(description="Verify the signatures of evalfleet drift flags.")
    parser.add_argument("--public-keys", required=True, nargs="+", help="trusted PEM public keys")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--bootstrap-servers", help="read evalfleet.drift-flags from its beginning")
    source.add_argument("--signed-flag", help="a flag as archived beside its lockfile")
    parser.add_argument("--event-id", help="wait for this event's verified flag")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to read (default 60)")
    parser.add_argument("--group", help=f"consumer group id (default {GROUP}; the promotion-reader"
                                        " ACLs allow groups starting with evalfleet-promotion)")
    parser.add_argument("-F", dest="settings_file", metavar="FILE",
                        help="librdkafka settings file (key=value per line, # comments, as kcat's"
                             " -F): security.protocol, sasl.*, ssl.*, passwords")
    parser.add_argument("-X", dest="settings", metavar="KEY=VALUE", type=setting, action="append",
                        default=[], help="a librdkafka setting, repeatable (not for passwords:"
                                         " use -F)")
    args = parser.parse_args()
    keys = trusted_keys(args.public_keys)
    if args.signed_flag:
        return from_archive(keys, args.signed_flag)
    settings = {"bootstrap.servers": args.bootstrap_servers, "group.id": GROUP,
                "enable.auto.commit": False, "enable.partition.eof": True}
    if args.settings_file:
        try:
            settings.update(settings_file(args.settings_file))
        except (OSError, ValueError) as why:
            parser.error(str(why))
    settings.update(args.settings)
    if args.group:
        settings["group.id"] = args.group
    return from_topic(keys, settings, args.event_id, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
