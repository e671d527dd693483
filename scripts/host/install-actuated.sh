#!/usr/bin/env bash
# install-actuated.sh: installs and enrolls the actuated agent (one Firecracker
# microVM per job) with actuated's own unattended installer, get.actuated.com
# (self-actuated/get.actuated.com, get.sh), then applies what the installer
# cannot (configure-actuated.sh: the licence in place, the Docker Hub login on
# its mirror, the agent's port).
#
# What the real installer does, and what this script does about it:
# - it calls sudo throughout, even as root, and passes the account token on
#   sudo's command line (agent csr/autoenroll --token): sudo would log it to
#   the journal and auth.log, so the installer runs with a sudo of the fleet's
#   own first on its PATH, which runs the command as it is and logs nothing
#   (sudo-as-root.sh); the real sudo is neither needed nor installed;
# - it downloads arkade, the agent bundle and the registry: curl and CA
#   certificates are installed when missing;
# - every run wipes VM_DEV (or rebuilds the loopback pool) and enrolls the
#   agent again: it runs only when the enrolment settings change (labels,
#   VM_DEV, BASE_SIZE, the mirror switch, the installer), after running jobs
#   drain (bounded by DRAIN_TIMEOUT), never for a new licence or Docker Hub
#   login, which configure-actuated.sh applies in place;
# - it hands the Docker Hub login to arkade's registry installer under flag
#   names arkade accepts and never reads (alexellis/arkade,
#   cmd/system/registry.go), so it is not passed at all;
# - off Google Cloud it ends with curl's error from its metadata probe even
#   when the install worked: success is judged by the agent's service, not by
#   the installer's exit status;
# - it runs with the usual umask 022, not this script's 077.
# The licence and the token reach the installer only through exported
# variables, read from root-only files (write-secrets.sh), never a command line.
#
# Settings (environment):
#   RUNNER_FLEET_HOST       the host's name, for messages
#   LABELS                  comma-separated labels the agent enrolls with
#   VM_DEV                  block device for VM disks, WIPED on every enrolment (empty: actuated picks a spare disk or a loopback file)
#   BASE_SIZE               disk size of each VM, such as 30GB (empty: actuated's default)
#   MIRROR                  actuated (let the installer run its Docker Hub mirror) or skip
#   DOCKERHUB_USERNAME      Docker Hub user for that mirror (token: secret dockerhub-token); applied by configure-actuated.sh
#   ACTUATED_INSTALLER_URL  the install script (endpoints.actuatedInstaller)
#   DRAIN_TIMEOUT           seconds to wait for running microVMs to finish before enrolling again (agent.drainTimeoutMinutes)
#   KVM_DEVICE              the KVM device to require (default /dev/kvm)
#   SETTINGS_HASH           the hash the stack declared (recorded for drift checks)
# Secrets (files in /etc/runner-fleet/secrets/agent): actuated-license, actuated-token, dockerhub-token.
#
# Run by hand: sudo env RUNNER_FLEET_HOST=x LABELS=actuated-arm64 MIRROR=actuated DRAIN_TIMEOUT=3600 ACTUATED_INSTALLER_URL=... /usr/local/lib/runner-fleet/install-actuated.sh </dev/null
set -euo pipefail
. "$(dirname "$0")/common.sh"

host="${RUNNER_FLEET_HOST:-this host}"
secrets="${SECRETS_DIR}/agent"
installer_url="$(setting ACTUATED_INSTALLER_URL)"
kvm="${KVM_DEVICE:-/dev/kvm}"
mirror="$(setting MIRROR)"
drain_timeout="$(setting DRAIN_TIMEOUT)"
cat >/dev/null # nothing secret comes on stdin here

[ -c "${kvm}" ] || die "host ${host} has no ${kvm}: actuated needs KVM to start a microVM per job; use agent github-runner for this host"
[ -s "${secrets}/actuated-license" ] || die "no actuated licence on host ${host}; write-secrets.sh must run first"
[ -s "${secrets}/actuated-token" ] || die "no actuated token on host ${host}; write-secrets.sh must run first"

# What the enrolment depends on. The licence, the token and the Docker Hub
# login are not in it: they change in place or at the next enrolment.
desired="$(printf '%s\n' enrolment "${LABELS:-}" "${VM_DEV:-}" "${BASE_SIZE:-}" "${mirror}" "${installer_url}" | sha256sum | cut -d' ' -f1)"
applied="${STATE_DIR}/actuated.applied"

# An agent enrolled by an earlier runner-fleet recorded a hash of the same
# settings plus the secrets: with the same settings, it needs no new enrolment.
legacy_hash() {
    {
        printf '%s\n' "${LABELS:-}" "${VM_DEV:-}" "${BASE_SIZE:-}" "${mirror}" "${DOCKERHUB_USERNAME:-}" "${installer_url}"
        cat "${secrets}/actuated-license" "${secrets}/actuated-token"
        if [ -f "${secrets}/dockerhub-token" ]; then cat "${secrets}/dockerhub-token"; fi
    } | sha256sum | cut -d' ' -f1
}
if [ -f "${applied}" ] && [ "$(cat "${applied}")" = "$(legacy_hash)" ]; then
    printf '%s\n' "${desired}" | write_file "${applied}" 0600 >/dev/null
    log "actuated agent on ${host}: enrolled by an earlier runner-fleet with the same settings; kept"
fi

if [ -f "${applied}" ] && [ "$(cat "${applied}")" = "${desired}" ] && systemctl is-active --quiet actuated; then
    log "actuated agent on ${host}: enrolment unchanged and running"
else
    apt_install curl ca-certificates
    installer="${STATE_DIR}/actuated-install.sh"
    (umask 077 && download "${installer_url}" "${installer}") || die "could not download the actuated installer from ${installer_url}"

    # Enrolling again wipes VM_DEV under running microVMs: wait for them.
    if systemctl is-active --quiet actuated; then
        waited=0
        while pgrep -x firecracker >/dev/null 2>&1; do
            [ "${waited}" -lt "${drain_timeout}" ] || die "host ${host} still runs microVMs after ${drain_timeout}s; enrolling again would wipe their disks. Run pulumi up again when its jobs are done, or raise agent.drainTimeoutMinutes"
            [ "${waited}" -eq 0 ] && log "waiting for the microVMs on ${host} to finish their jobs (at most ${drain_timeout}s)"
            sleep 5
            waited=$((waited + 5))
        done
    fi

    log "installing and enrolling the actuated agent on ${host}${VM_DEV:+ (wiping ${VM_DEV})}"
    # Which run of the agent was there before: the installer enrolls (csr,
    # autoenroll) and only then installs and starts the service, under set -e
    # (self-actuated/get.actuated.com get.sh), so a new run of the service is
    # what shows that the enrolment went through. Its exit status cannot: it
    # fails after a good install off Google Cloud.
    previous_run="$(systemctl show -p InvocationID --value actuated.service 2>/dev/null || true)"
    shim="$(mktemp -d)"
    ln -s "$(readlink -f "$(dirname "$0")/sudo-as-root.sh")" "${shim}/sudo"
    rc=0
    (
        umask 022
        PATH="${shim}:${PATH}"
        LICENSE="$(cat "${secrets}/actuated-license")"
        TOKEN="$(cat "${secrets}/actuated-token")"
        HOME=/root
        LABELS="${LABELS:-}"
        VM_DEV="${VM_DEV:-}"
        BASE_SIZE="${BASE_SIZE:-}"
        export LICENSE TOKEN HOME LABELS VM_DEV BASE_SIZE
        if [ "${mirror}" = skip ]; then
            SKIP_REGISTRY=true
            export SKIP_REGISTRY
        fi
        cd "${STATE_DIR}"
        bash "${installer}"
    ) || rc=$?
    rm -rf "${shim}"
    for _ in $(seq 1 30); do
        systemctl is-active --quiet actuated && break
        sleep 2
    done
    systemctl is-active --quiet actuated ||
        die "the actuated service is not running on ${host} after its installer (exit ${rc}); see journalctl -u actuated"
    if [ "$(systemctl show -p InvocationID --value actuated.service 2>/dev/null || true)" = "${previous_run}" ]; then
        die "actuated's installer exited ${rc} on ${host} without starting the agent anew: the enrolment did not go through (a refused token, no network?). The agent enrolled before keeps running with its old settings; the next pulumi up tries again"
    fi
    [ "${rc}" -eq 0 ] || log "actuated's installer exited ${rc} on ${host} and the agent runs (off Google Cloud its metadata probe fails after the install)"
    printf '%s\n' "${desired}" | write_file "${applied}" 0600 >/dev/null
    log "actuated agent on ${host}: installed, enrolled and running"
fi

# The installer rewrites its mirror's config without the login: apply it, and the licence, again.
SETTINGS_HASH="" "$(dirname "$0")/configure-actuated.sh" </dev/null
stamp agent "${SETTINGS_HASH:-}"
