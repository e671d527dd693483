#!/usr/bin/env bash
# remove-metrics.sh: stops and removes the fleet's node exporter, its timer
# and figures; the prometheus-node-exporter package goes too when
# install-metrics.sh installed it (one the host had before stays).
#
# Settings (environment): RUNNER_FLEET_HOST (for the log line).
# Run by hand: sudo /usr/local/lib/runner-fleet/remove-metrics.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"

# No new run, then the one under way (the timer's, or an install's) ends on its
# own: stopping a oneshot kills it, and a killed or failed run keeps its unit
# listed after the files go, until reset-failed.
systemctl disable --now --quiet runner-fleet-metrics.timer 2>/dev/null || true
if [ -e "${STATE_DIR}/metrics-state/lock" ]; then
    flock -w 120 "${STATE_DIR}/metrics-state/lock" true || log "a metrics.sh run still held its lock after 120 s; stopping it"
fi
systemctl disable --now --quiet runner-fleet-metrics.service runner-fleet-node-exporter.service 2>/dev/null || true
systemctl reset-failed runner-fleet-metrics.service runner-fleet-metrics.timer runner-fleet-node-exporter.service 2>/dev/null || true
rm -f /etc/systemd/system/runner-fleet-metrics.timer /etc/systemd/system/runner-fleet-metrics.service \
    /etc/systemd/system/runner-fleet-node-exporter.service /etc/runner-fleet/metrics.env
rm -rf /var/lib/runner-fleet-metrics "${STATE_DIR}/metrics-state"
if [ -e "${STATE_DIR}/metrics.package" ]; then
    systemctl unmask --quiet prometheus-node-exporter.service 2>/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 remove -y -q prometheus-node-exporter >/dev/null 2>&1 || true
    rm -f "${STATE_DIR}/metrics.package"
fi
rm -f "${STATE_DIR}/metrics.hash"
systemctl daemon-reload 2>/dev/null || true
log "metrics removed from ${RUNNER_FLEET_HOST:-this host}"
