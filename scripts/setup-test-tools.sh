#!/usr/bin/env bash
# Installs what `npm test` needs beyond npm packages: shellcheck (lints
# scripts/host), python3 (the host scripts use it for JSON) and actionlint
# (validates the rendered workflows). Runs before the tests (npm's pretest);
# does nothing when all are there.
set -euo pipefail
missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: ${missing[*]} missing; install with your package manager (apt-get install ${missing[*]})" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# actionlint validates the rendered build workflows; it is a Go module, built
# once into a cache outside the repository.
ACTIONLINT_VERSION=v1.7.12
bin="${XDG_CACHE_HOME:-${HOME}/.cache}/runner-fleet/bin"
if ! command -v actionlint >/dev/null 2>&1 && [ ! -x "${bin}/actionlint" ]; then
    go="$(command -v go || echo /usr/local/go/bin/go)"
    if [ ! -x "${go}" ]; then
        echo "setup: actionlint is missing and there is no Go toolchain to build it; install Go or actionlint ${ACTIONLINT_VERSION}" >&2
        exit 1
    fi
    echo "setup: building actionlint ${ACTIONLINT_VERSION} into ${bin}" >&2
    mkdir -p "${bin}"
    GOBIN="${bin}" "${go}" install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}"
fi
