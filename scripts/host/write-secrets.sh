#!/usr/bin/env bash
# write-secrets.sh: writes the secrets that arrive on stdin to root-only files
# under /etc/runner-fleet/secrets/<SECRET_SET>/, one file per secret (0600), and
# removes the ones no longer sent. Prints how many changed; never a value.
#
# Settings (environment):
#   SECRET_SET   the folder: agent (default)
#   ACTION       write (default) or remove (delete the folder)
# Stdin: one "name base64value" line per secret.
#
# Run by hand: printf 'name %s\n' "$(printf value | base64 -w0)" | sudo /usr/local/lib/runner-fleet/write-secrets.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"

set_name="${SECRET_SET:-agent}"
case "${set_name}" in
    *[!a-z0-9-]*) die "SECRET_SET must be lower case letters, digits and '-'" ;;
esac
dir="${SECRETS_DIR}/${set_name}"

if [ "${ACTION:-write}" = remove ]; then
    rm -rf "${dir}"
    log "removed the ${set_name} secrets"
    # The agent's secrets go last when a host leaves the fleet: what is left
    # of runner-fleet then is empty folders and these scripts.
    rmdir "${SECRETS_DIR}" "${ROOT}/etc/runner-fleet" "${STATE_DIR}" 2>/dev/null || true
    if [ ! -e "${ROOT}/etc/runner-fleet" ] && [ -z "${ROOT}" ]; then
        rm -rf /usr/local/lib/runner-fleet
    fi
    exit 0
fi

umask 077
incoming="$(mktemp)"
trap 'rm -f "${incoming}"' EXIT
cat >"${incoming}"
changed="$(read_secrets "${dir}" <"${incoming}")"
# Drop secrets that are no longer sent.
for f in "${dir}"/*; do
    [ -e "${f}" ] || continue
    name="$(basename "${f}")"
    if ! awk -v n="${name}" '$1 == n { found = 1 } END { exit !found }' "${incoming}"; then
        rm -f "${f}"
        changed=$((changed + 1))
    fi
done
log "${set_name} secrets: ${changed} changed"
