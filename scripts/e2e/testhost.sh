#!/usr/bin/env bash
# testhost.sh: real systemd hosts for the host and engine suites, isolated
# from this machine. A Debian root (debootstrap, cached) boots with its own
# systemd and sshd under systemd-nspawn, in a network namespace of its own,
# joined by a veth pair to a bridge that only the test world lives on.
#
#   testhost.sh setup                  install what it needs (Debian packages), once
#   testhost.sh build [ARCH]           build or reuse the cached root (amd64 default, or arm64 under QEMU)
#   testhost.sh net                    create the test bridge (10.213.0.1/24), where the test world listens
#   testhost.sh up NAME N ARCH PUBKEY [keep]
#                                      boot host NAME at 10.213.0.(10+N), root login with PUBKEY;
#                                      with keep, its disk lasts until down and it reboots as a server does
#   testhost.sh down NAME              stop it and remove its network
#   testhost.sh down-all               stop every test host and the bridge (also after a crash)
#   testhost.sh root [ARCH]            print the folder of the root build uses
#   testhost.sh apt-repo ARCH PKG...   build or reuse a local apt repository with PKG and what it needs
#                                      that the root lacks, from the Debian mirror; prints its folder
#   testhost.sh registry VERSION ARCH  build or reuse the distribution registry's release archive
#                                      (registry_<v>_linux_<arch>.tar.gz) from the Go module proxy; prints its path
#   testhost.sh crictl VERSION ARCH    build or reuse crictl from the Go module proxy; prints its path
#
# The test hosts reach nothing but the bridge, so their apt sources name one
# repository only: http://10.213.0.1:8080/apt/<arch>/, which the test world
# serves from the folder apt-repo built. A script that installs a package
# (sudo, for actuated's installer) does so there as on a real host.
#
# The bridge rf-br0 has 10.213.0.1/24: the test world (fake GitHub, artifact
# server, upstream registry) listens there and nowhere else. The roots are
# mounted with --volatile=overlay: every boot starts from the pristine root.
# A host booted with keep has an overlay of its own on disk instead, so what
# it wrote outlives a reboot (systemctl reboot inside ends systemd-nspawn with
# 133, as systemd-nspawn@.service's RestartForceExitStatus knows: it is booted
# again on the same disk and network).
#
# What every host has as a server has it, and nspawn does not give by itself:
# /dev/net/tun usable by every user (udev's default rule: 0666; rootless
# Docker's slirp4netns opens it as its user), a writable /proc/sys/net in its
# own network namespace, and the keyring system calls (rootless Docker's runc
# makes a session keyring).
# Cache: ${RUNNER_FLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runner-fleet}/testhost.
set -euo pipefail

cache="${RUNNER_FLEET_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/runner-fleet}/testhost"
run_dir=/run/runner-fleet-testhost
bridge=rf-br0
bridge_ip=10.213.0.1
suite=bookworm
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# sudo is left out on purpose: a minimal server lacks it, and actuated's installer needs it.
packages=systemd,systemd-sysv,dbus,openssh-server,iproute2,curl,ca-certificates,python3,docker-registry,procps,tar,gzip,openssl
world_apt="http://10.213.0.1:8080/apt"

log() { printf 'testhost: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}

binfmt_arm64() {
    [ -d /proc/sys/fs/binfmt_misc ] || return 1
    [ -f /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    [ -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
    [ -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ]
}

cmd_setup() {
    local need=()
    command -v debootstrap >/dev/null || need+=(debootstrap)
    command -v systemd-nspawn >/dev/null || need+=(systemd-container)
    command -v ip >/dev/null || need+=(iproute2)
    command -v ssh >/dev/null || need+=(openssh-client)
    command -v docker-registry >/dev/null || need+=(docker-registry)
    command -v skopeo >/dev/null || need+=(skopeo)
    command -v htpasswd >/dev/null || need+=(apache2-utils)
    command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static binfmt-support)
    # Prometheus (and promtool) scrape the test hosts' exporters from the bridge and check the shipped rules.
    command -v prometheus >/dev/null || need+=(prometheus)
    if [ "${#need[@]}" -gt 0 ]; then
        log "installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
    # The Debian package would run the registry on every interface; the suite
    # starts its own on the test bridge only.
    pkill -x docker-registry 2>/dev/null || true
}

# The cached root's name carries a hash of what goes into it: a changed
# package list builds a new root.
# root_rev counts changes to how a root is made beyond its packages.
root_rev=2
root_of() { echo "${cache}/${suite}-$1-$(printf '%s %s' "${packages}" "${root_rev}" | sha256sum | cut -c1-8)"; }

cmd_build() {
    local arch="${1:-amd64}" root tmp started
    root="$(root_of "${arch}")"
    if [ -f "${root}/.runner-fleet-ready" ]; then
        log "reusing ${root}"
        return 0
    fi
    if [ "${arch}" != "$(dpkg --print-architecture)" ]; then
        binfmt_arm64 || die "cannot run ${arch} binaries here (binfmt_misc with qemu-user-static is needed)"
    fi
    started=$(date +%s)
    tmp="${root}.building"
    rm -rf "${tmp}"
    mkdir -p "${cache}"
    log "debootstrap ${suite} ${arch} into ${tmp}"
    debootstrap --variant=minbase --arch="${arch}" --include="${packages}" "${suite}" "${tmp}" "${mirror}" >"${cache}/debootstrap-${arch}.log" 2>&1 ||
        die "debootstrap failed; see ${cache}/debootstrap-${arch}.log"
    # The host as a fresh server has it: the registry package present but its
    # service never started (the scripts must keep it that way).
    rm -f "${tmp}/etc/systemd/system/multi-user.target.wants/docker-registry.service"
    mkdir -p "${tmp}/root/.ssh"
    chmod 0700 "${tmp}/root/.ssh"
    # The only apt source a test host can reach: the world's local repository.
    printf 'deb [trusted=yes] %s/%s/ ./\n' "${world_apt}" "${arch}" >"${tmp}/etc/apt/sources.list"
    rm -f "${tmp}"/etc/apt/sources.list.d/*
    echo "runner-fleet-testhost" >"${tmp}/etc/hostname"
    # As a server has it: its own name resolves locally (sudo looks it up on
    # every call), and DNS, which no test host can reach, fails at once.
    printf '127.0.0.1 localhost\n127.0.1.1 runner-fleet-testhost\n::1 localhost ip6-localhost ip6-loopback\n' >"${tmp}/etc/hosts"
    printf 'nameserver 127.0.0.1\n' >"${tmp}/etc/resolv.conf"
    rm -rf "${root}"
    mv "${tmp}" "${root}"
    touch "${root}/.runner-fleet-ready"
    log "built ${root} in $(($(date +%s) - started))s"
}

net_up() {
    if ! ip link show "${bridge}" >/dev/null 2>&1; then
        ip link add "${bridge}" type bridge
        ip addr add "${bridge_ip}/24" dev "${bridge}"
        ip link set "${bridge}" up
    fi
}

cmd_up() {
    local name="$1" n="$2" arch="$3" key="$4" keep="${5:-}" root ns address boot_log disk
    root="$(root_of "${arch}")"
    [ -f "${root}/.runner-fleet-ready" ] || die "no root for ${arch}; run: testhost.sh build ${arch}"
    [ -f "${key}" ] || die "no public key at ${key}"
    ns="rf-${name}"
    address="10.213.0.$((10 + n))"
    net_up
    mkdir -p "${run_dir}"
    cmd_down "${name}" 2>/dev/null || true
    ip netns add "${ns}"
    ip link add "${ns}-h" type veth peer name "${ns}-c"
    ip link set "${ns}-c" netns "${ns}"
    ip link set "${ns}-h" master "${bridge}"
    ip link set "${ns}-h" up
    ip netns exec "${ns}" ip link set lo up
    ip netns exec "${ns}" ip addr add "${address}/24" dev "${ns}-c"
    ip netns exec "${ns}" ip link set "${ns}-c" up
    ip netns exec "${ns}" ip route add default via "${bridge_ip}"
    local extra=()
    if [ -c /dev/kvm ]; then
        extra+=(--bind=/dev/kvm)
    else
        # No KVM on this machine: a stand-in character device, so the scripts'
        # KVM check has something to find (nothing here starts a microVM).
        log "no /dev/kvm here: ${name} gets /dev/null as its /dev/kvm"
        extra+=(--bind=/dev/null:/dev/kvm)
    fi
    boot_log="${run_dir}/${name}.log"
    printf 'z /dev/net/tun 0666 root root -\n' >"${run_dir}/tun.conf"
    extra+=(--bind-ro="${run_dir}/tun.conf:/etc/tmpfiles.d/runner-fleet-testhost-tun.conf")
    if [ "${keep}" = keep ]; then
        disk="${cache}/disks/${name}"
        rm -rf "${disk}"
        mkdir -p "${disk}/upper" "${disk}/work" "${disk}/merged"
        mount -t overlay overlay -o "lowerdir=${root},upperdir=${disk}/upper,workdir=${disk}/work" "${disk}/merged"
        extra+=(-D "${disk}/merged")
    else
        extra+=(-D "${root}" --volatile=overlay)
    fi
    # shellcheck disable=SC2016 # expanded by the inner shell
    SYSTEMD_NSPAWN_API_VFS_WRITABLE=network setsid bash -c 'while :; do "$@"; rc=$?; [ "${rc}" = 133 ] || exit "${rc}"; done' boot \
        systemd-nspawn --register=no --keep-unit --boot --quiet --machine="${ns}" \
        --network-namespace-path="/run/netns/${ns}" \
        --bind-ro="${key}:/root/.ssh/authorized_keys" \
        --capability=CAP_NET_ADMIN --resolv-conf=off --system-call-filter=@keyring \
        "${extra[@]}" </dev/null >"${boot_log}" 2>&1 &
    echo $! >"${run_dir}/${name}.pid"
    echo "${address}" >"${run_dir}/${name}.address"
    log "booting ${name} (${arch}) at ${address}"
    echo "${address}"
}

cmd_down() {
    local name="$1" ns="rf-$1" pid init loop
    if [ -f "${run_dir}/${name}.pid" ]; then
        loop="$(cat "${run_dir}/${name}.pid")"
        # The boot loop's systemd-nspawn (none between two boots).
        pid="$(pgrep -P "${loop}" | head -n 1 || true)"
        kill -KILL "${loop}" 2>/dev/null || true
        pid="${pid:-${loop}}"
        if kill -0 "${pid}" 2>/dev/null; then
            # The container's init: killing it ends everything in its PID namespace.
            init="$(pgrep -P "${pid}" | head -n 1 || true)"
            kill -TERM "${pid}" 2>/dev/null || true
            for _ in $(seq 1 50); do
                kill -0 "${pid}" 2>/dev/null || break
                sleep 0.2
            done
            if [ -n "${init}" ]; then
                kill -KILL "${init}" 2>/dev/null || true
            fi
            kill -KILL "${pid}" 2>/dev/null || true
        fi
        rm -f "${run_dir}/${name}.pid" "${run_dir}/${name}.address"
    fi
    ip netns del "${ns}" 2>/dev/null || true
    ip link del "${ns}-h" 2>/dev/null || true
    if [ -d "${cache}/disks/${name}" ]; then
        umount "${cache}/disks/${name}/merged" 2>/dev/null || umount -l "${cache}/disks/${name}/merged" 2>/dev/null || true
        rm -rf "${cache}/disks/${name}"
    fi
}

cmd_down_all() {
    local f
    for f in "${run_dir}"/*.pid; do
        [ -e "${f}" ] || continue
        cmd_down "$(basename "${f}" .pid)"
    done
    # The boot loops too (their command line names systemd-nspawn's).
    pkill -KILL -f 'systemd-nspawn .*--machine=rf-' 2>/dev/null || true
    for f in "${cache}"/disks/*/merged; do
        [ -e "${f}" ] || continue
        umount -l "${f}" 2>/dev/null || true
    done
    rm -rf "${cache}/disks"
    # An emulated (arm64) host whose nspawn died leaves its systemd behind.
    pkill -KILL -f 'qemu-binfmt/aarch64-binfmt-P /(usr/)?lib/systemd/' 2>/dev/null || true
    for f in /run/netns/rf-*; do
        [ -e "${f}" ] || continue
        ip netns del "$(basename "${f}")" 2>/dev/null || true
    done
    ip link del "${bridge}" 2>/dev/null || true
}

# apt-repo ARCH PKG...: a flat apt repository (Packages and pool/) holding PKG and
# every dependency the root lacks, downloaded from the mirror and checked
# against its index. Reused while the root and the list are the same.
cmd_apt_repo() {
    local arch="$1" root repo
    shift
    root="$(root_of "${arch}")"
    [ -f "${root}/.runner-fleet-ready" ] || die "no root for ${arch}; run: testhost.sh build ${arch}"
    repo="${root}.apt-$(printf '%s ' "$@" | sha256sum | cut -c1-8)"
    if [ ! -f "${repo}/.ready" ]; then
        rm -rf "${repo}"
        mkdir -p "${repo}"
        python3 - "${mirror}" "${suite}" "${arch}" "${root}" "${repo}" "$@" >&2 <<'PY' || die "could not build the apt repository for ${arch}"
import hashlib, lzma, os, re, sys, urllib.request
mirror, suite, arch, root, repo, *wanted = sys.argv[1:]
def stanzas(text):
    for block in text.split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" in fields:
            yield fields, block.strip()
index = lzma.decompress(urllib.request.urlopen(f"{mirror}/dists/{suite}/main/binary-{arch}/Packages.xz", timeout=120).read()).decode()
available = {f["Package"]: (f, b) for f, b in stanzas(index)}
provides = {}
for name, (f, _) in available.items():
    for p in f.get("Provides", "").split(","):
        if p.strip():
            provides.setdefault(p.split("(")[0].strip(), name)
installed = {f["Package"] for f, _ in stanzas(open(os.path.join(root, "var/lib/dpkg/status")).read()) if f.get("Status", "").endswith("installed") and "not-installed" not in f.get("Status", "")}
chosen, todo = [], list(wanted)
while todo:
    name = todo.pop(0)
    name = name if name in available else provides.get(name, name)
    if name in installed or name in chosen:
        continue
    if name not in available:
        sys.exit(f"apt-repo: {name} is not in {suite}/{arch}")
    chosen.append(name)
    f, _ = available[name]
    for field in ("Pre-Depends", "Depends"):
        for dep in f.get(field, "").split(","):
            alternatives = [re.sub(r"[ (:].*", "", a.strip()) for a in dep.split("|") if a.strip()]
            if alternatives and not any(a in installed or provides.get(a) in installed for a in alternatives):
                todo.append(alternatives[0])
lines = []
for name in chosen:
    f, block = available[name]
    data = urllib.request.urlopen(f"{mirror}/{f['Filename']}", timeout=300).read()
    if hashlib.sha256(data).hexdigest() != f["SHA256"]:
        sys.exit(f"apt-repo: {f['Filename']} does not match the index")
    dest = os.path.join(repo, f["Filename"])
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    open(dest, "wb").write(data)
    lines.append(block)
    print(f"apt-repo: {arch} {name} {f['Version']}")
open(os.path.join(repo, "Packages"), "w").write("\n\n".join(lines) + "\n")
PY
        touch "${repo}/.ready"
    fi
    echo "${repo}"
}

# go_build MODULE/CMD VERSION ARCH OUT [LDFLAGS]: a static binary from the Go module proxy.
go_build() {
    local pkg="$1" version="$2" arch="$3" out="$4" ldflags="${5:-}" work
    command -v go >/dev/null || die "building ${pkg} needs Go (the go command)"
    work="$(mktemp -d)"
    log "building ${pkg}@${version} for ${arch} from the Go module proxy"
    (
        cd "${work}"
        go mod init runner-fleet-testhost-build >/dev/null 2>&1
        GOFLAGS=-mod=mod go get "${pkg}@${version}" >/dev/null 2>&1
        CGO_ENABLED=0 GOOS=linux GOARCH="${arch}" GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w ${ldflags}" -o "${out}" "${pkg}"
    ) || {
        rm -rf "${work}"
        die "could not build ${pkg}@${version}"
    }
    rm -rf "${work}"
}

# The archive as distribution's release builds it (Dockerfile, stage releaser:
# registry, LICENSE and README.md at the top; the version in the binary).
cmd_registry() {
    local version="$1" arch="$2" dir archive mod src
    dir="${cache}/go/registry-${version}-${arch}"
    archive="${dir}/registry_${version}_linux_${arch}.tar.gz"
    if [ ! -f "${archive}" ]; then
        rm -rf "${dir}"
        mkdir -p "${dir}/files"
        mod=github.com/distribution/distribution/v3
        go_build "${mod}/cmd/registry" "v${version}" "${arch}" "${dir}/files/registry" \
            "-X ${mod}/version.version=v${version} -X ${mod}/version.mainpkg=${mod}"
        src="$(cd "${dir}" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' "${mod}@v${version}" 2>/dev/null)"
        cp "${src}/LICENSE" "${src}/README.md" "${dir}/files/"
        chmod 0644 "${dir}/files/LICENSE" "${dir}/files/README.md"
        tar -czf "${archive}.part" -C "${dir}/files" LICENSE README.md registry
        mv "${archive}.part" "${archive}"
    fi
    echo "${archive}"
}

cmd_crictl() {
    local version="$1" arch="$2" out
    out="${cache}/go/crictl-${version}-${arch}"
    [ -x "${out}" ] || go_build sigs.k8s.io/cri-tools/cmd/crictl "v${version}" "${arch}" "${out}"
    echo "${out}"
}

case "${1:-}" in
    setup) cmd_setup ;;
    registry) cmd_registry "${2:?version}" "${3:?arch}" ;;
    crictl) cmd_crictl "${2:?version}" "${3:?arch}" ;;
    apt-repo) cmd_apt_repo "${2:?arch}" "${@:3}" ;;
    root) root_of "${2:-amd64}" ;;
    build) cmd_build "${2:-amd64}" ;;
    net) net_up ;;
    up) cmd_up "${2:?name}" "${3:?index}" "${4:?arch}" "${5:?public key file}" "${6:-}" ;;
    down) cmd_down "${2:?name}" ;;
    down-all) cmd_down_all ;;
    *) die "usage: testhost.sh setup | build [ARCH] | net | up NAME N ARCH PUBKEY | down NAME | down-all | apt-repo ARCH PKG..." ;;
esac
