#!/usr/bin/env bash
# figures.sh: what check.sh (the drift check, runner-fleet status) and
# metrics.sh (Prometheus) read from the host, in one place, so that all of
# them report the same figures. Sourced after common.sh, not run.
# shellcheck shell=bash

# listener_running N: whether runner instance N's unit runs its
# Runner.Listener: a process running bin/Runner.Listener in the unit's own
# cgroup (its line in /proc/PID/cgroup ends with the unit, whatever the
# hierarchy above it). Root only reads /proc.
listener_running() {
    local pid
    for pid in $(pgrep -f 'bin/Runner\.Listener' 2>/dev/null || true); do
        grep -q "/runner-fleet-runner@$1\.service\$" "/proc/${pid}/cgroup" 2>/dev/null && return 0
    done
    return 1
}

# runner_version N: the actions/runner version instance N runs (it updates
# itself): its own answer, else the one unpacked; "unknown" otherwise. Both
# come from the runner's folder, which every job can change: asked as the
# runner user, never as root, and taken only when they look like a version.
# check.sh and metrics.sh report this same figure.
runner_version() {
    local dir="/opt/runner-fleet/runner-$1" user version
    user="$(runner_user "$1")"
    version="$(as_user "${user}" timeout 10 "${dir}/bin/Runner.Listener" --version 2>/dev/null | head -n 1 || true)"
    case "${version}" in
        [0-9]*.[0-9]*.[0-9]*) ;;
        *) version="$(as_user "${user}" head -c 64 "${dir}/.runner-fleet-version" 2>/dev/null || true)" ;;
    esac
    case "${version}" in
        *[!0-9.]* | "") version=unknown ;;
    esac
    printf '%s\n' "${version}"
}

# runner_registration N ACTIVE: whether instance N holds a GitHub registration,
# as one word and a reason: "registered ...", "between ..." (an ephemeral
# runner registering again after its job) or "unregistered ...". ACTIVE is
# its unit's state. check.sh and metrics.sh report this same figure.
runner_registration() {
    local i="$1" active="$2"
    if [ -f "${STATE_DIR}/runner-${i}.unregistered" ]; then
        printf 'unregistered %s (its service stopped); run pulumi up to register it again\n' "$(cut -c1-120 "${STATE_DIR}/runner-${i}.unregistered")"
    elif [ -f "/opt/runner-fleet/runner-${i}/.runner" ]; then
        echo "registered instance ${i} holds a registration"
    elif [ -f "${STATE_DIR}/runner-${i}.registered" ] && [ "${active}" = active ]; then
        echo "between instance ${i} is between jobs (ephemeral) and registering again"
    else
        echo "unregistered instance ${i} has no registration"
    fi
}

# mirror_proxy_figures DEBUG_ADDR: the registry mirror's figures since it
# started, from its expvar page (distribution/distribution
# registry/proxy/proxymetrics.go: registry.proxy.blobs and .manifests, each
# Requests, Hits, Misses, BytesPulled, BytesPushed), one line per kind:
# "blobs REQUESTS HITS MISSES PULLED PUSHED". Nothing when the page has none
# (a distribution before 3). check.sh and metrics.sh report these same figures.
mirror_proxy_figures() {
    curl -fsS --max-time 5 "http://$1/debug/vars" 2>/dev/null | python3 -c '
import json, sys
try:
    proxy = json.load(sys.stdin)["registry"]["proxy"]
except Exception:
    sys.exit(0)
for kind in ("blobs", "manifests"):
    m = proxy.get(kind, {})
    print(kind, *(int(m.get(f, 0)) for f in ("Requests", "Hits", "Misses", "BytesPulled", "BytesPushed")))
' 2>/dev/null || true
}
