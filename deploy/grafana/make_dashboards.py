#!/usr/bin/env python3
"""deploy/grafana/make_dashboards.py: writes the Grafana dashboards in deploy/grafana/dashboards/
from the panel lists below (one place to read every PromQL expression; the JSON is committed,
tests/e2e/prometheus.sh checks every expression returns data from a real Prometheus).
Run: python3 deploy/grafana/make_dashboards.py"""
import json
import os

DS = {"type": "prometheus", "uid": "streamguard-prometheus"}
HERE = os.path.dirname(os.path.abspath(__file__))


def q(expr, legend):
    return {"expr": expr, "legendFormat": legend}


def quantiles(metric, by=""):
    grp = f"sum by (le{', ' + by if by else ''}) (rate({metric}_bucket[5m]))"
    return [q(f"histogram_quantile({p}, {grp})", f"p{int(p * 100)}") for p in (0.5, 0.9, 0.99)]


# (title, unit, targets, kind) per row
ROWS = {
    "streamguard-pipeline": ("StreamGuard - pipeline", [
        ("Throughput", [
            ("Events processed / s by type", "ops",
             [q("sum by (type) (rate(streamguard_stream_events_total[1m]))", "{{type}}")], "ts"),
            ("Store batches / s", "ops",
             [q("sum(rate(streamguard_stream_batches_total[1m]))", "batches/s")], "ts"),
            ("Messages per store batch", "short", quantiles("streamguard_stream_batch_size_messages"), "ts"),
            ("API requests / s by route", "reqps",
             [q("sum by (route) (rate(streamguard_serve_requests_total[1m]))", "{{route}}")], "ts"),
        ]),
        ("Latency", [
            ("Per-event detection time", "s", quantiles("streamguard_stream_processing_seconds"), "ts"),
            ("Store batch write time", "s", quantiles("streamguard_stream_batch_write_seconds"), "ts"),
            ("End to end: produced -> stored", "s", quantiles("streamguard_stream_e2e_latency_seconds"), "ts"),
            ("In the stream: received -> stored", "s", quantiles("streamguard_stream_in_stream_latency_seconds"), "ts"),
            ("API request time", "s", quantiles("streamguard_serve_request_seconds"), "ts"),
        ]),
        ("Lag", [
            ("Consumer lag (messages)", "short",
             [q("sum(streamguard_stream_consumer_lag_messages)", "total"),
              q("max by (partition) (streamguard_stream_consumer_lag_messages)", "partition {{partition}}")], "ts"),
            ("Event time -> stored", "s", quantiles("streamguard_stream_event_lag_seconds"), "ts"),
            ("Newest event time age", "s",
             [q("time() - max(streamguard_stream_watermark_seconds)", "age")], "ts"),
        ]),
        ("Anomalies", [
            ("Anomalies / s by severity", "ops",
             [q("sum by (severity) (rate(streamguard_stream_anomalies_total[5m]))", "{{severity}}")], "ts"),
            ("Anomaly reasons / s", "ops",
             [q("sum by (reason) (rate(streamguard_stream_anomaly_reasons_total[5m]))", "{{reason}}")], "ts"),
            ("Anomalies by severity (total)", "short",
             [q("sum by (severity) (streamguard_stream_anomalies_total)", "{{severity}}")], "bar"),
            ("Alerts and dead letters waiting for Kafka (outbox)", "short",
             [q("sum(streamguard_stream_outbox_records)", "undelivered"),
              q("sum(increase(streamguard_stream_outbox_dropped_total[1h]))", "dropped in the last hour")], "ts"),
        ]),
        ("Dead letters", [
            ("Invalid messages (DLQ) / s by reason", "ops",
             [q("sum by (reason) (rate(streamguard_stream_invalid_total[5m]))", "{{reason}}")], "ts"),
            ("Invalid messages (DLQ) total", "short",
             [q("sum(streamguard_stream_invalid_total)", "invalid")], "stat"),
            ("Duplicates dropped / s", "ops",
             [q("sum(rate(streamguard_stream_duplicates_total[5m]))", "duplicates")], "ts"),
            ("Events not keyed by their user / s (fix the producer)", "ops",
             [q("sum by (reason) (rate(streamguard_stream_key_mismatch_total[5m]))", "{{reason}}")], "ts"),
        ]),
        ("Batch run results", [
            ("Anomalous users (latest run)", "short", [q("streamguard_batch_anomalous_users", "anomalous")], "stat"),
            ("Users scored (latest run)", "short", [q("streamguard_batch_users", "users")], "stat"),
            ("Run duration", "s", [q("streamguard_batch_run_seconds", "seconds")], "stat"),
            ("Invalid events in the run", "short", [q("streamguard_batch_invalid_events", "invalid")], "stat"),
            ("Age of the served run", "s",
             [q("time() - streamguard_batch_generated_timestamp_seconds", "age")], "stat"),
        ]),
        ("Storage and serving", [
            ("Store size", "bytes", [q("max(streamguard_store_size_bytes)", "bytes")], "ts"),
            ("RocksDB write throttling (0 none, 1 delayed, 2 stopped)", "short",
             [q("max(streamguard_store_write_stall)", "stall")], "ts"),
            ("Users cached by the speed layer", "short", [q("sum(streamguard_stream_users_cached)", "users")], "ts"),
            ("Store key comparisons per API request", "short",
             [q("sum(rate(streamguard_serve_store_key_compares_total[5m])) / "
                "clamp_min(sum(rate(streamguard_serve_requests_total[5m])), 1e-9)", "compares/request")], "ts"),
            ("API errors / s by code", "reqps",
             [q('sum by (code) (rate(streamguard_serve_requests_total{code!="200"}[5m]))', "{{code}}")], "ts"),
        ]),
    ]),
}

KIND = {"ts": "timeseries", "stat": "stat", "bar": "barchart"}


def panel(pid, title, unit, targets, kind, x, y, w, h):
    p = {
        "id": pid, "title": title, "type": KIND[kind], "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [dict(t, refId=chr(ord("A") + i), datasource=DS) for i, t in enumerate(targets)],
        "options": {},
    }
    if kind == "bar":
        p["targets"] = [dict(t, instant=True, format="table") for t in p["targets"]]
        p["options"] = {"xField": "severity", "orientation": "horizontal"}
    return p


def dashboard(uid, title, rows):
    panels, pid, y = [], 1, 0
    for row_title, items in rows:
        panels.append({"id": pid, "type": "row", "title": row_title, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
        pid, y = pid + 1, y + 1
        w = 24 // len(items)
        for i, (t, unit, targets, kind) in enumerate(items):
            panels.append(panel(pid, t, unit, targets, kind, i * w, y, w, 5 if kind == "stat" else 8))
            pid += 1
        y += 8
    return {
        "uid": uid, "title": title, "tags": ["streamguard"], "timezone": "utc",
        "schemaVersion": 38, "version": 1, "editable": True, "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"}, "panels": panels,
        "templating": {"list": []}, "annotations": {"list": []},
    }


if __name__ == "__main__":
    for uid, (title, rows) in ROWS.items():
        path = os.path.join(HERE, "dashboards", uid + ".json")
        with open(path, "w") as f:
            json.dump(dashboard(uid, title, rows), f, indent=2)
            f.write("\n")
        print(path)
