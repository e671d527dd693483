#!/usr/bin/env bash
# mirror-clients.sh: points this host's container clients at a Docker Hub
# mirror and takes them off it again: Docker's registry-mirrors (daemon.json),
# containerd's CRI registry config_path, and the certs.d entry for docker.io
# that containerd's CRI plugin and nerdctl read. Sourced, after common.sh, by
# configure-mirror.sh (clients_use_mirror) and remove-mirror.sh
# (clients_leave_mirror): the one place that knows where the clients keep it.
# shellcheck shell=bash

# The certs.d entry for docker.io: written only where something reads it.
MIRROR_HOSTS_TOML="${ROOT}/etc/containerd/certs.d/docker.io/hosts.toml"
# The mirror address the clients were last pointed at.
MIRROR_CLIENT_URL="${STATE_DIR}/mirror-client.url"

# restart_if_active UNIT WHY: restarts the host's Docker or containerd after
# its config changed. No runner waits for it: no job uses them (each runner
# instance has a Docker of its own, and its own containerd inside it).
restart_if_active() {
    if rendering || ! systemctl is-active --quiet "$1"; then
        return 0
    fi
    systemctl restart "$1"
    log "$1: restarted $2"
}

# remove_own_hosts_toml: removes the docker.io certs.d entry if runner-fleet wrote it.
remove_own_hosts_toml() {
    if [ -f "${MIRROR_HOSTS_TOML}" ] && grep -q '^# Written by runner-fleet' "${MIRROR_HOSTS_TOML}"; then
        rm -f "${MIRROR_HOSTS_TOML}"
    fi
}

# docker_mirror add|remove URL [OLD [FILE]]: sets (first in the list) or
# removes URL in the registry-mirrors of a Docker daemon config (FILE, default
# ROOT/etc/docker/daemon.json), keeping every other setting; both take out OLD,
# the address the mirror had before. Prints "changed" or "unchanged".
docker_mirror() {
    local action="$1" url="$2" old="${3:-}" file="${4:-${ROOT}/etc/docker/daemon.json}" desired result
    [ "${action}" = add ] || [ -f "${file}" ] || {
        echo unchanged
        return 0
    }
    desired="$(mktemp)"
    python3 - "${action}" "${file}" "${url}" "${old}" >"${desired}" <<'PY'
import json, sys
action, path, url, old = sys.argv[1:5]
try:
    with open(path) as f:
        conf = json.load(f)
except FileNotFoundError:
    conf = {}
mirrors = [m for m in conf.get("registry-mirrors", []) if m not in (url, old)]
if action == "add":
    mirrors.insert(0, url)
if mirrors:
    conf["registry-mirrors"] = mirrors
else:
    conf.pop("registry-mirrors", None)
print(json.dumps(conf, indent=2, sort_keys=True))
PY
    result="$(write_file "${file}" 0644 <"${desired}")"
    rm -f "${desired}"
    echo "${result}"
}

# containerd_config MAJOR: sets the CRI plugin's registry config_path to
# /etc/containerd/certs.d in ROOT/etc/containerd/config.toml, keeping every
# other line. containerd 1.x reads certs.d only with it (docs/cri/config.md);
# 2.2 defaults to a list of two folders, which its transfer-service pull does
# not search (containerd/containerd#12808), so it is set to one folder there
# too. Prints "changed", "unchanged" or "skipped: why" (nothing written).
containerd_config() {
    local file="${ROOT}/etc/containerd/config.toml" desired
    desired="$(mktemp)"
    if ! python3 - "$1" "${file}" >"${desired}" <<'PY'; then
import re, sys
major, path = int(sys.argv[1]), sys.argv[2]
CERTS = '"/etc/containerd/certs.d"'
try:
    text = open(path).read()
except FileNotFoundError:
    text = None
if text is None:
    ver = 3 if major >= 2 else 2
    text = "# Written by runner-fleet configure-mirror.sh: containerd's defaults, and the registry hosts in certs.d.\nversion = %d\n" % ver
else:
    top = re.split(r"(?m)^\s*\[", text, maxsplit=1)[0]
    m = re.search(r"(?m)^\s*version\s*=\s*(\d+)", top)
    ver = int(m.group(1)) if m else 1
top = re.split(r"(?m)^\s*\[", text, maxsplit=1)[0]
disabled = re.search(r"(?ms)^\s*disabled_plugins\s*=\s*\[(.*?)\]", top)
if disabled and re.search(r'(["\'])(cri|io\.containerd\.grpc\.v1\.cri|io\.containerd\.cri\.v1\.images)\1', disabled.group(1)):
    print("skipped: %s disables the CRI plugin (as Docker's containerd.io package ships it), so no containerd client reads a registry config" % path)
    sys.exit(0)
if ver not in (2, 3):
    print("skipped: %s is a version %d config; write config_path into it by hand" % (path, ver))
    sys.exit(0)
cri = "io.containerd.grpc.v1.cri" if ver == 2 else "io.containerd.cri.v1.images"
# containerd 1.x writes its tables' keys in double quotes, 2.x (go-toml v2) in
# single ones: [plugins.'io.containerd.cri.v1.images'.registry].
head = r"\[plugins\.([\"'])" + re.escape(cri) + r"\1\.registry"
lines = text.splitlines()
TABLE = re.compile(r"^\s*\[")
# Empty mirrors and configs tables (containerd config default writes them) are
# fine; containerd refuses config_path only beside entries in them.
for i, l in enumerate(lines):
    m = re.match(r"^\s*" + head + r"\.(mirrors|configs)(\S*)\]", l)
    if not m:
        continue
    end = next((j for j in range(i + 1, len(lines)) if TABLE.match(lines[j])), len(lines))
    if m.group(3) or any(x.strip() and not x.strip().startswith("#") for x in lines[i + 1:end]):
        print("skipped: %s sets the CRI registry's mirrors or configs, which containerd refuses beside config_path; move them to certs.d" % path)
        sys.exit(0)
start = next((i for i, l in enumerate(lines) if re.match(r"^\s*" + head + r"\]\s*(#.*)?$", l)), None)
if start is None:
    lines += ["", '[plugins."%s".registry]' % cri, "  config_path = " + CERTS]
else:
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"^\s*\[", lines[i])), len(lines))
    at = next((i for i in range(start + 1, end) if re.match(r"^\s*config_path\s*=", lines[i])), None)
    if at is None:
        lines.insert(start + 1, "  config_path = " + CERTS)
    else:
        lines[at] = re.sub(r"=.*$", "= " + CERTS, lines[at])
out = "\n".join(lines) + "\n"
try:
    import tomllib  # Python 3.11+: make sure containerd will read what is written
    parsed = tomllib.loads(out)
    assert parsed["plugins"][cri]["registry"]["config_path"] == "/etc/containerd/certs.d"
except ImportError:
    pass
except Exception as e:
    print("skipped: %s could not be edited safely (%s); set the CRI registry's config_path to /etc/containerd/certs.d by hand" % (path, e))
    sys.exit(0)
sys.stdout.write(out)
PY
        rm -f "${desired}"
        echo "skipped: the containerd config editor failed"
        return 0
    fi
    if grep -q '^skipped: ' "${desired}"; then
        cat "${desired}"
    else
        write_file "${file}" 0644 <"${desired}"
    fi
    rm -f "${desired}"
}

# runner_dockers_mirror add|remove URL OLD: the same for every runner
# instance's own Docker (their shared config, written by the agent's install),
# which then reloads it (registry-mirrors is reloadable: no job is cut off).
# Those daemons live in rootlesskit's network namespace, where the host's
# loopback is slirp4netns's 10.0.2.2 (their unit lets them reach it): a mirror
# on loopback is named by that address there.
runner_dockers_mirror() {
    [ -f "${RUNNER_DOCKER_CONFIG}" ] || return 0
    local url old
    { read -r url; read -r old; } < <(printf '%s\n%s\n' "$2" "$3" | sed -E 's#^(https?://)(127\.0\.0\.1|localhost)([:/]|$)#\110.0.2.2\3#')
    [ "$(docker_mirror "$1" "${url}" "${old}" "${RUNNER_DOCKER_CONFIG}")" = changed ] || return 0
    rendering && return 0
    local unit
    for unit in $(systemctl list-units --plain --no-legend --state=active 'runner-fleet-docker@*.service' 2>/dev/null | awk '{print $1}'); do
        systemctl reload "${unit}"
    done
    log "the runners' own Docker daemons reloaded their config ($1 the mirror)"
}

# clients_use_mirror URL: points Docker and containerd (where present) at the
# mirror at URL, restarting what must read its config again.
clients_use_mirror() {
    local mirror_url="$1" docker_changed certs_read=0 containerd_changed=unchanged containerd_version
    runner_dockers_mirror add "${mirror_url}" "$(cat "${MIRROR_CLIENT_URL}" 2>/dev/null || true)"
    # Docker: registry-mirrors (the classic store, the containerd store and the
    # BuildKit inside dockerd all take it; moby/moby daemon/hosts.go).
    if command -v dockerd >/dev/null 2>&1; then
        # The address this step pointed Docker at before (a moved mirror leaves no dead entry behind).
        docker_changed="$(docker_mirror add "${mirror_url}" "$(cat "${MIRROR_CLIENT_URL}" 2>/dev/null || true)")"
        [ "${docker_changed}" != changed ] || restart_if_active docker.service "to use the mirror"
    fi
    # containerd: its CRI plugin (crictl, kubelet) with config_path, and nerdctl, read certs.d;
    # hosts.toml is written only where one of them is there to read it.
    containerd_version="$(containerd --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true)"
    if [ -n "${containerd_version}" ]; then
        containerd_changed="$(containerd_config "${containerd_version%%.*}")"
        case "${containerd_changed}" in
            skipped:*) log "containerd ${containerd_version}: ${containerd_changed#skipped: }" ;;
            *) certs_read=1 ;;
        esac
    fi
    command -v nerdctl >/dev/null 2>&1 && certs_read=1
    if [ "${certs_read}" = 1 ]; then
        write_file "${MIRROR_HOSTS_TOML}" 0644 >/dev/null <<TOML
# Written by runner-fleet: pull Docker Hub images through the host's mirror
# (containerd's CRI plugin with config_path, and nerdctl, read it).
server = "https://registry-1.docker.io"

[host."${mirror_url}"]
  capabilities = ["pull", "resolve"]
TOML
    else
        # One runner-fleet wrote where nothing reads it (an earlier version did so on every host).
        remove_own_hosts_toml
    fi
    [ "${containerd_changed}" != changed ] || restart_if_active containerd.service "to read certs.d"
    printf '%s\n' "${mirror_url}" | write_file "${MIRROR_CLIENT_URL}" 0644 >/dev/null
}

# clients_leave_mirror URL: takes the mirror at URL out of Docker's config and
# removes runner-fleet's certs.d entry. containerd's config_path is left as it
# is: it names certs.d, which without that entry changes nothing.
clients_leave_mirror() {
    local old
    old="$(cat "${MIRROR_CLIENT_URL}" 2>/dev/null || true)"
    remove_own_hosts_toml
    rm -f "${MIRROR_CLIENT_URL}"
    command -v python3 >/dev/null 2>&1 && runner_dockers_mirror remove "$1" "${old}"
    if command -v python3 >/dev/null 2>&1 && [ "$(docker_mirror remove "$1" "${old}")" = changed ]; then
        restart_if_active docker.service "without the mirror"
    fi
}
