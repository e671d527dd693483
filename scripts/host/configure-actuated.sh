#!/usr/bin/env bash
# configure-actuated.sh: what changes on an enrolled actuated agent in place,
# without enrolling it again (which would wipe VM_DEV):
# - the licence: copied where the agent reads it ($HOME/.actuated/LICENSE, as
#   get.actuated.com writes it), and the agent restarted when it changed;
# - the Docker Hub login on actuated's mirror: actuated's installer passes it
#   to arkade under flag names arkade never reads (alexellis/arkade,
#   cmd/system/registry.go), so the mirror would pull anonymously. It is
#   written into the mirror's config (/etc/registry/config.yml, made
#   root-only), the mirror restarted when it changed, and /v2/ checked;
# - then it checks that the agent listens on its port (443), where actuated's
#   control plane reaches it.
# On a host where the agent is not installed yet it does nothing.
#
# Settings (environment):
#   RUNNER_FLEET_HOST    the host's name, for messages
#   MIRROR               actuated (the installer's mirror runs) or skip
#   DOCKERHUB_USERNAME   Docker Hub user for the mirror (empty: anonymous pulls)
#   AGENT_PORT           the agent's port (default 443)
#   SETTINGS_HASH        the hash the stack declared (recorded for drift checks)
# Secrets: on stdin, "name base64" lines (actuated-license, dockerhub-token),
# kept root-only in /etc/runner-fleet/secrets/agent; without stdin, those files.
#
# Run by hand: sudo env MIRROR=actuated DOCKERHUB_USERNAME=bot /usr/local/lib/runner-fleet/configure-actuated.sh </dev/null
set -euo pipefail
. "$(dirname "$0")/common.sh"

host="${RUNNER_FLEET_HOST:-this host}"
secrets="${SECRETS_DIR}/agent"
mirror="$(setting MIRROR)"
username="${DOCKERHUB_USERNAME:-}"
port="${AGENT_PORT:-443}"
config="${ROOT}/etc/registry/config.yml"
licence_file="${ROOT}/root/.actuated/LICENSE"

read_secrets "${secrets}" >/dev/null
token="$(secret dockerhub-token "${secrets}")"
if [ -n "${username}" ] && [ "${mirror}" = actuated ] && [ -z "${token}" ]; then
    die "DOCKERHUB_USERNAME is set but host ${host} has no dockerhub-token secret"
fi

if ! rendering && ! systemctl cat actuated.service >/dev/null 2>&1; then
    log "actuated is not installed on ${host} yet; install-actuated.sh applies this after enrolling"
    exit 0
fi

# listening_on PORT: whether a TCP socket listens on PORT (IPv4 or IPv6), from /proc.
listening_on() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v p=":${hex}" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

restart=()
if [ -s "${secrets}/actuated-license" ]; then
    result="$(write_file "${licence_file}" 0600 <"${secrets}/actuated-license")"
    if [ "${result}" = changed ]; then
        log "the actuated licence on ${host} changed"
        restart+=(actuated)
    fi
fi

mirror_changed=unchanged
if [ "${mirror}" = actuated ] && [ -f "${config}" ]; then
    # arkade's config with the login lines this script owns taken out, then put back in under proxy:.
    mirror_changed="$(
        awk -v user="${username}" -v pass_file="${secrets}/dockerhub-token" '
            /^  (username|password):/ && in_proxy { next }
            { print }
            /^proxy:/ { in_proxy = 1; next }
            /^[^ ]/ { in_proxy = 0 }
            in_proxy && /^  remoteurl:/ && user != "" {
                getline pass < pass_file
                gsub(/"/, "\\\"", pass)
                printf "  username: \"%s\"\n  password: \"%s\"\n", user, pass
            }' "${config}" | write_file "${config}" 0600
    )"
    if [ "${mirror_changed}" = changed ]; then
        log "the Docker Hub login of actuated's mirror on ${host} changed"
        restart+=(registry-mirror)
    fi
fi

if rendering; then exit 0; fi
for unit in "${restart[@]}"; do
    systemctl restart "${unit}"
done
if [ "${mirror}" = actuated ]; then
    retry 10 curl -fsS -k --max-time 10 -o /dev/null https://192.168.128.1:5000/v2/ ||
        die "actuated's registry mirror does not answer on https://192.168.128.1:5000/v2/ on ${host}; see journalctl -u registry-mirror"
fi
for _ in $(seq 1 15); do
    listening_on "${port}" && break
    sleep 2
done
listening_on "${port}" ||
    die "the actuated agent on ${host} does not listen on port ${port}, where actuated's control plane reaches it; see journalctl -u actuated"
stamp agent-config "${SETTINGS_HASH:-}"
log "actuated on ${host}: licence and mirror login applied, agent listening on ${port}"
