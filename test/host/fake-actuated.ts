// The actuated stand-in of the host suite: its installer, arkade, the agent
// bundle and the agent, behaving as the real ones do where runner-fleet
// depends on them. Each behaviour names the public source it follows; the
// agent binary and the bundle's install.sh are not public, and what is modelled
// of them comes from actuated's docs (named too). Written from those sources
// in our own words; no code copied.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * get.actuated.com (self-actuated/get.actuated.com, get.sh), run as the
 * fleet runs it: `bash installer` with LICENSE, TOKEN, HOME, LABELS, VM_DEV,
 * BASE_SIZE, SKIP_REGISTRY (and DOCKER_USERNAME/DOCKER_PASSWORD) in the
 * environment.
 */
export function fakeGetSh(base: string): string {
    return `#!/usr/bin/env bash
# Stand-in for get.actuated.com (self-actuated/get.actuated.com get.sh).
set -euo pipefail
# get.sh: LICENSE and TOKEN are required; HOME defaults to /root.
if [ -z "\${LICENSE:-}" ]; then echo "LICENSE is required"; exit 1; fi
if [ -z "\${TOKEN:-}" ]; then echo "TOKEN is required"; exit 1; fi
HOME="\${HOME:-/root}"
# get.sh writes the licence file itself, before anything that needs sudo.
mkdir -p "\${HOME}/.actuated"
echo -n "\${LICENSE}" > "\${HOME}/.actuated/LICENSE"
# get.sh installs arkade with "curl ... get.arkade.dev | sudo sh" and calls
# sudo for every later step, root or not: without sudo the pipeline fails (127).
curl -sLS "${base}/arkade/get.sh" | sudo sh
# get.sh: the agent bundle through "arkade oci install", unpacked in the current folder.
arkade oci install ghcr.io/openfaasltd/actuated-agent:latest --path ./agent
if [ "$(uname -m)" = aarch64 ]; then
  sudo cp ./agent/agent-arm64 /usr/local/bin/agent
else
  sudo cp ./agent/agent /usr/local/bin/agent
fi
sudo cp ./agent/reset-pool.sh /usr/local/bin/
# get.sh: with no VM_DEV, "agent disk find" may name a spare disk.
if [ -z "\${VM_DEV:-}" ]; then
  if found="$(sudo -E agent disk find)" && [ -n "\${found}" ]; then VM_DEV="\${found}"; fi
fi
# get.sh runs the bundle's install.sh on every run, with no "already installed" guard.
(cd ./agent && sudo -E env VM_DEV="\${VM_DEV:-}" BASE_SIZE="\${BASE_SIZE:-}" ./install.sh)
# get.sh: the Docker Hub mirror through arkade's registry installer; a failure is not fatal.
if [ "\${SKIP_REGISTRY:-}" != "true" ]; then
  if [ -n "\${DOCKER_USERNAME:-}" ] && [ -n "\${DOCKER_PASSWORD:-}" ]; then
    sudo -E arkade system install registry --bind-addr "192.168.128.1:5000" --type mirror --tls=actuated \\
      --docker-username "\${DOCKER_USERNAME}" --docker-password "\${DOCKER_PASSWORD}" || echo "[!] Failed to install registry mirror; continuing"
  else
    sudo -E arkade system install registry --bind-addr "192.168.128.1:5000" --type mirror --tls=actuated || echo "[!] Failed to install registry mirror; continuing"
  fi
fi
# get.sh enrolls on every run: csr, autoenroll (with the labels, even empty), install-service.
sudo -E agent csr --token "\${TOKEN}" --home "\${HOME}"
sudo -E agent autoenroll --token "\${TOKEN}" --labels "\${LABELS:-}" --home "\${HOME}"
sudo -E agent install-service --listen-addr "0.0.0.0:" --home "\${HOME}"
# get.sh then probes Google Cloud's metadata server as an assignment under
# pipefail: off Google Cloud curl fails and the script ends with its status,
# after a working install, before its closing message.
gce="$(curl -s --connect-timeout 0.1 -H "Metadata-Flavor: Google" "http://metadata.google.internal/computeMetadata/v1/instance/hostname" | head -n1)"
echo "gce: \${gce}"
echo "Actuated agent installed."
`;
}

/** get.arkade.dev: puts the arkade binary in /usr/local/bin (needs root, hence get.sh's "| sudo sh"). */
export function fakeArkadeGet(base: string): string {
    return `#!/bin/sh
# Stand-in for get.arkade.dev: installs arkade into /usr/local/bin.
set -e
curl -fsSL -o /usr/local/bin/arkade.part "${base}/arkade/arkade"
chmod 0755 /usr/local/bin/arkade.part
mv /usr/local/bin/arkade.part /usr/local/bin/arkade
`;
}

/** arkade: `oci install` and `system install registry`, as alexellis/arkade cmd/system/registry.go defines them. */
export function fakeArkade(base: string, hubUpstream: string): string {
    return `#!/usr/bin/env bash
# Stand-in for arkade (alexellis/arkade).
set -euo pipefail
if [ "\${1:-} \${2:-}" = "oci install" ]; then
  dest=.
  shift 3
  while [ $# -gt 0 ]; do case "$1" in --path) dest="$2"; shift 2 ;; *) shift ;; esac; done
  mkdir -p "\${dest}"
  curl -fsSL "${base}/actuated/bundle.tar.gz" | tar -xz -C "\${dest}"
  exit 0
fi
[ "\${1:-} \${2:-} \${3:-}" = "system install registry" ] || { echo "Error: unknown command"; exit 1; }
shift 3
# cmd/system/registry.go declares these flags. --remote-url defaults to Docker
# Hub (here: its stand-in), --bind-addr to 0.0.0.0 (port 5000 when none).
bind=0.0.0.0 type="" tls="" remote="${hubUpstream}" storage=/var/lib/registry
while [ $# -gt 0 ]; do
  arg="$1"; shift
  case "\${arg}" in
    --*=*) value="\${arg#*=}"; arg="\${arg%%=*}" ;;
    --overwrite|--progress) continue ;;
    *) value="\${1:-}"; shift ;;
  esac
  case "\${arg}" in
    --bind-addr) bind="\${value}" ;;
    --type) type="\${value}" ;;
    --tls) tls="\${value}" ;;
    --remote-url) remote="\${value}" ;;
    --storage) storage="\${value}" ;;
    --version|-v|--path|--arch) ;;
    # Declared, so cobra accepts them, and never read: the mirror branch asks
    # for flags named "username", "access-token" and "access-token-file",
    # which are not declared, gets empty strings and writes no login.
    --docker-username|--docker-password|--docker-password-file) ;;
    *) echo "Error: unknown flag: \${arg}"; exit 1 ;;
  esac
done
# The registry binary (the distribution release; here Debian's build of it).
[ -x /usr/local/bin/registry ] || cp /usr/bin/docker-registry /usr/local/bin/registry
[ "\${type}" = mirror ] || exit 0
case "\${bind}" in *:*) ;; *) bind="\${bind}:5000" ;; esac
mkdir -p /etc/registry "\${storage}"
# The config as arkade's template renders it without a username: 0644, no login.
{
  echo "version: 0.1"
  echo "log:"
  echo "  accesslog:"
  echo "    disabled: true"
  echo "  level: warn"
  echo "  formatter: text"
  echo ""
  echo "storage:"
  echo "  filesystem:"
  echo "    rootdirectory: \${storage}"
  echo ""
  echo "proxy:"
  echo "  remoteurl: \${remote}"
  echo ""
  echo "http:"
  echo "  addr: \${bind}"
  echo "  relativeurls: false"
  echo "  draintimeout: 60s"
  if [ "\${tls}" = actuated ]; then
    echo "  tls:"
    echo "    certificate: /var/lib/actuated/certs/server.crt"
    echo "    key: /var/lib/actuated/certs/server.key"
  fi
} > /etc/registry/config.yml
chmod 0644 /etc/registry/config.yml
cat > /etc/systemd/system/registry-mirror.service <<EOF
[Unit]
Description=Registry
After=network.target\${tls:+ actuated.service}

[Service]
Type=simple
Restart=always
RestartSec=5s
ExecStart=/usr/local/bin/registry serve /etc/registry/config.yml

[Install]
WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable registry-mirror.service --now
`;
}

/**
 * The bundle's install.sh (not public). From docs.actuated.com/install-agent:
 * it installs containerd, CNI and Firecracker, and the disk it is given (or
 * finds) "will be wiped and formatted"; without one, a loopback file. Here it
 * records each wipe with the world and sets up what the agent's certificate
 * and bridge provide on a real host (192.168.128.1, /var/lib/actuated/certs).
 */
export function fakeBundleInstall(base: string): string {
    return `#!/usr/bin/env bash
# Stand-in for the actuated bundle's install.sh.
set -euo pipefail
curl -fsS -X POST "${base}/_fake/actuated/format?dev=\${VM_DEV:-loopback}&base_size=\${BASE_SIZE:-}" >/dev/null
ip addr add 192.168.128.1/32 dev lo 2>/dev/null || true
mkdir -p /var/lib/actuated/certs
if [ ! -f /var/lib/actuated/certs/server.crt ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=192.168.128.1 \\
    -addext subjectAltName=IP:192.168.128.1 -keyout /var/lib/actuated/certs/server.key -out /var/lib/actuated/certs/server.crt 2>/dev/null
  chmod 0600 /var/lib/actuated/certs/server.key
fi
# Firecracker: one process per microVM (firecracker-microvm/firecracker, docs/getting-started.md); the
# stand-in lasts as long as the job it was booted for.
cat > /usr/local/bin/firecracker <<'FC'
#!/bin/sh
# Stand-in for firecracker: one microVM, as long as its job (--job-seconds).
while [ $# -gt 0 ]; do [ "$1" = --job-seconds ] && seconds="$2"; shift; done
sleep "\${seconds:-1}"
FC
chmod 0755 /usr/local/bin/firecracker
echo "installed containerd, CNI and firecracker (stand-in)"
`;
}

/**
 * The agent binary (not public): the subcommands get.sh calls, and the
 * service, which listens on 443 for the control plane
 * (docs.actuated.com/install-agent, "Other considerations": 443 for the
 * encrypted control plane) and reads $HOME/.actuated/LICENSE when it starts.
 */
export function fakeAgent(base: string, arch: string): string {
    return `#!/usr/bin/env bash
# Stand-in for the actuated agent.
set -euo pipefail
home=/root
args=("$@")
for i in "\${!args[@]}"; do [ "\${args[$i]}" = --home ] && home="\${args[$((i + 1))]}"; done
case "\${1:-}" in
  disk)
    # No spare disk on the test hosts.
    exit 1 ;;
  csr)
    exit 0 ;;
  autoenroll)
    token="" labels=""
    while [ $# -gt 0 ]; do case "$1" in --token) token="$2"; shift 2 ;; --labels) labels="$2"; shift 2 ;; *) shift ;; esac; done
    hdr="$(mktemp)"; chmod 600 "\${hdr}"
    printf 'Authorization: Bearer %s\\n' "\${token}" > "\${hdr}"
    curl -fsS -H @"\${hdr}" -X POST "${base}/_fake/actuated/enroll?labels=\${labels}&arch=${arch}" > "\${home}/.actuated/agent-id"
    rm -f "\${hdr}"
    exit 0 ;;
  install-service)
    cat > /etc/systemd/system/actuated.service <<EOF
[Unit]
Description=actuated agent (stand-in)
After=network.target

[Service]
Environment=HOME=\${home}
ExecStart=/usr/local/bin/agent up
Restart=always

[Install]
WantedBy=multi-user.target
EOF
    systemctl daemon-reload
    systemctl enable actuated.service
    systemctl restart actuated.service
    exit 0 ;;
  up)
    licence="$(sha256sum < "\${HOME:-/root}/.actuated/LICENSE" | cut -c1-16)"
    python3 -m http.server 443 --bind 0.0.0.0 >/dev/null 2>&1 &
    while true; do
      answer="$(curl -fsS -X POST "${base}/_fake/actuated/heartbeat?user=$(id -un)&arch=${arch}&licence=\${licence}&id=$(cat "\${HOME:-/root}/.actuated/agent-id" 2>/dev/null)" || true)"
      # A job: one microVM for it (docs.actuated.com: each job gets a fresh microVM).
      case "\${answer}" in job:*) /usr/local/bin/firecracker --api-sock "/run/actuated-vm-$RANDOM.sock" --job-seconds "\${answer#job:}" & ;; esac
      sleep 2
    done ;;
  *)
    echo "unknown command \${1:-}" >&2; exit 1 ;;
esac
`;
}

/** The agent bundle that `arkade oci install` unpacks: agent, agent-arm64, install.sh, reset-pool.sh. */
export function agentBundle(dir: string, base: string): Buffer {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), "fake-actuated-bundle-"));
    fs.chmodSync(src, 0o755);
    fs.writeFileSync(path.join(src, "agent"), fakeAgent(base, "amd64"), { mode: 0o755 });
    fs.writeFileSync(path.join(src, "agent-arm64"), fakeAgent(base, "arm64"), { mode: 0o755 });
    fs.writeFileSync(path.join(src, "install.sh"), fakeBundleInstall(base), { mode: 0o755 });
    fs.writeFileSync(path.join(src, "reset-pool.sh"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const out = path.join(dir, "actuated-bundle.tar.gz");
    execFileSync("tar", ["-czf", out, "-C", src, "."]);
    fs.rmSync(src, { recursive: true, force: true });
    return fs.readFileSync(out);
}
