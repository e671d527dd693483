#!/usr/bin/env bash
# configure-mirror.sh: a Docker Hub pull-through cache on this host (the CNCF
# distribution registry 3 in proxy mode, from its release archive, checked
# against the sha256 the stack pins), bound to a private address only, and
# the host's container clients pointed at it. On actuated hosts the agent's
# installer runs its own mirror on the VM bridge; there this script only checks it.
#
# Settings (environment):
#   MIRROR_MODE         registry (install and run the mirror) or actuated (check actuated's own)
#   MIRROR_BIND         host:port to listen on; loopback or a private address (mirror.bindAddress)
#   MIRROR_UPSTREAM     the registry to cache (mirror.upstream)
#   MIRROR_TTL          how long a fetched blob or manifest is kept (proxy.ttl; 0s: forever; mirror.ttl)
#   MIRROR_VERSION      the registry release (such as 3.1.2)
#   MIRROR_SHA256       sha256 of registry_<version>_linux_<arch>.tar.gz for this host's arch
#   MIRROR_DOWNLOAD_URL where the archives are (endpoints.mirrorDownloads)
#   MIRROR_STORAGE      cache directory (default /var/lib/runner-fleet/mirror)
#   DOCKERHUB_USERNAME  Docker Hub user for authenticated pulls; its token comes on stdin
#   RUNTIME_CONFIG      1: point Docker (registry-mirrors) and containerd (certs.d) at the mirror
#   SETTINGS_HASH       the hash the stack declared for these settings (recorded for drift checks)
# Stdin: "dockerhub-token <base64>" when DOCKERHUB_USERNAME is set; nothing else.
#
# The mirror's own figures (requests, hits, misses since it started) are on
# http://127.0.0.1:<port + 1>/debug/vars (registry.proxy); check.sh reports them.
#
# Run by hand (the values `pulumi up` passes; the README shows them all):
#   sudo env MIRROR_MODE=registry MIRROR_BIND=127.0.0.1:5000 MIRROR_UPSTREAM=... MIRROR_TTL=168h \
#     MIRROR_VERSION=3.1.2 MIRROR_SHA256=... MIRROR_DOWNLOAD_URL=... /usr/local/lib/runner-fleet/configure-mirror.sh </dev/null
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mirror-clients.sh"

mode="${MIRROR_MODE:-registry}"

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

bind="$(setting MIRROR_BIND)"
upstream="$(setting MIRROR_UPSTREAM)"
ttl="$(setting MIRROR_TTL)"
version="${MIRROR_VERSION:-}"
want_sha="${MIRROR_SHA256:-}"
downloads="$(setting MIRROR_DOWNLOAD_URL)"
storage="${MIRROR_STORAGE:-/var/lib/runner-fleet/mirror}"
user=runner-fleet-mirror
username="${DOCKERHUB_USERNAME:-}"
secrets="${SECRETS_DIR}/mirror"
config="${ROOT}/etc/runner-fleet/mirror/config.yml"
unit="${ROOT}/etc/systemd/system/runner-fleet-mirror.service"

bind_host="${bind%:*}"
bind_host="${bind_host#[}"
bind_host="${bind_host%]}"
# The mirror's debug server (its hit and miss figures): loopback only, the next port.
debug_addr="127.0.0.1:$((${bind##*:} + 1))"

is_private_bind "${bind_host}" ||
    die "MIRROR_BIND ${bind} is not a loopback or private address; the mirror serves whatever the Docker Hub account can pull, so it must never face the internet"

case "${version}" in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) die "MIRROR_VERSION must be a registry release such as 3.1.2, not '${version}'" ;;
esac
case "${want_sha}" in
    *[!0-9a-f]* | "") die "MIRROR_SHA256 must be the sha256 of the registry archive for this host's arch" ;;
esac
[ "${#want_sha}" = 64 ] || die "MIRROR_SHA256 must be 64 hex digits"

changed_secrets="$(read_secrets "${secrets}")"
token="$(secret dockerhub-token "${secrets}")"
if [ -n "${username}" ] && [ -z "${token}" ]; then
    die "DOCKERHUB_USERNAME is set but no dockerhub-token came on stdin"
fi

# The registry binary: the release archive, checked against the pinned sha256
# before anything of it runs, unpacked into a folder of its own per release.
release_dir="/opt/runner-fleet/registry-${version}"
registry_bin="${release_dir}/registry"
binary_changed=unchanged
if ! rendering; then
    command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
    if [ "$(cat "${release_dir}/.archive-sha256" 2>/dev/null)" != "${want_sha}" ] || [ ! -x "${registry_bin}" ]; then
        arch="$(host_arch)"
        archive_name="registry_${version}_linux_${arch}.tar.gz"
        archive="/var/cache/runner-fleet/${archive_name}"
        download "${downloads}/v${version}/${archive_name}" "${archive}" ||
            die "could not download ${archive_name} from ${downloads}"
        if ! echo "${want_sha}  ${archive}" | sha256sum -c --quiet - >/dev/null 2>&1; then
            have="$(sha256sum "${archive}" | cut -d' ' -f1)"
            rm -f "${archive}"
            die "${archive_name} from ${downloads} has sha256 ${have}, not the pinned ${want_sha}; nothing was installed"
        fi
        rm -rf "${release_dir}.new"
        mkdir -p "${release_dir}.new"
        # The archive holds registry, LICENSE and README.md at its top (distribution/distribution Dockerfile, stage releaser).
        tar -xzf "${archive}" -C "${release_dir}.new" --no-same-owner registry LICENSE ||
            die "${archive_name} holds no registry binary"
        "${release_dir}.new/registry" --version >/dev/null 2>&1 ||
            die "the registry in ${archive_name} does not run on this host ($(uname -m))"
        printf '%s\n' "${want_sha}" >"${release_dir}.new/.archive-sha256"
        chmod 0755 "${release_dir}.new" "${release_dir}.new/registry"
        rm -rf "${release_dir}"
        mv "${release_dir}.new" "${release_dir}"
        rm -f "${archive}"
        binary_changed=changed
        log "registry ${version} (${arch}) installed in ${release_dir}"
    fi
    # The registry runs as a user of its own that owns the cache and nothing else.
    if ! id "${user}" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "${user}"
        log "created user ${user}"
    fi
    # Debian's and Ubuntu's docker-registry (distribution 2.8), if present, never runs:
    # its own service listens on every interface with its default config.
    if systemctl cat docker-registry.service >/dev/null 2>&1; then
        systemctl disable --now --quiet docker-registry.service 2>/dev/null || true
        systemctl mask --quiet docker-registry.service 2>/dev/null || true
    fi
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
        # Expiry deletes through the storage's delete; without it the TTL only logs an error
        # (distribution/distribution registry/proxy/scheduler/scheduler.go, docs/content/recipes/mirror.md).
        echo "  delete:"
        echo "    enabled: true"
        echo "  cache:"
        echo "    blobdescriptor: inmemory"
        echo "http:"
        echo "  addr: ${bind}"
        echo "  debug:"
        echo "    addr: ${debug_addr}"
        echo "    prometheus:"
        echo "      enabled: true"
        echo "      path: /metrics"
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

# The registry reads the upstream's /v2/ once at start and panics when it gets
# no answer (registry/proxy/proxyauth.go getAuthURLs, registry/handlers/app.go);
# the unit waits for the upstream first, so a host that boots without network
# waits quietly instead of restarting the registry every few seconds.
wait_upstream="$(dirname "$0")/mirror-wait-upstream.sh"
[ -x "${wait_upstream}" ] || rendering || die "${wait_upstream} is missing; the install ships it"
wait_upstream="$(readlink -f "${wait_upstream}")"
# Expiries that passed while the mirror was down are applied before it serves,
# never beside its first pulls (the script says why).
expire="$(dirname "$0")/mirror-expire.sh"
[ -x "${expire}" ] || rendering || die "${expire} is missing; the install ships it"
expire="$(readlink -f "${expire}")"
unit_changed="$(
    write_file "${unit}" 0644 <<UNIT
[Unit]
Description=runner-fleet Docker Hub pull-through mirror on ${bind} (distribution registry ${version})
After=network-online.target docker.service
Wants=network-online.target

[Service]
User=${user}
Group=${user}
# systemd hands the root-only config to the service; nothing else can read it.
LoadCredential=config.yml:/etc/runner-fleet/mirror/config.yml
# The release's tracing exports to localhost:4318 unless told not to (its Dockerfile sets this too).
Environment=OTEL_TRACES_EXPORTER=none
ExecStartPre=${wait_upstream} ${upstream}
ExecStartPre=${expire} ${storage}
TimeoutStartSec=infinity
ExecStart=${registry_bin} serve \${CREDENTIALS_DIRECTORY}/config.yml
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
    # The cache a 2.8 mirror left (owned by docker-registry) is kept: 3 reads the same layout.
    if [ "$(stat -c %U "${storage}")" != "${user}" ]; then
        chown -R "${user}:${user}" "${storage}"
    fi
    chmod 0750 "${storage}"
fi

restart=unchanged
if [ "${config_changed}" = changed ] || [ "${unit_changed}" = changed ] || [ "${binary_changed}" = changed ] || [ "${changed_secrets}" != 0 ]; then
    restart=changed
fi
if ! rendering && ! curl -sS --max-time 10 -o /dev/null "${upstream}/v2/" 2>/dev/null; then
    die "the upstream ${upstream} does not answer /v2/ from this host; the mirror waits for it before it starts (journalctl -u runner-fleet-mirror)"
fi
# A mirror that moves: the runners' own Docker daemons get the new address ahead of the old one
# first, so a job's pull while the mirror restarts takes whichever answers (Docker tries its
# mirrors in turn); clients_use_mirror drops the old one once the new one answers.
if [ "${RUNTIME_CONFIG:-0}" = 1 ]; then
    runner_dockers_mirror add "http://${bind}" ""
fi
systemd_apply runner-fleet-mirror.service "${restart}"
if ! rendering; then
    for old in /opt/runner-fleet/registry-*; do
        [ "${old}" = "${release_dir}" ] || [ ! -d "${old}" ] || rm -rf "${old}"
    done
fi

mirror_url="http://${bind}"
if ! rendering; then
    if ! retry 10 check_v2 "${mirror_url}"; then
        die "the mirror does not answer on ${mirror_url}/v2/; see journalctl -u runner-fleet-mirror"
    fi
    log "mirror answers /v2/ on ${mirror_url}"
fi
# The clients move to it once it answers (a moved mirror leaves them on a dead address no longer than that).
if [ "${RUNTIME_CONFIG:-0}" = 1 ]; then
    clients_use_mirror "${mirror_url}"
fi
stamp mirror "${SETTINGS_HASH:-}"
