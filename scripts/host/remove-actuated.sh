#!/usr/bin/env bash
# remove-actuated.sh: stops and removes the actuated agent and the registry
# mirror its installer set up. Nothing to deregister in GitHub: actuated
# registers one ephemeral runner per job, and its control plane drops an agent
# that stays offline. The VM storage (disk or loopback file) and containerd are
# left in place.
#
# Settings (environment): RUNNER_FLEET_HOST (for messages).
# Run by hand: sudo /usr/local/lib/runner-fleet/remove-actuated.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"

for unit in actuated.service registry-mirror.service reset-pool.service; do
    systemctl disable --now --quiet "${unit}" 2>/dev/null || true
done
rm -f /etc/systemd/system/registry-mirror.service /etc/systemd/system/reset-pool.service \
    /etc/systemd/system/actuated.service /etc/default/actuated
rm -rf /root/.actuated /etc/registry
rm -f /usr/local/bin/agent /usr/local/bin/agent-arm64 /usr/local/bin/reset-pool.sh
rm -f "${STATE_DIR}/actuated.applied" "${STATE_DIR}/actuated-install.sh" "${STATE_DIR}/agent.hash"
systemctl daemon-reload 2>/dev/null || true
log "actuated agent removed from ${RUNNER_FLEET_HOST:-this host}"
