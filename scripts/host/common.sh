#!/usr/bin/env bash
# common.sh: helpers the runner-fleet host scripts share. Sourced, not run.
#
# Every script honours ROOT (default empty): a directory that stands in for /
# for the files it writes. With RENDER_ONLY=1 the scripts only write their
# files under ROOT and touch no service, package, user or network: that is how
# the tests check what they render.
# shellcheck shell=bash

# shellcheck disable=SC2034 # the variables below are used by the scripts that source this
ROOT="${ROOT:-}"
RENDER_ONLY="${RENDER_ONLY:-0}"
STATE_DIR="${ROOT}/var/lib/runner-fleet"
SECRETS_DIR="${ROOT}/etc/runner-fleet/secrets"
RETRIES="${RETRIES:-5}"

log() { printf 'runner-fleet: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}
rendering() { [ "${RENDER_ONLY}" = "1" ]; }

# setting NAME: the value of a stack setting, which the fleet always passes.
# No default is written here: defaults live once, in the package's settings
# (components/spec/settings.ts); a run by hand passes them too (README).
setting() {
    [ -n "${!1:-}" ] || die "$1 is not set: the stack always passes it, and a run by hand must too (the script's header lists its settings)"
    printf '%s' "${!1}"
}

# retry N CMD...: runs CMD up to N times, waiting 2, 4, 8, then 10 seconds in between.
retry() {
    local tries="$1" n=1 delay=2
    shift
    until "$@"; do
        if [ "${n}" -ge "${tries}" ]; then
            log "gave up after ${tries} tries: $1"
            return 1
        fi
        log "try ${n}/${tries} failed: $1; again in ${delay}s"
        sleep "${delay}"
        n=$((n + 1))
        delay=$((delay * 2 > 10 ? 10 : delay * 2))
    done
}

# write_file PATH MODE [OWNER]: writes stdin to PATH only when the content or
# mode differs. Prints "changed" or "unchanged". The file is replaced
# atomically and never exists with looser permissions than MODE.
write_file() {
    local path="$1" mode="$2" owner="${3:-}" tmp
    mkdir -p "$(dirname "${path}")"
    tmp="$(mktemp "${path}.XXXXXX")"
    chmod "${mode}" "${tmp}"
    cat >"${tmp}"
    if [ -f "${path}" ] && cmp -s "${tmp}" "${path}" &&
        [ "$(stat -c %a "${path}")" = "$(stat -c %a "${tmp}")" ] &&
        { [ -z "${owner}" ] || rendering || [ "$(stat -c %U:%G "${path}")" = "${owner}" ]; }; then
        rm -f "${tmp}"
        echo unchanged
        return 0
    fi
    if [ -n "${owner}" ] && ! rendering; then
        chown "${owner}" "${tmp}"
    fi
    mv -f "${tmp}" "${path}"
    echo changed
}

# as_user USER CMD...: runs CMD as USER, with USER's own group only and a
# clean environment. How root runs or reads anything in a folder a job can
# change (a runner's folder and home): planted code then runs as the runner,
# never as root, and a link planted there reads what the runner may read.
as_user() {
    local user="$1"
    shift
    setpriv --reuid "${user}" --regid "${user}" --clear-groups -- \
        env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/${user}" USER="${user}" LOGNAME="${user}" "$@"
}

# write_as USER PATH: writes stdin to PATH as USER (mode 0644), put in place
# by rename: a link a job left at PATH is replaced, never written through.
write_as() {
    # shellcheck disable=SC2016 # expanded by the inner shell
    as_user "$1" sh -c 'tmp="$(mktemp "$1.XXXXXX")" && cat >"${tmp}" && chmod 0644 "${tmp}" && mv -f "${tmp}" "$1"' sh "$2"
}

# read_secrets DIR: reads "name base64value" lines from stdin and writes each
# to DIR/name (root-only, 0600) when it differs. Prints how many changed,
# never a value.
read_secrets() {
    local dir="$1" name value changed=0 result
    mkdir -p "${dir}"
    chmod 0700 "${dir}"
    while read -r name value; do
        [ -n "${name}" ] || continue
        case "${name}" in
            *[!a-zA-Z0-9_-]*) die "secret name '${name}' has characters other than letters, digits, '-' and '_'" ;;
        esac
        result="$(printf '%s' "${value}" | base64 -d | write_file "${dir}/${name}" 0600)"
        [ "${result}" = changed ] && changed=$((changed + 1))
    done
    echo "${changed}"
}

# secret NAME DIR: the value of a secret file, or empty.
secret() {
    local file="$2/$1"
    if [ -f "${file}" ]; then cat "${file}"; fi
}

# apt_install PKG...: installs packages that are missing, waiting for the apt
# lock and retrying transient failures. Never starts the services it installs
# (policy-rc.d), so a package's default configuration never runs.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed" || missing+=("${pkg}")
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    log "installing ${missing[*]}"
    local policy="${ROOT}/usr/sbin/policy-rc.d" had_policy=0
    policy_rc_repair
    if [ -e "${policy}" ]; then
        had_policy=1
        cp -p "${policy}" "${policy}.runner-fleet"
    fi
    # The marker names this script's process: a run that dies before putting the
    # file back leaves it to policy_rc_repair.
    printf '#!/bin/sh\n%s %s %s\nexit 101\n' "${POLICY_MARK}" "$$" "$(proc_start $$)" >"${policy}.new"
    chmod 0755 "${policy}.new"
    mv -f "${policy}.new" "${policy}"
    local rc=0
    retry "${RETRIES}" apt_get_locked update -q || rc=$?
    if [ "${rc}" -eq 0 ]; then
        retry "${RETRIES}" apt_get_locked install -y -q --no-install-recommends "${missing[@]}" || rc=$?
    fi
    if [ "${had_policy}" = 1 ]; then mv -f "${policy}.runner-fleet" "${policy}"; else rm -f "${policy}"; fi
    return "${rc}"
}

# runner_user N: the user runner instance N and its jobs run as. One user per
# instance: a job reaches no other instance's registration, home or Docker.
runner_user() { printf '%s-%s' "${RUNNER_USER:-runner}" "$1"; }

# remove_runner_user N: removes instance N's user (remove_user).
remove_runner_user() { remove_user "$(runner_user "$1")"; }

# remove_legacy_runner_user: removes the one user every instance shared before
# each had its own (RUNNER_USER itself, made without a comment, home /home/<it>).
remove_legacy_runner_user() {
    local legacy="${RUNNER_USER:-runner}"
    id "${legacy}" >/dev/null 2>&1 && [ -z "$(getent passwd "${legacy}" | cut -d: -f5)" ] &&
        [ "$(getent passwd "${legacy}" | cut -d: -f6)" = "/home/${legacy}" ] || return 0
    remove_user "${legacy}"
    log "removed user ${legacy}, which every instance shared before each had its own"
}

# remove_user USER: removes a runner user, what it left running (a daemon a
# job started: userdel refuses a user with processes) and its home (userdel -r
# removes it without following the links in it: shadow's remove_tree).
remove_user() {
    local user="$1"
    id "${user}" >/dev/null 2>&1 || return 0
    pkill -KILL -u "${user}" 2>/dev/null || true
    for _ in $(seq 1 20); do
        pgrep -u "${user}" >/dev/null 2>&1 || break
        sleep 0.5
    done
    userdel -r "${user}" 2>/dev/null || userdel "${user}"
}

# RUNNER_DOCKER_CONFIG: the daemon configuration of every instance's own
# (rootless) Docker: root's, read by each daemon (so outside /etc/runner-fleet,
# which is root's alone); only registry-mirrors in it.
RUNNER_DOCKER_CONFIG="${ROOT}/etc/runner-fleet-docker.json"

# has_lib PATTERN: whether the linker cache knows a library. grep reads all of
# ldconfig's output: with -q it would stop at the first match, ldconfig would
# die of SIGPIPE once its output passes the pipe's buffer, and pipefail would
# call that a miss.
has_lib() { ldconfig -p | grep -c "$1" >/dev/null; }

# job_running N: whether runner instance N runs a job: a Runner.Worker whose
# program lies in the instance's folder. The listener starts it from its own
# folder as the OS resolves it (actions/runner HostContext.cs, JobDispatcher.cs),
# which after a self-update is bin.<version>, where `bin` then links
# (update.sh.template); so the path is resolved here too, never matched as
# written. Root only reads /proc and resolves names: it runs nothing of the runner's.
job_running() {
    local dir="/opt/runner-fleet/runner-$1" pid prog
    for pid in $(pgrep -f 'Runner\.Worker' 2>/dev/null || true); do
        prog="$(tr '\0' '\n' <"/proc/${pid}/cmdline" 2>/dev/null | head -n 1 || true)"
        case "${prog}" in /*) ;; *) prog="$(readlink "/proc/${pid}/cwd" 2>/dev/null || true)/${prog}" ;; esac
        case "$(readlink -f -- "${prog}" 2>/dev/null || true)" in
            "${dir}"/*) return 0 ;;
        esac
    done
    return 1
}

# drain N LIMIT WHAT: waits until runner instance N runs no job, at most
# LIMIT seconds, saying once that it waits before WHAT. Returns 1 when the job
# still runs after LIMIT; the caller says what it did not do.
# It looks four times a second: the runner can take its next job as soon as
# GitHub hears that this one ended, and what follows the drain must come first.
drain() {
    local n="$1" limit="$2" until=$((SECONDS + $2)) said=0
    while job_running "${n}"; do
        [ "${SECONDS}" -lt "${until}" ] || return 1
        [ "${said}" = 1 ] || log "waiting for the job on runner ${RUNNER_FLEET_HOST:+${RUNNER_FLEET_HOST}-}${n} to finish before ${3} (at most ${limit}s)"
        said=1
        sleep 0.25
    done
}

# What apt_install's policy-rc.d says of whoever wrote it.
POLICY_MARK="# runner-fleet apt_install, pid and start:"

# proc_start PID: when the process started (clock ticks after boot), to tell it from a later one with its pid.
proc_start() { cut -d' ' -f22 "/proc/$1/stat" 2>/dev/null || true; }

# policy_rc_repair: puts back the policy-rc.d that an apt_install killed
# half-way left behind (its marker names a process that is gone). Left as it
# is, every later package upgrade, unattended security updates included, would
# stop services and never start them again.
policy_rc_repair() {
    local policy="${ROOT}/usr/sbin/policy-rc.d" pid start
    read -r pid start < <(sed -n "s/^${POLICY_MARK} \([0-9]*\) \([0-9]*\)$/\1 \2/p" "${policy}" 2>/dev/null) || true
    [ -n "${pid:-}" ] || return 0
    if [ -n "${start:-}" ] && [ "$(proc_start "${pid}")" = "${start}" ]; then
        return 0 # that install is still running
    fi
    if [ -e "${policy}.runner-fleet" ]; then mv -f "${policy}.runner-fleet" "${policy}"; else rm -f "${policy}"; fi
    log "put back ${policy}: an interrupted package install had left it refusing every service start"
}

apt_get_locked() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@" >/dev/null
}

# download URL DEST: fetches URL to DEST (atomically), retrying.
download() {
    local url="$1" dest="$2"
    mkdir -p "$(dirname "${dest}")"
    retry "${RETRIES}" curl -fsSL --connect-timeout 20 --max-time 600 -o "${dest}.part" "${url}" || return 1
    mv -f "${dest}.part" "${dest}"
}

# systemd_apply UNIT CHANGED: reloads systemd when a unit file changed,
# enables the unit, and restarts it when CHANGED is "changed" (or starts it
# when it is not running). Prints what it did.
systemd_apply() {
    local unit="$1" changed="$2"
    rendering && return 0
    if [ "${changed}" = changed ]; then
        systemctl daemon-reload
    fi
    systemctl enable --quiet "${unit}"
    if [ "${changed}" = changed ]; then
        systemctl restart "${unit}"
        log "${unit}: restarted"
    elif ! systemctl is-active --quiet "${unit}"; then
        systemctl start "${unit}"
        log "${unit}: started"
    fi
}

# stamp NAME HASH: records the settings hash a script last applied, for the
# drift check to compare with what the stack declares.
stamp() {
    [ -n "${2:-}" ] || return 0
    printf '%s\n' "$2" | write_file "${STATE_DIR}/$1.hash" 0644 >/dev/null
}

# host_arch: arm64 or amd64, from uname -m.
host_arch() {
    case "$(uname -m)" in
        aarch64 | arm64) echo arm64 ;;
        x86_64 | amd64) echo amd64 ;;
        *) uname -m ;;
    esac
}

# is_private_bind HOST: whether an address is loopback or a private range,
# the only places a mirror may listen.
is_private_bind() {
    case "$1" in
        127.* | 10.* | 192.168.* | ::1 | localhost) return 0 ;;
        172.1[6-9].* | 172.2[0-9].* | 172.3[0-1].*) return 0 ;;
        *) return 1 ;;
    esac
}

# github_api METHOD PATH: calls the GitHub REST API with the token in
# SECRETS_DIR/agent/github-runner-token. The token goes to curl in a root-only
# header file, never on a command line. Prints the response body.
github_api() {
    local method="$1" path="$2" token_file="${SECRETS_DIR}/agent/github-runner-token" header rc=0 api
    api="$(setting GITHUB_API_URL)" || return 1
    [ -s "${token_file}" ] || die "no GitHub token on this host (${token_file}); it is written by write-secrets.sh"
    header="$(mktemp)"
    chmod 0600 "${header}"
    {
        printf 'Authorization: Bearer '
        cat "${token_file}"
        printf '\nAccept: application/vnd.github+json\nX-GitHub-Api-Version: 2022-11-28\n'
    } >"${header}"
    curl -fsS --connect-timeout 20 --max-time 60 -X "${method}" -H @"${header}" \
        "${api}${path}" || rc=$?
    rm -f "${header}"
    return "${rc}"
}

# json_field FIELD: reads a JSON object on stdin and prints one field.
json_field() {
    python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"
}

# Whatever runs as root first puts back what an interrupted package install left
# (policy_rc_repair): the next run of any step, or a drift check, mends it.
if ! rendering && [ "$(id -u)" = 0 ]; then
    policy_rc_repair
fi
