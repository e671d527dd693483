#!/usr/bin/env bash
# install-metrics.sh: the fleet's figures for Prometheus on this host.
# Prometheus's own node exporter (Debian's and Ubuntu's prometheus-node-exporter)
# runs as runner-fleet-node-exporter, listening only on METRICS_BIND (loopback
# or a private address: refused otherwise), with its textfile collector
# reading what metrics.sh writes every 15 seconds (runner-fleet-metrics.timer).
# The package's own unit, which would listen on every address, stays off when
# this script installed the package; an exporter the host had before is left
# as it was (and then METRICS_BIND must name another port).
#
# Settings (environment):
#   RUNNER_FLEET_HOST  the host's name (the host label)
#   HOST_ARCH          arm64 or amd64, as the stack declares it (the arch label)
#   AGENT              actuated or github-runner (the kind label)
#   METRICS_BIND       host:port the exporter listens on; loopback or a private address (metrics.bindAddress)
#   MIRROR_MODE        registry, actuated or none
#   MIRROR_BIND        the mirror's host:port (registry; its figures are on the next port, loopback)
#   SETTINGS_HASH      the hash the stack declared for these settings (recorded for drift checks)
# Stdin: the actions/runner releases the package knows, one "VERSION YYYY-MM-DD"
# line each, newest first (the days a runner has left are counted from them;
# on stdin so that a newer list updates this step instead of replacing it).
#
# Run by hand: echo "2.336.0 2026-07-20" | sudo env RUNNER_FLEET_HOST=x HOST_ARCH=amd64 AGENT=github-runner \
#   METRICS_BIND=127.0.0.1:9100 MIRROR_MODE=registry MIRROR_BIND=127.0.0.1:5000 /usr/local/lib/runner-fleet/install-metrics.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"

host="$(setting RUNNER_FLEET_HOST)"
arch="$(setting HOST_ARCH)"
agent="$(setting AGENT)"
bind="$(setting METRICS_BIND)"
mirror_mode="$(setting MIRROR_MODE)"
mirror_bind="${MIRROR_BIND:-}"
case "${arch}" in arm64 | amd64) ;; *) die "HOST_ARCH must be arm64 or amd64, not '${arch}'" ;; esac
case "${agent}" in actuated | github-runner) ;; *) die "AGENT must be actuated or github-runner, not '${agent}'" ;; esac
case "${mirror_mode}" in
    registry) [ -n "${mirror_bind}" ] || die "MIRROR_BIND is required with MIRROR_MODE=registry" ;;
    actuated | none) ;;
    *) die "MIRROR_MODE must be registry, actuated or none, not '${mirror_mode}'" ;;
esac
bind_host="${bind%:*}"
bind_host="${bind_host#[}"
bind_host="${bind_host%]}"
is_private_bind "${bind_host}" ||
    die "METRICS_BIND ${bind} is not a loopback or private address; the exporter tells anyone who reaches it about the host and its jobs, so it must never face the internet"
# The releases from stdin: each line a version and its date, anything else refused.
releases=""
while read -r version date rest; do
    [ -n "${version}" ] || continue
    [[ "${version}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ && "${date}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ && -z "${rest}" ]] ||
        die "stdin must hold one 'VERSION YYYY-MM-DD' line per actions/runner release, not '${version} ${date} ${rest}'"
    releases="${releases:+${releases} }${version}:${date}"
done

env_changed="$(
    write_file "${ROOT}/etc/runner-fleet/metrics.env" 0644 <<ENV
# Written by runner-fleet install-metrics.sh; read by metrics.sh. No secrets here.
RUNNER_FLEET_HOST=${host}
HOST_ARCH=${arch}
AGENT=${agent}
MIRROR_MODE=${mirror_mode}
MIRROR_BIND=${mirror_bind}
RUNNER_RELEASES="${releases}"
ENV
)"

# The exporter: Prometheus's defaults (the host's CPU, memory, disks, network) and the fleet's
# textfile; no user, no state (DynamicUser), only the textfile folder read.
exporter_changed="$(
    write_file "${ROOT}/etc/systemd/system/runner-fleet-node-exporter.service" 0644 <<UNIT
[Unit]
Description=runner-fleet: Prometheus node exporter with the fleet's figures
After=network-online.target
Wants=network-online.target

[Service]
DynamicUser=yes
ExecStart=/usr/bin/prometheus-node-exporter --web.listen-address=${bind} --collector.textfile.directory=/var/lib/runner-fleet-metrics
Restart=always
RestartSec=5
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
UNIT
)"

# The figures: metrics.sh as root (it reads the journal and runs checks as the runners' users), every 15 s.
timer_changed="$(
    {
        write_file "${ROOT}/etc/systemd/system/runner-fleet-metrics.service" 0644 <<UNIT
[Unit]
Description=runner-fleet: the fleet's figures for the node exporter

[Service]
Type=oneshot
EnvironmentFile=/etc/runner-fleet/metrics.env
ExecStart=/usr/local/lib/runner-fleet/metrics.sh
UNIT
        write_file "${ROOT}/etc/systemd/system/runner-fleet-metrics.timer" 0644 <<UNIT
[Unit]
Description=runner-fleet: the fleet's figures every 15 seconds

[Timer]
OnBootSec=10s
OnUnitActiveSec=15s
AccuracySec=1s

[Install]
WantedBy=timers.target
UNIT
    } | grep -cx changed || true
)"

if rendering; then
    exit 0
fi

if ! command -v prometheus-node-exporter >/dev/null 2>&1; then
    apt_install prometheus-node-exporter
    # Installed here for the fleet's unit only: the package's own would listen on every address.
    systemctl disable --now --quiet prometheus-node-exporter.service 2>/dev/null || true
    systemctl mask --quiet prometheus-node-exporter.service 2>/dev/null || true
    touch "${STATE_DIR}/metrics.package"
fi
# The figures' folder: root's, readable by the exporter's dynamic user.
install -d -m 0755 /var/lib/runner-fleet-metrics

if [ "${exporter_changed}" = changed ] || [ "${timer_changed}" != 0 ]; then
    systemctl daemon-reload
fi
# The figures first, so the exporter serves them from its first answer.
[ "${env_changed}" = unchanged ] && [ -s /var/lib/runner-fleet-metrics/runner_fleet.prom ] ||
    "$(dirname "$0")/metrics.sh" || die "metrics.sh failed; see journalctl -u runner-fleet-metrics"
systemctl enable --now --quiet runner-fleet-metrics.timer
[ "${timer_changed}" = 0 ] || systemctl restart runner-fleet-metrics.timer
systemd_apply runner-fleet-node-exporter.service "${exporter_changed}"

for _ in $(seq 1 30); do
    if curl -fsS --max-time 5 "http://${bind}/metrics" 2>/dev/null | grep -c '^runner_fleet_metrics_updated_timestamp_seconds' >/dev/null; then
        stamp metrics "${SETTINGS_HASH:-}"
        log "metrics on ${host}: the node exporter serves the fleet's figures on ${bind}"
        exit 0
    fi
    sleep 1
done
die "the node exporter does not serve the fleet's figures on http://${bind}/metrics after 30s (another exporter on that port?): $(journalctl -u runner-fleet-node-exporter --no-pager -o cat -n 3 2>/dev/null | tr '\n' ' ')"
