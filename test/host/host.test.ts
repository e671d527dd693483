// The host suite: the scripts the components render, run over SSH on real
// systemd hosts (Debian under systemd-nspawn, each in its own network
// namespace), against a stand-in for the outside world on the test bridge.
// Prints its figures: install times, re-run times, upstream blob fetches.

import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import { RegistryMirrorArgs, RunnerAgentArgs } from "../../components";
import { World, WORLD_IP } from "./world";
import { Figures, Host, RenderedCommand, TestHosts, aptRepos, hostSuitePossible, renderHost, runSecrets, testhost, waitFor } from "./harness";

const N_PULLS = 5;
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
  [ -d "$d" ] && find "$d" -path /var/lib/runner-fleet/mirror -prune -o -type f -printf '%p %i %T@ ' -exec sh -c 'sha256sum "$1" | cut -c1-16' _ {} \\;
done | sort
for u in runner-fleet-runner@1 runner-fleet-mirror actuated docker-registry; do
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
    const hosts = new TestHosts();
    let runner: Host;
    let actuated: Host;
    let arm: Host;
    let rc: Record<string, RenderedCommand>;
    const psSamples: string[] = [];
    const SECRET_VALUES = [secrets.adminToken, secrets.actuatedToken, secrets.actuatedLicense, secrets.registryPassword];

    const runnerArgs = (): Omit<RunnerAgentArgs, "host"> => ({
        kind: "github-runner", labels: ["runner-fleet-amd64", "e2e"], org: "example-org", runnerGroup: "native",
        instances: 1, runnerVersion: "2.329.0", installDocker: false, drainTimeoutMinutes: 2,
        secrets: { githubRunnerToken: secrets.adminToken },
        endpoints: { runnerDownloads: `${world.base}/actions-runner`, githubUrl: world.base, githubApi: `${world.base}/api` },
    });
    const runnerMirror = (): Omit<RegistryMirrorArgs, "host"> => ({
        mode: "registry", bindAddress: "127.0.0.1:5000", upstream: world.upstream,
        dockerHubUsername: secrets.registryUser, dockerHubToken: secrets.registryPassword, configureRuntime: true,
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
            for (const step of ["ready", "agent-secrets", "agent-install", "agent-configure", "mirror-configure"]) {
                if (cmds[step]) {
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

    /** What `pulumi destroy` runs: the host's delete sides, then the operator's removal of its registrations. */
    async function down(host: Host, cmds: Record<string, RenderedCommand>): Promise<void> {
        for (const step of ["mirror-configure", "agent-install", "agent-secrets"]) {
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
        await world.start();
        runner = hosts.boot("runner", 1, "amd64");
        actuated = hosts.boot("actuated", 2, "amd64");
        arm = hosts.boot("arm", 3, "arm64");
        const t1 = Date.now();
        await Promise.all([runner, actuated, arm].map(h => hosts.waitForSsh(h, 240_000)));
        figure(`three hosts booted and answering SSH in ${((Date.now() - t1) / 1000).toFixed(1)}s`);
        rc = await renderHost(runner, hosts.privateKey, runnerArgs(), runnerMirror());
    });

    after(async () => {
        hosts.downAll();
        await world.stop();
        figures.print("host suite figures");
    });

    describe("a GitHub runner host with the Docker Hub mirror", () => {
        let firstState = "";

        it("installs the runner and the mirror; the runner registers once and runs as an unprivileged user", async () => {
            const ms = await up(runner, rc, "first run");
            figure(`github-runner host, fresh install (ready, secrets, runner, mirror): ${(ms / 1000).toFixed(1)}s`);
            const units = await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1 runner-fleet-mirror; systemctl is-enabled docker-registry || true");
            expect(units.trim().split("\n")).to.deep.equal(["active", "active", "masked"]);
            expect([...world.runners.values()].map(r => [r.name, r.labels, r.group, r.ephemeral])).to.deep.equal([["runner-1", ["runner-fleet-amd64", "e2e"], "native", false]]);
            // The root had no ICU; the fake config.sh, as the real one, refuses to register without it.
            expect((await hosts.sh(runner, "ldconfig -p | grep -c 'libicuuc\\.so' || true")).trim()).to.not.equal("0");
            expect(world.events.some(e => e.kind === "apt" && String(e.detail.file).includes("/libicu72_"))).to.equal(true);
            expect(world.count("register")).to.equal(1);
            await waitFor(() => world.heartbeats.get("runner-1")?.user === "runner", "the runner to report");
            expect(world.heartbeats.get("runner-1")).to.include({ user: "runner", arch: "x64" });
            // The runner itself (its Runner.Listener), not the root supervisor that started it.
            const owners = await hosts.sh(runner, "ps -o user= -p \"$(pgrep -f 'bin/Runner[.]Listener' | head -n 1)\"; stat -c %U /opt/runner-fleet/runner-1/.runner");
            expect(owners.trim().split("\n")).to.deep.equal(["runner", "runner"]);
            firstState = await hosts.sh(runner, STATE_SH);
        });

        it("serves /v2/ on its private address only", async () => {
            expect((await hosts.sh(runner, "curl -fsS -o /dev/null -w '%{http_code}' http://127.0.0.1:5000/v2/")).trim()).to.equal("200");
            const outside = spawnSync("curl", ["-sS", "--max-time", "3", `http://${runner.address}:5000/v2/`], { encoding: "utf8" });
            expect(outside.status, "port 5000 on the host's own address").to.not.equal(0);
            expect(outside.stderr).to.match(/refused|Failed to connect/);
            const config = await hosts.sh(runner, "stat -c '%a %U' /etc/runner-fleet/mirror/config.yml /etc/runner-fleet/secrets/mirror/dockerhub-token");
            expect(config.trim().split("\n")).to.deep.equal(["600 root", "600 root"]);
        });

        it(`fetches each blob from the upstream a fixed number of times, however many pulls go through the mirror`, async () => {
            const snapshot = () => new Map(world.blobCounts);
            const delta = (before: Map<string, number>) => world.imageBlobs.map(b => (world.blobCounts.get(b) ?? 0) - (before.get(b) ?? 0));
            const pull = async (base: string, auth: string) => {
                const r = await hosts.exec(runner, `python3 - ${base} library/hello 1`, PULL_PY_INPUT(auth), 60_000);
                if (r.code !== 0) {
                    const journal = await hosts.sh(runner, "journalctl -u runner-fleet-mirror --no-pager -o cat | tail -20");
                    throw new Error(`pull from ${base} failed: ${r.stderr}\n${journal}`);
                }
            };
            const beforeMirror = snapshot();
            for (let i = 0; i < N_PULLS; i++) {
                await pull("http://127.0.0.1:5000", "");
            }
            const viaMirror = delta(beforeMirror);
            const beforeMore = snapshot();
            for (let i = 0; i < N_PULLS; i++) {
                await pull("http://127.0.0.1:5000", "");
            }
            const viaMirrorMore = delta(beforeMore);
            const beforeDirect = snapshot();
            for (let i = 0; i < N_PULLS; i++) {
                await pull(`http://${WORLD_IP}:5002`, `${secrets.registryUser}:${secrets.registryPassword}`);
            }
            const direct = delta(beforeDirect);
            figure(`upstream blob fetches (config, layer 1, layer 2) for ${N_PULLS} pulls: through the mirror ${viaMirror.join(", ")}, ` +
                `${N_PULLS} more through the mirror ${viaMirrorMore.join(", ")}; direct ${direct.join(", ")}`);
            // distribution 2.8 (Debian's and Ubuntu's) fetches a missed blob twice, once to store it and once
            // to serve the first client; after that the mirror answers every pull by itself.
            for (const n of viaMirror) {
                expect(n).to.be.within(1, 2);
            }
            expect(viaMirrorMore).to.deep.equal([0, 0, 0]);
            expect(direct).to.deep.equal([N_PULLS, N_PULLS, N_PULLS]);
        });

        it("changes nothing on a second run: no file rewritten, no service restarted", async () => {
            const before = await hosts.sh(runner, STATE_SH);
            const ms = await up(runner, rc, "second run");
            const afterState = await hosts.sh(runner, STATE_SH);
            figure(`github-runner host, second run with nothing changed: ${(ms / 1000).toFixed(1)}s`);
            expect(changedLines(before, afterState)).to.deep.equal([]);
            expect(world.count("register")).to.equal(1);
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
            expect(world.jobReports.slice(reports)).to.deep.equal([{ name: "runner-1", result: "Succeeded", reason: "" }]);
            expect(world.runners.get("runner-1")?.labels).to.include("relabelled");
            // The restart came after the job: the listener it stopped had nothing to cancel.
            expect(took).to.be.at.least(3);
        });

        it("ends a running job cleanly when its runner stops: SIGINT, the job reported, never SIGKILL first", async () => {
            const reports = world.jobReports.length;
            world.giveJob("runner-1", 60);
            await waitFor(async () => (await hosts.exec(runner, "pgrep -f runner-1/bin/Runner.Worker", "", 10_000)).code === 0, "the job to start");
            await hosts.sh(runner, "systemctl stop runner-fleet-runner@1");
            expect(world.signals.slice(-1)).to.deep.equal([{ name: "runner-1", sig: "INT" }]);
            expect(world.jobReports.slice(reports)).to.deep.equal([{ name: "runner-1", result: "Failed", reason: "shutdown" }]);
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
                await down(runner, rc);
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
            await down(runner, rc);
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

        it("removes the services and deregisters from the organization", async () => {
            await down(runner, rc);
            const left = await hosts.sh(runner, `
                systemctl list-units --all --plain --no-legend 'runner-fleet-*' | wc -l
                find /etc/runner-fleet /opt/runner-fleet /var/lib/runner-fleet /usr/local/lib/runner-fleet /etc/systemd/system/runner-fleet-* 2>/dev/null | wc -l
                id runner 2>/dev/null | wc -l`);
            expect(left.trim().split("\n")).to.deep.equal(["0", "0", "0"]);
            expect(world.runners.size).to.equal(0);
            expect(world.count("remove")).to.be.greaterThan(0);
        });
    });

    describe("an actuated host", () => {
        let ac: Record<string, RenderedCommand>;
        const agentArgs = (over: { labels?: string[]; licence?: string } = {}): Omit<RunnerAgentArgs, "host"> => ({
            kind: "actuated", labels: over.labels ?? ["actuated"], org: "example-org",
            actuatedMirror: true, dockerHubUsername: secrets.registryUser, drainTimeoutMinutes: 2,
            secrets: { actuatedLicense: over.licence ?? secrets.actuatedLicense, actuatedToken: secrets.actuatedToken, dockerHubToken: secrets.registryPassword },
            endpoints: { actuatedInstaller: `${world.base}/actuated/install.sh` },
        });
        /** The operator-side probe as `pulumi up` runs it: here, where the test runs. */
        const probe = (cmds: Record<string, RenderedCommand>) => spawnSync("sh", ["-c", cmds["agent-port"].create], {
            encoding: "utf8", env: { ...process.env, ...cmds["agent-port"].environment, TIMEOUT: "3" },
        });
        before(async () => {
            ac = await renderHost(actuated, hosts.privateKey, agentArgs(), { mode: "actuated" });
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

        it("installs sudo from the bridge's apt repository, enrolls once with what actuated matches, and a second run is a no-op", async () => {
            const first = await up(actuated, ac, "actuated first run");
            expect((await hosts.sh(actuated, "command -v sudo; systemctl is-active actuated registry-mirror")).trim().split("\n"))
                .to.deep.equal(["/usr/bin/sudo", "active", "active"]);
            expect(world.events.some(e => e.kind === "apt" && String(e.detail.file).includes("/sudo_"))).to.equal(true);
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
            const next = await renderHost(actuated, hosts.privateKey, agentArgs({ licence }), { mode: "actuated" });
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
            const next = await renderHost(actuated, hosts.privateKey, agentArgs({ labels: ["actuated", "gpu"], licence: `${secrets.actuatedLicense}-rotated` }), { mode: "actuated" });
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
                endpoints: { runnerDownloads: `${world.base}/actions-runner`, githubUrl: world.base, githubApi: `${world.base}/api` },
            });
            const downloads = world.events.filter(e => e.kind === "download").length;
            const ms = await up(arm, cmds, "arm64 install");
            figure(`arm64 host (emulated), fresh runner install: ${(ms / 1000).toFixed(1)}s`);
            const fetched = world.events.filter(e => e.kind === "download").slice(downloads).map(e => e.detail.arch);
            expect(fetched).to.deep.equal(["arm64"]);
            await waitFor(() => world.heartbeats.get("arm-1")?.arch === "arm64", "the arm64 runner to report");
            await down(arm, cmds);
            expect(world.runners.has("arm-1")).to.equal(false);
        });

        it("refuses an amd64 install on it, naming the host and both arches", async () => {
            const cmds = await renderHost({ ...arm, arch: "amd64" }, hosts.privateKey, {
                kind: "github-runner", labels: ["runner-fleet-amd64"], org: "example-org", runnerVersion: "2.329.0",
                secrets: { githubRunnerToken: secrets.adminToken },
            });
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
    return new Promise((resolve, reject) => {
        const child = spawn("sh", ["-c", command], { env: { ...process.env, ...environment } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", d => { stdout += d; });
        child.stderr.on("data", d => { stderr += d; });
        child.on("error", reject);
        child.on("close", code => resolve({ code: code ?? -1, stdout, stderr }));
    });
}
