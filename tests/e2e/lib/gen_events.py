#!/usr/bin/env python3
"""Seeded NDJSON test-event generator for the speed layer's tests and benchmarks (not the
product's `streamguard generate`): normal users with stable habits, a few attacked users
with labelled attack events, optional invalid lines and duplicates. Same seed, same bytes."""
import argparse
import json
import random
import string

p = argparse.ArgumentParser()
p.add_argument("--users", type=int, default=50)
p.add_argument("--events", type=int, default=20000)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--days", type=int, default=7)
p.add_argument("--invalid", type=float, default=0.0, help="fraction of invalid lines")
p.add_argument("--dups", type=float, default=0.0, help="fraction of duplicated events")
p.add_argument("--attack-users", type=float, default=0.1)
p.add_argument("--truth", help="write the event ids of attack events here")
a = p.parse_args()
r = random.Random(a.seed)
T0 = 1793577600000  # 2026-11-02T00:00:00Z, a Monday
COUNTRIES = [("US-NY-New York", 40.71, -74.0), ("DE-BER-Berlin", 52.52, 13.40),
             ("GB-LND-London", 51.5, -0.12), ("JP-TYO-Tokyo", 35.68, 139.69)]
users = []
for i in range(a.users):
    home = COUNTRIES[i % len(COUNTRIES)]
    users.append({
        "name": "user%03d" % i,
        "ips": ["10.%d.%d.%d" % (i % 250, k, 10 + k) for k in range(2)],
        "host": "ws-%03d" % i,
        "geo": home,
        "start_h": 7 + i % 3,
        "attacked": r.random() < a.attack_users,
    })
n_days = a.days
per_user = max(1, a.events // a.users)
out = []
truth = []
seq = 0


def eid():
    global seq
    seq += 1
    return "evt_%032x" % r.getrandbits(128)


def normal(u, ts):
    t = r.choices(["auth_attempt", "network_connection", "file_access", "process_execution",
                   "dns_query"], [3, 4, 3, 2, 3])[0]
    e = {"event_id": eid(), "timestamp": ts, "event_type": t, "user": u["name"],
         "source_ip": r.choice(u["ips"]), "destination_ip": "192.168.1.%d" % r.randint(1, 20),
         "status": "success" if r.random() > 0.03 else "failed",
         "threat_score": round(r.random() * 0.3, 3),
         "metadata": {"hostname": u["host"], "geo_location": u["geo"][0],
                      "geo_lat": u["geo"][1], "geo_lon": u["geo"][2]}}
    if t == "network_connection":
        e["network_details"] = {"protocol": "tcp", "destination_port": 443,
                                "bytes_sent": int(r.lognormvariate(9, 0.6)),
                                "bytes_received": int(r.lognormvariate(11, 1))}
    elif t == "file_access":
        e["file_details"] = {"file_path": "/home/%s/doc%d.txt" % (u["name"], r.randint(1, 30)),
                             "operation": r.choice(["read", "write"])}
    elif t == "process_execution":
        e["process_details"] = {"process_name": r.choice(["chrome", "code", "bash", "python3"]),
                                "user_privileges": "standard", "is_signed": True}
    elif t == "dns_query":
        e["dns_details"] = {"query_name": r.choice(["www.example.com", "api.github.com",
                                                    "mail.google.com"]), "query_type": "A"}
    else:
        e["auth_details"] = {"auth_type": "sso"}
    return e


def attack(u, ts):
    kind = r.choice(["travel", "burst", "dns", "exfil", "tool"])
    evs = []
    if kind == "travel":
        e = normal(u, ts)
        e["source_ip"] = "203.0.113.%d" % r.randint(1, 250)
        e["metadata"] = {"hostname": "unknown-host", "geo_location": "RU-MOW-Moscow",
                         "geo_lat": 55.75, "geo_lon": 37.62}
        e["event_type"] = "auth_attempt"
        for k in ("network_details", "file_details", "process_details", "dns_details"):
            e.pop(k, None)
        evs.append(e)
    elif kind == "burst":
        for k in range(8):
            e = normal(u, ts + k * 2000)
            e["event_type"] = "auth_attempt"
            e["status"] = "failed"
            e["destination_ip"] = "192.168.5.%d" % (k + 1)
            for kk in ("network_details", "file_details", "process_details", "dns_details"):
                e.pop(kk, None)
            evs.append(e)
    elif kind == "dns":
        for k in range(3):
            e = normal(u, ts + k * 1000)
            e["event_type"] = "dns_query"
            for kk in ("network_details", "file_details", "process_details", "auth_details"):
                e.pop(kk, None)
            sub = "".join(r.choice(string.ascii_lowercase + string.digits) for _ in range(48))
            e["dns_details"] = {"query_name": sub + ".exfil-tunnel.net", "query_type": "TXT"}
            evs.append(e)
    elif kind == "exfil":
        e = normal(u, ts)
        e["event_type"] = "network_connection"
        for kk in ("auth_details", "file_details", "process_details", "dns_details"):
            e.pop(kk, None)
        e["network_details"] = {"protocol": "tcp", "destination_port": 443,
                                "bytes_sent": r.randint(200_000_000, 900_000_000)}
        evs.append(e)
    else:
        e = normal(u, ts)
        e["event_type"] = "process_execution"
        for kk in ("auth_details", "file_details", "network_details", "dns_details"):
            e.pop(kk, None)
        e["process_details"] = {"process_name": "mimikatz.exe", "user_privileges": "admin",
                                "is_signed": False}
        evs.append(e)
    return evs


for u in users:
    for k in range(per_user):
        day = r.randrange(n_days)
        hour = u["start_h"] + r.random() * 9
        ts = T0 + day * 86400000 + int(hour * 3600000)
        out.append(normal(u, ts))
    if u["attacked"]:
        for k in range(3):
            ts = T0 + (n_days - 2 + k % 2) * 86400000 + int((u["start_h"] + 2 + k) * 3600000)
            for e in attack(u, ts):
                truth.append(e["event_id"])
                out.append(e)
out.sort(key=lambda e: (e["timestamp"], e["event_id"]))
lines = [json.dumps(e, separators=(",", ":")) for e in out]
final = []
bad = ['{"event_id":"x"}', 'not json', '{"event_id":"e1","timestamp":1,"event_type":"bogus",'
       '"user":"u","source_ip":"1.2.3.4"}', '[1,2,3]', '{"event_id":"e2","timestamp":-5,'
       '"event_type":"dns_query","user":"u","source_ip":"1.2.3.4"}']
for ln in lines:
    final.append(ln)
    if a.dups and r.random() < a.dups:
        final.append(ln)
    if a.invalid and r.random() < a.invalid:
        final.append(r.choice(bad))
print("\n".join(final))
if a.truth:
    with open(a.truth, "w") as f:
        f.write("\n".join(truth) + "\n")
