#!/usr/bin/env bash
# check.sh: tells whether this host still runs what the stack installed,
# changing nothing. One JSON object per line on stdout:
#   {"check": "...", "ok": true|false, "detail": "..."}
# and, for the mirror-cache line, "figures": {"since", "blobs": {"requests",
# "hits", "misses"}, "manifests": {...}} (the drift check derives the ratio).
# Exit status: 0 everything matches, 3 something drifted, 2 bad settings.
#
# Settings (environment):
#   AGENT           actuated or github-runner
#   INSTANCES       github-runner instances expected (github-runner)
#   MIRROR_MODE     registry, actuated or none
#   MIRROR_BIND     the mirror's private host:port (registry)
#   PUBLIC_ADDRESS  the host's public address; the mirror's and the exporter's ports must be closed there
#   METRICS_BIND    where the node exporter serves the fleet's metrics (empty: metrics off)
#   EXPECT          lines "stamp NAME SHA256" (settings hashes the stack declared)
#                   and "file PATH SHA256" (installed files)
#
# Run by hand: sudo env AGENT=github-runner INSTANCES=1 MIRROR_MODE=registry MIRROR_BIND=127.0.0.1:5000 /usr/local/lib/runner-fleet/check.sh
set -uo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/figures.sh"

failed=0
report() {
    local name="$1" ok="$2" detail="$3"
    python3 -c 'import json,sys; print(json.dumps({"check": sys.argv[1], "ok": sys.argv[2] == "true", "detail": sys.argv[3]}))' \
        "${name}" "${ok}" "${detail}"
    [ "${ok}" = true ] || failed=1
}

# mirror_figures DEBUG_ADDR: the mirror's hits and misses since it started
# (mirror_proxy_figures, the figures metrics.sh exports too), as a mirror-cache
# line with the figures beside the detail.
mirror_figures() {
    local since
    since="$(systemctl show -p ActiveEnterTimestamp --value runner-fleet-mirror.service 2>/dev/null || true)"
    mirror_proxy_figures "$1" | python3 -c '
import json, sys
addr, since = sys.argv[1], sys.argv[2]
rows = [line.split() for line in sys.stdin if line.strip()]
if not rows:
    print(json.dumps({"check": "mirror-cache", "ok": False, "detail": "no hit and miss figures on http://%s/debug/vars (a mirror from before runner-fleet ran distribution 3)" % addr}))
    sys.exit(0)
figures = {"since": since}
parts = []
for kind, req, hits, misses, _pulled, _pushed in rows:
    req, hits, misses = int(req), int(hits), int(misses)
    figures[kind] = {"requests": req, "hits": hits, "misses": misses}
    parts.append("%s %d of %d from the cache%s, %d fetched upstream" % (kind, hits, req, " (%d%%)" % round(100 * hits / req) if req else "", misses))
print(json.dumps({"check": "mirror-cache", "ok": True, "detail": "; ".join(parts) + (" since " + since if since else ""), "figures": figures}))
' "$1" "${since}"
}
unit_state() { systemctl is-active "$1" 2>/dev/null || true; }

agent="${AGENT:-}"
case "${agent}" in
    actuated)
        state="$(unit_state actuated.service)"
        report agent-service "$([ "${state}" = active ] && echo true || echo false)" "actuated.service is ${state:-unknown}"
        ;;
    github-runner)
        RUNNER_USER="$(sed -n 's/^RUNNER_USER=//p' /etc/runner-fleet/runner.env 2>/dev/null | head -n 1)"
        docker="$(sed -n 's/^INSTALL_DOCKER=//p' /etc/runner-fleet/runner.env 2>/dev/null | head -n 1)"
        # check.sh runs without -e: a missing setting must stop it here, not leave an empty list.
        instances="$(setting INSTANCES)" || exit 2
        for i in $(seq 1 "${instances}"); do
            runner_state="$(unit_state "runner-fleet-runner@${i}.service")"
            report "agent-service-${i}" "$([ "${runner_state}" = active ] && echo true || echo false)" "runner-fleet-runner@${i} is ${runner_state:-unknown}"
            if [ "${docker}" = 1 ]; then
                state="$(unit_state "runner-fleet-docker@${i}.service")"
                report "runner-docker-${i}" "$([ "${state}" = active ] && echo true || echo false)" "instance ${i}'s own Docker (runner-fleet-docker@${i}) is ${state:-unknown}"
            fi
            read -r standing why <<<"$(runner_registration "${i}" "${runner_state}")"
            report "runner-registered-${i}" "$([ "${standing}" = unregistered ] && echo false || echo true)" "${why}"
            version="$(runner_version "${i}")"
            report "runner-version-${i}" true "${version}" # judged by the drift check against the catalog
        done
        ;;
    *)
        echo "AGENT must be actuated or github-runner" >&2
        exit 2
        ;;
esac

bind="${MIRROR_BIND:-}"
port="${bind##*:}"
case "${MIRROR_MODE:-registry}" in
    registry)
        [ -n "${bind}" ] || {
            echo "MIRROR_BIND is required with MIRROR_MODE=registry" >&2
            exit 2
        }
        if curl -fsS --max-time 5 -o /dev/null "http://${bind}/v2/"; then
            report mirror-private true "answers /v2/ on ${bind}"
            line="$(mirror_figures "127.0.0.1:$((port + 1))")"
            echo "${line}"
            case "${line}" in *'"ok": false'*) failed=1 ;; esac
        else
            report mirror-private false "does not answer /v2/ on ${bind}"
        fi
        ;;
    actuated)
        if curl -kfsS --max-time 5 -o /dev/null "https://192.168.128.1:5000/v2/"; then
            report mirror-private true "actuated's mirror answers /v2/ on 192.168.128.1:5000"
        else
            report mirror-private false "actuated's mirror does not answer on 192.168.128.1:5000"
        fi
        port=5000
        ;;
    none) ;;
    *)
        echo "MIRROR_MODE must be registry, actuated or none" >&2
        exit 2
        ;;
esac
if [ "${MIRROR_MODE:-registry}" != none ] && [ -n "${PUBLIC_ADDRESS:-}" ]; then
    if curl -sS --max-time 3 -o /dev/null "http://${PUBLIC_ADDRESS}:${port}/v2/" 2>/dev/null; then
        report mirror-public-closed false "port ${port} answers on the public address ${PUBLIC_ADDRESS}"
    else
        report mirror-public-closed true "port ${port} is closed on ${PUBLIC_ADDRESS}"
    fi
fi

metrics_bind="${METRICS_BIND:-}"
if [ -n "${metrics_bind}" ]; then
    # The same figures Prometheus scrapes: the exporter answers, and the timer keeps them fresh.
    updated="$(curl -fsS --max-time 5 "http://${metrics_bind}/metrics" 2>/dev/null |
        sed -n 's/^runner_fleet_metrics_updated_timestamp_seconds{[^}]*} \([0-9.e+]*\)$/\1/p' | head -n 1)"
    if [ -z "${updated}" ]; then
        report metrics-exporter false "no runner-fleet figures on http://${metrics_bind}/metrics (runner-fleet-node-exporter, runner-fleet-metrics.timer)"
    else
        age="$(python3 -c 'import sys, time; print(int(time.time() - float(sys.argv[1])))' "${updated}")"
        report metrics-exporter "$([ "${age}" -le 120 ] && echo true || echo false)" "serves the fleet's figures on ${metrics_bind}, written ${age}s ago"
    fi
    if [ -n "${PUBLIC_ADDRESS:-}" ] && [ "${metrics_bind%:*}" != "${PUBLIC_ADDRESS}" ]; then
        if curl -sS --max-time 3 -o /dev/null "http://${PUBLIC_ADDRESS}:${metrics_bind##*:}/metrics" 2>/dev/null; then
            report metrics-public-closed false "port ${metrics_bind##*:} answers on the public address ${PUBLIC_ADDRESS}"
        else
            report metrics-public-closed true "port ${metrics_bind##*:} is closed on ${PUBLIC_ADDRESS}"
        fi
    fi
fi

while read -r kind what want; do
    [ -n "${kind}" ] || continue
    case "${kind}" in
        stamp)
            have="$(cat "${STATE_DIR}/${what}.hash" 2>/dev/null || true)"
            report "settings-${what}" "$([ "${have}" = "${want}" ] && echo true || echo false)" \
                "applied ${have:-nothing}, declared ${want}"
            ;;
        file)
            have="$(sha256sum "${ROOT}${what}" 2>/dev/null | cut -d' ' -f1)"
            report "file:${what}" "$([ "${have}" = "${want}" ] && echo true || echo false)" \
                "sha256 ${have:-missing}, declared ${want}"
            ;;
    esac
done <<<"${EXPECT:-}"

[ "${failed}" = 0 ] || exit 3
exit 0
