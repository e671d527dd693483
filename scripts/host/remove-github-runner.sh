#!/usr/bin/env bash
# remove-github-runner.sh: stops every runner instance on this host (each
# listener gets SIGINT and time to cancel and report its job, as
# runner-service.sh does), and removes the services, the unpacked runners,
# the registration files, each instance's user and its own (rootless) Docker
# with all it held. The host's Docker stays.
#
# The registrations in the organization are removed where pulumi runs, with
# the operator's token (the <host>-agent-runners step), after this: no
# credential that could remove them is kept on the host.
#
# Settings: /etc/runner-fleet/runner.env; RUNNER_FLEET_HOST for messages.
# Run by hand: sudo /usr/local/lib/runner-fleet/remove-github-runner.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"

env_file=/etc/runner-fleet/runner.env
if [ ! -f "${env_file}" ]; then
    log "no GitHub runner configured on ${RUNNER_FLEET_HOST:-this host}"
    exit 0
fi
# shellcheck disable=SC1090
. "${env_file}"

for unit in $(systemctl list-units --all --plain --no-legend 'runner-fleet-runner@*.service' 'runner-fleet-docker@*.service' | awk '{print $1}'); do
    systemctl disable --now --quiet "${unit}" || true
done
# An instance that had failed (a registration GitHub deleted, a refused one) stays listed until told.
systemctl reset-failed 'runner-fleet-runner@*' 'runner-fleet-docker@*' 2>/dev/null || true

rm -f /etc/systemd/system/runner-fleet-runner@.service /etc/systemd/system/runner-fleet-docker@.service "${env_file}" "${RUNNER_DOCKER_CONFIG}"
# Only the runner's own: /opt/runner-fleet also holds the mirror's registry
# release, which keeps serving (and starting) without the agent.
rm -rf /opt/runner-fleet/runner-* /var/cache/runner-fleet/actions-runner-* "${STATE_DIR}"/runner-*.registered \
    "${STATE_DIR}"/runner-*.failed "${STATE_DIR}"/runner-*.unregistered "${STATE_DIR}"/runner-*.docker "${STATE_DIR}"/docker-* "${STATE_DIR}/agent.hash" "${STATE_DIR}/runner-deps.done" "${SECRETS_DIR}/registration"
rmdir --ignore-fail-on-non-empty /opt/runner-fleet /var/cache/runner-fleet 2>/dev/null || true
systemctl daemon-reload
# Every instance's user (named runner-N, made with the comment "runner-fleet runner N"),
# and the one user all instances shared before.
for user in $(getent passwd | awk -F: -v p="${RUNNER_USER:-runner}-" 'index($1, p) == 1 && $5 ~ /^runner-fleet runner [0-9]+$/ { print $1 }'); do
    remove_runner_user "${user#"${RUNNER_USER:-runner}-"}"
done
remove_legacy_runner_user
# The job hooks' folders (rm -r removes links, never follows them).
rm -rf "${STATE_DIR}/jobs"
log "GitHub runner removed from ${RUNNER_FLEET_HOST}"
