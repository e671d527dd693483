#!/usr/bin/env bash
# install-github-runner.sh: the official GitHub Actions runner for this host's
# arch, registered to the organization in the fleet's runner group with the
# fleet's labels, as INSTANCES systemd services (runner-fleet-runner@N). Jobs run
# as an unprivileged user; a root supervisor (runner-service.sh) registers each
# instance and runs it.
#
# No organization credential is kept here. Each run gets a registration token
# minted for it where pulumi runs (on stdin); it registers the instances whose
# registration is missing or out of date, and is removed once they have
# registered. Runners keep their registration; job-cleanup.sh cleans up after
# every job. Only EPHEMERAL=1 (an opt-in the config refuses with Docker) keeps
# github-runner-token to register again after each job.
#
# A change that restarts or re-registers an instance first waits for its
# running job to finish (at most DRAIN_TIMEOUT seconds).
#
# Settings (environment):
#   RUNNER_FLEET_HOST    the host's name; instances are named <host>-<N>
#   GITHUB_ORG           the organization
#   GITHUB_URL           GitHub's web address (endpoints.githubUrl)
#   GITHUB_API_URL       GitHub's API (endpoints.githubApi; used with EPHEMERAL=1 only)
#   RUNNER_GROUP         the runner group (github.runnerGroup)
#   LABELS               comma-separated labels (no default labels are added)
#   INSTANCES            runner services on this host (agent.instances)
#   EPHEMERAL            0: one registration per runner; 1: one job per registration (agent.ephemeral)
#   RUNNER_VERSION       actions/runner release, such as 2.329.0
#   RUNNER_DOWNLOAD_URL  release base URL (endpoints.runnerDownloads)
#   RUNNER_SHA256        expected sha256 of the release archive (optional)
#   RUNNER_USER          the unprivileged user jobs run as (default runner)
#   INSTALL_DOCKER       1: install Docker and let the runner user use it; 0: not (agent.installDocker)
#   DRAIN_TIMEOUT        seconds to wait for a running job before restarting its runner (agent.drainTimeoutMinutes)
# Every setting named after a stack setting is required: a run by hand passes
# what `pulumi up` passes (README, "Running a script by hand on a host").
#   SETTINGS_HASH        the hash the stack declared (recorded for drift checks)
# Stdin: "registration-token <base64>", minted for this run (kept root-only in
# /etc/runner-fleet/secrets/registration/ until the instances registered).
#
# Run by hand: printf 'registration-token %s\n' "$(printf %s "$TOKEN" | base64 -w0)" |
#   sudo env RUNNER_FLEET_HOST=x GITHUB_ORG=my-org LABELS=a RUNNER_VERSION=2.329.0 INSTANCES=1 EPHEMERAL=0 INSTALL_DOCKER=1 \
#     DRAIN_TIMEOUT=3600 RUNNER_GROUP=runner-fleet GITHUB_URL=... GITHUB_API_URL=... RUNNER_DOWNLOAD_URL=... \
#     /usr/local/lib/runner-fleet/install-github-runner.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"

host="${RUNNER_FLEET_HOST:?RUNNER_FLEET_HOST is required}"
org="${GITHUB_ORG:?GITHUB_ORG is required}"
version="${RUNNER_VERSION:?RUNNER_VERSION is required}"
instances="$(setting INSTANCES)"
runner_user="${RUNNER_USER:-runner}"
base_url="$(setting RUNNER_DOWNLOAD_URL)"
github_url="$(setting GITHUB_URL)"
github_api_url="$(setting GITHUB_API_URL)"
runner_group="$(setting RUNNER_GROUP)"
ephemeral="$(setting EPHEMERAL)"
install_docker="$(setting INSTALL_DOCKER)"
drain_timeout="$(setting DRAIN_TIMEOUT)"
case "${instances}" in '' | *[!0-9]*) die "INSTANCES must be a number" ;; esac

# The registration token lives apart from write-secrets.sh's folder, which
# holds only what the agent-secrets command sends; it is removed once used.
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
GITHUB_URL=${github_url}
GITHUB_API_URL=${github_api_url}
RUNNER_GROUP=${runner_group}
LABELS=${LABELS:-}
EPHEMERAL=${ephemeral}
RUNNER_USER=${runner_user}
RUNNER_VERSION=${version}
RUNNER_ARCHIVE=/var/cache/runner-fleet/${archive_name}
ENV
)"

# As actions/runner's own unit stops its runner: the supervisor turns SIGTERM
# into a SIGINT for the listener and waits STOP_GRACE seconds; systemd kills
# what is left only after TimeoutStopSec, later still.
unit_changed="$(
    write_file "${ROOT}/etc/systemd/system/runner-fleet-runner@.service" 0644 <<'UNIT'
[Unit]
Description=runner-fleet GitHub Actions runner %i
After=network-online.target docker.service
Wants=network-online.target

[Service]
EnvironmentFile=/etc/runner-fleet/runner.env
Environment=STOP_GRACE=30
ExecStart=/usr/local/lib/runner-fleet/runner-service.sh %i
Restart=always
RestartSec=5
# 78: the runner has no registration and nothing on the host can make one (runner-service.sh).
RestartPreventExitStatus=78
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=60

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

# What the runner's .NET needs (actions/runner installdependencies.sh knows no
# libicu or libssl newer than its release and reports success anyway): the
# newest libicu the OS has, Kerberos, zlib, OpenSSL. Done only when there.
runner_deps() {
    has_lib 'libicuuc\.so' && has_lib 'libssl\.so' && return 0
    local icu ssl
    apt_get_locked update -q >/dev/null 2>&1 || true
    icu="$(apt-cache pkgnames libicu 2>/dev/null | grep -E '^libicu[0-9]+$' | sort -V | tail -n 1)"
    ssl="$(apt-cache pkgnames libssl 2>/dev/null | grep -E '^libssl(3t64|3|1\.1)$' | sort -V | tail -n 1)"
    [ -n "${icu}" ] || die "host ${host}: no libicu package in this OS's apt sources; the runner cannot start without ICU"
    apt_install "${icu}" libkrb5-3 zlib1g ${ssl:+"${ssl}"}
    has_lib 'libicuuc\.so' || die "host ${host}: ${icu} installed but libicuuc is not there"
}
runner_deps

if ! id "${runner_user}" >/dev/null 2>&1; then
    useradd --system --create-home --home-dir "/home/${runner_user}" --shell /bin/bash "${runner_user}"
    log "created user ${runner_user}"
fi
if [ "${install_docker}" = 1 ]; then
    command -v docker >/dev/null 2>&1 || apt_install docker.io
    systemctl enable --now --quiet docker.service
    id -nG "${runner_user}" | grep -qw docker || usermod -aG docker "${runner_user}"
fi

# The supervisor the units run (installed beside this script).
service="$(dirname "$0")/runner-service.sh"
[ -x "${service}" ] || die "${service} is missing; the install ships it"

if [ ! -s "${archive}" ]; then
    download "${base_url}/v${version}/${archive_name}" "${archive}" ||
        die "could not download ${archive_name} from ${base_url}"
fi
if [ -n "${RUNNER_SHA256:-}" ]; then
    echo "${RUNNER_SHA256}  ${archive}" | sha256sum -c --quiet - ||
        die "${archive_name} does not match RUNNER_SHA256; remove ${archive} and run again"
fi

# A restart first lets a running job finish.
drain_or_die() {
    drain "$1" "${drain_timeout}" "$2" ||
        die "runner ${host}-$1 is still running a job after ${drain_timeout}s; run pulumi up again when it is done, or raise agent.drainTimeoutMinutes"
}

rm -f "${STATE_DIR}"/runner-*.failed
restart=unchanged
if [ "${env_changed}" = changed ] || [ "${unit_changed}" = changed ]; then
    restart=changed
    systemctl daemon-reload
fi
for i in $(seq 1 "${instances}"); do
    if [ -f "${STATE_DIR}/runner-${i}.unregistered" ]; then
        log "runner ${host}-${i}: GitHub had deleted its registration ($(cut -c1-20 "${STATE_DIR}/runner-${i}.unregistered")); registering it again"
    fi
    # An instance this run (re)starts writes its registration record anew once it holds one
    # (runner-service.sh): the wait below waits for that, never for the record of an earlier
    # registration (one GitHub deleted, or one a failed attempt already took off the host).
    if [ "${restart}" = changed ] || ! systemctl is-active --quiet "runner-fleet-runner@${i}.service"; then
        rm -f "${STATE_DIR}/runner-${i}.registered"
    fi
    if [ "${restart}" = changed ] && systemctl is-active --quiet "runner-fleet-runner@${i}.service"; then
        drain_or_die "${i}" "restarting it"
    fi
    systemd_apply "runner-fleet-runner@${i}.service" "${restart}"
done

# Fewer instances than before: stop the extra ones (their registrations are
# removed where pulumi runs, with the operator's token).
for unit in $(systemctl list-units --all --plain --no-legend 'runner-fleet-runner@*.service' | awk '{print $1}'); do
    n="${unit#runner-fleet-runner@}"
    n="${n%.service}"
    if [ "${n}" -gt "${instances}" ] 2>/dev/null; then
        drain_or_die "${n}" "removing it"
        systemctl disable --now --quiet "${unit}" || true
        rm -rf "/opt/runner-fleet/runner-${n}" "${STATE_DIR}/runner-${n}.registered"
    fi
done

# Each instance must have registered with these settings before this counts as done.
token_file="${SECRETS_DIR}/registration/registration-token"
wanted="$(sha256sum "${ROOT}/etc/runner-fleet/runner.env" | cut -d' ' -f1)"
for i in $(seq 1 "${instances}"); do
    for _ in $(seq 1 60); do
        [ "$(cat "${STATE_DIR}/runner-${i}.registered" 2>/dev/null)" = "${wanted}" ] && break
        # A failure with this run's token (not an earlier attempt's) ends the wait.
        if [ -s "${STATE_DIR}/runner-${i}.failed" ] && [ -s "${token_file}" ] &&
            [ "$(cut -d' ' -f1 "${STATE_DIR}/runner-${i}.failed")" = "$(sha256sum <"${token_file}" | cut -c1-16)" ]; then
            die "runner ${host}-${i} could not register: $(cut -d' ' -f2- "${STATE_DIR}/runner-${i}.failed")"
        fi
        sleep 2
    done
    [ "$(cat "${STATE_DIR}/runner-${i}.registered" 2>/dev/null)" = "${wanted}" ] ||
        die "runner ${host}-${i} did not register within 120s; see journalctl -u runner-fleet-runner@${i}"
done
# Used: the registration token does not stay on the host.
rm -f "${token_file}"
stamp agent "${SETTINGS_HASH:-}"
log "GitHub Actions runner on ${host}: ${instances} instance(s) registered to ${org}"
