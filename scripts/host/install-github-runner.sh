#!/usr/bin/env bash
# install-github-runner.sh: the official GitHub Actions runner for this host's
# arch, registered to the organization in the fleet's runner group with the
# fleet's labels, as INSTANCES systemd services (runner-fleet-runner@N). Each
# instance and its jobs run as an unprivileged user of its own (runner-N), so a
# job reaches no other instance's registration or home; a root supervisor
# (runner-service.sh) registers each instance and runs it. With Docker, each
# instance gets a rootless Docker of its own (runner-fleet-docker@N, run as
# runner-N, its socket in /run/runner-fleet-docker-N, nobody else's): one job's
# containers, images and cleanup never meet another's, and a container's root
# is the instance's user, never the host's.
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
#   RUNNER_USER          the prefix of the instances' users (default runner: runner-1, runner-2, ...)
#   INSTALL_DOCKER       1: a rootless Docker per instance; 0: none (agent.installDocker)
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
case "${drain_timeout}" in '' | *[!0-9]*) die "DRAIN_TIMEOUT must be a number of seconds" ;; esac

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
INSTALL_DOCKER=${install_docker}
RUNNER_VERSION=${version}
RUNNER_ARCHIVE=/var/cache/runner-fleet/${archive_name}
DRAIN_TIMEOUT=${drain_timeout}
ENV
)"

# Stopping (a reboot, or by hand) first lets a running job finish, at most
# DRAIN_TIMEOUT seconds; then, as actions/runner's own unit stops its runner,
# the supervisor turns SIGTERM into a SIGINT for the listener and waits
# STOP_GRACE seconds; systemd kills what is left only after TimeoutStopSec,
# later still.
unit_changed="$(
    write_file "${ROOT}/etc/systemd/system/runner-fleet-runner@.service" 0644 <<UNIT
[Unit]
Description=runner-fleet GitHub Actions runner %i
After=network-online.target runner-fleet-docker@%i.service
Wants=network-online.target runner-fleet-docker@%i.service

[Service]
EnvironmentFile=/etc/runner-fleet/runner.env
Environment=STOP_GRACE=30
# The runner's job hooks (its .env, written at every start): a check before each job, whose failures
# the fleet's metrics count, and the clean-up after it.
Environment=JOB_STARTED_HOOK=/usr/local/lib/runner-fleet/job-started.sh JOB_COMPLETED_HOOK=/usr/local/lib/runner-fleet/job-cleanup.sh
ExecStart=/usr/local/lib/runner-fleet/runner-service.sh %i
Restart=always
RestartSec=5
# 78: the runner has no registration and nothing on the host can make one (runner-service.sh).
RestartPreventExitStatus=78
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=$((drain_timeout + 90))

[Install]
WantedBy=multi-user.target
UNIT
)"

# Instance N's own Docker, rootless (docs.docker.com "Run the Docker daemon as
# a non-root user"): run as runner-N with its own subordinate ids, data and
# socket; its config is root's (registry-mirrors, kept by the mirror step). A
# change to its config needs no restart: ExecReload's SIGHUP reaches dockerd
# through rootlesskit, and registry-mirrors is reloadable (docs.docker.com,
# "Configuration reload behavior").
docker_unit="${ROOT}/etc/systemd/system/runner-fleet-docker@.service"
if [ "${install_docker}" = 1 ]; then
    docker_unit_changed="$(
        write_file "${docker_unit}" 0644 <<UNIT
[Unit]
Description=runner-fleet rootless Docker of runner %i
After=network-online.target
Wants=network-online.target

[Service]
User=${runner_user}-%i
Group=${runner_user}-%i
# HOME is its data folder: what dockerd keeps there (key.json) stays out of the home job-cleanup.sh resets.
Environment=XDG_RUNTIME_DIR=/run/runner-fleet-docker-%i HOME=/var/lib/runner-fleet/docker-%i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The host's loopback (a mirror on 127.0.0.1) reachable at 10.0.2.2, as the job's own steps reach it
# on 127.0.0.1: the last of rootlesskit's flags wins over the script's --disable-host-loopback.
Environment=DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS=--disable-host-loopback=false
RuntimeDirectory=runner-fleet-docker-%i
RuntimeDirectoryMode=0700
# Debian's docker.io keeps the script in contrib; Docker's own packages put it on PATH.
ExecStart=/bin/sh -c 'exec "\$(command -v dockerd-rootless.sh || echo /usr/share/docker.io/contrib/dockerd-rootless.sh)" --data-root /var/lib/runner-fleet/docker-%i --config-file /etc/runner-fleet-docker.json'
ExecReload=/bin/kill -s HUP \$MAINPID
Delegate=yes
KillMode=mixed
Restart=always
RestartSec=5
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
UNIT
    )"
    [ -f "${RUNNER_DOCKER_CONFIG}" ] || printf '{}\n' | write_file "${RUNNER_DOCKER_CONFIG}" 0644 >/dev/null
else
    docker_unit_changed=unchanged
    [ -e "${docker_unit}" ] && docker_unit_changed=removed
fi

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

# Rootless Docker: dockerd, rootlesskit with dockerd-rootless.sh, newuidmap, slirp4netns.
if [ "${install_docker}" = 1 ]; then
    if ! command -v dockerd >/dev/null 2>&1; then
        had_containerd="$(command -v containerd || true)"
        apt_install docker.io
        # Installed for the runners' own daemons only (each runs its own containerd): the host-wide,
        # root ones are not wanted (docs.docker.com, rootless mode: "disable the system-wide Docker
        # daemon"). A Docker or containerd the host had before is left as it is.
        systemctl disable --now --quiet docker.service docker.socket 2>/dev/null || true
        [ -n "${had_containerd}" ] || systemctl disable --now --quiet containerd.service 2>/dev/null || true
    fi
    if ! command -v rootlesskit >/dev/null 2>&1; then
        if dpkg-query -W -f='${Status}' docker-ce 2>/dev/null | grep -q "install ok installed"; then
            apt_install docker-ce-rootless-extras
        else
            apt_install rootlesskit
        fi
    fi
    command -v newuidmap >/dev/null 2>&1 || apt_install uidmap
    command -v slirp4netns >/dev/null 2>&1 || apt_install slirp4netns
fi

# subids USER: a range of 65536 subordinate user and group ids for USER (its
# containers' users), after every range the host has handed out; kept once there.
subids() {
    local user="$1" file start opt
    for file in /etc/subuid /etc/subgid; do
        grep -q "^${user}:" "${file}" 2>/dev/null && continue
        start="$(cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: 'BEGIN { m = 100000 } $3 > 0 { e = $2 + $3; if (e > m) m = e } END { print m }')"
        opt=--add-subuids
        [ "${file}" = /etc/subgid ] && opt=--add-subgids
        usermod "${opt}" "${start}-$((start + 65535))" "${user}"
    done
}

# One user per instance (a home of its own, which job-cleanup.sh resets to what
# useradd made after every job), and with Docker its subordinate ids and data.
for i in $(seq 1 "${instances}"); do
    user="$(runner_user "${i}")"
    if ! id "${user}" >/dev/null 2>&1; then
        useradd --system --create-home --home-dir "/home/${user}" --shell /bin/bash --comment "runner-fleet runner ${i}" "${user}"
        log "created user ${user}"
    fi
    # Its job hooks' own folder (job-started.sh counts setup failures there; metrics.sh reads it as the user).
    [ -d "${STATE_DIR}/jobs/${user}" ] || install -d -m 0700 -o "${user}" -g "${user}" "${STATE_DIR}/jobs/${user}"
    if [ "${install_docker}" = 1 ]; then
        subids "${user}"
        # Made here, empty, then only the instance's: root never writes in it again.
        [ -d "/var/lib/runner-fleet/docker-${i}" ] || install -d -m 0700 -o "${user}" -g "${user}" "/var/lib/runner-fleet/docker-${i}"
    fi
done

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

# docker_answers N: waits (at most 60 s) until instance N's Docker answers, asked as its user:
# systemd calls a unit started once its process runs, and dockerd may still fail after that.
docker_answers() {
    for _ in $(seq 1 60); do
        as_user "$(runner_user "$1")" env DOCKER_HOST="unix:///run/runner-fleet-docker-$1/docker.sock" docker info >/dev/null 2>&1 && return 0
        sleep 1
    done
    die "the Docker of runner ${host}-$1 does not answer after 60s: $(journalctl -u "runner-fleet-docker@$1" --no-pager -o cat -n 3 2>/dev/null | tr '\n' ' ')"
}

# A restart first lets a running job finish.
drain_or_die() {
    drain "$1" "${drain_timeout}" "$2" ||
        die "runner ${host}-$1 is still running a job after ${drain_timeout}s; run pulumi up again when it is done, or raise agent.drainTimeoutMinutes"
}

rm -f "${STATE_DIR}"/runner-*.failed
restart=unchanged
if [ "${env_changed}" = changed ] || [ "${unit_changed}" = changed ]; then
    restart=changed
fi
case "${docker_unit_changed}" in
    removed)
        for unit in $(systemctl list-units --all --plain --no-legend 'runner-fleet-docker@*.service' | awk '{print $1}'); do
            n="${unit#runner-fleet-docker@}"
            drain_or_die "${n%.service}" "stopping its Docker"
            systemctl disable --now --quiet "${unit}" || true
        done
        rm -f "${docker_unit}" "${RUNNER_DOCKER_CONFIG}" "${STATE_DIR}"/runner-*.docker
        rm -rf /var/lib/runner-fleet/docker-*
        ;;
esac
if [ "${restart}" != unchanged ] || [ "${docker_unit_changed}" != unchanged ]; then
    systemctl daemon-reload
fi
# What each instance must have registered with: runner.env's settings (runner-service.sh).
wanted="$(sha256sum "${ROOT}/etc/runner-fleet/runner.env" | cut -d' ' -f1)"
# What each instance's Docker must run with: its unit (recorded per instance once restarted with it).
docker_wanted="$( [ "${install_docker}" != 1 ] || sha256sum "${docker_unit}" | cut -d' ' -f1)"
for i in $(seq 1 "${instances}"); do
    # An instance that registered with other settings restarts too, though runner.env is as this run
    # wants it: a run killed after writing runner.env and before restarting it leaves it so.
    again="${restart}"
    [ "$(cat "${STATE_DIR}/runner-${i}.registered" 2>/dev/null)" = "${wanted}" ] || again=changed
    # So too its Docker, for a unit written by a run killed before it restarted the daemon.
    docker_again="${docker_unit_changed}"
    [ "${install_docker}" != 1 ] || [ "$(cat "${STATE_DIR}/runner-${i}.docker" 2>/dev/null)" = "${docker_wanted}" ] || docker_again=changed
    if [ -f "${STATE_DIR}/runner-${i}.unregistered" ]; then
        log "runner ${host}-${i}: GitHub had deleted its registration ($(cut -c1-20 "${STATE_DIR}/runner-${i}.unregistered")); registering it again"
    fi
    # An instance this run (re)starts writes its registration record anew once it holds one
    # (runner-service.sh): the wait below waits for that, never for the record of an earlier
    # registration (one GitHub deleted, or one a failed attempt already took off the host).
    if [ "${again}" = changed ] || ! systemctl is-active --quiet "runner-fleet-runner@${i}.service"; then
        rm -f "${STATE_DIR}/runner-${i}.registered"
    fi
    if [ "${again}" = changed ] || [ "${docker_again}" = changed ]; then
        if systemctl is-active --quiet "runner-fleet-runner@${i}.service"; then
            drain_or_die "${i}" "restarting it"
        fi
    fi
    # Its Docker first, answering, before the runner takes a job that needs it: a runner whose
    # Docker restarts stays stopped meanwhile (started again below).
    if [ "${install_docker}" = 1 ]; then
        [ "${docker_again}" != changed ] || systemctl stop "runner-fleet-runner@${i}.service"
        systemd_apply "runner-fleet-docker@${i}.service" "${docker_again}"
        docker_answers "${i}"
        printf '%s\n' "${docker_wanted}" >"${STATE_DIR}/runner-${i}.docker"
    fi
    systemd_apply "runner-fleet-runner@${i}.service" "${again}"
done

# Fewer instances than before: stop the extra ones (their registrations are
# removed where pulumi runs, with the operator's token).
for unit in $(systemctl list-units --all --plain --no-legend 'runner-fleet-runner@*.service' | awk '{print $1}'); do
    n="${unit#runner-fleet-runner@}"
    n="${n%.service}"
    if [ "${n}" -gt "${instances}" ] 2>/dev/null; then
        drain_or_die "${n}" "removing it"
        systemctl disable --now --quiet "${unit}" "runner-fleet-docker@${n}.service" 2>/dev/null || true
        rm -rf "/opt/runner-fleet/runner-${n}" "${STATE_DIR}/runner-${n}.registered" "${STATE_DIR}/runner-${n}.docker" "/var/lib/runner-fleet/docker-${n}" \
            "${STATE_DIR}/jobs/$(runner_user "${n}")"
        remove_runner_user "${n}"
    fi
done
# The one user every instance shared before: no instance runs as it now.
remove_legacy_runner_user

# Each instance must have registered with these settings before this counts as done.
token_file="${SECRETS_DIR}/registration/registration-token"
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
