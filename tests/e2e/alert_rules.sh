#!/usr/bin/env bash
# alert_rules.sh: deploy/prometheus-rules.yml is valid (`promtool check rules`) and its alerts
# fire when they should (`promtool test rules` with tests/e2e/lib/prometheus-rules.test.yml):
# StreamGuardBatchStale follows the batch run's own time through a serve restart, and
# StreamGuardKafkaDown / StreamGuardAlertsUndelivered follow streamguard_kafka_up{client}. Needs promtool (scripts/deps.sh).
set -euo pipefail
command -v promtool >/dev/null || { echo "alert_rules.sh: promtool not installed (scripts/deps.sh)"; exit 1; }
promtool check rules deploy/prometheus-rules.yml
promtool test rules tests/e2e/lib/prometheus-rules.test.yml
echo "alert_rules: ok"
