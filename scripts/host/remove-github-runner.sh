#!/usr/bin/env bash
# remove-github-runner.sh: stops every runner instance on this host, removes
# each from the organization (so pulumi destroy leaves no runner listed), and
# removes the services, the unpacked runners and the runner user. Docker stays.
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
export RUNNER_FLEET_HOST GITHUB_ORG GITHUB_API_URL RUNNER_USER

instances=""
for unit in $(systemctl list-units --all --plain --no-legend 'runner-fleet-runner@*.service' | awk '{print $1}'); do
    n="${unit#runner-fleet-runner@}"
    instances="${instances} ${n%.service}"
    systemctl disable --now --quiet "${unit}" || true
done
for d in /opt/runner-fleet/runner-*; do
    [ -d "${d}" ] && instances="${instances} ${d##*-}"
done
for n in $(tr ' ' '\n' <<<"${instances}" | sort -un); do
    "$(dirname "$0")/runner-service.sh" "${n}" deregister
done

rm -f /etc/systemd/system/runner-fleet-runner@.service "${env_file}"
rm -rf /opt/runner-fleet /var/cache/runner-fleet "${STATE_DIR}"/runner-*.registered "${STATE_DIR}/agent.hash" \
    "${STATE_DIR}/runner-deps.done" "${SECRETS_DIR}/registration"
systemctl daemon-reload
if id "${RUNNER_USER:-runner}" >/dev/null 2>&1; then
    userdel -r "${RUNNER_USER:-runner}" 2>/dev/null || userdel "${RUNNER_USER:-runner}"
fi
log "GitHub runner removed from ${RUNNER_FLEET_HOST}"
