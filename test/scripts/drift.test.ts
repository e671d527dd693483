import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    CloudChange, DriftReport, EXIT, HostRunner, HostTarget, RunResult, StackSource, checkCommand, driftCheck, parseChecks, formatMarkdown, formatTable, sameStack,
    judgeRunnerVersions,
} from "../../scripts/lib/drift";
import { RUNNER_RELEASES } from "../../components/spec/catalog";
import { cliProgram, runCli } from "../../scripts/cli";
import { REPO_ROOT } from "../harness";
import { actionlint } from "../github/github.test";

const HOST_DIR = path.resolve(REPO_ROOT, "scripts", "host");
const KEY = "fake-ssh-private-key-for-drift-tests-0008";

function target(name: string, more: Partial<HostTarget> = {}): HostTarget {
    return {
        name, address: `192.0.2.${name.length}`, user: "root", port: 22, hostKey: "ssh-ed25519 AAAAfake", privateKeySecret: "sshPrivateKey",
        agent: "github-runner", instances: 1, mirrorMode: "registry", mirrorBind: "127.0.0.1:5000", expect: "stamp agent abc",
        privateKey: KEY, ...more,
    };
}

const ALL_OK = [
    { check: "agent-service-1", ok: true, detail: "runner-fleet-runner@1 is active" },
    { check: "runner-registered-1", ok: true, detail: "instance 1 holds a registration" },
    { check: "mirror-private", ok: true, detail: "answers /v2/ on 127.0.0.1:5000" },
    { check: "mirror-public-closed", ok: true, detail: "port 5000 is closed" },
    { check: "settings-agent", ok: true, detail: "applied abc, declared abc" },
];

function lines(checks: { check: string; ok: boolean; detail: string }[]): string {
    return checks.map(c => JSON.stringify(c)).join("\n") + "\n";
}

interface Scenario {
    changes?: CloudChange[] | Error;
    hosts?: HostTarget[] | Error;
}

class FakeSource implements StackSource {
    constructor(private readonly stacks: Record<string, Scenario>) {}
    async listStacks() {
        return Object.keys(this.stacks);
    }
    /** The scenario of a stack, by any name that names it (as the real backend selects org-qualified names). */
    private of(stack: string): Scenario {
        return Object.entries(this.stacks).find(([k]) => sameStack(k, stack))?.[1] ?? {};
    }
    async refreshPreview(stack: string) {
        const c = this.of(stack).changes ?? [];
        if (c instanceof Error) {
            throw c;
        }
        return c;
    }
    async hosts(stack: string) {
        const h = this.of(stack).hosts ?? [];
        if (h instanceof Error) {
            throw h;
        }
        return h;
    }
}

/** Answers per host name; tracks how many run at once. */
class FakeRunner implements HostRunner {
    public running = 0;
    public maxRunning = 0;
    public commands: string[] = [];
    constructor(private readonly answers: Record<string, Partial<RunResult> | "hang">) {}
    async run(t: HostTarget, command: string, timeoutMs: number): Promise<RunResult> {
        this.commands.push(command);
        this.running++;
        this.maxRunning = Math.max(this.maxRunning, this.running);
        try {
            const a = this.answers[t.name] ?? { code: 0, stdout: lines(ALL_OK) };
            await new Promise(r => setTimeout(r, 5));
            if (a === "hang") {
                await new Promise(r => setTimeout(r, timeoutMs));
                return { code: null, stdout: "", stderr: "", timedOut: true };
            }
            return { code: 0, stdout: "", stderr: "", timedOut: false, ...a };
        } finally {
            this.running--;
        }
    }
}

const CHANGE: CloudChange = {
    urn: "urn:pulumi:prod::runner-fleet::runner-fleet:index:RunnerFleet$runner-fleet:index:HetznerCloudHost$hcloud:index/firewall:Firewall::fleet-x86-1-firewall",
    type: "hcloud:index/firewall:Firewall", op: "update", diffs: ["rules"],
};

function drifted(check: string, detail: string) {
    const checks = ALL_OK.some(c => c.check === check)
        ? ALL_OK.map(c => c.check === check ? { check, ok: false, detail } : c)
        : [...ALL_OK, { check, ok: false, detail }];
    return { code: 3, stdout: lines(checks) };
}

describe("drift check logic", () => {
    it("is clean when the cloud and every host match: exit 0", async () => {
        const r = await driftCheck(new FakeSource({ prod: { hosts: [target("a"), target("bb")] } }), new FakeRunner({}));
        expect(r.exitCode).to.equal(EXIT.clean);
        expect(r.stacks[0].hosts.map(h => h.status)).to.deep.equal(["ok", "ok"]);
        expect(formatTable(r)).to.contain("no drift (exit 0)");
    });

    it("reports cloud drift only, with the resource and the properties: exit 1", async () => {
        const r = await driftCheck(new FakeSource({ prod: { changes: [CHANGE], hosts: [target("a")] } }), new FakeRunner({}));
        expect(r.exitCode).to.equal(EXIT.drift);
        expect(r.stacks[0].cloud.status).to.equal("drift");
        expect(r.stacks[0].hosts[0].status).to.equal("ok");
        expect(formatTable(r)).to.contain("update fleet-x86-1-firewall (rules)");
    });

    for (const [check, detail] of [
        ["agent-service-1", "runner-fleet-runner@1 is inactive"],
        ["runner-registered-1", "instance 1 has no registration"],
        ["mirror-private", "does not answer /v2/ on 127.0.0.1:5000"],
        ["mirror-public-closed", "port 5000 answers on the public address 192.0.2.1"],
        ["settings-agent", "applied old, declared abc"],
        ["file:/usr/local/lib/runner-fleet/check.sh", "sha256 missing, declared 00"],
    ]) {
        it(`reports host drift only: ${check}`, async () => {
            const r = await driftCheck(new FakeSource({ prod: { hosts: [target("a"), target("bb")] } }), new FakeRunner({ a: drifted(check, detail) }));
            expect(r.exitCode).to.equal(EXIT.drift);
            expect(r.stacks[0].cloud.status).to.equal("ok");
            expect(r.stacks[0].hosts.map(h => h.status)).to.deep.equal(["drift", "ok"]);
            expect(formatTable(r)).to.contain(detail);
        });
    }

    it("keeps checking the healthy hosts when one is unreachable: exit 2", async () => {
        const runner = new FakeRunner({ bb: { code: 255, stdout: "", stderr: "ssh: connect to host 192.0.2.2 port 22: Connection refused\n" } });
        const r = await driftCheck(new FakeSource({ prod: { hosts: [target("a"), target("bb"), target("ccc")] } }), runner);
        expect(r.exitCode).to.equal(EXIT.error);
        expect(r.stacks[0].hosts.map(h => h.status)).to.deep.equal(["ok", "error", "ok"]);
        expect(r.stacks[0].hosts[1].error).to.contain("unreachable over SSH").and.contain("Connection refused");
    });

    it("gives up on a host that does not answer within its timeout", async () => {
        const r = await driftCheck(new FakeSource({ prod: { hosts: [target("a"), target("bb")] } }), new FakeRunner({ a: "hang" }), { hostTimeoutMs: 50 });
        expect(r.stacks[0].hosts[0]).to.include({ status: "error", error: "no answer within 0s" });
        expect(r.stacks[0].hosts[1].status).to.equal("ok");
    });

    it("refuses to report no drift over no stacks: a project without stacks is an error, exit 2", async () => {
        const r = await driftCheck(new FakeSource({}), new FakeRunner({}));
        expect(r.exitCode).to.equal(EXIT.error);
        expect(r.stacks[0].error).to.contain("no stacks").and.contain("nothing was checked");
        expect(formatTable(r)).to.not.contain("no drift");
    });

    it("checks stacks of another Pulumi organization by their qualified names", async () => {
        const r = await driftCheck(new FakeSource({ "acme/prod": { hosts: [target("a")] }, staging: {} }), new FakeRunner({}),
            { stacks: ["acme/runner-fleet/prod", "staging"] });
        expect(r.stacks.map(s => [s.stack, s.status])).to.deep.equal([["acme/runner-fleet/prod", "ok"], ["staging", "ok"]]);
        expect(sameStack("acme/prod", "other/prod")).to.equal(false);
        expect(sameStack("prod", "acme/runner-fleet/prod")).to.equal(true);
        expect(sameStack("acme/fleet/prod", "acme/other/prod")).to.equal(false);
    });

    it("reports an unknown stack without hiding the others: exit 2", async () => {
        const r = await driftCheck(new FakeSource({ prod: { hosts: [target("a")] }, staging: {} }), new FakeRunner({}), { stacks: ["prod", "nope"] });
        expect(r.exitCode).to.equal(EXIT.error);
        expect(r.stacks.map(s => [s.stack, s.status])).to.deep.equal([["prod", "ok"], ["nope", "error"]]);
        expect(r.stacks[1].error).to.contain("unknown stack").and.contain("prod, staging");
    });

    it("reports missing credentials and a failed refresh as errors, never a secret", async () => {
        const r = await driftCheck(new FakeSource({
            prod: { hosts: new Error("missing credentials: the secret sshPrivateKey of stack prod is not set") },
            staging: { changes: new Error("no Pulumi credentials (PULUMI_ACCESS_TOKEN)"), hosts: [target("a")] },
        }), new FakeRunner({ a: { code: 1, stdout: "", stderr: `bad key ${KEY}\n` } }));
        expect(r.exitCode).to.equal(EXIT.error);
        expect(r.stacks[0].error).to.contain("missing credentials");
        expect(r.stacks[1].cloud.error).to.contain("PULUMI_ACCESS_TOKEN");
        const all = JSON.stringify(r) + formatTable(r) + formatMarkdown(r);
        expect(all).to.not.contain(KEY);
    });

    it("says an Automation API failure once, by its cause, when it stopped both the refresh and the hosts", async () => {
        // As LocalWorkspace's CommandError reads: the command, its exit code, then both streams.
        const failure = () => new Error("code: 255\n stdout: \n stderr: error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n\n err?: Error: failed");
        const r = await driftCheck(new FakeSource({ prod: { changes: failure(), hosts: failure() } }), new FakeRunner({}));
        expect(r.stacks[0]).to.deep.include({ status: "error", error: "passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables" });
        expect(r.stacks[0].cloud.error).to.equal(undefined);
        const table = formatTable(r);
        expect(table.split("passphrase must be set").length - 1, table).to.equal(1);
        expect(table).to.not.contain("stdout").and.not.contain("code: 255");
    });

    it("checks every stack when none is named, stacks and hosts at a bounded concurrency", async () => {
        const stacks = Object.fromEntries(["a", "b", "c"].map(s => [s, { hosts: Array.from({ length: 6 }, (_, i) => target(`${s}${"x".repeat(i)}`)) }]));
        const runner = new FakeRunner({});
        const r = await driftCheck(new FakeSource(stacks), runner, { concurrency: 2 });
        expect(r.stacks.map(s => s.stack)).to.deep.equal(["a", "b", "c"]);
        expect(r.stacks.every(s => s.hosts.length === 6)).to.equal(true);
        expect(runner.maxRunning).to.be.at.least(2).and.at.most(4);
    });

    it("prints JSON and Markdown", async () => {
        const r: DriftReport = await driftCheck(new FakeSource({ prod: { changes: [CHANGE], hosts: [target("a")] } }), new FakeRunner({ a: drifted("mirror-private", "does not | answer") }));
        const json = JSON.parse(JSON.stringify(r));
        expect(json).to.deep.include({ status: "drift", exitCode: 1 });
        expect(json.stacks[0].hosts[0].checks).to.have.length(ALL_OK.length);
        const mdText = formatMarkdown(r);
        expect(mdText).to.contain("## Drift check: drift found").and.contain("### Stack `prod`: DRIFT");
        expect(mdText).to.contain("| host | a (192.0.2.1) | DRIFT | mirror-private: does not \\| answer |");
    });

    it("runs check.sh from a temporary folder with the stack's expectations, and no secret in the command", () => {
        const cmd = checkCommand(target("a", { expect: "stamp agent abc\nfile /usr/local/lib/runner-fleet/ready.sh 00" }));
        expect(cmd).to.contain("mktemp -d").and.contain("check.sh").and.contain("common.sh");
        expect(cmd).to.contain("AGENT='github-runner'").and.contain("PUBLIC_ADDRESS='192.0.2.1'");
        expect(cmd).to.not.contain(KEY);
    });

    it("parses its arguments with commander: repeated stacks, formats, whole numbers only", async () => {
        let got: Record<string, unknown> | undefined;
        const program = cliProgram(() => undefined);
        program.commands.find(c => c.name() === "drift")!.action(o => { got = o; });
        await program.parseAsync(["drift", "--stack", "a", "--stack", "b", "--markdown", "--concurrency", "3", "--host-timeout", "9"], { from: "user" });
        expect(got).to.deep.include({ stack: ["a", "b"], markdown: true, concurrency: 3, hostTimeout: 9 });
        expect(await runCli(["drift", "--concurrency", "0"])).to.equal(2);
        expect(await runCli(["drift", "--no-such-flag"])).to.equal(2);
    });
});

describe("check.sh against a temporary root", () => {
    /** A root with stubs for systemctl and curl that answer from files. */
    function stubbedRoot() {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-check-"));
        const bin = path.join(root, "stub-bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/sh\n[ "$1" = is-active ] || exit 0\nu="$2"; [ "$u" = --quiet ] && u="$3"\nif [ -f "${root}/active/$u" ]; then echo active; exit 0; fi\necho inactive; exit 3\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "curl"), `#!/bin/sh\nfor a in "$@"; do case "$a" in http*) url="$a" ;; esac; done\nhp=$(echo "$url" | sed -E 's#^https?://([^/]+)/.*#\\1#')\n[ -f "${root}/up/$hp" ] && { cat "${root}/up/$hp"; exit 0; }\nexit 7\n`, { mode: 0o755 });
        fs.mkdirSync(path.join(root, "active"));
        fs.mkdirSync(path.join(root, "up"));
        const install = (file: string, text: string) => {
            fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
            fs.writeFileSync(path.join(root, file), text);
        };
        return { root, bin, install };
    }

    function runCheck(root: string, bin: string, env: Record<string, string>) {
        const r = spawnSync("bash", [path.join(HOST_DIR, "check.sh")], {
            env: { PATH: `${bin}:${process.env.PATH}`, ROOT: root, ...env }, encoding: "utf8",
        });
        return { status: r.status, checks: r.stdout.trim().split("\n").filter(Boolean).map(l => JSON.parse(l)), stderr: r.stderr, stdout: r.stdout };
    }

    it("passes on a host that matches, and names each thing that drifted", () => {
        const { root, bin, install } = stubbedRoot();
        for (const u of ["runner-fleet-runner@1.service", "runner-fleet-runner@2.service"]) {
            fs.writeFileSync(path.join(root, "active", u), "");
        }
        fs.writeFileSync(path.join(root, "up", "127.0.0.1:5000"), "");
        // The registry's expvar page on its debug port (distribution/distribution registry/proxy/proxymetrics.go).
        const counts = (requests: number, hits: number) => ({ Requests: requests, Hits: hits, Misses: requests - hits, BytesPulled: 1, BytesPushed: 2 });
        fs.writeFileSync(path.join(root, "up", "127.0.0.1:5001"), JSON.stringify({ cmdline: ["registry"], registry: { proxy: { blobs: counts(40, 30), manifests: counts(10, 0) } } }));
        install("var/lib/runner-fleet/agent.hash", "abc\n");
        install("var/lib/runner-fleet/runner-1.registered", "");
        install("var/lib/runner-fleet/runner-2.registered", "");
        install("usr/local/lib/runner-fleet/ready.sh", "echo ready\n");
        const sha = require("crypto").createHash("sha256").update("echo ready\n").digest("hex");
        const env = {
            AGENT: "github-runner", INSTANCES: "2", MIRROR_MODE: "registry", MIRROR_BIND: "127.0.0.1:5000", PUBLIC_ADDRESS: "192.0.2.9",
            EXPECT: `stamp agent abc\nfile /usr/local/lib/runner-fleet/ready.sh ${sha}`,
        };
        const clean = runCheck(root, bin, env);
        expect(clean.status, clean.stderr).to.equal(0);
        expect(clean.checks.map((c: { check: string }) => c.check)).to.deep.equal([
            "agent-service-1", "runner-registered-1", "runner-version-1", "agent-service-2", "runner-registered-2", "runner-version-2",
            "mirror-private", "mirror-cache", "mirror-public-closed", "settings-agent", "file:/usr/local/lib/runner-fleet/ready.sh",
        ]);
        const cache = clean.checks.find((c: { check: string }) => c.check === "mirror-cache");
        expect(cache).to.deep.equal({
            check: "mirror-cache", ok: true,
            detail: "blobs 30 of 40 from the cache (75%), 10 fetched upstream; manifests 0 of 10 from the cache (0%), 10 fetched upstream",
            figures: { since: "", blobs: { requests: 40, hits: 30, misses: 10 }, manifests: { requests: 10, hits: 0, misses: 10 } },
        });
        // The drift check carries them per host.
        expect(parseChecks(clean.stdout).find(c => c.check === "mirror-cache")?.figures).to.deep.equal({ ...cache.figures, hitRatio: 0.75 });

        // Break four things: a service, the mirror's public exposure, a stamp, a file.
        fs.rmSync(path.join(root, "active", "runner-fleet-runner@2.service"));
        fs.writeFileSync(path.join(root, "up", "192.0.2.9:5000"), "");
        install("var/lib/runner-fleet/agent.hash", "old\n");
        install("usr/local/lib/runner-fleet/ready.sh", "echo edited\n");
        const bad = runCheck(root, bin, env);
        expect(bad.status).to.equal(3);
        const failed = bad.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check);
        // A stopped ephemeral instance between jobs holds no registration either.
        expect(failed).to.deep.equal(["agent-service-2", "runner-registered-2", "mirror-public-closed", "settings-agent", "file:/usr/local/lib/runner-fleet/ready.sh"]);

        // A mirror without the figures (distribution 2.8, from before) drifts, and says why.
        fs.rmSync(path.join(root, "up", "127.0.0.1:5001"));
        const old = runCheck(root, bin, env).checks.find((c: { check: string }) => c.check === "mirror-cache");
        expect(old).to.deep.include({ ok: false });
        expect(old.detail).to.contain("no hit and miss figures on http://127.0.0.1:5001/debug/vars");
    });

    it("checks actuated's service and its mirror on the VM bridge", () => {
        const { root, bin } = stubbedRoot();
        const r = runCheck(root, bin, { AGENT: "actuated", MIRROR_MODE: "actuated" });
        expect(r.status).to.equal(3);
        expect(r.checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok])).to.deep.equal([["agent-service", false], ["mirror-private", false]]);
        fs.writeFileSync(path.join(root, "active", "actuated.service"), "");
        fs.writeFileSync(path.join(root, "up", "192.168.128.1:5000"), "");
        expect(runCheck(root, bin, { AGENT: "actuated", MIRROR_MODE: "actuated" }).status).to.equal(0);
    });

    it("refuses settings it does not know, with exit 2", () => {
        const { root, bin } = stubbedRoot();
        expect(runCheck(root, bin, { AGENT: "kubernetes" }).status).to.equal(2);
    });

    it("runs through the drift check's transient command and leaves nothing behind", async () => {
        const { root, bin } = stubbedRoot();
        const before = fs.readdirSync("/tmp").filter(f => f.startsWith("runner-fleet.")).length;
        const cmd = checkCommand(target("a", { agent: "actuated", mirrorMode: null, mirrorBind: null, instances: null, expect: "" }));
        const r = await new Promise<{ code: number | null; out: string }>(resolve => {
            const child = spawn("sh", ["-s"], { env: { PATH: `${bin}:${process.env.PATH}`, ROOT: root } });
            let out = "";
            child.stdout.on("data", d => { out += d; });
            child.on("close", code => resolve({ code, out }));
            child.stdin.end(cmd);
        });
        expect(r.code).to.equal(3);
        expect(JSON.parse(r.out.trim().split("\n")[0])).to.include({ check: "agent-service", ok: false });
        expect(fs.readdirSync("/tmp").filter(f => f.startsWith("runner-fleet.")).length).to.equal(before);
    });
});

describe("the scheduled drift workflow", () => {
    it("passes actionlint", () => {
        const text = fs.readFileSync(path.resolve(REPO_ROOT, ".github", "workflows", "drift.yml"), "utf8");
        const r = actionlint(text);
        expect(r.out).to.equal("");
        expect(r.status).to.equal(0);
    });
});

describe("runner versions in the drift check", () => {
    const check = (version: string) => ({ check: "runner-version-1", ok: true, detail: version });

    it("passes the newest release the catalog knows", () => {
        const [c] = judgeRunnerVersions([check(RUNNER_RELEASES[0].version)], new Date("2026-11-25T00:00:00Z"));
        expect(c.ok).to.equal(true);
    });

    it("reports an older runner as drift, with the days GitHub still sends it jobs", () => {
        // 2.335.1's first newer release is 2.336.0 of 2026-07-20: jobs stop 30 days later, 2026-08-19.
        const [soon] = judgeRunnerVersions([check("2.335.1")], new Date("2026-08-09T00:00:00Z"));
        expect(soon.ok).to.equal(false);
        expect(soon.detail).to.contain("older than 2.336.0").and.contain("in 10 day(s)");
        const [past] = judgeRunnerVersions([check("2.329.0")], new Date("2026-11-25T00:00:00Z"));
        expect(past.detail).to.match(/stopped sending it jobs \d+ day\(s\) ago/);
    });

    it("leaves other checks and unknown versions alone", () => {
        const other = { check: "agent-service-1", ok: true, detail: "active" };
        expect(judgeRunnerVersions([other, check("unknown")], new Date())).to.deep.equal([other, check("unknown")]);
    });
});
