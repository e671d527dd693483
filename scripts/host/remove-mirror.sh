#!/usr/bin/env bash
# remove-mirror.sh: stops and removes the runner-fleet registry mirror, its
# binary, user, config and cache, and takes the host's container clients off
# it (mirror-clients.sh, which configure-mirror.sh points them with).
# On actuated hosts (MIRROR_MODE=actuated) the mirror is actuated's; nothing here.
#
# Settings (environment): MIRROR_MODE, MIRROR_BIND, MIRROR_STORAGE (as for configure-mirror.sh).
# Run by hand: sudo /usr/local/lib/runner-fleet/remove-mirror.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mirror-clients.sh"

if [ "${MIRROR_MODE:-registry}" = actuated ]; then
    rm -f "${STATE_DIR}/mirror.hash"
    exit 0
fi
storage="${MIRROR_STORAGE:-/var/lib/runner-fleet/mirror}"
mirror_url="http://$(setting MIRROR_BIND)"

systemctl disable --now --quiet runner-fleet-mirror.service 2>/dev/null || true
rm -f /etc/systemd/system/runner-fleet-mirror.service
rm -rf /etc/runner-fleet/mirror "${SECRETS_DIR}/mirror" "${storage}" /opt/runner-fleet/registry-*
rmdir --ignore-fail-on-non-empty /opt/runner-fleet 2>/dev/null || true
rm -f "${STATE_DIR}/mirror.hash"
if id runner-fleet-mirror >/dev/null 2>&1; then
    userdel runner-fleet-mirror 2>/dev/null || true
fi
clients_leave_mirror "${mirror_url}"
systemctl daemon-reload 2>/dev/null || true
log "registry mirror removed from ${RUNNER_FLEET_HOST:-this host}"
