#!/usr/bin/env python3
"""scripts/api_examples.py: prints the Markdown examples of docs/API.md from a running
`streamguard serve` on 127.0.0.1:8080 started with a token file holding $TOKEN
(default streamguard-example-token). Each argument is a request target; a leading '!' sends it
without the token, a 'POST ' / 'HEAD ' prefix changes the method. Long arrays and objects are
shortened. How docs/API.md's examples were made:
  streamguard generate --events 20000 --users 200 --attack-users 0.05 --days 2 --seed 11 -o ev.ndjson
  streamguard stream --input ev.ndjson --db db; streamguard batch --input ev.ndjson --output batch
  streamguard serve --db db --batch-dir batch --token-file token &
  scripts/api_examples.py '!/health' '/api/events?limit=2&type=auth_attempt' ...
"""
import json
import os
import subprocess
import sys
T = os.environ.get("TOKEN", "streamguard-example-token")
def get(path, token=True, method="GET"):
    cmd=["curl","-s","-i","-X",method]+(["-H","Authorization: Bearer "+T] if token else [])+["http://127.0.0.1:8080"+path]
    out=subprocess.run(cmd,capture_output=True).stdout.decode()
    head,_,body=out.partition("\r\n\r\n")
    lines=head.split("\r\n")
    keep=[lines[0]]+[l for l in lines[1:] if l.split(":")[0].lower() in ("content-type","x-streamguard-scan","allow","www-authenticate")]
    return keep, body
def trim(o, n=1, depth=0):
    if isinstance(o, list):
        t=[trim(x,n,depth+1) for x in o[:n]]
        if len(o)>n: t.append(f"... {len(o)-n} more")
        return t
    if isinstance(o, dict):
        items=list(o.items())
        if depth>=1 and len(items)>14:
            d={k:trim(v,n,depth+1) for k,v in items[:12]}; d["..."]=f"{len(items)-12} more members"; return d
        return {k:trim(v,n,depth+1) for k,v in items}
    return o
for path in sys.argv[1:]:
    tok = not path.startswith("!")
    p = path.lstrip("!")
    method="GET"
    if p.startswith("POST "): method="POST"; p=p[5:]
    if p.startswith("HEAD "): method="HEAD"; p=p[5:]
    h,b=get(p,tok,method)
    print(f"### {method} {p}\n")
    print("```\n$ curl -si " + ("" if not tok else "-H 'Authorization: Bearer $TOKEN' ") + ("-X "+method+" " if method!="GET" else "") + "'http://127.0.0.1:8080"+p+"'")
    print("\n".join(h))
    print()
    try:
        print(json.dumps(trim(json.loads(b)), indent=2)[:2500])
    except Exception:
        print(b[:600])
    print("```\n")
