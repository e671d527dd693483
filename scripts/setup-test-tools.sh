#!/usr/bin/env bash
# Installs what `npm test` needs beyond npm packages: shellcheck (lints
# scripts/host) and python3 (the host scripts use it for JSON). Runs before
# the tests (npm's pretest); does nothing when both are there.
set -euo pipefail
missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: ${missing[*]} missing; install with your package manager (apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "setup: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
