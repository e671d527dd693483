#!/usr/bin/env bash
# ready.sh: runs as soon as SSH answers on a new or existing host. Waits until
# the host has finished booting, then checks that the machine's architecture
# is the one the stack declared, before anything is installed on it.
#
# Settings (environment):
#   RUNNER_FLEET_HOST   the host's name in the fleet, for messages
#   EXPECTED_ARCH       arm64 or amd64
#   BOOT_TIMEOUT        seconds to wait for cloud-init to finish (default 600)
#   SCRIPTS_SHA256      the hash of the scripts it installs, kept in /etc/runner-fleet/scripts.sha256
#   ROOT                a folder standing for / (tests); unset on a host
#
# Run by hand: sudo env RUNNER_FLEET_HOST=x EXPECTED_ARCH=arm64 /usr/local/lib/runner-fleet/ready.sh
set -euo pipefail

host="${RUNNER_FLEET_HOST:-this host}"
expected="${EXPECTED_ARCH:?EXPECTED_ARCH must be arm64 or amd64}"
boot_timeout="${BOOT_TIMEOUT:-600}"

if command -v cloud-init >/dev/null 2>&1; then
    if ! timeout "${boot_timeout}" cloud-init status --wait >/dev/null 2>&1; then
        status="$(cloud-init status 2>/dev/null || true)"
        echo "runner-fleet: host ${host}: cloud-init did not finish within ${boot_timeout}s (${status:-no status})" >&2
        exit 1
    fi
fi

case "$(uname -m)" in
    aarch64 | arm64) actual=arm64 ;;
    x86_64 | amd64) actual=amd64 ;;
    *) actual="$(uname -m)" ;;
esac

if [ "${actual}" != "${expected}" ]; then
    echo "runner-fleet: host ${host} is ${actual} (uname -m: $(uname -m)) but the stack declares it ${expected}; fix the host's arch or plan in the stack config" >&2
    exit 1
fi

src="$(cd "$(dirname "$0")" && pwd)"
# ROOT: a folder standing for / (the unit tests'); unset on a host.
dest="${ROOT:-}/usr/local/lib/runner-fleet"
if [ "${src}" != "${dest}" ]; then
    mkdir -p "${dest}"
    changed=0
    for f in "${src}"/*; do
        name="$(basename "${f}")"
        # An unchanged script is left as it is: a repeat run rewrites nothing.
        if [ -f "${f}" ] && ! cmp -s "${f}" "${dest}/${name}"; then
            install -m 0755 "${f}" "${dest}/.${name}.new"
            mv -f "${dest}/.${name}.new" "${dest}/${name}"
            changed=$((changed + 1))
        fi
    done
    echo "runner-fleet: host ${host}: ${changed} script(s) installed in ${dest}"
    # What is installed, by the hash the ready step checked. It also keeps /etc/runner-fleet while the
    # host is in the fleet: write-secrets.sh of runner-fleet before the scripts copy removed the scripts
    # when the agent's secrets left an empty /etc/runner-fleet, as an upgrade replacing that step does.
    if [ -n "${SCRIPTS_SHA256:-}" ]; then
        mkdir -p "${ROOT:-}/etc/runner-fleet"
        if [ "$(cat "${ROOT:-}/etc/runner-fleet/scripts.sha256" 2>/dev/null)" != "${SCRIPTS_SHA256}" ]; then
            printf '%s\n' "${SCRIPTS_SHA256}" >"${ROOT:-}/etc/runner-fleet/scripts.sha256"
        fi
    fi
fi

echo "runner-fleet: host ${host} is ready (${actual})"
# The host's SSH key, so later connections (the drift check) can pin it.
for key in /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub; do
    if [ -r "${key}" ]; then
        printf 'host-key: %s\n' "$(cut -d' ' -f1,2 "${key}")"
        break
    fi
done
