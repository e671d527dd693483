#!/usr/bin/env bash
# install-github-runner.sh: the official GitHub Actions runner for this host's
# arch, registered to the organization in the fleet's runner group with the
# fleet's labels, as INSTANCES systemd services (runner-fleet-runner@N). Jobs run
# as an unprivileged user; a root supervisor (runner-service.sh) registers each
# instance, ephemeral by default, and registers it again after every job.
#
# Settings (environment):
#   RUNNER_FLEET_HOST    the host's name; instances are named <host>-<N>
#   GITHUB_ORG           the organization
#   GITHUB_URL           default https://github.com
#   GITHUB_API_URL       default https://api.github.com
#   RUNNER_GROUP         the runner group (default: Default)
#   LABELS               comma-separated labels (no default labels are added)
#   INSTANCES            runner services on this host (default 1)
#   EPHEMERAL            1 (default): one job per registration
#   RUNNER_VERSION       actions/runner release, such as 2.329.0
#   RUNNER_DOWNLOAD_URL  release base URL (default https://github.com/actions/runner/releases/download)
#   RUNNER_SHA256        expected sha256 of the release archive (optional)
#   RUNNER_USER          the unprivileged user jobs run as (default runner)
#   INSTALL_DOCKER       1 (default): install Docker and let the runner user use it
#   SETTINGS_HASH        the hash the stack declared (recorded for drift checks)
# Stdin: "registration-token <base64>", a fresh token from the organization
# (kept root-only in /etc/runner-fleet/secrets/registration/).
# Secrets (files in /etc/runner-fleet/secrets/agent): github-runner-token, to
# get later registration and removal tokens.
#
# Run by hand: sudo env RUNNER_FLEET_HOST=x GITHUB_ORG=my-org LABELS=a RUNNER_VERSION=2.329.0 \
#   /usr/local/lib/runner-fleet/install-github-runner.sh </dev/null
set -euo pipefail
. "$(dirname "$0")/common.sh"

host="${RUNNER_FLEET_HOST:?RUNNER_FLEET_HOST is required}"
org="${GITHUB_ORG:?GITHUB_ORG is required}"
version="${RUNNER_VERSION:?RUNNER_VERSION is required}"
instances="${INSTANCES:-1}"
runner_user="${RUNNER_USER:-runner}"
base_url="${RUNNER_DOWNLOAD_URL:-https://github.com/actions/runner/releases/download}"
case "${instances}" in '' | *[!0-9]*) die "INSTANCES must be a number" ;; esac

# The registration token lives apart from write-secrets.sh's folder, which
# holds only what the agent-secrets command sends.
read_secrets "${SECRETS_DIR}/registration" >/dev/null

case "$(host_arch)" in
    arm64) rarch=arm64 ;;
    amd64) rarch=x64 ;;
    *) die "host ${host}: no GitHub Actions runner for $(uname -m)" ;;
esac
archive_name="actions-runner-linux-${rarch}-${version}.tar.gz"
archive="${ROOT}/var/cache/runner-fleet/${archive_name}"

env_changed="$(
    write_file "${ROOT}/etc/runner-fleet/runner.env" 0644 <<ENV
# Written by runner-fleet install-github-runner.sh; no secrets here.
RUNNER_FLEET_HOST=${host}
GITHUB_ORG=${org}
GITHUB_URL=${GITHUB_URL:-https://github.com}
GITHUB_API_URL=${GITHUB_API_URL:-https://api.github.com}
RUNNER_GROUP=${RUNNER_GROUP:-Default}
LABELS=${LABELS:-}
EPHEMERAL=${EPHEMERAL:-1}
RUNNER_USER=${runner_user}
RUNNER_VERSION=${version}
RUNNER_ARCHIVE=/var/cache/runner-fleet/${archive_name}
ENV
)"

unit_changed="$(
    write_file "${ROOT}/etc/systemd/system/runner-fleet-runner@.service" 0644 <<'UNIT'
[Unit]
Description=runner-fleet GitHub Actions runner %i
After=network-online.target docker.service
Wants=network-online.target

[Service]
EnvironmentFile=/etc/runner-fleet/runner.env
ExecStart=/usr/local/lib/runner-fleet/runner-service.sh %i
Restart=always
RestartSec=5
KillMode=mixed
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
UNIT
)"

if rendering; then
    exit 0
fi

missing=()
for tool in curl python3 tar; do
    command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
done
[ "${#missing[@]}" -eq 0 ] || apt_install curl ca-certificates python3 tar

if ! id "${runner_user}" >/dev/null 2>&1; then
    useradd --system --create-home --home-dir "/home/${runner_user}" --shell /bin/bash "${runner_user}"
    log "created user ${runner_user}"
fi
if [ "${INSTALL_DOCKER:-1}" = 1 ]; then
    command -v docker >/dev/null 2>&1 || apt_install docker.io
    systemctl enable --now --quiet docker.service
    id -nG "${runner_user}" | grep -qw docker || usermod -aG docker "${runner_user}"
fi

if [ ! -s "${archive}" ]; then
    download "${base_url}/v${version}/${archive_name}" "${archive}" ||
        die "could not download ${archive_name} from ${base_url}"
fi
if [ -n "${RUNNER_SHA256:-}" ]; then
    echo "${RUNNER_SHA256}  ${archive}" | sha256sum -c --quiet - ||
        die "${archive_name} does not match RUNNER_SHA256; remove ${archive} and run again"
fi

restart=unchanged
if [ "${env_changed}" = changed ] || [ "${unit_changed}" = changed ]; then
    restart=changed
    systemctl daemon-reload
fi
for i in $(seq 1 "${instances}"); do
    systemd_apply "runner-fleet-runner@${i}.service" "${restart}"
done

# Fewer instances than before: stop and deregister the extra ones.
for unit in $(systemctl list-units --all --plain --no-legend 'runner-fleet-runner@*.service' | awk '{print $1}'); do
    n="${unit#runner-fleet-runner@}"
    n="${n%.service}"
    if [ "${n}" -gt "${instances}" ] 2>/dev/null; then
        systemctl disable --now --quiet "${unit}" || true
        "$(dirname "$0")/runner-service.sh" "${n}" deregister
    fi
done

# Each instance must have registered before this counts as done.
for i in $(seq 1 "${instances}"); do
    for _ in $(seq 1 60); do
        [ -f "${STATE_DIR}/runner-${i}.registered" ] && break
        sleep 2
    done
    [ -f "${STATE_DIR}/runner-${i}.registered" ] ||
        die "runner ${host}-${i} did not register within 120s; see journalctl -u runner-fleet-runner@${i}"
done
stamp agent "${SETTINGS_HASH:-}"
log "GitHub Actions runner on ${host}: ${instances} instance(s) registered to ${org}"
