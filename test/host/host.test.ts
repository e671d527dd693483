// The host suite: the scripts the components render, run over SSH on real
// systemd hosts (Debian under systemd-nspawn, each in its own network
// namespace), against a stand-in for the outside world on the test bridge.
// Prints its figures: install times, re-run times, upstream blob fetches.

import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { MIRROR_REGISTRY_RELEASE, RegistryMirrorArgs, RunnerAgentArgs } from "../../components";
import { HostTarget, checkHost, formatTable } from "../../scripts/lib/drift";
import { fleetStatus, formatStatusMarkdown, formatStatusTable, listOrgRunners } from "../../scripts/lib/status";
import { OpenSshRunner } from "../../scripts/lib/drift-io";
import { World, WORLD_IP } from "./world";
import { SuitePrometheus, catalogMismatches, promtool } from "./prometheus";
import { FLEET_METRICS } from "../../components/spec/metrics";
import { asMeasurement, metricNamesOf, shippedQueries } from "../../scripts/lib/promql";
import { runShell } from "../harness";
import { hostScript, renderInlineCommand, sha256 } from "../../components/remote/remote-script";
import { Figures, Host, ROOT, RenderedCommand, TestHosts, aptRepos, copyToRemote, previousVersion, sha256File, hostSuitePossible, renderHost, runSecrets, testhost, waitFor } from "./harness";

const N_PULLS = 5;
/** sigs.k8s.io/cri-tools, from the Go module proxy. */
const CRICTL_VERSION = "1.34.0";
/** The last commit before the mirror moved to distribution 3: the host suite upgrades a host from it. */
const PREVIOUS_RELEASE = "ad89dfd";
/** The last commit before the fleet's metrics (and the job-started hook): what the upgrade test starts from. */
const UPGRADE_FROM = "22cc100";
/** Distribution 2.8, Debian's docker-registry, run beside the fleet's mirror for the figures (anonymous; a port of its own). */
const COMPARE_BIND = "127.0.0.1:5005";
const figures = new Figures();
const figure = (line: string) => figures.add(line);

/** A registry pull by the HTTP API (manifest, then every blob, digests checked), run on a host. */
const PULL_PY = `
import base64, hashlib, json, re, ssl, sys, urllib.error, urllib.request
base, repo, ref = sys.argv[1:4]
# actuated's mirror has its own CA, which jobs get from the VM; this check does not.
ctx = ssl._create_unverified_context() if base.startswith("https") else None
auth = sys.stdin.read().strip()
token = None
def fetch(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
        return r.read()
def get(url, accept=None):
    global token
    try:
        return fetch(url, accept)
    except urllib.error.HTTPError as e:
        challenge = e.headers.get("WWW-Authenticate", "")
        if e.code != 401 or not challenge.startswith("Bearer") or not auth:
            raise
        params = dict(re.findall(r'(\\w+)="([^"]*)"', challenge))
        req = urllib.request.Request(params["realm"] + "?service=" + params.get("service", "") + "&scope=" + params.get("scope", ""))
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
        with urllib.request.urlopen(req, timeout=30) as r:
            token = json.loads(r.read())["token"]
        return fetch(url, accept)
m = json.loads(get(f"{base}/v2/{repo}/manifests/{ref}", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"))
for d in [m["config"]] + m["layers"]:
    data = get(f"{base}/v2/{repo}/blobs/{d['digest']}")
    assert "sha256:" + hashlib.sha256(data).hexdigest() == d["digest"], d["digest"]
print(len(m["layers"]) + 1)
`;

/** What a host looks like: managed files (path, inode, mtime, hash) and services (active, invocation). */
const STATE_SH = `
set -u
for d in /etc/runner-fleet /etc/systemd/system /usr/local/lib/runner-fleet /var/lib/runner-fleet /opt/runner-fleet /etc/docker /etc/containerd /home; do
  # The mirror's cache, the runners' Docker data and their own logs (a file per start, as actions/runner's _diag) are no state,
  # nor the fake listener's answer file (.heartbeat, written and removed every second), nor what the metrics timer
  # keeps of the journals it read (every 15 s).
  [ -d "$d" ] && find "$d" \\( -path /var/lib/runner-fleet/mirror -o -path '/var/lib/runner-fleet/docker-*' -o -path '/opt/runner-fleet/runner-*/_diag' -o -path /var/lib/runner-fleet/metrics-state -o -name .heartbeat \\) -prune -o -type f -printf '%p %i %T@ ' -exec sh -c 'sha256sum "$1" | cut -c1-16' _ {} \\;
done | sort
for u in runner-fleet-runner@1 runner-fleet-runner@2 runner-fleet-docker@1 runner-fleet-docker@2 runner-fleet-mirror actuated docker-registry docker containerd; do
  printf 'unit %s %s %s\\n' "$u" "$(systemctl is-active "$u" 2>/dev/null)" "$(systemctl show -p InvocationID --value "$u" 2>/dev/null)"
done
`;

/** The same without inodes, mtimes and invocations: what a converged host must equal. */
function content(state: string): string {
    return state.split("\n").map(l => {
        const p = l.split(" ");
        if (p[0] === "unit") {
            return `${p[0]} ${p[1]} ${p[2]}`;
        }
        // A new registration has a new runner id: its files exist, their content is GitHub's.
        return /\/\.(runner|credentials)$/.test(p[0]) ? `${p[0]} (registration)` : `${p[0]} ${p[3]}`;
    }).join("\n");
}

const skipReason = hostSuitePossible();

describe("host scripts on real systemd hosts", function () {
    this.timeout(900_000);
    if (skipReason) {
        it(`cannot run here: ${skipReason}`, function () {
            this.skip();
        });
        return;
    }

    const secrets = runSecrets();
    const world = new World(secrets);
    /** The suite's Prometheus on the bridge, scraping the hosts whose metrics are installed. */
    const prometheus = new SuitePrometheus(`${WORLD_IP}:9090`);
    /** When Prometheus held each host's figures while jobs ran: the shipped queries are run at these times. */
    const scrapedAt: number[] = [];
    const hosts = new TestHosts();
    let runner: Host;
    let actuated: Host;
    let arm: Host;
    let month: Host;
    let rc: Record<string, RenderedCommand>;
    const psSamples: string[] = [];
    const SECRET_VALUES = [secrets.adminToken, secrets.actuatedToken, secrets.actuatedLicense, secrets.registryPassword];

    const runnerArgs = (): Omit<RunnerAgentArgs, "host"> => ({
        kind: "github-runner", labels: ["runner-fleet-amd64", "e2e"], org: "example-org", runnerGroup: "native",
        instances: 1, runnerVersion: "2.329.0", installDocker: false, drainTimeoutMinutes: 2,
        secrets: { githubRunnerToken: secrets.adminToken },
        endpoints: { runnerDownloads: `${world.base}/actions-runner`, githubUrl: world.base, githubApi: `${world.base}/api`, allowInsecureHttp: true },
    });
    /** The registry archive built from the Go module proxy as distribution's release builds it, and its sha256. */
    let registryArchive = "";
    const runnerMirror = (more: Partial<RegistryMirrorArgs> = {}): Omit<RegistryMirrorArgs, "host"> => ({
        mode: "registry", bindAddress: "127.0.0.1:5000", upstream: world.upstream,
        dockerHubUsername: secrets.registryUser, dockerHubToken: secrets.registryPassword, configureRuntime: true,
        downloads: `${world.base}/distribution`, allowInsecureHttp: true,
        release: { version: MIRROR_REGISTRY_RELEASE.version, sha256: { ...MIRROR_REGISTRY_RELEASE.sha256, amd64: sha256File(registryArchive) } },
        ...more,
    });

    async function run(host: Host, cmd: string, stdin: string, label: string, signal?: AbortSignal): Promise<number> {
        const t0 = Date.now();
        const r = await hosts.exec(host, cmd, stdin, 600_000, signal);
        if (r.code !== 0 && !signal?.aborted) {
            throw new Error(`${label} on ${host.name} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
        }
        return Date.now() - t0;
    }

    /** The operator's side: mints the install's registration token, where pulumi would run (here). */
    async function mint(cmds: Record<string, RenderedCommand>): Promise<string> {
        const r = await runLocal(cmds["agent-token"].create, cmds["agent-token"].environment);
        if (r.code !== 0) {
            throw new Error(`minting a registration token failed: ${r.stderr}`);
        }
        // As the command provider hands stdout on (pulumi-command provider/pkg/provider/local/commandOutputs.go
        // trims its last newline), and as RunnerAgent turns it into the install's stdin.
        const stdout = r.stdout.replace(/\n$/, "");
        return stdout.endsWith("\n") ? stdout : `${stdout}\n`;
    }

    /** Runs the host's install chain as `pulumi up` would (the operator's steps here), sampling `ps` meanwhile. */
    async function up(host: Host, cmds: Record<string, RenderedCommand>, label: string): Promise<number> {
        const sampler = new AbortController();
        const sampling = hosts.exec(host, "bash -s", "while :; do ps -eo user=,args=; echo --; sleep 0.1; done", 600_000, sampler.signal)
            .then(r => psSamples.push(r.stdout));
        let total = 0;
        try {
            for (const step of ["scripts", "ready", "agent-secrets", "agent-install", "agent-configure", "mirror-configure", "metrics-install"]) {
                if (step === "scripts") {
                    const t0 = Date.now();
                    await copyToRemote(hosts, host, cmds.scripts);
                    total += Date.now() - t0;
                } else if (cmds[step]) {
                    const stdin = step === "agent-install" && cmds["agent-token"] ? await mint(cmds) : cmds[step].stdin;
                    total += await run(host, cmds[step].create, stdin, `${label} ${step}`);
                }
            }
        } finally {
            sampler.abort();
            await sampling;
        }
        return total;
    }

    /**
     * What `pulumi destroy` runs: the host's delete sides, then the operator's removal of its registrations, then
     * (the host leaving the fleet) the ready step's. `hostStays`: the agent and mirror go, the host keeps its place.
     */
    async function down(host: Host, cmds: Record<string, RenderedCommand>, hostStays = false): Promise<void> {
        for (const step of ["metrics-install", "mirror-configure", "agent-install", "agent-secrets", ...(hostStays ? [] : ["ready"])]) {
            if (cmds[step]) {
                await run(host, cmds[step].delete, "", `delete ${step}`);
            }
        }
        if (cmds["agent-runners"]) {
            const r = await runLocal(cmds["agent-runners"].delete, cmds["agent-runners"].environment);
            if (r.code !== 0) {
                throw new Error(`removing the host's runners failed: ${r.stderr}`);
            }
        }
    }

    before(async function () {
        const t0 = Date.now();
        testhost("down-all");
        testhost("setup");
        testhost("build", "amd64");
        testhost("build", "arm64");
        figure(`test roots ready in ${((Date.now() - t0) / 1000).toFixed(1)}s (debootstrap on a fresh machine, reused after)`);
        testhost("net");
        // What the hosts install lives in a local apt repository on the bridge (the only place they reach).
        world.aptRepos = aptRepos("amd64", "arm64");
        // The mirror's registry as GitHub releases serves it, and crictl (a CRI client, for containerd's side).
        registryArchive = testhost("registry", MIRROR_REGISTRY_RELEASE.version, "amd64");
        world.registryArchives = { [path.basename(registryArchive)]: registryArchive };
        world.tools = { crictl: testhost("crictl", CRICTL_VERSION, "amd64") };
        await world.start();
        await prometheus.start();
        runner = hosts.boot("runner", 1, "amd64");
        actuated = hosts.boot("actuated", 2, "amd64");
        arm = hosts.boot("arm", 3, "arm64");
        month = hosts.boot("month", 4, "amd64", true);
        const t1 = Date.now();
        await Promise.all([runner, actuated, arm, month].map(h => hosts.waitForSsh(h, 240_000)));
        figure(`four hosts booted and answering SSH in ${((Date.now() - t1) / 1000).toFixed(1)}s`);
        rc = await renderHost(runner, hosts.privateKey, runnerArgs(), runnerMirror(), { bindAddress: `${runner.address}:9100` });
    });

    after(async () => {
        hosts.downAll();
        await prometheus.stop();
        await world.stop();
        figures.print("host suite figures");
    });

    describe("a GitHub runner host with the Docker Hub mirror", () => {
        let firstState = "";
        const mirrorVars = async (addr = "127.0.0.1:5001") =>
            JSON.parse(await hosts.sh(runner, `curl -fsS http://${addr}/debug/vars`)).registry.proxy as Record<"blobs" | "manifests", { Requests: number; Hits: number; Misses: number }>;
        const pullPy = async (base: string, repo: string) => {
            const r = await hosts.exec(runner, `python3 - ${base} ${repo} 1`, PULL_PY_INPUT(""), 60_000);
            if (r.code !== 0) {
                const journal = await hosts.sh(runner, "journalctl -u runner-fleet-mirror -u rf-compare --no-pager -o cat | tail -20");
                throw new Error(`pull of ${repo} from ${base} failed: ${r.stderr}\n${journal}`);
            }
        };
        /** Upstream blob fetches for `n` pulls of `repo` through the mirror at `base`, per blob (config, layer 1, layer 2). */
        const pulls = async (base: string, repo: string, n: number) => {
            const before = new Map(world.blobCounts);
            for (let i = 0; i < n; i++) {
                await pullPy(base, repo);
            }
            return world.blobDelta(repo, before);
        };
        /** The runner host as the drift check and status read it from a stack's drift output. */
        const runnerTarget = (): HostTarget => ({
            name: "runner", address: runner.address, user: "root", port: 22, hostKey: null, privateKeySecret: "sshPrivateKey",
            privateKey: hosts.privateKey, agent: "github-runner", instances: 1, mirrorMode: "registry", mirrorBind: "127.0.0.1:5000",
            metricsBind: `${runner.address}:9100`, expect: "",
        });
        /** Distribution 2.8 (Debian's docker-registry, in the test root) as a transient unit with the fleet's proxy settings, anonymous. */
        const startCompare = async (ttl: string) => {
            await hosts.sh(runner, [
                "systemctl stop rf-compare 2>/dev/null; systemctl reset-failed rf-compare 2>/dev/null",
                "rm -rf /var/tmp/rf-compare; mkdir -p /var/tmp/rf-compare",
                `printf '%s\\n' 'version: 0.1' 'log: { level: info, formatter: text }' ` +
                `'storage: { filesystem: { rootdirectory: /var/tmp/rf-compare }, delete: { enabled: true } }' ` +
                `'http: { addr: "${COMPARE_BIND}", debug: { addr: "127.0.0.1:5006" } }' ` +
                `'proxy: { remoteurl: "${world.upstream}", ttl: ${ttl} }' > /var/tmp/rf-compare.yml`,
                "systemd-run --unit rf-compare --quiet /usr/bin/docker-registry serve /var/tmp/rf-compare.yml",
                `for i in $(seq 1 50); do curl -fsS -o /dev/null http://${COMPARE_BIND}/v2/ && break; sleep 0.2; done`,
            ].join("\n"));
        };

        it("installs the runner and the mirror; the runner registers once and runs as an unprivileged user", async () => {
            // As a server with containers has them: Docker and containerd from the distribution (the bridge's
            // apt repository), Docker on vfs without networking (nspawn), containerd with a setting of its own kept.
            const clients = await hosts.exec(runner, "bash -s", [
                "set -e",
                "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io containerd >/dev/null 2>&1",
                `printf '%s\\n' '{"storage-driver": "vfs", "iptables": false, "ip6tables": false, "ip-forward": false, "bridge": "none"}' > /etc/docker/daemon.json`,
                `printf '\\n[plugins."io.containerd.grpc.v1.cri".containerd]\\n  snapshotter = "native"\\n' >> /etc/containerd/config.toml`,
                "systemctl reset-failed docker 2>/dev/null || true",
                "systemctl restart containerd docker",
                `curl -fsS -o /usr/local/bin/crictl ${world.base}/tools/crictl && chmod 0755 /usr/local/bin/crictl`,
                `printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\\nimage-endpoint: unix:///run/containerd/containerd.sock\\n' > /etc/crictl.yaml`,
                "systemctl is-active docker containerd",
                // Before the mirror neither can pull: the host reaches nothing but the bridge.
                "if timeout 60 docker pull -q library/clients:1 >/dev/null 2>&1; then echo docker-pulled; else echo docker-failed; fi",
                "if timeout 60 crictl pull docker.io/library/clients:1 >/dev/null 2>&1; then echo crictl-pulled; else echo crictl-failed; fi",
            ].join("\n"), 600_000);
            expect(clients.stdout.trim().split("\n"), clients.stderr).to.deep.equal(["active", "active", "docker-failed", "crictl-failed"]);

            // The mirror as the previous runner-fleet installed it (Debian's distribution 2.8), with an image in its cache.
            const previous = renderInlineCommand("configure-mirror.sh", {
                RUNNER_FLEET_HOST: "runner", MIRROR_MODE: "registry", MIRROR_BIND: "127.0.0.1:5000", MIRROR_UPSTREAM: world.upstream,
                MIRROR_TTL: "168h", DOCKERHUB_USERNAME: "", RUNTIME_CONFIG: "1",
            }, name => execFileSync("git", ["show", `${PREVIOUS_RELEASE}:scripts/host/${name}`], { cwd: ROOT, encoding: "utf8" }));
            await run(runner, previous, "", "the previous version's mirror");
            expect((await hosts.sh(runner, "systemctl show -p ExecStart --value runner-fleet-mirror | grep -o '/usr/bin/docker-registry' | head -n 1")).trim()).to.equal("/usr/bin/docker-registry");
            const underOld = await pulls("http://127.0.0.1:5000", "library/compare", 1);

            const ms = await up(runner, rc, "first run");
            figure(`github-runner host, fresh install (ready, secrets, runner, mirror): ${(ms / 1000).toFixed(1)}s`);
            const units = await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1 runner-fleet-mirror; systemctl is-enabled docker-registry || true");
            expect(units.trim().split("\n")).to.deep.equal(["active", "active", "masked"]);
            expect([...world.runners.values()].map(r => [r.name, r.labels, r.group, r.ephemeral])).to.deep.equal([["runner-1", ["runner-fleet-amd64", "e2e"], "native", false]]);
            // The root had no ICU; the fake config.sh, as the real one, refuses to register without it.
            expect((await hosts.sh(runner, "ldconfig -p | grep -c 'libicuuc\\.so' || true")).trim()).to.not.equal("0");
            expect(world.events.some(e => e.kind === "apt" && String(e.detail.file).includes("/libicu72_"))).to.equal(true);
            expect(world.count("register")).to.equal(1);
            await waitFor(() => world.heartbeats.get("runner-1")?.user === "runner-1", "the runner to report");
            expect(world.heartbeats.get("runner-1")).to.include({ user: "runner-1", arch: "x64" });
            // The runner itself (its Runner.Listener), not the root supervisor that started it.
            const owners = await hosts.sh(runner, "ps -o user= -p \"$(pgrep -f 'bin/Runner[.]Listener' | head -n 1)\"; stat -c %U /opt/runner-fleet/runner-1/.runner");
            expect(owners.trim().split("\n")).to.deep.equal(["runner-1", "runner-1"]);
            firstState = await hosts.sh(runner, STATE_SH);
            // The upgrade kept what 2.8 had cached: no fetch from the upstream for it.
            const afterUpgrade = await pulls("http://127.0.0.1:5000", "library/compare", 1);
            figure(`upgrade from the previous version's mirror (distribution 2.8): an image it cached cost ${underOld.join(", ")} upstream fetches then, ${afterUpgrade.join(", ")} after the upgrade`);
            expect(afterUpgrade).to.deep.equal([0, 0, 0]);
        });

        it("runs distribution 3 from the release archive checked against its sha256, as a user of its own", async () => {
            const v = MIRROR_REGISTRY_RELEASE.version;
            expect(world.events.filter(e => e.kind === "registry-download").map(e => e.detail)).to.deep.equal([{ version: v, arch: "amd64" }]);
            const facts = await hosts.sh(runner, [
                `/opt/runner-fleet/registry-${v}/registry --version | awk '{print $3}'`,
                "ps -o user= -p \"$(systemctl show -p MainPID --value runner-fleet-mirror)\"",
                "stat -c %U /var/lib/runner-fleet/mirror",
                "ls /var/cache/runner-fleet | grep -c registry_ || true",
            ].join("\n"));
            expect(facts.trim().split("\n")).to.deep.equal([`v${v}`, "runner-fleet-mirror", "runner-fleet-mirror", "0"]);
            // An archive that does not match the pinned sha256 is refused before anything of it runs.
            const wrong = await renderHost(runner, hosts.privateKey, runnerArgs(),
                runnerMirror({ release: { version: "3.1.1", sha256: { ...MIRROR_REGISTRY_RELEASE.sha256, amd64: "0".repeat(64) } } }));
            world.registryArchives["registry_3.1.1_linux_amd64.tar.gz"] = registryArchive;
            const r = await hosts.exec(runner, wrong["mirror-configure"].create, wrong["mirror-configure"].stdin, 120_000);
            delete world.registryArchives["registry_3.1.1_linux_amd64.tar.gz"];
            expect(r.code).to.equal(1);
            expect(r.stderr).to.contain(`has sha256 ${sha256File(registryArchive)}, not the pinned ${"0".repeat(64)}; nothing was installed`);
            expect((await hosts.sh(runner, "ls -d /opt/runner-fleet/registry-*; systemctl is-active runner-fleet-mirror")).trim().split("\n"))
                .to.deep.equal([`/opt/runner-fleet/registry-${v}`, "active"]);
        });

        it("serves /v2/ on its private address only, and its figures on loopback only", async () => {
            expect((await hosts.sh(runner, "curl -fsS -o /dev/null -w '%{http_code}' http://127.0.0.1:5000/v2/")).trim()).to.equal("200");
            for (const port of [5000, 5001]) {
                const outside = spawnSync("curl", ["-sS", "--max-time", "3", `http://${runner.address}:${port}/`], { encoding: "utf8" });
                expect(outside.status, `port ${port} on the host's own address`).to.not.equal(0);
                expect(outside.stderr).to.match(/refused|Failed to connect/);
            }
            const config = await hosts.sh(runner, "stat -c '%a %U' /etc/runner-fleet/mirror/config.yml /etc/runner-fleet/secrets/mirror/dockerhub-token");
            expect(config.trim().split("\n")).to.deep.equal(["600 root", "600 root"]);
        });

        it(`fetches each blob from the upstream once for ${N_PULLS} and for ${2 * N_PULLS} pulls (distribution 2.8 beside it)`, async () => {
            const vars0 = await mirrorVars();
            const first = await pulls("http://127.0.0.1:5000", "library/hello", N_PULLS);
            const more = await pulls("http://127.0.0.1:5000", "library/hello", N_PULLS);
            await startCompare("168h");
            const oldFirst = await pulls(`http://${COMPARE_BIND}`, "library/hello", N_PULLS);
            const oldMore = await pulls(`http://${COMPARE_BIND}`, "library/hello", N_PULLS);
            const direct = new Map(world.blobCounts);
            for (let i = 0; i < N_PULLS; i++) {
                const r = await hosts.exec(runner, `python3 - http://${WORLD_IP}:5002 library/hello 1`, PULL_PY_INPUT(`${secrets.registryUser}:${secrets.registryPassword}`), 60_000);
                expect(r.code, r.stderr).to.equal(0);
            }
            const sum = (a: number[], b: number[]) => a.map((n, i) => n + b[i]);
            figure(`upstream blob fetches (config, layer 1, layer 2), distribution ${MIRROR_REGISTRY_RELEASE.version} (the fleet's): ` +
                `${N_PULLS} pulls ${first.join(", ")}; ${2 * N_PULLS} pulls ${sum(first, more).join(", ")}`);
            figure(`upstream blob fetches (config, layer 1, layer 2), distribution 2.8 (Debian's docker-registry): ` +
                `${N_PULLS} pulls ${oldFirst.join(", ")}; ${2 * N_PULLS} pulls ${sum(oldFirst, oldMore).join(", ")}`);
            figure(`upstream blob fetches for ${N_PULLS} pulls without a mirror: ${world.blobDelta("library/hello", direct).join(", ")}`);
            expect(first).to.deep.equal([1, 1, 1]);
            expect(more).to.deep.equal([0, 0, 0]);
            expect(world.blobDelta("library/hello", direct)).to.deep.equal([N_PULLS, N_PULLS, N_PULLS]);
            const vars = await mirrorVars();
            const old = await mirrorVars("127.0.0.1:5006");
            const counted = { Requests: vars.blobs.Requests - vars0.blobs.Requests, Hits: vars.blobs.Hits - vars0.blobs.Hits, Misses: vars.blobs.Misses - vars0.blobs.Misses };
            figure(`for those ${2 * N_PULLS} pulls, the fleet's mirror counts blobs ${counted.Requests} requests, ${counted.Hits} hits, ${counted.Misses} misses; ` +
                `2.8 counts ${old.blobs.Requests} requests, ${old.blobs.Hits} "hits", ${old.blobs.Misses} misses (it counts every request a hit)`);
            expect(counted).to.deep.equal({ Requests: 6 * N_PULLS, Hits: 6 * N_PULLS - 3, Misses: 3 });
        });

        it("is the mirror of Docker and of containerd's CRI: both pull through it, counted at the upstream", async () => {
            const before = new Map(world.blobCounts);
            const vars0 = await mirrorVars();
            const r = await hosts.exec(runner, "bash -s", [
                "set -e",
                `grep -A1 'io.containerd.grpc.v1.cri".registry]' /etc/containerd/config.toml | tail -n 1`,
                `grep -c 'snapshotter = "native"' /etc/containerd/config.toml`,
                `python3 -c 'import json; c = json.load(open("/etc/docker/daemon.json")); print(c["registry-mirrors"], c["storage-driver"])'`,
                "timeout 120 docker pull -q library/clients:1",
                "timeout 120 crictl pull docker.io/library/clients:1 | sed 's/sha256:[0-9a-f]*/<digest>/'",
            ].join("\n"), 300_000);
            expect(r.code, r.stderr).to.equal(0);
            const fetched = world.blobDelta("library/clients", before);
            const vars1 = await mirrorVars();
            expect(r.stdout.trimEnd().split("\n")).to.deep.equal([
                '  config_path = "/etc/containerd/certs.d"', "1", "['http://127.0.0.1:5000'] vfs", "docker.io/library/clients:1", "Image is up to date for <digest>",
            ]);
            figure(`Docker's, then containerd's (crictl) pull of an uncached image: upstream blob fetches ${fetched.join(", ")}; ` +
                `the mirror's blob misses +${vars1.blobs.Misses - vars0.blobs.Misses}, hits +${vars1.blobs.Hits - vars0.blobs.Hits}`);
            expect(fetched).to.deep.equal([1, 1, 1]);
            // Docker fetched the three blobs through the mirror (misses); containerd got what it lacked from its cache (hits).
            expect(vars1.blobs.Misses - vars0.blobs.Misses).to.equal(3);
            expect(vars1.blobs.Hits - vars0.blobs.Hits).to.be.at.least(2);
        });

        it("reports its hit ratio: check.sh's mirror-cache line and the drift check's output per host", async () => {
            const target = runnerTarget();
            const report = await checkHost(target, new OpenSshRunner(), 60_000);
            const vars = await mirrorVars();
            // The stand-in runner is 2.329.0, older than the catalog's newest: that check alone drifts.
            expect(report.checks.filter(c => !c.ok).map(c => c.check), JSON.stringify(report.checks)).to.deep.equal(["runner-version-1"]);
            expect(report.checks.find(c => c.check === "mirror-cache")?.ok).to.equal(true);
            expect(report.checks.find(c => c.check === "metrics-exporter")?.ok, JSON.stringify(report.checks)).to.equal(true);
            expect(report.mirror?.blobs).to.deep.equal({ requests: vars.blobs.Requests, hits: vars.blobs.Hits, misses: vars.blobs.Misses });
            expect(report.mirror?.hitRatio).to.equal(vars.blobs.Hits / vars.blobs.Requests);
            const table = formatTable({ status: report.status, exitCode: 3, stacks: [{ stack: "e2e", status: report.status, cloud: { status: "ok", changes: [] }, hosts: [report] }] });
            const line = table.split("\n").find(l => l.includes(" host ")) ?? "";
            figure(`drift check, the runner host: ${line.replace(/\s+/g, " ").trim()}`);
            expect(line).to.contain(`mirror: ${vars.blobs.Hits} of ${vars.blobs.Requests} blob requests from the cache ` +
                `(${Math.round(100 * vars.blobs.Hits / vars.blobs.Requests)}%), ${vars.blobs.Misses} fetched upstream since `);
        });
        it("runner-fleet status: the runner's state from the API, its version and service from the host, the mirror's hit ratio", async () => {
            const target = runnerTarget();
            const gh = { api: `${world.base}/api`, org: "example-org", token: secrets.adminToken };
            const idle = await fleetStatus("e2e", [target], new OpenSshRunner(), gh);
            const h = idle.hosts[0];
            expect(h.error, h.error).to.equal(undefined);
            expect(h.services).to.deep.equal(["active"]);
            expect(h.runners.map(r => [r.name, r.state, r.version, r.outdated])).to.deep.equal([["runner-1", "online", "2.329.0", true]]);
            expect(h.runners[0].daysLeft).to.be.lessThan(0);
            expect(h.mirror?.blobs.hits).to.be.greaterThan(0);
            // A job makes it busy, as GitHub reports it while the runner works.
            world.giveJob("runner-1", 6);
            await waitFor(async () => (await listOrgRunners(gh)).some(r => r.name === "runner-1" && r.busy), "the runner to be busy");
            const busy = await fleetStatus("e2e", [target], new OpenSshRunner(), gh);
            expect(busy.hosts[0].runners[0].state).to.equal("busy");
            const table = formatStatusTable(busy);
            figure(`runner-fleet status, the runner host during a job: ${(table.split("\n").find(l => l.startsWith("runner ")) ?? "").replace(/\s+/g, " ")}`);
            expect(table).to.contain("runner-1 busy (2.329.0, outdated (no jobs since").and.contain("blob requests from the cache");
            expect(formatStatusMarkdown(busy)).to.contain("| runner | github-runner | active | runner-1 busy");
            await waitFor(async () => !(await listOrgRunners(gh)).some(r => r.name === "runner-1" && r.busy), "the job to end", 60_000);
        });

        it("serves its figures to Prometheus on its private address only: jobs counted with durations, busy then idle, the mirror's hits, the runner-offline alert firing and resolving", async () => {
            const bind = `${runner.address}:9100`;
            // The exporter listens where the stack said and nowhere else; the package's own unit stays off.
            const listening = await hosts.sh(runner, "ss -ltnH | awk '$4 ~ /:9100$/ { print $4 }'; systemctl is-enabled prometheus-node-exporter 2>&1 | tail -n 1; systemctl is-active runner-fleet-node-exporter runner-fleet-metrics.timer");
            expect(listening.trim().split("\n")).to.deep.equal([bind, "masked", "active", "active"]);
            // What it serves is the catalog's, to the help text: every family but the microVMs (actuated only).
            const served = await hosts.sh(runner, `curl -fsS http://${bind}/metrics`);
            expect(catalogMismatches(served, FLEET_METRICS.filter(m => m.name !== "runner_fleet_microvms_running"))).to.deep.equal([]);
            // As the stack output gives it (metricsTargets: file_sd entries).
            prometheus.scrape({ targets: [bind], labels: { host: "runner", arch: "amd64", kind: "github-runner" } });
            await prometheus.until(`up{job="runner-fleet",host="runner"}`, s => s.length === 1 && s[0].value === 1);
            // Figures written after now: the jobs of the tests before are in them (the timer runs every 15 s).
            const since = Date.now() / 1000;
            await prometheus.until(`runner_fleet_metrics_updated_timestamp_seconds{host="runner"}`, s => (s[0]?.value ?? 0) >= since, 90_000);
            const one = async (expr: string) => (await prometheus.query(expr))[0]?.value ?? 0;
            const r1 = `runner="runner-1"`;
            const started = await one(`runner_fleet_jobs_started_total{${r1}}`);
            const succeeded = await one(`runner_fleet_jobs_completed_total{${r1},result="succeeded"}`);
            const failed = await one(`runner_fleet_jobs_completed_total{${r1},result="failed"}`);
            const count = await one(`runner_fleet_job_duration_seconds_count{${r1}}`);
            const buckets = async () => new Map((await prometheus.query(`runner_fleet_job_duration_seconds_bucket{${r1}}`)).map(b => [b.metric.le, b.value]));
            const bucketsBefore = await buckets();
            // Busy while a job runs, idle after: as Prometheus saw it, not as the test asks the host.
            world.giveJob("runner-1", 25);
            await prometheus.until(`runner_fleet_runner_busy{${r1}}`, s => s[0]?.value === 1, 90_000);
            await waitFor(async () => !world.isBusy("runner-1"), "the first job to end", 90_000);
            await prometheus.until(`runner_fleet_runner_busy{${r1}}`, s => s[0]?.value === 0, 90_000);
            world.giveJob("runner-1", 12);
            await waitFor(async () => !world.jobWaiting("runner-1") && !world.isBusy("runner-1"), "the second job to end", 90_000);
            world.giveJob("runner-1", 3, "failing");
            await waitFor(async () => !world.jobWaiting("runner-1") && !world.isBusy("runner-1"), "the failing job to end", 90_000);
            await prometheus.until(`runner_fleet_jobs_completed_total{${r1},result="failed"}`, s => (s[0]?.value ?? 0) > failed, 90_000);
            expect(await one(`runner_fleet_jobs_started_total{${r1}}`)).to.equal(started + 3);
            expect(await one(`runner_fleet_jobs_completed_total{${r1},result="succeeded"}`)).to.equal(succeeded + 2);
            expect(await one(`runner_fleet_jobs_completed_total{${r1},result="failed"}`)).to.equal(failed + 1);
            expect(await one(`runner_fleet_jobs_lost_total{${r1}}`)).to.equal(0);
            expect(await one(`runner_fleet_job_duration_seconds_count{${r1}}`)).to.equal(count + 3);
            // The durations as the runner's own lines give them, to the second: 25 s, 12 s and 3 s, give or take the hooks.
            const bucketsAfter = await buckets();
            expect(["10", "30", "60", "+Inf"].map(b => (bucketsAfter.get(b) ?? 0) - (bucketsBefore.get(b) ?? 0))).to.deep.equal([1, 3, 3, 3]);
            const median = await one(`histogram_quantile(0.5, sum by (le) (increase(runner_fleet_job_duration_seconds_bucket{${r1}}[5m])))`);
            const sum = await one(`runner_fleet_job_duration_seconds_sum{${r1}}`);
            figure(`Prometheus, the runner host after 3 jobs (25 s, 12 s, 3 s failing): started +3, succeeded +2, failed +1, lost 0; ` +
                `job duration median over 5m ${median.toFixed(1)}s, sum of all ${sum}s over ${count + 3} jobs`);
            expect(median).to.be.within(5, 30);
            // The mirror's hits, after pulls through it (the figures check.sh reports too).
            const hits = await one(`runner_fleet_mirror_hits_total{host="runner",type="blob"}`);
            // Twice: the first pull fetches what an earlier test did not, the second is served from the cache.
            await pullPy("http://127.0.0.1:5000", "library/hello");
            await pullPy("http://127.0.0.1:5000", "library/hello");
            const after = await prometheus.until(`runner_fleet_mirror_hits_total{host="runner",type="blob"}`, s => (s[0]?.value ?? 0) > hits, 90_000);
            const vars = await mirrorVars();
            figure(`Prometheus, the runner host's mirror: blob hits ${hits} -> ${after[0].value} after two pulls (expvar says ${vars.blobs.Hits} of ${vars.blobs.Requests})`);
            scrapedAt.push(Math.floor(Date.now() / 1000));
            // The runner's service stopped (by hand, or a crash that stays down): RunnerFleetRunnerOffline fires, and resolves once it is back.
            const offline = async () => (await prometheus.alerts()).find(a => a.labels.alertname === "RunnerFleetRunnerOffline" && a.labels.runner === "runner-1");
            // Online before: the alert that follows is the stop's.
            await prometheus.until(`runner_fleet_runner_online{${r1}}`, s => s[0]?.value === 1, 60_000);
            expect(await offline()).to.equal(undefined);
            await hosts.sh(runner, "systemctl stop runner-fleet-runner@1");
            const t0 = Date.now();
            await waitFor(async () => (await offline())?.state === "firing", "RunnerFleetRunnerOffline to fire", 120_000);
            const fired = (Date.now() - t0) / 1000;
            await hosts.sh(runner, "systemctl start runner-fleet-runner@1");
            const t1 = Date.now();
            await waitFor(async () => (await offline()) === undefined, "RunnerFleetRunnerOffline to resolve", 120_000);
            expect((await prometheus.query(`runner_fleet_runner_online{${r1}}`))[0]?.value).to.equal(1);
            figure(`Prometheus, RunnerFleetRunnerOffline (for shortened to 10s): firing ${fired.toFixed(0)}s after the runner's service stopped, resolved ${((Date.now() - t1) / 1000).toFixed(0)}s after it started`);
            await waitFor(async () => world.online("runner-1"), "the runner to be back", 60_000);
        });

        it("changes nothing on a second run: no file rewritten, no service restarted", async () => {
            const before = await hosts.sh(runner, STATE_SH);
            const ms = await up(runner, rc, "second run");
            const afterState = await hosts.sh(runner, STATE_SH);
            figure(`github-runner host, second run with nothing changed: ${(ms / 1000).toFixed(1)}s`);
            expect(changedLines(before, afterState)).to.deep.equal([]);
            expect(world.count("register")).to.equal(1);
        });

        it("upgrades from the version before as pulumi would: the copy and ready, the agent's install replaced (the runner drained, put back and registered again under its id), the mirror untouched, metrics installed; a second up changes nothing", async () => {
            // The host as the previous version left it: no metrics, its scripts folder copied and installed by its
            // ready step, each step run with the settings hash it gave it.
            const steps = ["agent-secrets", "agent-install", "mirror-configure"];
            const previous = previousVersion(UPGRADE_FROM, rc, steps);
            await run(runner, rc["metrics-install"].delete, "", "the metrics removed, as before them");
            await hosts.sh(runner, "rm -rf /root/.cache/runner-fleet");
            await copyToRemote(hosts, runner, previous.scripts);
            await run(runner, previous.ready, "", "the previous version's ready");
            for (const s of steps) {
                await run(runner, previous.steps[s].create, s === "agent-install" ? await mint(rc) : rc[s].stdin, `the previous version's ${s}`);
            }
            const mirrorRun = async () => (await hosts.sh(runner, "systemctl show -p InvocationID --value runner-fleet-mirror; find /var/lib/runner-fleet/mirror -type f | wc -l")).trim();
            const mirrorBefore = await mirrorRun();
            const registered = world.count("register");
            const id = world.runners.get("runner-1")?.id;
            // The upgrade, in pulumi's order: the copy and ready (updated), then each step whose run line changed:
            // replaced where its trigger changed (deleteBeforeReplace: the delete side the state holds, which runs the
            // scripts the new ready installed, then the new create); then the new metrics step.
            const t0 = Date.now();
            await copyToRemote(hosts, runner, rc.scripts);
            await run(runner, rc.ready.create, "", "upgrade: ready");
            const replaced: string[] = [];
            for (const s of steps) {
                if (previous.steps[s].trigger !== previous.steps[s].newTrigger) {
                    replaced.push(s);
                    await run(runner, rc[s].delete, "", `upgrade: the delete side of ${s}`);
                    await run(runner, rc[s].create, s === "agent-install" ? await mint(rc) : rc[s].stdin, `upgrade: ${s}`);
                }
            }
            await run(runner, rc["metrics-install"].create, rc["metrics-install"].stdin, "upgrade: metrics-install");
            figure(`github-runner host, the upgrade from ${UPGRADE_FROM} in ${((Date.now() - t0) / 1000).toFixed(1)}s: replaced ${replaced.join(", ") || "none"}`);
            // As the CHANGELOG says: the install and the supervisor changed (the job-started hook), so the agent's install
            // is replaced; the mirror's and the secrets' scripts did not change, so those steps do not run.
            expect(replaced).to.deep.equal(["agent-install"]);
            expect(await mirrorRun()).to.equal(mirrorBefore);
            expect(world.count("register")).to.equal(registered + 1);
            expect(world.runners.get("runner-1")?.id).to.equal(id);
            const after = await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1 runner-fleet-node-exporter runner-fleet-metrics.timer; grep -c '^ACTIONS_RUNNER_HOOK_JOB_STARTED=/usr/local/lib/runner-fleet/job-started.sh$' /opt/runner-fleet/runner-1/.env");
            expect(after.trim().split("\n")).to.deep.equal(["active", "active", "active", "1"]);
            expect((await hosts.sh(runner, "ls /root/.cache/runner-fleet/host | wc -l")).trim()).to.equal(String(fs.readdirSync(path.join(ROOT, "scripts", "host")).length));
            // A second up changes nothing.
            const settled = await hosts.sh(runner, STATE_SH);
            await up(runner, rc, "after the upgrade");
            expect(changedLines(settled, await hosts.sh(runner, STATE_SH))).to.deep.equal([]);
            // Without the staged copy, a step whose files are installed as it needs them runs from there.
            await hosts.sh(runner, "rm -rf /root/.cache/runner-fleet");
            await run(runner, rc["mirror-configure"].create, rc["mirror-configure"].stdin, "the mirror without a staged copy");
            // A staged file that is not what the stack sent stops the ready step before root runs any of it.
            await copyToRemote(hosts, runner, rc.scripts);
            await hosts.sh(runner, "printf '# edited\\n' >> /root/.cache/runner-fleet/host/common.sh");
            const installed = (await hosts.sh(runner, "sha256sum /usr/local/lib/runner-fleet/common.sh | cut -c1-64")).trim();
            const r = await hosts.exec(runner, rc.ready.create, "", 120_000);
            expect(r.code).to.equal(1);
            expect(r.stderr).to.contain("the scripts in /root/.cache/runner-fleet/host are not the ones this stack sent").and.contain("<host>-scripts");
            expect(installed).to.equal(sha256(hostScript("common.sh")));
            expect((await hosts.sh(runner, "sha256sum /usr/local/lib/runner-fleet/common.sh | cut -c1-64; ls /tmp | grep -c '^runner-fleet\\.' || true")).trim().split("\n"))
                .to.deep.equal([installed, "0"]);
            await copyToRemote(hosts, runner, rc.scripts);
            await run(runner, rc.ready.create, "", "ready with the copy back");
            expect((await hosts.sh(runner, "systemctl is-active runner-fleet-mirror runner-fleet-runner@1")).trim().split("\n")).to.deep.equal(["active", "active"]);
        });

        it("keeps its registration through a job, and cleans the job's workspace after it", async () => {
            const id = world.runners.get("runner-1")?.id;
            const reports = world.jobReports.length;
            world.giveJob("runner-1", 1);
            await waitFor(() => world.jobReports.length > reports, "the job to be reported");
            expect(world.jobReports[world.jobReports.length - 1]).to.deep.include({ name: "runner-1", result: "Succeeded" });
            expect(world.runners.get("runner-1")?.id, "the same registration").to.equal(id);
            expect((await hosts.sh(runner, "ls -A /opt/runner-fleet/runner-1/_work/app/app 2>/dev/null | wc -l")).trim(), "the job's files").to.equal("0");
        });

        it("holds no organization credential: not in any file, process environment or the journal, and sends none", async () => {
            // Every registration token the API issued has been used by now; the operator's token never came.
            const search = [secrets.adminToken, ...world.issued.keys()];
            const hits = (await hosts.exec(runner, "bash -s", `
                printf '%s\\n' ${search.map(s => `'${s}'`).join(" ")} > /run/patterns
                grep -rlF -f /run/patterns / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null | grep -v '^/run/patterns$'
                for e in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$e" 2>/dev/null; done | grep -cF -f /run/patterns | sed 's/^/environ-lines: /'
                journalctl --no-pager -o cat 2>/dev/null | grep -cF -f /run/patterns | sed 's/^/journal-lines: /'
                cat /root/.bash_history /home/*/.bash_history 2>/dev/null | grep -cF -f /run/patterns | sed 's/^/history-lines: /'
                rm -f /run/patterns`, 120_000)).stdout.trim().split("\n");
            figure(`plain host searched for the operator token and ${search.length - 1} issued registration token(s): ${hits.join("; ")}`);
            expect(hits.filter(l => l.startsWith("/")), "files").to.deep.equal([]);
            expect(hits).to.include.members(["environ-lines: 0", "journal-lines: 0", "history-lines: 0"]);
            for (const sample of psSamples) {
                expect(sample.includes(secrets.adminToken), "a process listing showed the operator token").to.equal(false);
            }
            const fromHost = world.apiLog.filter(r => r.from.endsWith(runner.address));
            expect(fromHost.filter(r => r.auth === "operator"), "requests from the host with the operator token").to.deep.equal([]);
            expect(fromHost.map(r => r.auth)).to.include("registration");
        });

        it("waits for a running job before a settings change re-registers the runner", async () => {
            const changed = await renderHost(runner, hosts.privateKey, { ...runnerArgs(), labels: ["runner-fleet-amd64", "e2e", "relabelled"] }, runnerMirror());
            const reports = world.jobReports.length;
            world.giveJob("runner-1", 8);
            await waitFor(async () => (await hosts.exec(runner, "pgrep -f runner-1/bin/Runner.Worker", "", 10_000)).code === 0, "the job to start");
            const t0 = Date.now();
            await run(runner, changed["agent-install"].create, await mint(changed), "relabel during a job");
            const took = (Date.now() - t0) / 1000;
            figure(`plain host, label change during an 8 s job: the install waited and finished in ${took.toFixed(1)}s`);
            expect(world.jobReports.slice(reports).map(({ name, result, reason }) => ({ name, result, reason }))).to.deep.equal([{ name: "runner-1", result: "Succeeded", reason: "" }]);
            expect(world.runners.get("runner-1")?.labels).to.include("relabelled");
            // The restart came after the job: the listener it stopped had nothing to cancel.
            expect(took).to.be.at.least(3);
        });

        it("updates itself as actions/runner does (bin a link to bin.<new>, the worker started from there), and a later change still waits for its job", async () => {
            const installed = (await hosts.sh(runner, "setpriv --reuid runner-1 --regid runner-1 --clear-groups /opt/runner-fleet/runner-1/bin/Runner.Listener --version")).trim();
            const [maj, min, patch] = installed.split(".").map(Number);
            const newer = `${maj}.${min}.${patch + 1}`;
            world.updateTo = newer;
            try {
                await waitFor(() => world.versions.get("runner-1") === newer, `the runner to update itself from ${installed} to ${newer}`, 180_000);
            } finally {
                world.updateTo = undefined;
            }
            const layout = await hosts.sh(runner, "cd /opt/runner-fleet/runner-1 && readlink bin && ls -d bin.* | sort | paste -sd' ' && systemctl is-active runner-fleet-runner@1");
            expect(layout.trim().split("\n")).to.deep.equal([`/opt/runner-fleet/runner-1/bin.${newer}`, `bin.${installed} bin.${newer}`, "active"]);
            const reports = world.jobReports.length;
            world.giveJob("runner-1", 8);
            await waitFor(async () => (await hosts.exec(runner, `pgrep -f 'runner-1/bin[.]${newer}/Runner[.]Worker'`, "", 10_000)).code === 0, "the job to start");
            // What the drain looked for before: the worker by the path bin/Runner.Worker, which no process has now.
            expect((await hosts.exec(runner, "pgrep -f runner-1/bin/Runner.Worker", "", 10_000)).code).to.equal(1);
            const changed = await renderHost(runner, hosts.privateKey, { ...runnerArgs(), labels: ["runner-fleet-amd64", "e2e", "after-update"] }, runnerMirror());
            const t0 = Date.now();
            await run(runner, changed["agent-install"].create, await mint(changed), "relabel during a job, after a self-update");
            const took = (Date.now() - t0) / 1000;
            figure(`plain host, label change during an 8 s job after a self-update to ${newer}: the install waited and finished in ${took.toFixed(1)}s`);
            expect(world.jobReports.slice(reports).map(({ name, result, reason }) => ({ name, result, reason }))).to.deep.equal([{ name: "runner-1", result: "Succeeded", reason: "" }]);
            expect(world.runners.get("runner-1")?.labels).to.include("after-update");
            expect(took).to.be.at.least(3);
            // The updated runner kept its folders: re-registering did not unpack the installed release again.
            expect((await hosts.sh(runner, "readlink /opt/runner-fleet/runner-1/bin")).trim()).to.equal(`/opt/runner-fleet/runner-1/bin.${newer}`);
        });

        it("runs nothing a job planted as root and writes through none of its links: the check, a restart and a re-registration", async () => {
            // As a job would do it (installDocker is false: the job is the runner user, nothing more). A listener
            // that records who runs it and tries what only root can; a .env pointing at a root-owned script that
            // root runs at every start.
            const dir = "/opt/runner-fleet/runner-1";
            const target = "/usr/local/lib/runner-fleet/runner-service.sh";
            const planted = await hosts.exec(runner, "bash -s", `set -e
                cd ${dir}
                cat > /var/tmp/rf-listener <<'SH'
#!/bin/sh
id -u >>/var/tmp/rf-planted-ran
touch /etc/rf-planted-as-root 2>/dev/null
exec "$(dirname "$0")/Runner.Listener.real" "$@"
SH
                chmod 0644 /var/tmp/rf-listener
                setpriv --reuid runner-1 --regid runner-1 --init-groups -- sh -c 'mv bin/Runner.Listener bin/Runner.Listener.real &&
                    cp /var/tmp/rf-listener bin/Runner.Listener && chmod 0755 bin/Runner.Listener && ln -sfn ${target} .env'
                rm -f /var/tmp/rf-listener
                stat -c %U bin/Runner.Listener; readlink .env`, 60_000);
            expect(planted.code, planted.stderr).to.equal(0);
            expect(planted.stdout.trim().split("\n")).to.deep.equal(["runner-1", target]);
            // runner.env is root's and changes here by design (the re-registration puts the labels back), so only its
            // owner and mode are compared; every other root-owned file the fleet ships must stay byte for byte.
            const ROOT_FILES = `${target} /usr/local/lib/runner-fleet/*.sh /etc/passwd /etc/shadow /etc/group`;
            const hashes = async () => hosts.sh(runner, `sha256sum ${ROOT_FILES}; stat -c '%n %U:%G %a' ${ROOT_FILES} /etc/runner-fleet/runner.env`);
            const before = await hashes();

            // The fleet's own check, as the drift check and status run it (root).
            const check = await checkHost(runnerTarget(), new OpenSshRunner(), 60_000);
            // The version the runner runs (it updated itself in the test before), asked of it as the runner.
            const running = world.versions.get("runner-1") ?? "2.329.0";
            expect(check.checks.find(c => c.check === "runner-version-1")?.detail, JSON.stringify(check.checks)).to.match(new RegExp(`^${running.replace(/\./g, "\\.")} `));
            // A restart: the supervisor (root) starts the planted listener, as the runner.
            await hosts.sh(runner, "systemctl restart runner-fleet-runner@1");
            await waitFor(async () => (await hosts.exec(runner, "pgrep -f 'bin/Runner[.]Listener[.]real'", "", 10_000)).code === 0, "the runner to start again");
            // A re-registration (the labels back to the first run's): root writes .env and the registration record.
            await run(runner, rc["agent-install"].create, await mint(rc), "re-registration with planted files");
            await waitFor(async () => (await hosts.exec(runner, "pgrep -f 'bin/Runner[.]Listener[.]real'", "", 10_000)).code === 0, "the runner to run again");

            const after = await hashes();
            const ran = await hosts.sh(runner, "sort -u /var/tmp/rf-planted-ran; test -e /etc/rf-planted-as-root && echo ROOT-RAN-IT || true; " +
                `stat -c '%F %U' ${dir}/.env; paste -sd' ' ${dir}/.env; id -u runner-1`);
            const [uids, envType, envLine, runnerUid] = [ran.trim().split("\n").slice(0, -3), ...ran.trim().split("\n").slice(-3)];
            figure(`plain host, a job's planted listener ran as uid ${uids.join(", ")} (runner-1 is ${runnerUid}) through the check, a restart and a re-registration; ` +
                `root-owned files changed: ${before === after ? "none" : "SOME"}; .env after: ${envType}`);
            expect(uids, "who ran the planted listener").to.deep.equal([runnerUid]);
            expect(ran).to.not.contain("ROOT-RAN-IT");
            expect(after, "root-owned files").to.equal(before);
            expect(envType).to.equal("regular file runner-1");
            expect(envLine).to.equal("ACTIONS_RUNNER_HOOK_JOB_STARTED=/usr/local/lib/runner-fleet/job-started.sh ACTIONS_RUNNER_HOOK_JOB_COMPLETED=/usr/local/lib/runner-fleet/job-cleanup.sh");
            expect([...world.runners.values()].map(r => r.labels)).to.deep.equal([["runner-fleet-amd64", "e2e"]]);

            await hosts.sh(runner, `cd ${dir} && mv -f bin/Runner.Listener.real bin/Runner.Listener && rm -f /var/tmp/rf-planted-ran && systemctl restart runner-fleet-runner@1`);
        });

        it("stops a runner once its job ended (a stop by hand or a reboot cuts no job off), then with SIGINT, never SIGKILL first", async () => {
            const reports = world.jobReports.length;
            world.giveJob("runner-1", 12);
            await waitFor(async () => (await hosts.exec(runner, "pgrep -f 'runner-1/bin[^/]*/Runner[.]Worker'", "", 10_000)).code === 0, "the job to start");
            await hosts.sh(runner, "systemctl stop runner-fleet-runner@1");
            expect(world.signals.slice(-1)).to.deep.equal([{ name: "runner-1", sig: "INT" }]);
            expect(world.jobReports.slice(reports).map(({ name, result, reason }) => ({ name, result, reason }))).to.deep.equal([{ name: "runner-1", result: "Succeeded", reason: "" }]);
            const journal = await hosts.sh(runner, "journalctl -u runner-fleet-runner@1 --no-pager -o cat | tail -5");
            expect(journal).to.not.contain("killing it");
            await hosts.sh(runner, "systemctl start runner-fleet-runner@1");
        });

        it("registers on a replacement after the first token expired, with a token minted for it", async () => {
            world.tokenLifetimeMs = 2000;
            try {
                const stale = await mint(rc);
                await new Promise(r => setTimeout(r, 2500));
                // The next token lasts as GitHub's do (an hour); the first has run out.
                world.tokenLifetimeMs = 3600_000;
                // The agent goes and comes back on the same host, which keeps its place (and its scripts).
                await down(runner, rc, true);
                await run(runner, rc["agent-secrets"].create, rc["agent-secrets"].stdin, "secrets");
                const old = await hosts.exec(runner, rc["agent-install"].create, stale, 300_000);
                expect(old.code, "an install with an expired token").to.not.equal(0);
                expect(world.count("expired-token")).to.be.greaterThan(0);
                const registered = world.count("register");
                await run(runner, rc["agent-install"].create, await mint(rc), "replacement with a fresh token");
                expect(world.count("register")).to.equal(registered + 1);
            } finally {
                world.tokenLifetimeMs = 3600_000;
            }
        });

        it("converges after a run killed half-way", async () => {
            await down(runner, rc, true);
            await run(runner, rc["agent-secrets"].create, rc["agent-secrets"].stdin, "secrets");
            const abort = new AbortController();
            let finished = false;
            const install = run(runner, rc["agent-install"].create, await mint(rc), "interrupted install", abort.signal)
                .finally(() => { finished = true; });
            await waitFor(async () => finished ||
                (await hosts.exec(runner, "test -f /etc/systemd/system/runner-fleet-runner@.service", "", 10_000)).code === 0, "the install to get half-way");
            abort.abort();
            await install;
            expect(finished && !abort.signal.aborted, "the install ended before it could be interrupted").to.equal(false);
            const interrupted = await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1 || true; test -f /var/lib/runner-fleet/agent.hash && echo stamped || echo not-stamped");
            figure(`interrupted install left: ${interrupted.trim().split("\n").join(", ")}`);
            await up(runner, rc, "run after the interruption");
            const converged = await hosts.sh(runner, STATE_SH);
            expect(changedLines(content(firstState), content(converged))).to.deep.equal([]);
            expect([...world.runners.keys()]).to.deep.equal(["runner-1"]);
        });

        it("keeps every secret out of files, the journal and the process list", async () => {
            const allowed = ["/etc/runner-fleet/secrets/", "/etc/runner-fleet/mirror/config.yml"];
            const patterns = SECRET_VALUES.join("\n");
            const hits = (await hosts.exec(runner, "bash -s", `
                printf '%s\\n' ${SECRET_VALUES.map(s => `'${s}'`).join(" ")} > /run/patterns
                grep -rlF -f /run/patterns / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=run 2>/dev/null
                journalctl --no-pager -o cat 2>/dev/null | grep -cF -f /run/patterns | sed 's/^/journal-lines: /'
                rm -f /run/patterns`, 120_000)).stdout.trim().split("\n");
            const files = hits.filter(l => l.startsWith("/") && !allowed.some(a => l.startsWith(a)));
            expect(files, "files holding a secret").to.deep.equal([]);
            expect(hits).to.include("journal-lines: 0");
            expect(psSamples.length).to.be.greaterThan(0);
            for (const sample of psSamples) {
                for (const s of SECRET_VALUES) {
                    expect(sample.includes(s), `a process listing shows ${s.slice(0, 12)}...`).to.equal(false);
                }
            }
            expect(patterns).to.not.equal("");
        });

        it("expires what it fetched once mirror.ttl has passed, and fetches it again (distribution 2.8 keeps it)", async () => {
            const ttl = "20s";
            // Cached (again: a test above reinstalled the mirror) before the change.
            await pullPy("http://127.0.0.1:5000", "library/hello");
            const short = await renderHost(runner, hosts.privateKey, runnerArgs(), runnerMirror({ ttl }));
            await run(runner, short["mirror-configure"].create, short["mirror-configure"].stdin, `mirror.ttl ${ttl}`);
            await startCompare(ttl);
            const t0 = Date.now();
            const first = await pulls("http://127.0.0.1:5000", "library/ttl", 1);
            const oldFirst = await pulls(`http://${COMPARE_BIND}`, "library/compare", 1);
            // Cached before the change: an entry keeps the expiry it was scheduled with (registry/proxy/scheduler/scheduler.go).
            const earlier = await pulls("http://127.0.0.1:5000", "library/hello", 1);
            const blobFiles = world.images["library/ttl"].map(d => `/var/lib/runner-fleet/mirror/docker/registry/v2/blobs/sha256/${d.slice(7, 9)}/${d.slice(7)}/data`);
            expect((await hosts.sh(runner, `ls ${blobFiles.join(" ")} | wc -l`)).trim()).to.equal("3");
            await waitFor(async () => (await hosts.sh(runner, `ls ${blobFiles.join(" ")} 2>/dev/null | wc -l`)).trim() === "0", "the mirror to delete the expired blobs", 120_000);
            const expiredAfter = (Date.now() - t0) / 1000;
            const again = await pulls("http://127.0.0.1:5000", "library/ttl", 1);
            const oldAgain = await pulls(`http://${COMPARE_BIND}`, "library/compare", 1);
            figure(`mirror.ttl ${ttl}, distribution ${MIRROR_REGISTRY_RELEASE.version}: upstream blob fetches on the first pull ${first.join(", ")}, ` +
                `blobs deleted ${expiredAfter.toFixed(0)}s after it, on the pull after that ${again.join(", ")}; content cached before the change: ${earlier.join(", ")}`);
            figure(`proxy ttl ${ttl}, distribution 2.8: first pull ${oldFirst.join(", ")}; a pull ${expiredAfter.toFixed(0)}s later ${oldAgain.join(", ")} (it has no ttl: 168h fixed)`);
            expect(first).to.deep.equal([1, 1, 1]);
            expect(again).to.deep.equal([1, 1, 1]);
            expect(earlier).to.deep.equal([0, 0, 0]);
            expect(expiredAfter).to.be.at.least(20);

            // An expiry that passes while the mirror is down, of a layer another image shares (layer 1 is the
            // same in every image here, as a base layer is on Docker Hub). At start the registry alone would
            // delete it beside serving, and the first pull of the other image, made at once as runners do after
            // a boot, would get the blob's length and no body (registry/proxy/scheduler/scheduler.go Start;
            // registry/storage/blobserver.go). The client here retries nothing, unlike dockerd.
            await hosts.sh(runner, "systemctl stop runner-fleet-mirror");
            const stoppedAt = Date.now();
            await new Promise(r => setTimeout(r, 21_000));
            const atStart = await hosts.exec(runner, "systemctl start runner-fleet-mirror && " +
                `for i in $(seq 1 100); do curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ && break; sleep 0.05; done && python3 - http://127.0.0.1:5000 library/hello 1`,
            PULL_PY_INPUT(""), 120_000);
            const expiredLine = (await hosts.sh(runner, `journalctl -u runner-fleet-mirror --since "@${Math.floor(stoppedAt / 1000)}" --no-pager -o cat | grep 'expired before serving' || true`)).trim();
            figure(`an expiry that passed while the mirror was down, of a layer another image shares: pull at start ${atStart.code === 0 ? "complete" : "FAILED"}; ${expiredLine}`);
            expect(atStart.code, atStart.stderr).to.equal(0);
            expect(expiredLine).to.match(/expired before serving: 3 blobs, \d+ manifests/);
            await hosts.sh(runner, "systemctl stop rf-compare; rm -rf /var/tmp/rf-compare /var/tmp/rf-compare.yml");
            await run(runner, rc["mirror-configure"].create, rc["mirror-configure"].stdin, "mirror.ttl back");
        });

        it("waits for an upstream that is down at start instead of restarting in a loop (both registries alone panic)", async () => {
            world.upstreamDown = true;
            try {
                // Each registry by itself, with the upstream down: what a unit without the wait would restart.
                const alone = await hosts.sh(runner, [
                    `printf '%s\\n' 'version: 0.1' 'storage: { filesystem: { rootdirectory: /var/tmp/rf-alone } }' 'http: { addr: "127.0.0.1:5007" }' 'proxy: { remoteurl: "${world.upstream}" }' > /var/tmp/rf-alone.yml`,
                    `for bin in /opt/runner-fleet/registry-${MIRROR_REGISTRY_RELEASE.version}/registry /usr/bin/docker-registry; do`,
                    "  s=$(date +%s%N); OTEL_TRACES_EXPORTER=none timeout 30 \"$bin\" serve /var/tmp/rf-alone.yml >/var/tmp/rf-alone.log 2>&1; rc=$?",
                    "  echo \"$bin exit=$rc after=$(( ($(date +%s%N) - s) / 1000000 ))ms $(grep -m1 -o 'panic: .*' /var/tmp/rf-alone.log | cut -c1-60)\"",
                    "done",
                    "rm -rf /var/tmp/rf-alone /var/tmp/rf-alone.yml /var/tmp/rf-alone.log",
                ].join("\n"));
                for (const line of alone.trim().split("\n")) {
                    figure(`upstream down at start, the registry alone: ${line}`);
                    expect(line).to.match(/exit=2 .*panic: Get /);
                }
                await hosts.sh(runner, "systemctl restart --no-block runner-fleet-mirror");
                await new Promise(r => setTimeout(r, 25_000));
                const waiting = await hosts.sh(runner, "for p in ActiveState SubState NRestarts; do systemctl show -p $p --value runner-fleet-mirror; done; journalctl -u runner-fleet-mirror --since -30s --no-pager -o cat | grep -c 'does not answer /v2/ yet' || true");
                figure(`upstream down at start, the fleet's unit 25s later: ${waiting.trim().split("\n").join(" ")} (state, sub-state, restarts, lines said)`);
                expect(waiting.trim().split("\n")).to.deep.equal(["activating", "start-pre", "0", "1"]);
            } finally {
                world.upstreamDown = false;
            }
            const t0 = Date.now();
            await waitFor(async () => (await hosts.sh(runner, "systemctl is-active runner-fleet-mirror || true")).trim() === "active", "the mirror to start", 60_000);
            figure(`upstream back: the mirror started ${((Date.now() - t0) / 1000).toFixed(0)}s later`);
            expect((await hosts.sh(runner, "systemctl show -p NRestarts --value runner-fleet-mirror")).trim()).to.equal("0");
            await pullPy("http://127.0.0.1:5000", "library/hello");
        });

        it("stops a runner whose registration GitHub deleted instead of restarting it in a loop, reports it, and the install registers it again (before and from 2.336.0)", async () => {
            const heartbeats = () => world.requests.filter(r => r === "POST /_fake/runners/runner-1/heartbeat").length;
            const restarts = async () => Number((await hosts.sh(runner, "systemctl show -p NRestarts --value runner-fleet-runner@1")).trim());
            const deleteAndRecover = async (version: string) => {
                world.deleteRunner("runner-1");
                await waitFor(async () => (await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1 || true")).trim() !== "active", "the runner to stop");
                const before = heartbeats();
                const restartsThen = await restarts();
                // Three restart intervals (RestartSec=5): a runner restarted in a loop would have asked again by now.
                await new Promise(r => setTimeout(r, 16_000));
                expect(heartbeats() - before, `${version}: the listener did not come back`).to.equal(0);
                expect(await restarts(), `${version}: systemd did not restart it`).to.equal(restartsThen);
                const check = await checkHost(runnerTarget(), new OpenSshRunner(), 60_000);
                const registered = check.checks.find(c => c.check === "runner-registered-1");
                expect(registered?.ok, JSON.stringify(check.checks)).to.equal(false);
                expect(registered?.detail).to.contain("GitHub deleted the registration").and.contain("run pulumi up to register it again");
                figure(`plain host, runner ${version}, registration deleted by GitHub: the runner stopped; check.sh says "${registered?.detail}"`);

                // What the next pulumi up runs (the registration watch's generation moved the triggers): a token, then the install.
                await run(runner, rc["agent-install"].create, await mint(rc), `the install after GitHub deleted the registration (${version})`);
                expect(world.runners.has("runner-1")).to.equal(true);
                expect((await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1; test -e /var/lib/runner-fleet/runner-1.unregistered && echo still-marked || echo cleared")).trim().split("\n"))
                    .to.deep.equal(["active", "cleared"]);
                const after = await checkHost(runnerTarget(), new OpenSshRunner(), 60_000);
                expect(after.checks.find(c => c.check === "runner-registered-1")?.ok).to.equal(true);
                const reports = world.jobReports.length;
                world.giveJob("runner-1", 1);
                await waitFor(() => world.jobReports.length > reports, "a job on the registered-again runner");
            };
            // The runner updated itself to a release before 2.336.0 (the test before): its listener keeps .runner.
            await deleteAndRecover(world.versions.get("runner-1") ?? "?");
            // From 2.336.0 the listener removes its configuration itself.
            world.updateTo = "2.336.0";
            try {
                await waitFor(() => world.versions.get("runner-1") === "2.336.0", "the runner to update itself to 2.336.0", 180_000);
            } finally {
                world.updateTo = undefined;
            }
            await deleteAndRecover("2.336.0");
        });

        it("restarts the host's Docker for a mirror change at once, under a running job it does not touch (runners have Docker of their own)", async () => {
            const dockerStarted = async () => (await hosts.sh(runner, "systemctl show -p ActiveEnterTimestampMonotonic --value docker")).trim();
            const runnerStarted = async () => (await hosts.sh(runner, "systemctl show -p InvocationID --value runner-fleet-runner@1")).trim();
            const [before, invocation] = [await dockerStarted(), await runnerStarted()];
            const moved = await renderHost(runner, hosts.privateKey, runnerArgs(), runnerMirror({ bindAddress: "127.0.0.1:5010" }));
            const reports = world.jobReports.length;
            const job = world.giveJob("runner-1", 20);
            await waitFor(async () => (await hosts.exec(runner, "pgrep -f 'runner-1/bin[^/]*/Runner[.]Worker'", "", 10_000)).code === 0, "the job to start");
            const t0 = Date.now();
            await run(runner, moved["mirror-configure"].create, moved["mirror-configure"].stdin, "a mirror change during a job");
            const took = (Date.now() - t0) / 1000;
            figure(`plain host, mirror moved during a 20 s job: the host's Docker restarted at once, the step took ${took.toFixed(1)}s`);
            expect(await dockerStarted(), "docker restarted").to.not.equal(before);
            expect((await hosts.exec(runner, "pgrep -f 'runner-1/bin[^/]*/Runner[.]Worker'", "", 10_000)).code, "the job still runs").to.equal(0);
            await waitFor(() => world.jobReports.length > reports, "the job to be reported", 60_000);
            expect(world.jobReports.slice(reports).map(r => [r.job, r.result])).to.deep.equal([[job, "Succeeded"]]);
            expect(await runnerStarted(), "the runner was not restarted").to.equal(invocation);
            // Back where the other tests expect it (nothing waits for a job now).
            await run(runner, rc["mirror-configure"].create, rc["mirror-configure"].stdin, "the mirror back");
        });

        it("fails the install with GitHub's words when the runner group does not exist, and the runner keeps its id when the group is right again", async () => {
            const id = world.runners.get("runner-1")?.id;
            const bad = await renderHost(runner, hosts.privateKey, { ...runnerArgs(), runnerGroup: "no-such-group" }, runnerMirror());
            const r = await hosts.exec(runner, bad["agent-install"].create, await mint(bad), 300_000);
            expect(r.code, "the step fails").to.not.equal(0);
            expect(r.stderr, r.stderr).to.contain('Could not find any self-hosted runner group named "no-such-group"');
            const registrations = world.count("register");
            await run(runner, rc["agent-install"].create, await mint(rc), "the install with the group as it was");
            expect(world.runners.get("runner-1")).to.include({ group: "native", id });
            // It registered again (the failed attempt had taken its registration off the host), and runs.
            expect(world.count("register")).to.equal(registrations + 1);
            expect((await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1; test -e /opt/runner-fleet/runner-1/.runner && echo registered")).trim().split("\n"))
                .to.deep.equal(["active", "registered"]);
        });

        it("removes only the agent when only the agent goes: the mirror keeps its registry release and serves after a restart", async () => {
            await run(runner, rc["agent-install"].delete, "", "delete agent-install alone");
            const left = await hosts.sh(runner, `
                systemctl list-units --all --plain --no-legend 'runner-fleet-runner@*' | wc -l
                ls -d /opt/runner-fleet/runner-* 2>/dev/null | wc -l
                ls /opt/runner-fleet/registry-${MIRROR_REGISTRY_RELEASE.version}/registry
                systemctl restart runner-fleet-mirror && systemctl is-active runner-fleet-mirror
                curl -fsS --retry 10 --retry-connrefused --retry-delay 1 -o /dev/null -w '%{http_code}\n' http://127.0.0.1:5000/v2/`);
            const units = await hosts.sh(runner, "systemctl list-units --all --plain --no-legend 'runner-fleet-runner@*'; journalctl -u 'runner-fleet-runner@*' --no-pager | tail -n 15");
            expect(left.trim().split("\n"), units).to.deep.equal(["0", "0", `/opt/runner-fleet/registry-${MIRROR_REGISTRY_RELEASE.version}/registry`, "active", "200"]);
        });

        it("removes the services and deregisters from the organization", async () => {
            // A figures run under way when the removal starts (the timer's every 15 s; held here for 3 s so it
            // surely is): stopping a oneshot kills it, and a killed run's unit stays listed after its files go.
            const during = await hosts.sh(runner, `
                (flock /var/lib/runner-fleet/metrics-state/lock sleep 3 &) ; sleep 0.3
                systemctl start --no-block runner-fleet-metrics.service; sleep 0.3
                systemctl is-active runner-fleet-metrics.service || true`);
            expect(during.trim()).to.equal("activating");
            await down(runner, rc);
            const units = await hosts.sh(runner, "systemctl list-units --all --plain --no-legend 'runner-fleet-*'");
            const left = await hosts.sh(runner, `
                find /etc/runner-fleet /opt/runner-fleet /var/lib/runner-fleet /usr/local/lib/runner-fleet /etc/systemd/system/runner-fleet-* 2>/dev/null | wc -l
                id runner-1 2>/dev/null | wc -l
                id runner-fleet-mirror 2>/dev/null | wc -l
                ls /etc/containerd/certs.d/docker.io 2>/dev/null | wc -l
                python3 -c 'import json; print(json.load(open("/etc/docker/daemon.json")).get("registry-mirrors", []))'
                systemctl is-active docker containerd`);
            const unitsLeft = units.split("\n").filter(l => l.trim() !== "").length;
            expect([String(unitsLeft), ...left.trim().split("\n")], units).to.deep.equal(["0", "0", "0", "0", "0", "[]", "active", "active"]);
            expect(world.runners.size).to.equal(0);
            expect(world.count("remove")).to.be.greaterThan(0);
        });
    });

    describe("a plain host over a month: two instances, each with a Docker of its own", () => {
        const NAMES = ["month-1", "month-2"];
        const DAY = 24 * 3600_000;
        const JOB_SECONDS = 8;
        const monthArgs = (labels = ["runner-fleet-amd64", "month"]): Omit<RunnerAgentArgs, "host"> => ({
            ...runnerArgs(), labels, instances: 2, installDocker: true, drainTimeoutMinutes: 2,
        });
        const monthMirror = (bindAddress = "127.0.0.1:5000") => ({ ...runnerMirror({ bindAddress }), configureRuntime: true });
        /** The state a fresh install leaves that must come back: the runners' own folders are theirs (they update themselves). */
        const MONTH_STATE_SH = STATE_SH.replace("/var/lib/runner-fleet /opt/runner-fleet", "/var/lib/runner-fleet") +
            "getent passwd runner-1 runner-2 | cut -d: -f1,5,6,7; grep -h '^runner-' /etc/subuid /etc/subgid\n";
        const timeline: string[] = [];
        let t0 = 0;
        let day0 = 0;
        const mark = (what: string) => {
            const line = `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s  day ${Math.floor((world.now() - day0) / DAY).toString().padStart(2)}  ` +
                `jobs handed ${world.jobsGiven.filter(j => j.name.startsWith("month-")).length}, reported ${world.jobReports.filter(r => r.name.startsWith("month-")).length}  ${what}`;
            timeline.push(line);
        };
        /** Keeps a container job waiting for each instance that has none, as a busy organization's queue does. */
        let feeding = false;
        const feeder = async () => {
            while (feeding) {
                for (const name of NAMES) {
                    if (world.runners.has(name) && !world.isBusy(name) && !world.jobWaiting(name)) {
                        world.giveJob(name, JOB_SECONDS, "container");
                    }
                }
                await new Promise(r => setTimeout(r, 300));
            }
        };
        const bothRunning = () => waitFor(() => NAMES.every(n => world.isBusy(n)), "a job on both instances", 240_000);
        const check = async () => {
            const target: HostTarget = {
                name: "month", address: month.address, user: "root", port: 22, hostKey: null, privateKeySecret: "sshPrivateKey",
                privateKey: hosts.privateKey, agent: "github-runner", instances: 2, mirrorMode: "registry", mirrorBind: "127.0.0.1:5000", expect: "",
            };
            return checkHost(target, new OpenSshRunner(), 60_000);
        };

        it("lives a month with jobs on both instances throughout: self-updates, a label change, a deleted registration, a mirror change, a reboot, an interrupted install; no job lost", async () => {
            // As a server on the internet: Docker Hub itself answers when no mirror does (while the mirror restarts).
            await hosts.sh(month, world.hubHostSetup());
            let rc2 = await renderHost(month, hosts.privateKey, monthArgs(), monthMirror());
            t0 = Date.now();
            day0 = world.now();
            await up(month, rc2, "month: first install");
            mark("installed: 2 instances, each its own rootless Docker; the mirror on 127.0.0.1:5000");
            const fresh = await hosts.sh(month, MONTH_STATE_SH);
            // The install returns once the services are started; each listener is a child the supervisor starts after that.
            const users = await hosts.sh(month, "for i in $(seq 1 240); do pgrep -f 'runner-1/bin/Runner[.]Listener' >/dev/null && pgrep -f 'runner-2/bin/Runner[.]Listener' >/dev/null && break; sleep 0.25; done; " +
                "ps -o user= -p \"$(pgrep -f 'runner-1/bin/Runner[.]Listener' | head -n 1)\" \"$(pgrep -f 'runner-2/bin/Runner[.]Listener' | head -n 1)\"; " +
                "stat -c '%U %a' /run/runner-fleet-docker-1 /run/runner-fleet-docker-2; id -nG runner-1 runner-2");
            expect(users.trim().split("\n")).to.deep.equal(["runner-1", "runner-2", "runner-1 700", "runner-2 700", "runner-1", "runner-2"]);

            feeding = true;
            const feeding$ = feeder();
            try {
                await bothRunning();
                mark("jobs running on both instances");
                // Jobs side by side: each one's cleanup must leave the other's container alone.
                await waitFor(() => world.jobReports.filter(r => r.name.startsWith("month-")).length >= 4, "four jobs done", 240_000);
                mark("four container jobs done side by side");

                // Day 3: a newer actions/runner; each runner updates itself between jobs.
                world.advance(3 * DAY);
                const newer = "2.330.0";
                world.updateTo = newer;
                await waitFor(() => NAMES.every(n => world.versions.get(n) === newer), "both runners to update themselves", 240_000);
                mark(`both runners updated themselves to ${newer} (bin -> bin.${newer})`);
                await bothRunning();

                // Day 7: a label change while both run jobs: drained, re-registered with the same ids.
                world.advance(4 * DAY);
                const ids = NAMES.map(n => world.runners.get(n)?.id);
                const relabelled = await renderHost(month, hosts.privateKey, monthArgs(["runner-fleet-amd64", "month", "relabelled"]), monthMirror());
                mark("pulumi up: a label change, jobs running on both");
                await up(month, relabelled, "month: label change");
                mark("label change applied: both drained and re-registered");
                expect(NAMES.map(n => world.runners.get(n)?.labels.includes("relabelled"))).to.deep.equal([true, true]);
                expect(NAMES.map(n => world.runners.get(n)?.id)).to.deep.equal(ids);
                await bothRunning();

                // Day 9: instance 2 goes offline (stopped between jobs) and stays so past GitHub's 14 days.
                world.advance(2 * DAY);
                await hosts.sh(month, "systemctl stop runner-fleet-runner@2");
                mark("instance 2 stopped (after its job)");
                world.advance(15 * DAY);
                expect(world.runners.has("month-2"), "GitHub removed the runner offline for 14 days").to.equal(false);
                mark("day 24: GitHub removed month-2 (offline more than 14 days)");
                await hosts.sh(month, "systemctl start runner-fleet-runner@2");
                await waitFor(async () => (await hosts.exec(month, "test -e /var/lib/runner-fleet/runner-2.unregistered", "", 10_000)).code === 0, "instance 2 to find its registration gone");
                const reported = (await check()).checks.find(c => c.check === "runner-registered-2");
                expect(reported?.ok, JSON.stringify(reported)).to.equal(false);
                expect(reported?.detail).to.contain("pulumi up");
                mark(`check.sh: ${reported?.detail}`);
                expect((await hosts.sh(month, "systemctl is-active runner-fleet-runner@2 || true")).trim(), "it stopped instead of looping").to.not.equal("active");
                await up(month, relabelled, "month: re-register the deleted runner");
                expect(world.runners.has("month-2")).to.equal(true);
                mark("pulumi up registered month-2 again");
                await bothRunning();

                // Day 26: the mirror moves (a settings change): the runners' own Docker daemons reload, nothing restarts.
                world.advance(2 * DAY);
                const invocations = await hosts.sh(month, "systemctl show -p InvocationID --value runner-fleet-runner@1 runner-fleet-runner@2 runner-fleet-docker@1 runner-fleet-docker@2");
                const moved = await renderHost(month, hosts.privateKey, monthArgs(["runner-fleet-amd64", "month", "relabelled"]), monthMirror("127.0.0.1:5010"));
                await up(month, moved, "month: mirror moved");
                expect(await hosts.sh(month, "systemctl show -p InvocationID --value runner-fleet-runner@1 runner-fleet-runner@2 runner-fleet-docker@1 runner-fleet-docker@2"),
                    "no runner and no runner's Docker restarted").to.equal(invocations);
                expect(JSON.parse(await hosts.sh(month, "cat /etc/runner-fleet-docker.json"))).to.deep.equal({ "registry-mirrors": ["http://10.0.2.2:5010"] });
                mark("mirror moved to 127.0.0.1:5010: the runners' Docker daemons reloaded it (10.0.2.2:5010 from their namespace)");
                await bothRunning();

                // Day 28: a reboot while both run jobs: each runner stops once its job ended.
                world.advance(2 * DAY);
                await hosts.exec(month, "systemctl reboot", "", 30_000).catch(() => undefined);
                mark("reboot");
                await new Promise(r => setTimeout(r, 5000));
                await hosts.waitForSsh(month, 300_000);
                mark("back after the reboot");
                await bothRunning();
                mark("jobs running on both again");

                // Day 30: an install (the first settings back) killed half-way, then run again.
                world.advance(2 * DAY);
                rc2 = await renderHost(month, hosts.privateKey, monthArgs(), monthMirror());
                const killer = new AbortController();
                const token = await mint(rc2);
                const interrupted = run(month, rc2["agent-install"].create, token, "month: install killed half-way", killer.signal);
                await new Promise(r => setTimeout(r, 4000));
                killer.abort();
                await interrupted.catch(() => undefined);
                mark("an install killed 4 s in");
                await up(month, rc2, "month: the install run again");
                mark("the install run again: first settings back");
                // A run killed after writing the Docker unit, before it restarted instance 1's daemon, leaves that
                // instance's record behind: the next run restarts that daemon (after its job), and only that one.
                const dockers = async () => (await hosts.sh(month, "systemctl show -p InvocationID --value runner-fleet-docker@1 runner-fleet-docker@2")).trim().split("\n");
                const dockersBefore = await dockers();
                await hosts.sh(month, "echo left-by-a-killed-run > /var/lib/runner-fleet/runner-1.docker");
                await up(month, rc2, "month: the install after a Docker restart it did not get to");
                const dockersAfter = await dockers();
                expect([dockersAfter[0] !== dockersBefore[0], dockersAfter[1] === dockersBefore[1]], "instance 1's Docker restarted, instance 2's not").to.deep.equal([true, true]);
                mark("an install run after one killed before a Docker restart: instance 1's Docker restarted, after its job");
                await bothRunning();
            } finally {
                feeding = false;
                await feeding$;
            }
            // Every job handed out ends before the comparison.
            const unreported = () => world.jobsGiven.filter(j => j.name.startsWith("month-") && !world.jobReports.some(r => r.job === j.id));
            await waitFor(() => unreported().length === 0, "every job to be reported", 240_000).catch(async (e: Error) => {
                const journals = await hosts.sh(month, "journalctl -u 'runner-fleet-runner@*' --no-pager -o short-iso | tail -n 40").catch(() => "");
                throw new Error(`${e.message}: ${JSON.stringify(unreported().map(j => ({ ...j, notes: world.jobNotes.get(j.id) })))}\n` +
                    `${timeline.join("\n")}\n${journals}`);
            });
            mark("queue stopped; every job handed out reported");

            const given = world.jobsGiven.filter(j => j.name.startsWith("month-"));
            const reports = world.jobReports.filter(r => r.name.startsWith("month-"));
            const failed = reports.filter(r => r.result !== "Succeeded").map(r => ({ ...r, note: world.jobNotes.get(r.job ?? 0) }));
            const notes = given.map(j => world.jobNotes.get(j.id) ?? {});
            const leftovers = notes.filter(n => (n.leftovers ?? "").trim() !== "");
            const lost = notes.filter(n => n.container !== undefined && n.container !== "true");
            for (const line of timeline) {
                figure(`month: ${line}`);
            }
            figure(`month: ${given.length} container jobs handed out (${NAMES.map(n => `${n}: ${given.filter(j => j.name === n).length}`).join(", ")}), ` +
                `${reports.filter(r => r.result === "Succeeded").length} succeeded, ${failed.length} failed; containers gone before their job ended: ${lost.length}; ` +
                `jobs that found an earlier job's files in their home or workspace: ${leftovers.length}`);
            expect(failed, JSON.stringify(failed)).to.deep.equal([]);
            expect(reports.length).to.equal(given.length);
            expect(lost).to.deep.equal([]);
            expect(leftovers, JSON.stringify(leftovers)).to.deep.equal([]);
            expect(notes.every(n => n.user === undefined || /^runner-[12]$/.test(n.user))).to.equal(true);
            // Both instances ran jobs at the same time, and each one's containers came through its own Docker.
            const overlapping = given.some(a => given.some(b => a.name !== b.name && Math.abs(a.at - b.at) < JOB_SECONDS * 1000));
            expect(overlapping, "jobs side by side").to.equal(true);
            expect(changedLines(content(fresh), content(await hosts.sh(month, MONTH_STATE_SH)))).to.deep.equal([]);
        });
    });

    describe("an actuated host", () => {
        let ac: Record<string, RenderedCommand>;
        const agentArgs = (over: { labels?: string[]; licence?: string; token?: string } = {}): Omit<RunnerAgentArgs, "host"> => ({
            kind: "actuated", labels: over.labels ?? ["actuated"], org: "example-org",
            actuatedMirror: true, dockerHubUsername: secrets.registryUser, drainTimeoutMinutes: 2,
            secrets: { actuatedLicense: over.licence ?? secrets.actuatedLicense, actuatedToken: over.token ?? secrets.actuatedToken, dockerHubToken: secrets.registryPassword },
            endpoints: { actuatedInstaller: `${world.base}/actuated/install.sh`, allowInsecureHttp: true },
        });
        /** Where the actuated host's exporter listens: its address on the bridge, where the suite's Prometheus is. */
        const actuatedMetrics = () => ({ bindAddress: `${actuated.address}:9100` });
        /** The operator-side probe as `pulumi up` runs it: here, where the test runs. */
        const probe = (cmds: Record<string, RenderedCommand>) => spawnSync("sh", ["-c", cmds["agent-port"].create], {
            encoding: "utf8", env: { ...process.env, ...cmds["agent-port"].environment, TIMEOUT: "3" },
        });
        before(async () => {
            ac = await renderHost(actuated, hosts.privateKey, agentArgs(), { mode: "actuated" }, actuatedMetrics());
        });

        it("the stand-in installer fails, as get.actuated.com does, on a host without sudo", async () => {
            const r = await hosts.exec(actuated, "bash -s", `set -u
                curl -fsS -o /tmp/get.sh ${world.base}/actuated/install.sh
                cd /tmp && LICENSE=not-a-licence TOKEN=not-a-token HOME=/root bash /tmp/get.sh`, 60_000);
            expect(r.code, r.stdout).to.not.equal(0);
            expect(`${r.stdout}${r.stderr}`).to.match(/sudo: (command )?not found/);
            expect(world.count("enroll")).to.equal(0);
            await hosts.sh(actuated, "rm -rf /root/.actuated /tmp/get.sh");
        });

        it("runs actuated's installer with a sudo of the fleet's own (nothing logged, none installed), enrolls once with what actuated matches, and a second run is a no-op", async () => {
            const first = await up(actuated, ac, "actuated first run");
            expect((await hosts.sh(actuated, "command -v sudo || echo no-sudo; systemctl is-active actuated registry-mirror")).trim().split("\n"))
                .to.deep.equal(["no-sudo", "active", "active"]);
            expect(world.events.some(e => e.kind === "apt" && String(e.detail.file).includes("/sudo_"))).to.equal(false);
            expect(world.events.filter(e => e.kind === "enroll").map(e => e.detail.labels)).to.deep.equal(["actuated"]);
            expect(world.count("format")).to.equal(1);
            // The installer ran with umask 022, not the fleet's 077: the unit the agent wrote is world-readable.
            expect((await hosts.sh(actuated, "stat -c %a /etc/systemd/system/actuated.service /etc/systemd/system/registry-mirror.service")).trim().split("\n")).to.deep.equal(["644", "644"]);
            const before = await hosts.sh(actuated, STATE_SH);
            const second = await up(actuated, ac, "actuated second run");
            expect(changedLines(before, await hosts.sh(actuated, STATE_SH))).to.deep.equal([]);
            expect(world.count("enroll")).to.equal(1);
            expect(world.count("format")).to.equal(1);
            // An agent enrolled by the previous runner-fleet recorded its settings and secrets in
            // another hash: with the same settings, the upgrade keeps that enrolment.
            await hosts.sh(actuated, `cd /etc/runner-fleet/secrets/agent
                { printf '%s\\n' actuated '' '' actuated ${secrets.registryUser} ${world.base}/actuated/install.sh; cat actuated-license actuated-token dockerhub-token; } |
                  sha256sum | cut -d' ' -f1 > /var/lib/runner-fleet/actuated.applied`);
            await run(actuated, ac["agent-install"].create, "", "upgrade from the previous version");
            expect([world.count("enroll"), world.count("format")]).to.deep.equal([1, 1]);
            figure(`actuated host: fresh install ${(first / 1000).toFixed(1)}s, second run ${(second / 1000).toFixed(1)}s`);
            // actuated's own installer passes the account token to "agent csr" and "agent autoenroll"
            // as --token (self-actuated/get.actuated.com get.sh), so it shows in ps on the host while
            // the installer runs; the fleet cannot change that (the README says so). The licence and
            // the Docker Hub token never show.
            const tokenSeen = psSamples.some(s => s.includes(secrets.actuatedToken));
            figure(`actuated host: the account token ${tokenSeen ? "showed" : "did not show"} in ps while actuated's installer ran`);
            for (const sample of psSamples) {
                for (const v of [secrets.actuatedLicense, secrets.registryPassword]) {
                    expect(sample.includes(v)).to.equal(false);
                }
            }
        });

        it("pulls through actuated's mirror with the Docker Hub login the fleet applied (the installer's flags never reach it)", async () => {
            const units = await hosts.sh(actuated, "systemctl list-units --all --plain --no-legend 'runner-fleet-mirror*' | wc -l; stat -c '%a %U' /etc/registry/config.yml; grep -c '^  username: \"hubuser\"' /etc/registry/config.yml");
            expect(units.trim().split("\n")).to.deep.equal(["0", "600 root", "1"]);
            const before = new Map(world.blobCounts);
            const beforeAuth = new Map(world.authenticatedBlobCounts);
            const r = await hosts.exec(actuated, "python3 - https://192.168.128.1:5000 library/hello 1", PULL_PY_INPUT(""), 60_000);
            expect(r.code, r.stderr).to.equal(0);
            const fetched = world.imageBlobs.map(b => (world.blobCounts.get(b) ?? 0) - (before.get(b) ?? 0));
            const authenticated = world.imageBlobs.map(b => (world.authenticatedBlobCounts.get(b) ?? 0) - (beforeAuth.get(b) ?? 0));
            figure(`actuated's mirror, first pull: upstream blob fetches ${fetched.join(", ")}, of which with the Docker Hub login ${authenticated.join(", ")}`);
            expect(Math.min(...fetched), "the pull went through actuated's mirror to the upstream").to.be.at.least(1);
            expect(authenticated, "every upstream fetch carried the login, none was anonymous").to.deep.equal(fetched);
        });

        it("serves its figures to Prometheus: a microVM per running job, the agent and actuated's mirror up, no runner series", async () => {
            const bind = `${actuated.address}:9100`;
            prometheus.scrape({ targets: [bind], labels: { host: "actuated", arch: "amd64", kind: "actuated" } });
            await prometheus.until(`up{job="runner-fleet",host="actuated"}`, s => s.length === 1 && s[0].value === 1);
            // Two jobs at once: actuated boots a microVM for each (one firecracker process per microVM).
            world.giveActuatedJob(45);
            world.giveActuatedJob(45);
            const during = await prometheus.until(`runner_fleet_microvms_running{host="actuated"}`, s => s[0]?.value === 2, 90_000);
            scrapedAt.push(Math.floor(Date.now() / 1000));
            const up = await prometheus.query(`runner_fleet_agent_up{host="actuated"} or runner_fleet_mirror_up{host="actuated"}`);
            expect(up.map(s => `${s.metric.__name__} ${s.metric.unit} ${s.value}`).sort()).to.deep.equal(["runner_fleet_agent_up actuated 1", "runner_fleet_mirror_up registry-mirror 1"]);
            expect(await prometheus.query(`{__name__=~"runner_fleet_(runner|jobs?)_.*", host="actuated"}`)).to.deep.equal([]);
            const served = await hosts.sh(actuated, `curl -fsS http://${bind}/metrics`);
            const actuatedFamilies = FLEET_METRICS.filter(m => !/^runner_fleet_(runner|jobs?)_/.test(m.name) && !/^runner_fleet_mirror_(?!up)/.test(m.name));
            expect(catalogMismatches(served, actuatedFamilies)).to.deep.equal([]);
            const labels = during[0].metric;
            expect([labels.host, labels.arch, labels.kind]).to.deep.equal(["actuated", "amd64", "actuated"]);
            await prometheus.until(`runner_fleet_microvms_running{host="actuated"}`, s => s[0]?.value === 0, 120_000);
            figure("Prometheus, the actuated host: 2 microVMs while two jobs ran, 0 after; agent and actuated's mirror up");
        });

        it("every PromQL expression of the shipped rules and dashboard returns data from the suite's Prometheus; promtool passes what the package ships", async () => {
            const rules = promtool("check", "rules", "monitoring/alerts.yml");
            expect(rules.code, rules.output).to.equal(0);
            const config = promtool("check", "config", "monitoring/prometheus.yml");
            expect(config.code, config.output).to.equal(0);
            figure(`promtool: ${rules.output.split("\n").filter(l => /SUCCESS/.test(l)).join("; ")}; ${config.output.split("\n").filter(l => /SUCCESS/.test(l)).join("; ")}`);
            const missing: string[] = [];
            let asTheyAre = 0;
            const conditionsNotMet: string[] = [];
            const queries = shippedQueries(ROOT);
            for (const q of queries) {
                const answers = await Promise.all(scrapedAt.map(t => prometheus.query(q.expr, t)));
                if (answers.some(a => a.length > 0)) {
                    asTheyAre++;
                    continue;
                }
                // An alert whose condition did not hold returns nothing as it is. Measured instead (each
                // comparison with `bool`), it must return its series at 0 — so its metrics exist and its
                // divisions and `and`s match label sets — and every metric it names must have series.
                const names = metricNamesOf(q.expr);
                const absent: string[] = [];
                for (const name of names) {
                    const found = await Promise.all(scrapedAt.map(t => prometheus.query(`count({__name__="${name}"})`, t)));
                    if (!found.some(a => a.length > 0)) {
                        absent.push(name);
                    }
                }
                const measured = q.source.startsWith("alerts.yml: ")
                    ? (await Promise.all(scrapedAt.map(t => prometheus.query(asMeasurement(q.expr), t)))).find(a => a.length > 0)
                    : undefined;
                if (measured !== undefined && absent.length === 0 && names.length > 0) {
                    conditionsNotMet.push(`${q.source.replace(/^alerts\.yml: /, "")} ${measured.length}×${[...new Set(measured.map(m => m.value))].join("/")}`);
                } else {
                    missing.push(`${q.source}: ${q.expr}${absent.length ? ` (no series: ${absent.join(", ")})` : ""}${measured === undefined ? " (nothing measured)" : ""}`);
                }
            }
            figure(`shipped PromQL: ${queries.length} expressions; ${asTheyAre} returned data as they are, ${conditionsNotMet.length} alert conditions that did not hold ` +
                `returned data measured with bool, every metric they name present (alert series×values: ${conditionsNotMet.join(", ")})`);
            expect(missing).to.deep.equal([]);
            // The picture the README shows: Prometheus's own graph page, in headless Chromium, when there is one.
            const shot = process.env.METRICS_SCREENSHOT;
            const chromium = ["chromium", "chromium-browser"].find(c => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0);
            if (shot && chromium) {
                const graphs = [
                    "sum by (host) (runner_fleet_runner_busy) or sum by (host) (runner_fleet_microvms_running)",
                    "sum by (result) (increase(runner_fleet_jobs_completed_total[2m]))",
                    "sum by (host) (rate(runner_fleet_mirror_hits_total[2m]))",
                ];
                const q = graphs.map((g, i) => `g${i}.expr=${encodeURIComponent(g)}&g${i}.tab=0&g${i}.range_input=20m&g${i}.stacked=0&g${i}.show_exemplars=0`).join("&");
                const r = spawnSync(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,2100",
                    "--virtual-time-budget=20000", `--screenshot=${path.resolve(shot)}`, `${prometheus.url}/graph?${q}`], { encoding: "utf8", timeout: 120_000 });
                figure(`screenshot of Prometheus's graph page: ${r.status === 0 ? shot : `failed: ${r.stderr.slice(-300)}`}`);
            }
        });

        it("listens on 443 for the control plane; the probe from where pulumi runs passes, and both checks fail when the port is closed", async () => {
            const open = probe(ac);
            expect(open.status, open.stderr).to.equal(0);
            await hosts.sh(actuated, "systemctl stop actuated");
            try {
                const closed = probe(ac);
                expect(closed.status).to.equal(1);
                expect(closed.stderr).to.contain(`host actuated: ${actuated.address}:443`).and.contain("Open TCP 443");
                const r = await hosts.exec(actuated, ac["agent-configure"].create, ac["agent-configure"].stdin, 120_000);
                expect(r.code).to.not.equal(0);
                expect(r.stderr).to.contain("does not listen on port 443");
            } finally {
                await hosts.sh(actuated, "systemctl start actuated");
            }
        });

        it("applies a new licence in place: the agent restarts with it, with no new enrolment and no wipe", async () => {
            const licence = `${secrets.actuatedLicense}-rotated`;
            const next = await renderHost(actuated, hosts.privateKey, agentArgs({ licence }), { mode: "actuated" }, actuatedMetrics());
            // What pulumi up would re-run: the steps whose stdin changed, not the enrolment.
            expect(next["agent-install"].create).to.equal(ac["agent-install"].create);
            expect(next["agent-configure"].stdin).to.not.equal(ac["agent-configure"].stdin);
            const enrolled = world.count("enroll");
            const formatted = world.count("format");
            await run(actuated, next["agent-secrets"].create, next["agent-secrets"].stdin, "rotated secrets");
            await run(actuated, next["agent-configure"].create, next["agent-configure"].stdin, "rotated configure");
            const want = createHash("sha256").update(licence).digest("hex").slice(0, 16);
            await waitFor(() => world.heartbeats.get("actuated")?.licence === want, "the agent to report the new licence");
            expect([world.count("enroll"), world.count("format")]).to.deep.equal([enrolled, formatted]);
            ac = next;
        });

        it("enrolls again on a label change, wiping VM_DEV, once running microVMs have finished", async () => {
            const next = await renderHost(actuated, hosts.privateKey, agentArgs({ labels: ["actuated", "gpu"], licence: `${secrets.actuatedLicense}-rotated` }), { mode: "actuated" }, actuatedMetrics());
            expect(next["agent-install"].create).to.not.equal(ac["agent-install"].create);
            // A job's microVM, for as long as the drain should wait.
            await hosts.sh(actuated, "cp /bin/sleep /usr/local/bin/firecracker; (setsid /usr/local/bin/firecracker 8 >/dev/null 2>&1 &)");
            const t0 = Date.now();
            await run(actuated, next["agent-install"].create, next["agent-install"].stdin, "relabelled install");
            const took = (Date.now() - t0) / 1000;
            figure(`actuated host, label change: re-enrolled in ${took.toFixed(1)}s, after waiting for a running microVM`);
            expect(took).to.be.at.least(5);
            expect(world.events.filter(e => e.kind === "enroll").map(e => e.detail.labels)).to.deep.equal(["actuated", "actuated,gpu"]);
            expect(world.count("format")).to.equal(2);
            ac = next;
        });

        it("judges a re-enrolment by what it did: a refused token fails the step and keeps the old settings; the next run with a good one enrolls", async () => {
            const licence = `${secrets.actuatedLicense}-rotated`;
            const labels = ["actuated", "gpu", "ssd"];
            const refused = await renderHost(actuated, hosts.privateKey, agentArgs({ labels, licence, token: "a-token-actuated-refuses" }), { mode: "actuated" }, actuatedMetrics());
            const applied = "cat /var/lib/runner-fleet/actuated.applied /var/lib/runner-fleet/agent.hash";
            const before = await hosts.sh(actuated, applied);
            const enrolled = world.count("enroll");
            await run(actuated, refused["agent-secrets"].create, refused["agent-secrets"].stdin, "secrets with a refused token");
            const r = await hosts.exec(actuated, refused["agent-install"].create, refused["agent-install"].stdin, 600_000);
            expect(r.code, "the step fails").to.not.equal(0);
            expect(r.stderr).to.contain("the enrolment did not go through");
            expect(await hosts.sh(actuated, applied), "the old settings hash stays: the next up runs the step again").to.equal(before);
            expect(world.count("enroll")).to.equal(enrolled);
            expect((await hosts.sh(actuated, "systemctl is-active actuated")).trim(), "the agent enrolled before keeps running").to.equal("active");

            const good = await renderHost(actuated, hosts.privateKey, agentArgs({ labels, licence }), { mode: "actuated" }, actuatedMetrics());
            await run(actuated, good["agent-secrets"].create, good["agent-secrets"].stdin, "secrets with the good token");
            await run(actuated, good["agent-install"].create, good["agent-install"].stdin, "the enrolment again");
            expect(world.events.filter(e => e.kind === "enroll").map(e => e.detail.labels).slice(-1)).to.deep.equal(["actuated,gpu,ssd"]);
            expect(await hosts.sh(actuated, applied)).to.not.equal(before);
            ac = good;
        });

        it("keeps every secret out of files, process environments, the journal and /var/log, through three enrolments", async () => {
            // The account token went through actuated's installer three times by now (the first enrolment,
            // the label change and the one after a refused token), the licence in two versions. A canary written to the journal on purpose shows
            // that the scan finds what is there: it must be the only pattern found.
            const canary = `rf-scan-canary-${Date.now()}`;
            const patterns = [secrets.actuatedToken, secrets.actuatedLicense, `${secrets.actuatedLicense}-rotated`, secrets.registryPassword, secrets.adminToken];
            expect(patterns.every(p => p.length >= 16)).to.equal(true);
            // What actuated keeps by design, root-only: the licence get.sh writes, arkade's mirror config with the
            // Docker Hub login; and the fleet's own secrets folder.
            const allowed = ["/etc/runner-fleet/secrets/", "/root/.actuated/", "/etc/registry/config.yml"];
            const out = (await hosts.exec(actuated, "bash -s", `
                logger -t rf-scan ${canary}
                sleep 1
                printf '%s\\n' ${[...patterns, canary].map(p => `'${p}'`).join(" ")} > /run/rf-patterns
                grep -rlF -f /run/rf-patterns / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=run 2>/dev/null | sed 's/^/file: /'
                grep -rlF -f /run/rf-patterns /run --exclude=rf-patterns 2>/dev/null | sed 's/^/file: /'
                for e in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$e" 2>/dev/null; done | grep -oF -f /run/rf-patterns | sort -u | sed 's/^/environ: /'
                journalctl --no-pager -o cat 2>/dev/null | grep -oF -f /run/rf-patterns | sort -u | sed 's/^/journal: /'
                cat /var/log/* /var/log/*/* 2>/dev/null | grep -aoF -f /run/rf-patterns | sort -u | sed 's/^/var-log: /'
                rm -f /run/rf-patterns`, 180_000)).stdout.trim().split("\n").filter(Boolean);
            const found = out;
            const files = found.filter(l => l.startsWith("file: ")).map(l => l.slice(6));
            const unexpected = files.filter(f => !allowed.some(a => f.startsWith(a)) && !f.startsWith("/var/log/journal/") && !f.startsWith("/run/log/journal/"));
            figure(`actuated host scanned for ${patterns.length} secrets and a canary: found ${found.filter(l => !l.startsWith("file: ")).join("; ") || "nothing"}; ` +
                `files holding one: ${files.length} (${files.filter(f => allowed.some(a => f.startsWith(a))).length} of them actuated's and the fleet's own, root-only)`);
            expect(unexpected, "files holding a secret").to.deep.equal([]);
            expect(found.filter(l => !l.startsWith("file: ")), "what the scan found besides files").to.deep.equal([`journal: ${canary}`]);
            // The journal's own files hold the canary only.
            for (const f of files.filter(x => x.includes("/log/journal/"))) {
                const which = await hosts.sh(actuated, `grep -aoF -e '${canary}' ${patterns.map(p => `-e '${p}'`).join(" ")} '${f}' | sort -u`);
                expect(which.trim().split("\n"), f).to.deep.equal([canary]);
            }
            // The files of actuated's and the fleet's own that hold one are root-only.
            for (const f of files.filter(x => allowed.some(a => x.startsWith(a)))) {
                expect(`${f} ${(await hosts.sh(actuated, `stat -c '%a %U' '${f}'`)).trim()}`, "root-only").to.match(/ [67]00 root$/);
            }
            for (const sample of psSamples) {
                for (const v of [secrets.actuatedLicense, secrets.registryPassword, secrets.adminToken]) {
                    expect(sample.includes(v)).to.equal(false);
                }
            }
        });

        it("removes the agent", async () => {
            await down(actuated, ac);
            expect((await hosts.sh(actuated, "systemctl is-active actuated registry-mirror || true; ls /etc/runner-fleet 2>/dev/null | wc -l")).trim().split("\n"))
                .to.deep.equal(["inactive", "inactive", "0"]);
        });
    });

    describe("an arm64 host (Debian arm64 under QEMU)", () => {
        it("passes the arch check and installs the arm64 runner", async () => {
            const cmds = await renderHost(arm, hosts.privateKey, {
                kind: "github-runner", labels: ["runner-fleet-arm64"], org: "example-org", runnerVersion: "2.329.0", installDocker: false,
                secrets: { githubRunnerToken: secrets.adminToken },
                endpoints: { runnerDownloads: `${world.base}/actions-runner`, githubUrl: world.base, githubApi: `${world.base}/api`, allowInsecureHttp: true },
            });
            const downloads = world.events.filter(e => e.kind === "download").length;
            const ms = await up(arm, cmds, "arm64 install");
            figure(`arm64 host (emulated), fresh runner install: ${(ms / 1000).toFixed(1)}s`);
            // The install's own download; a self-update to a newer release the world still offers (the month's) may follow.
            const all = world.events.filter(e => e.kind === "download").slice(downloads);
            expect(all.filter(e => e.detail.version === "2.329.0").map(e => e.detail.arch)).to.deep.equal(["arm64"]);
            expect(all.filter(e => e.detail.version !== "2.329.0").map(e => [e.detail.arch, e.detail.version]))
                .to.deep.equal(all.length > 1 ? [["arm64", world.updateTo]] : []);
            await waitFor(() => world.heartbeats.get("arm-1")?.arch === "arm64", "the arm64 runner to report");
            await down(arm, cmds);
            expect(world.runners.has("arm-1")).to.equal(false);
        });

        it("refuses an amd64 install on it, naming the host and both arches", async () => {
            const cmds = await renderHost({ ...arm, arch: "amd64" }, hosts.privateKey, {
                kind: "github-runner", labels: ["runner-fleet-amd64"], org: "example-org", runnerVersion: "2.329.0",
                secrets: { githubRunnerToken: secrets.adminToken },
            });
            await copyToRemote(hosts, arm, cmds.scripts);
            const r = await hosts.exec(arm, cmds.ready.create, "", 120_000);
            expect(r.code).to.equal(1);
            expect(r.stderr).to.contain("host arm is arm64").and.contain("declares it amd64");
        });
    });
});

/** The pull program for `python3 -` (read from stdin, so credentials never reach a command line). */
function PULL_PY_INPUT(auth: string): string {
    return PULL_PY.replace("auth = sys.stdin.read().strip()", `auth = ${JSON.stringify(auth)}`);
}

/** Lines that differ between two snapshots, marked - (gone) and + (new). */
function changedLines(a: string, b: string): string[] {
    const as = new Set(a.split("\n"));
    const bs = new Set(b.split("\n"));
    return [...[...as].filter(l => !bs.has(l)).map(l => `- ${l}`), ...[...bs].filter(l => !as.has(l)).map(l => `+ ${l}`)];
}

/** A local command (command.local) as the provider runs it: sh -c, its environment added. Async: the world answers it. */
function runLocal(command: string, environment: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    return runShell(command, { ...process.env, ...environment });
}

