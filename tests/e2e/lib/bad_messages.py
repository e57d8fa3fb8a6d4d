#!/usr/bin/env python3
"""Writes the bad messages of tests/e2e/bad_input.sh, one file per message (DIR/mNNN), and
DIR/manifest (file, kind, expected reason): the contract's invalid examples in order, random
bytes, a message over 1 MiB, deep nesting, invalid UTF-8, blank and non-object values.
Seeded: same bytes every run. Not a fuzzer (tests/fuzz/ is)."""
import json
import os
import random
import sys

out, spec = sys.argv[1], sys.argv[2]
r = random.Random(7)
# docs/EVENTS.md: the reasons of the spec's invalid.ndjson, line by line
CONTRACT = ["missing_field", "bad_enum", "bad_format", "out_of_range", "bad_format",
            "not_integral", "bad_format", "bad_format", "bad_enum", "out_of_range",
            "missing_field", "not_object", "invalid_json", "out_of_range", "wrong_type",
            "invalid_utf8"]
msgs = []  # (kind, expected reason or None when several fit, bytes)
lines = [l for l in open(spec + "/examples/invalid.ndjson", "rb").read().split(b"\n") if l]
assert len(lines) == len(CONTRACT), len(lines)
for i, l in enumerate(lines):
    msgs.append(("contract line %d" % (i + 1), CONTRACT[i], l))
for i in range(30):  # random bytes: not JSON or not UTF-8; no newline (NDJSON framing)
    b = bytes(r.getrandbits(8) for _ in range(r.randint(1, 300))).replace(b"\n", b" ")
    msgs.append(("random bytes", None, b))
ev = {"event_id": "evt_big", "timestamp": 1793577600000, "event_type": "auth_attempt",
      "user": "big", "source_ip": "10.0.0.1", "metadata": {"user_agent": "x" * (1100 * 1024)}}
msgs.append(("1.1 MiB event", "too_large", json.dumps(ev).encode()))
msgs.append(("100000-deep array", "too_deep",
             b'{"event_id":"evt_deep","x":' + b"[" * 100000 + b"]" * 100000 + b"}"))
msgs.append(("5000-deep object", "too_deep", b'{"a":' * 5000 + b"1" + b"}" * 5000))
ev = {"event_id": "evt_utf8", "timestamp": 1793577600000, "event_type": "auth_attempt",
      "user": "USERX", "source_ip": "10.0.0.1"}
good = json.dumps(ev).encode()
msgs.append(("truncated UTF-8 sequence", "invalid_utf8", good.replace(b"USERX", b"ab\xc3\x28cd")))
msgs.append(("overlong UTF-8", "invalid_utf8", good.replace(b"USERX", b"\xc0\xafx")))
msgs.append(("UTF-8 surrogate", "invalid_utf8", good.replace(b"USERX", b"\xed\xa0\x80x")))
msgs.append(("trailing NUL", "invalid_json", good + b"\x00"))
msgs.append(("control character in user", "invalid_json", good.replace(b"USERX", b"a\x01b")))
msgs.append(("empty", "invalid_json", b""))
msgs.append(("blanks", "invalid_json", b"   "))
msgs.append(("number", "not_object", b"42"))
msgs.append(("null", "not_object", b"null"))
os.makedirs(out, exist_ok=True)
with open(out + "/manifest", "w") as m:
    for i, (kind, reason, b) in enumerate(msgs):
        with open("%s/m%03d" % (out, i), "wb") as f:
            f.write(b)
        m.write("m%03d\t%s\t%s\n" % (i, kind, reason or "*"))
