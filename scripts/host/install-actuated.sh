#!/usr/bin/env bash
# install-actuated.sh: installs and enrolls the actuated agent (one Firecracker
# microVM per job) the way actuated documents unattended installs: its install
# script, with the licence and the token in its environment. The values come
# from root-only files written by write-secrets.sh and reach the installer
# only through exported variables, never a command line.
#
# Settings (environment):
#   RUNNER_FLEET_HOST       the host's name, for messages
#   LABELS                  comma-separated agent labels
#   VM_DEV                  block device for VM disks (empty: actuated picks a spare disk or a loopback file)
#   BASE_SIZE               disk size of each VM, such as 30GB (empty: actuated's default)
#   MIRROR                  actuated (let the installer run its Docker Hub mirror) or skip
#   DOCKERHUB_USERNAME      Docker Hub user for that mirror (token: secret dockerhub-token)
#   ACTUATED_INSTALLER_URL  the install script (default https://get.actuated.com)
#   KVM_DEVICE              the KVM device to require (default /dev/kvm)
#   SETTINGS_HASH           the hash the stack declared (recorded for drift checks)
# Secrets (files in /etc/runner-fleet/secrets/agent): actuated-license, actuated-token, dockerhub-token.
#
# Run by hand: sudo env RUNNER_FLEET_HOST=x LABELS=actuated-arm64 /usr/local/lib/runner-fleet/install-actuated.sh </dev/null
set -euo pipefail
. "$(dirname "$0")/common.sh"

host="${RUNNER_FLEET_HOST:-this host}"
secrets="${SECRETS_DIR}/agent"
installer_url="${ACTUATED_INSTALLER_URL:-https://get.actuated.com}"
kvm="${KVM_DEVICE:-/dev/kvm}"
mirror="${MIRROR:-actuated}"
cat >/dev/null # nothing secret comes on stdin here

[ -c "${kvm}" ] || die "host ${host} has no ${kvm}: actuated needs KVM to start a microVM per job; use agent github-runner for this host"
[ -s "${secrets}/actuated-license" ] || die "no actuated licence on host ${host}; write-secrets.sh must run first"
[ -s "${secrets}/actuated-token" ] || die "no actuated token on host ${host}; write-secrets.sh must run first"
if [ "${mirror}" = actuated ] && [ -n "${DOCKERHUB_USERNAME:-}" ] && [ ! -s "${secrets}/dockerhub-token" ]; then
    die "DOCKERHUB_USERNAME is set but host ${host} has no dockerhub-token secret"
fi

# What the agent should look like: settings plus the secrets' hashes.
desired="$(
    {
        printf '%s\n' "${LABELS:-}" "${VM_DEV:-}" "${BASE_SIZE:-}" "${mirror}" "${DOCKERHUB_USERNAME:-}" "${installer_url}"
        cat "${secrets}/actuated-license" "${secrets}/actuated-token"
        if [ -f "${secrets}/dockerhub-token" ]; then cat "${secrets}/dockerhub-token"; fi
    } | sha256sum | cut -d' ' -f1
)"
applied="${STATE_DIR}/actuated.applied"
if [ -f "${applied}" ] && [ "$(cat "${applied}")" = "${desired}" ] && systemctl is-active --quiet actuated; then
    log "actuated agent on ${host}: unchanged and running"
    stamp agent "${SETTINGS_HASH:-}"
    exit 0
fi

command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
installer="${STATE_DIR}/actuated-install.sh"
umask 077
download "${installer_url}" "${installer}" || die "could not download the actuated installer from ${installer_url}"

log "installing the actuated agent on ${host}"
(
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
    elif [ -n "${DOCKERHUB_USERNAME:-}" ]; then
        DOCKER_USERNAME="${DOCKERHUB_USERNAME}"
        DOCKER_PASSWORD="$(cat "${secrets}/dockerhub-token")"
        export DOCKER_USERNAME DOCKER_PASSWORD
    fi
    bash "${installer}"
) || die "the actuated installer failed on ${host}"

for _ in $(seq 1 30); do
    systemctl is-active --quiet actuated && break
    sleep 2
done
systemctl is-active --quiet actuated || die "the actuated service is not running on ${host}; see journalctl -u actuated"
printf '%s\n' "${desired}" | write_file "${applied}" 0600 >/dev/null
stamp agent "${SETTINGS_HASH:-}"
log "actuated agent on ${host}: installed and running"
