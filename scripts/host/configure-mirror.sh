#!/usr/bin/env bash
# configure-mirror.sh: a Docker Hub pull-through cache on this host (the CNCF
# distribution registry in proxy mode), bound to a private address only, and
# the container runtime pointed at it. On actuated hosts the agent's installer
# runs its own mirror on the VM bridge; there this script only checks it.
#
# Settings (environment):
#   MIRROR_MODE         registry (install and run the mirror) or actuated (check actuated's own)
#   MIRROR_BIND         host:port to listen on; loopback or a private address (default 127.0.0.1:5000)
#   MIRROR_UPSTREAM     the registry to cache (default https://registry-1.docker.io)
#   MIRROR_TTL          how long cached content is kept (default 168h)
#   MIRROR_STORAGE      cache directory (default /var/lib/runner-fleet/mirror)
#   DOCKERHUB_USERNAME  Docker Hub user for authenticated pulls; its token comes on stdin
#   RUNTIME_CONFIG      1: point Docker (registry-mirrors) and containerd (hosts.toml) at the mirror
#   SETTINGS_HASH       the hash the stack declared for these settings (recorded for drift checks)
# Stdin: "dockerhub-token <base64>" when DOCKERHUB_USERNAME is set; nothing else.
#
# Run by hand: sudo env MIRROR_MODE=registry /usr/local/lib/runner-fleet/configure-mirror.sh </dev/null
set -euo pipefail
. "$(dirname "$0")/common.sh"

mode="${MIRROR_MODE:-registry}"
bind="${MIRROR_BIND:-127.0.0.1:5000}"
upstream="${MIRROR_UPSTREAM:-https://registry-1.docker.io}"
ttl="${MIRROR_TTL:-168h}"
storage="${MIRROR_STORAGE:-/var/lib/runner-fleet/mirror}"
username="${DOCKERHUB_USERNAME:-}"
secrets="${SECRETS_DIR}/mirror"
config="${ROOT}/etc/runner-fleet/mirror/config.yml"
unit="${ROOT}/etc/systemd/system/runner-fleet-mirror.service"

bind_host="${bind%:*}"
bind_host="${bind_host#[}"
bind_host="${bind_host%]}"

check_v2() {
    local url="$1"
    shift
    curl -fsS --max-time 10 -o /dev/null "$@" "${url}/v2/"
}

if [ "${mode}" = actuated ]; then
    cat >/dev/null # no secrets here: actuated's installer took the Docker Hub credentials
    if rendering; then exit 0; fi
    if retry 10 check_v2 "https://192.168.128.1:5000" -k; then
        log "actuated's registry mirror answers /v2/ on 192.168.128.1:5000"
        stamp mirror "${SETTINGS_HASH:-}"
        exit 0
    fi
    die "actuated's registry mirror does not answer on https://192.168.128.1:5000/v2/; see journalctl -u registry-mirror"
fi
[ "${mode}" = registry ] || die "MIRROR_MODE must be registry or actuated, not '${mode}'"

is_private_bind "${bind_host}" ||
    die "MIRROR_BIND ${bind} is not a loopback or private address; the mirror serves whatever the Docker Hub account can pull, so it must never face the internet"

changed_secrets="$(read_secrets "${secrets}")"
token="$(secret dockerhub-token "${secrets}")"
if [ -n "${username}" ] && [ -z "${token}" ]; then
    die "DOCKERHUB_USERNAME is set but no dockerhub-token came on stdin"
fi

if ! rendering; then
    command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
    command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
    # The package's own service listens on every interface with its default
    # config; it never runs here.
    systemctl disable --now --quiet docker-registry.service 2>/dev/null || true
    systemctl mask --quiet docker-registry.service 2>/dev/null || true
fi

yaml_quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

config_changed="$(
    {
        echo "# Written by runner-fleet configure-mirror.sh; root-only: it holds the Docker Hub token."
        echo "version: 0.1"
        echo "log:"
        echo "  level: info"
        echo "  formatter: text"
        echo "storage:"
        echo "  filesystem:"
        echo "    rootdirectory: ${storage}"
        echo "  delete:"
        echo "    enabled: true"
        echo "  cache:"
        echo "    blobdescriptor: inmemory"
        echo "http:"
        echo "  addr: ${bind}"
        echo "  headers:"
        echo "    X-Content-Type-Options: [nosniff]"
        echo "proxy:"
        echo "  remoteurl: ${upstream}"
        if [ -n "${username}" ]; then
            echo "  username: $(yaml_quote "${username}")"
            echo "  password: $(yaml_quote "${token}")"
        fi
        echo "  ttl: ${ttl}"
        echo "health:"
        echo "  storagedriver:"
        echo "    enabled: true"
        echo "    interval: 10s"
        echo "    threshold: 3"
    } | write_file "${config}" 0600
)"

unit_changed="$(
    write_file "${unit}" 0644 <<UNIT
[Unit]
Description=runner-fleet Docker Hub pull-through mirror on ${bind}
After=network-online.target docker.service
Wants=network-online.target

[Service]
User=docker-registry
Group=docker-registry
# systemd hands the root-only config to the service; nothing else can read it.
LoadCredential=config.yml:/etc/runner-fleet/mirror/config.yml
ExecStart=/usr/bin/docker-registry serve \${CREDENTIALS_DIRECTORY}/config.yml
Restart=on-failure
RestartSec=3
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths=${storage}

[Install]
WantedBy=multi-user.target
UNIT
)"

mkdir -p "${ROOT}${storage}"
if ! rendering; then
    chown docker-registry:docker-registry "${ROOT}${storage}"
fi

restart=unchanged
if [ "${config_changed}" = changed ] || [ "${unit_changed}" = changed ] || [ "${changed_secrets}" != 0 ]; then
    restart=changed
fi
systemd_apply runner-fleet-mirror.service "${restart}"

mirror_url="http://${bind}"
if [ "${RUNTIME_CONFIG:-0}" = 1 ]; then
    # containerd clients with config_path (CRI, nerdctl) read this; no restart needed.
    write_file "${ROOT}/etc/containerd/certs.d/docker.io/hosts.toml" 0644 >/dev/null <<TOML
# Written by runner-fleet: pull Docker Hub images through the host's mirror.
server = "https://registry-1.docker.io"

[host."${mirror_url}"]
  capabilities = ["pull", "resolve"]
TOML
    docker_changed="$(docker_mirror add "${mirror_url}")"
    if [ "${docker_changed}" = changed ] && ! rendering && systemctl is-active --quiet docker.service; then
        systemctl restart docker.service
        log "docker.service: restarted to use the mirror"
    fi
fi

if ! rendering; then
    if ! retry 10 check_v2 "${mirror_url}"; then
        die "the mirror does not answer on ${mirror_url}/v2/; see journalctl -u runner-fleet-mirror"
    fi
    log "mirror answers /v2/ on ${mirror_url}"
fi
stamp mirror "${SETTINGS_HASH:-}"
