#!/usr/bin/env bash
# engine.sh: the Pulumi engine for the engine suite, built from the Go module
# proxy at pinned versions into a cache outside the repository:
#
#   pulumi                   github.com/pulumi/pulumi/pkg/v3 ./cmd/pulumi          v3.259.0
#   pulumi-language-nodejs   github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
#                            (untagged nested module: the pseudo-version of the v3.259.0 commit)
#   pulumi-resource-command  github.com/pulumi/pulumi-command/provider ./cmd/pulumi-resource-command
#                            (the pseudo-version of the v1.2.1 commit)
#   pulumi-resource-pulumi-nodejs  the dynamic-resource plugin script of
#                            github.com/pulumi/pulumi/sdk/v3 (nodejs/dist), as the CLI's releases carry it
#
# A `pulumi` (or `pulumi-language-nodejs`, `pulumi-resource-command`) already
# on PATH is used as it is. Cached binaries are reused. Prints the folder of
# the binaries on stdout (PATH="$(engine.sh):$PATH"), progress and the build
# time on stderr.
#
# Exit status: 0 the engine is there; 3 a module is not served by the Go module
# proxy (each is named with its version, and nothing is built); 1 any other
# failure.
#
# Cache: ${ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runner-fleet/engine}/<version>/bin
set -euo pipefail

PULUMI_VERSION=3.259.0
PKG_MODULE=github.com/pulumi/pulumi/pkg/v3
LANGHOST_MODULE=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
LANGHOST_VERSION=v3.0.0-20260820084410-a05d88f24d05 # commit a05d88f24d05, tag pkg/v3.259.0
COMMAND_MODULE=github.com/pulumi/pulumi-command/provider
COMMAND_VERSION=v0.0.0-20260303235922-7f3eb6f3b77c   # commit 7f3eb6f3b77c, tag v1.2.1
COMMAND_RELEASE=1.2.1
VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
COMMAND_VERSION_VAR=github.com/pulumi/pulumi-command/provider/pkg/version.Version

cache="${ENGINE_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/runner-fleet/engine}/${PULUMI_VERSION}"
bin="${cache}/bin"
work="${cache}/work"
missing=()

log() { printf 'engine.sh: %s\n' "$*" >&2; }

find_go() {
    if command -v go >/dev/null 2>&1; then
        command -v go
    elif [ -x /usr/local/go/bin/go ]; then
        echo /usr/local/go/bin/go
    else
        log "no Go toolchain: install Go or put pulumi, pulumi-language-nodejs and pulumi-resource-command on PATH"
        exit 1
    fi
}

# The stamp says what a cached binary was built from; only a match is reused.
stamp_of() {
    case "$1" in
        pulumi) echo "${PKG_MODULE}@v${PULUMI_VERSION} ./cmd/pulumi" ;;
        pulumi-language-nodejs) echo "${LANGHOST_MODULE}@${LANGHOST_VERSION}" ;;
        pulumi-resource-command) echo "${COMMAND_MODULE}@${COMMAND_VERSION} ${COMMAND_RELEASE}" ;;
    esac
}

have() {
    local p
    if p="$(command -v "$1" 2>/dev/null)" && [ "${p}" != "${bin}/$1" ]; then
        log "using $1 already on PATH: ${p}"
        # Linked, not copied: the printed folder then holds all three.
        mkdir -p "${bin}"
        ln -sfn "${p}" "${bin}/$1"
        rm -f "${bin}/.$1.stamp"
        return 0
    fi
    if [ -x "${bin}/$1" ] && [ "$(cat "${bin}/.$1.stamp" 2>/dev/null)" = "$(stamp_of "$1")" ]; then
        log "reusing cached $1"
        return 0
    fi
    return 1
}

# fetch NAME MODULE VERSION: downloads the module from the proxy and records
# where it is, or records it as missing.
declare -A source_dir=()
fetch() {
    local name="$1" module="$2" version="$3" out dir
    if out="$("${GO}" mod download -json "${module}@${version}" 2>&1)" &&
        dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"${out}")" && [ -n "${dir}" ]; then
        source_dir[${name}]="${dir}"
        return 0
    fi
    log "NOT SERVED by the Go module proxy: ${module}@${version}"
    log "  $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"${out}" | head -n 1)"
    missing+=("${module}@${version}")
}

# build NAME PACKAGE LDFLAGS: builds PACKAGE inside a copy of the fetched
# module, keeping its own go.mod and go.sum (and its non-local replaces).
build() {
    local name="$1" package="$2" ldflags="$3" started
    started=$(date +%s)
    rm -rf "${work:?}/${name}"
    mkdir -p "${work}/${name}" "${bin}"
    cp -R "${source_dir[${name}]}/." "${work}/${name}/"
    chmod -R u+w "${work}/${name}"
    (
        cd "${work}/${name}"
        # Replaces that point at folders of the upstream repository have no meaning outside it.
        "${GO}" mod edit -json | python3 -c 'import json,sys; [print(r["Old"]["Path"]) for r in json.load(sys.stdin).get("Replace") or [] if r["New"]["Path"].startswith(".")]' |
            while read -r old; do "${GO}" mod edit -dropreplace="${old}"; done
        log "building ${name} ..."
        CGO_ENABLED=0 GOFLAGS=-mod=mod "${GO}" build -trimpath -tags osusergo,grpcnotrace \
            -ldflags "-s -w ${ldflags}" -o "${bin}/${name}.tmp" "${package}"
    )
    mv -f "${bin}/${name}.tmp" "${bin}/${name}"
    stamp_of "${name}" >"${bin}/.${name}.stamp"
    log "built ${name} in $(($(date +%s) - started))s"
}

started=$(date +%s)
todo=()
for name in pulumi pulumi-language-nodejs pulumi-resource-command; do
    have "${name}" || todo+=("${name}")
done
if [ "${#todo[@]}" -gt 0 ]; then
    GO="$(find_go)"
    # Every module is fetched before anything is built, so a missing one stops the run early.
    for name in "${todo[@]}"; do
        case "${name}" in
            pulumi) fetch pulumi "${PKG_MODULE}" "v${PULUMI_VERSION}" ;;
            pulumi-language-nodejs) fetch "${name}" "${LANGHOST_MODULE}" "${LANGHOST_VERSION}" ;;
            pulumi-resource-command) fetch "${name}" "${COMMAND_MODULE}" "${COMMAND_VERSION}" ;;
        esac
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        for name in "${todo[@]}"; do
            case "${name}" in
                pulumi) build pulumi ./cmd/pulumi "-X ${VERSION_VAR}=v${PULUMI_VERSION}" ;;
                pulumi-language-nodejs) build "${name}" . "-X ${VERSION_VAR}=v${PULUMI_VERSION}" ;;
                pulumi-resource-command) build "${name}" ./cmd/pulumi-resource-command "-X ${COMMAND_VERSION_VAR}=${COMMAND_RELEASE}" ;;
            esac
        done
        rm -rf "${work:?}"
        log "build took $(($(date +%s) - started))s"
    fi
fi
# The dynamic-resource plugin the CLI's releases carry beside it (a shell
# script that runs @pulumi/pulumi's cmd/dynamic-provider; the registration
# watch is such a resource): from the SDK module at the same version.
if [ "${#missing[@]}" -eq 0 ] && ! command -v pulumi-resource-pulumi-nodejs >/dev/null 2>&1 &&
    [ ! -x "${bin}/pulumi-resource-pulumi-nodejs" ]; then
    GO="${GO:-$(find_go)}"
    fetch sdk github.com/pulumi/pulumi/sdk/v3 "v${PULUMI_VERSION}"
    if [ -n "${source_dir[sdk]:-}" ]; then
        install -m 0755 "${source_dir[sdk]}/nodejs/dist/pulumi-resource-pulumi-nodejs" "${bin}/pulumi-resource-pulumi-nodejs"
        log "pulumi-resource-pulumi-nodejs from github.com/pulumi/pulumi/sdk/v3@v${PULUMI_VERSION}"
    fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
    log "the engine cannot be built here: ${#missing[@]} module(s) not served by the Go module proxy:"
    for m in "${missing[@]}"; do
        log "  ${m}"
    done
    exit 3
fi
echo "${bin}"
