#!/usr/bin/env bash
# remove-mirror.sh: stops and removes the runner-fleet registry mirror, its
# binary, user, config and cache, and takes it out of Docker's and
# containerd's config. containerd's config_path is left as it is: it names
# certs.d, which without runner-fleet's docker.io entry changes nothing.
# On actuated hosts (MIRROR_MODE=actuated) the mirror is actuated's; nothing here.
#
# Settings (environment): MIRROR_MODE, MIRROR_BIND, MIRROR_STORAGE (as for configure-mirror.sh).
# Run by hand: sudo /usr/local/lib/runner-fleet/remove-mirror.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"

if [ "${MIRROR_MODE:-registry}" = actuated ]; then
    rm -f "${STATE_DIR}/mirror.hash"
    exit 0
fi
storage="${MIRROR_STORAGE:-/var/lib/runner-fleet/mirror}"
mirror_url="http://${MIRROR_BIND:-127.0.0.1:5000}"

systemctl disable --now --quiet runner-fleet-mirror.service 2>/dev/null || true
rm -f /etc/systemd/system/runner-fleet-mirror.service
rm -rf /etc/runner-fleet/mirror "${SECRETS_DIR}/mirror" "${storage}" /opt/runner-fleet/registry-*
hosts_toml=/etc/containerd/certs.d/docker.io/hosts.toml
if [ -f "${hosts_toml}" ] && grep -q '^# Written by runner-fleet' "${hosts_toml}"; then
    rm -f "${hosts_toml}"
fi
rm -f "${STATE_DIR}/mirror.hash"
if id runner-fleet-mirror >/dev/null 2>&1; then
    userdel runner-fleet-mirror 2>/dev/null || true
fi
if command -v python3 >/dev/null 2>&1 && [ "$(docker_mirror remove "${mirror_url}")" = changed ] &&
    systemctl is-active --quiet docker.service; then
    systemctl restart docker.service
fi
systemctl daemon-reload 2>/dev/null || true
log "registry mirror removed from ${RUNNER_FLEET_HOST:-this host}"
