#!/usr/bin/env bash
# compressed_input.sh: gzip (.gz) and zstd (.zst) input, of more than one read buffer (12 MB
# of NDJSON: the batch layer's buffer is 8 MiB, the replay's 1 MiB - a .zst this size failed
# as "truncated" before 2026-11-26 22:00). `batch --input` gives the same report as on the
# plain file. `stream --input` reads them too (archived topics are kept compressed): the store
# equals the plain file's; a truncated compressed file fails with exit 1 and a clear message,
# keeping the batches before the damage, and the same path completed later resumes from the
# stored line to the same store. Standard input is read as it is (zcat FILE.gz | stream
# --input -). A shorter file under a name the store read further (rotated) gets a warning.
set -euo pipefail
BIN=${STREAMGUARD_BIN:-build/streamguard}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BIN" generate -n 20000 -u 100 -s 21 -q -o "$T/in.ndjson"
gzip -k "$T/in.ndjson"
zstd -q -k "$T/in.ndjson"

# batch: the same report (but for its timings, time and input name) from all three
for f in in.ndjson in.ndjson.gz in.ndjson.zst; do
    "$BIN" batch --input "$T/$f" --out "$T/batch_$f" -q 2> "$T/batch.err" \
        || { echo "FAIL batch $f: exit $?"; cat "$T/batch.err"; exit 1; }
done
python3 - "$T" <<'PY'
import json, sys
def report(f):
    r = json.load(open(f"{sys.argv[1]}/batch_{f}/anomaly_report.json"))
    for k in ("generated_at", "input", "timings_s"):
        r.pop(k)
    return r
plain = report("in.ndjson")
assert plain["totals"]["valid"] == 20000, plain["totals"]
for f in ("in.ndjson.gz", "in.ndjson.zst"):
    assert report(f) == plain, f
print("batch: the same report from the plain, .gz and .zst files")
PY
# a directory is read one level deep: a subdirectory is named in a warning, not read silently
mkdir -p "$T/archive/2026-11"
cp "$T/in.ndjson.gz" "$T/archive/2026-11/"
cp "$T/in.ndjson.zst" "$T/archive/"
"$BIN" batch --input "$T/archive" --out "$T/batch_dir" -q 2> "$T/batch.err" \
    || { echo "FAIL batch of a directory: exit $?"; cat "$T/batch.err"; exit 1; }
grep -q "warn  $T/archive/2026-11: not read (a directory" "$T/batch.err" \
    || { echo "FAIL: no warning for the subdirectory"; cat "$T/batch.err"; exit 1; }

replay() { # replay INPUT DB: exit code; the summary in $T/out.json, the log in $T/err.log
    local rc=0
    "$BIN" stream --input "$1" --db "$2" --metrics-listen off --no-alerts --batch-size 1000 \
        > "$T/out.json" 2> "$T/err.log" || rc=$?
    return $rc
}
# the store without the offsets row (its key names the input file)
content() { "$BIN" stream --dump-store --db "$1" | grep -v '^offsets	'; }

replay "$T/in.ndjson" "$T/plain.db"
content "$T/plain.db" > "$T/plain.dump"
grep -q '^events	' "$T/plain.dump"
for ext in gz zst; do
    replay "$T/in.ndjson.$ext" "$T/$ext.db" || { echo "FAIL .$ext: exit $?"; cat "$T/err.log"; exit 1; }
    if grep -q invalid "$T/err.log"; then echo "FAIL .$ext: invalid lines"; head -3 "$T/err.log"; exit 1; fi
    content "$T/$ext.db" | cmp - "$T/plain.dump" || { echo "FAIL .$ext: store differs"; exit 1; }
    echo ".$ext: same store as the plain file ($(cut -c1-60 "$T/out.json")...)"
done

# stdin is not decompressed (zlib would hold a pipe's lines back until its buffer fills)
zcat "$T/in.ndjson.gz" | "$BIN" stream --input - --db "$T/stdin.db" --metrics-listen off \
    --no-alerts > /dev/null 2>&1
content "$T/stdin.db" | cmp - "$T/plain.dump" || { echo "FAIL stdin: store differs"; exit 1; }

for ext in gz zst; do
    size=$(stat -c %s "$T/in.ndjson.$ext")
    head -c $((size * 6 / 10)) "$T/in.ndjson.$ext" > "$T/part.ndjson.$ext"
    rc=0
    replay "$T/part.ndjson.$ext" "$T/part_$ext.db" || rc=$?
    [ "$rc" -eq 1 ] || { echo "FAIL truncated .$ext: exit $rc, want 1"; cat "$T/err.log"; exit 1; }
    grep -q "part.ndjson.$ext: .*truncated input" "$T/err.log" \
        || { echo "FAIL truncated .$ext: unclear message"; cat "$T/err.log"; exit 1; }
    msg=$(tail -n 1 "$T/err.log")
    stored=$("$BIN" stream --dump-store --db "$T/part_$ext.db" | grep -c '^events	' || true)
    [ "$stored" -gt 0 ] || { echo "FAIL truncated .$ext: nothing stored before the damage"; exit 1; }
    cp "$T/in.ndjson.$ext" "$T/part.ndjson.$ext" # the whole file arrives under the same name
    replay "$T/part.ndjson.$ext" "$T/part_$ext.db"
    grep -q "resuming .*part.ndjson.$ext at line" "$T/err.log" || { echo "FAIL .$ext: no resume"; exit 1; }
    content "$T/part_$ext.db" | cmp - "$T/plain.dump" || { echo "FAIL resumed .$ext: store differs"; exit 1; }
    echo "truncated .$ext: exit 1 ($msg), $stored events kept; completed: resumed to the same store"
done
# a shorter file under a name the store has read further (a rotated file): nothing is read,
# and the log says why
head -n 500 "$T/in.ndjson" > "$T/short.ndjson"
cp "$T/in.ndjson" "$T/rotated.ndjson"
replay "$T/rotated.ndjson" "$T/rot.db"
cp "$T/short.ndjson" "$T/rotated.ndjson"
replay "$T/rotated.ndjson" "$T/rot.db"
grep -q "rotated.ndjson has 500 lines, but this store has read it up to line 20000" "$T/err.log" \
    || { echo "FAIL rotated file: no warning"; cat "$T/err.log"; exit 1; }
echo "rotated file: $(grep -o 'has 500 lines.*line 20000' "$T/err.log")"
echo "compressed_input: ok"
