// Benchmark of `pulumi up` under the real engine as the fleet grows: fleets
// of N existing actuated hosts with the mirror (every host step the fleet
// has: the scripts copy, ready, secrets, install, configure, mirror, and the
// agent-port probe where pulumi runs). The hosts are one test host of the
// host suite (scripts/e2e/testhost.sh) that answers on every address of
// 10.214.0.0/16 (a local route in its network namespace): its OpenSSH takes
// every connection as a host of its own would (MaxStartups raised so that
// hundreds of hosts' handshakes at once are not dropped), copies over SFTP
// with its own sftp-server, and runs no command for the stack's key (a
// forced command in authorized_keys, so the harness's own key still runs
// its commands: the count of sessions below comes through it; one that reads
// the command's stdin to its end and exits 0), and a listener answers the
// agent port. What is measured is the engine's own work: its steps, SSH, and
// the checkpoints the local backend writes after each. For each size it
// prints the first `up`'s wall time, time per host and SSH sessions, the
// state's size per host, and the second `up` (nothing changed: its time and
// the SSH sessions it opened). `--before REV` runs the same sizes, side by
// side in the same run, with the project as it was at REV (git archive).
//
//   npm run bench:engine -- [--before REV] [sizes...]     (default: 1 10 25 50)
//
// `--commands N` measures instead what a step's size costs the engine, side
// by side in one run: N command.local resources that each run `true`, first
// with a 60 KB stdin (a step's size before the scripts travelled once: issue
// 24 measured 40-120 KB), then with the average size of the example stack's
// command inputs now (recorded under mocks). Nothing is contacted.
//
//   npm run bench:engine -- --commands 300
//
// Needs what the host suite needs (root, network namespaces, systemd-nspawn)
// and the engine (scripts/e2e/engine.sh, with pulumi-language-nodejs and
// pulumi-resource-command on PATH or built); says why and exits 0 when it
// cannot run.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { Host, ROOT, TestHosts, hostSuitePossible, testhost } from "../host/harness";
import { PulumiCli, copyProjectFiles, engine, engineEnv, hostStateBytes, keySessions, stackKeyIn, testhostKey } from "./harness";
import { MockRuntime } from "../../components/testing/mock-runtime";
import { fleetProgram } from "../../components/fleet/program";
import { readStackConfig } from "../../scripts/plan/stack";

/** Host i's address: one of 10.214.0.0/16, all answered by the one test host. */
function address(i: number): string {
    return `10.214.${(i >> 8) & 255}.${(i & 255) + 1}`;
}

/** What makes the test host answer for every host of the fleet, and run nothing. */
const STAND_IN_SETUP = `set -e
ip route add local 10.214.0.0/16 dev lo
cat > /usr/local/bin/run-nothing <<'SH'
#!/bin/sh
# The stack key's forced command: SFTP goes to sftp-server (SSH_ORIGINAL_COMMAND is the Subsystem's command then);
# any other command's stdin is read to its end, and nothing runs.
case "$SSH_ORIGINAL_COMMAND" in
  *sftp-server*) exec /usr/lib/openssh/sftp-server ;;
esac
cat >/dev/null
SH
chmod 0755 /usr/local/bin/run-nothing
printf 'AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/stack_keys\\nMaxStartups 2000:30:4000\\nMaxSessions 100\\n' > /etc/ssh/sshd_config.d/run-nothing.conf
printf 'command="/usr/local/bin/run-nothing" %s\\n' "$STACK_KEY" > /etc/ssh/stack_keys
systemctl reload ssh
systemd-run --unit=agent-port python3 -c 'import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 443)); s.listen(512)
while True:
    c, _ = s.accept(); c.close()'
`;

interface Row {
    version: string;
    hosts: number;
    upSeconds: number;
    perHostSeconds: number;
    stateKb: number;
    stateKbPerHost: number;
    hostKbPerHost: number;
    secondUpSeconds: number;
    firstUpSessions: number;
    secondUpSessions: number;
    /** The resources that take the most of the state, with their share in KB. */
    largest: string;
    /** Host 1's resources in the state, KB by field (secrets as their ciphertext). */
    byField: string;
}

/** A stack `bench` of the project in `project` on a local backend under `dir`, the command provider installed from `bin`: its `pulumi`. */
async function benchStack(dir: string, project: string, bin: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<(args: string[], input?: string) => Promise<string>> {
    const cli = new PulumiCli(project, engineEnv(bin, dir, "bench-passphrase", extraEnv));
    const pulumi = async (args: string[], input?: string) => (await cli.pulumi(args, input)).stdout;
    await pulumi(["login", cli.env.PULUMI_BACKEND_URL as string]);
    await pulumi(["plugin", "install", "resource", "command", "1.2.1", "--file", path.join(bin, "pulumi-resource-command")]);
    await pulumi(["stack", "init", "bench"]);
    return pulumi;
}

async function one(version: string, projectRoot: string, n: number, bin: string, hosts: TestHosts, standIn: Host,
    keys: { hostKey: string; stackKey: string; fingerprint: string }): Promise<Row> {
    const { hostKey } = keys;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runner-fleet-upbench-${n}-`));
    try {
        const project = path.join(dir, "project");
        fs.cpSync(projectRoot, project, { recursive: true, verbatimSymlinks: true });
        const pulumi = await benchStack(dir, project, bin);
        const config = {
            "runner-fleet:github": { org: "bench-org", manage: false },
            "runner-fleet:agent": { kind: "actuated" },
            "runner-fleet:hosts": Array.from({ length: n }, (_, i) => ({
                name: `bench-${i + 1}`, provider: "existing", address: address(i), arch: "amd64", kvm: true, hostKey,
            })),
        };
        fs.writeFileSync(path.join(project, "Pulumi.bench.yaml"), YAML.stringify({ config }));
        for (const [key, value] of Object.entries({ sshPrivateKey: keys.stackKey, actuatedLicense: "bench-licence", actuatedToken: "bench-token" })) {
            await pulumi(["config", "set", "--secret", key], value);
        }
        // SSH sessions the stand-in's sshd accepted (it logs each): the first up's show that the count counts.
        const sessions = () => keySessions(hosts, standIn, keys.fingerprint);
        const sessionsAtStart = await sessions();
        const t0 = Date.now();
        await pulumi(["up", "--yes", "--skip-preview"]);
        const upSeconds = (Date.now() - t0) / 1000;
        const state = await pulumi(["stack", "export"]);
        const names = Array.from({ length: n }, (_, i) => `bench-${i + 1}`);
        const perHost = hostStateBytes(state, names);
        const hostBytes = Object.values(perHost).reduce((s, b) => s + b.inputs + b.outputs, 0);
        if (process.env.UPBENCH_SHOW) {
            // One resource's entry in the state, as the engine keeps it (UPBENCH_SHOW=<resource name>).
            console.log(JSON.stringify((JSON.parse(state).deployment.resources as { urn: string }[]).find(r => r.urn.endsWith(`::${process.env.UPBENCH_SHOW}`)), null, 1));
        }
        const largest = (JSON.parse(state).deployment.resources as { urn: string }[])
            .map(r => [r.urn.split("::").pop() as string, JSON.stringify(r).length] as const)
            .sort((a, b) => b[1] - a[1]).slice(0, 4).map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KB`).join(", ");
        // What a host's resources keep besides their inputs and outputs (the engine's own fields: URNs,
        // dependencies, the stack trace of each registration, timestamps), by field, for host 1.
        const fields = new Map<string, number>();
        for (const r of (JSON.parse(state).deployment.resources as Record<string, unknown>[]).filter(r => String(r.urn).split("::").pop()?.startsWith("fleet-bench-1-"))) {
            for (const [k, v] of Object.entries(r)) {
                fields.set(k, (fields.get(k) ?? 0) + JSON.stringify(v).length);
            }
        }
        const byField = [...fields].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, b]) => `${k} ${(b / 1024).toFixed(1)}`).join(", ");
        const sessionsBefore = await sessions();
        const firstUpSessions = sessionsBefore - sessionsAtStart;
        const t1 = Date.now();
        await pulumi(["up", "--yes", "--skip-preview"]);
        const secondUpSeconds = (Date.now() - t1) / 1000;
        return {
            version, hosts: n, upSeconds, perHostSeconds: upSeconds / n,
            stateKb: state.length / 1024, stateKbPerHost: state.length / 1024 / n, hostKbPerHost: hostBytes / 1024 / n,
            firstUpSessions, secondUpSeconds, secondUpSessions: (await sessions()) - sessionsBefore, largest, byField,
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The average size, in bytes, of the inputs of the example stack's commands (remote and local), as recorded under mocks. */
async function commandInputBytes(): Promise<{ average: number; commands: number }> {
    const cfg = readStackConfig(ROOT, "example");
    const runtime = new MockRuntime({ project: cfg.project, stack: "example", config: cfg.config, secretKeys: cfg.secretKeys }).install();
    fleetProgram();
    await runtime.settle();
    const commands = runtime.recording().resources.filter(r => r.type.startsWith("command:"));
    const total = commands.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r.inputs)), 0);
    return { average: Math.round(total / commands.length), commands: commands.length };
}

/** `pulumi up` of n command.local resources that run `true` with a stdin of `bytes`: wall time and state size. */
async function commandsUp(n: number, bytes: number, bin: string): Promise<{ upSeconds: number; stateKb: number }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runner-fleet-commands-${n}-`));
    try {
        const project = path.join(dir, "project");
        fs.mkdirSync(project);
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: commands-bench\nruntime: nodejs\nmain: index.js\n");
        fs.writeFileSync(path.join(project, "index.js"), [
            "const command = require(\"@pulumi/command\");",
            "const pad = \"x\".repeat(Number(process.env.BENCH_STDIN_BYTES));",
            `for (let i = 0; i < ${n}; i++) {`,
            "    new command.local.Command(`c${i}`, { create: \"true\", stdin: `${i} ${pad}`.slice(0, pad.length) });",
            "}",
            "",
        ].join("\n"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
        const pulumi = await benchStack(dir, project, bin, { BENCH_STDIN_BYTES: String(bytes) });
        const t0 = Date.now();
        await pulumi(["up", "--yes", "--skip-preview"]);
        const upSeconds = (Date.now() - t0) / 1000;
        const state = await pulumi(["stack", "export"]);
        return { upSeconds, stateKb: state.length / 1024 };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function commandsBench(n: number, bin: string): Promise<void> {
    const now = await commandInputBytes();
    console.log(`pulumi up of ${n} command.local steps that run \`true\` (engine ${bin}, node ${process.version}, ${os.cpus().length} cores)`);
    console.log("stdin per step                                                up (s)  state (KB)");
    for (const [label, bytes] of [
        ["60 KB: a fleet step before the scripts travelled once", 60 * 1024],
        [`${now.average} B: the example stack's ${now.commands} commands now, on average`, now.average],
    ] as const) {
        const r = await commandsUp(n, bytes, bin);
        console.log(`${label.padEnd(60)}  ${r.upSeconds.toFixed(1).padStart(6)}  ${r.stateKb.toFixed(0).padStart(10)}`);
    }
}

/** The project as it was at `rev`: its tracked files from git, the work tree's node_modules linked. */
function projectAt(rev: string, dest: string): void {
    fs.mkdirSync(dest, { recursive: true });
    execFileSync("sh", ["-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", ROOT, rev, dest]);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dest, "node_modules"));
}

async function main(): Promise<void> {
    const json = process.argv.includes("--json");
    const args = process.argv.slice(2).filter(a => a !== "--json");
    const b = args.indexOf("--before");
    const before = b >= 0 ? args.splice(b, 2)[1] : undefined;
    const c = args.indexOf("--commands");
    const commands = c >= 0 ? Number(args.splice(c, 2)[1]) : undefined;
    if (commands !== undefined) {
        if (!Number.isInteger(commands) || commands < 1) {
            throw new Error("--commands takes a whole number of steps");
        }
        const e = engine();
        if (!e.bin) {
            console.log(`engine benchmark skipped: the Pulumi engine cannot be had here:\n${e.why}`);
            return;
        }
        await commandsBench(commands, e.bin);
        return;
    }
    const sizes = args.length ? args.map(Number) : [1, 10, 25, 50];
    if (sizes.some(s => !Number.isInteger(s) || s < 1 || s > 60000)) {
        throw new Error(`sizes must be whole numbers of hosts, not ${args.join(" ")}`);
    }
    const why = hostSuitePossible();
    if (why) {
        console.log(`engine benchmark skipped: ${why}`);
        return;
    }
    const e = engine();
    if (!e.bin) {
        console.log(`engine benchmark skipped: the Pulumi engine cannot be had here:\n${e.why}`);
        return;
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-upbench-"));
    const hosts = new TestHosts();
    testhost("setup");
    testhost("build", "amd64");
    testhost("net");
    const standIn = hosts.boot("upbench", 1, "amd64");
    try {
        await hosts.waitForSsh(standIn);
        // The stack's own key, made now, never committed; the stand-in runs nothing for it.
        const { privateKey: stackKey, publicKey: stackPub, fingerprint } = stackKeyIn(work);
        await hosts.sh(standIn, `STACK_KEY='${stackPub}'\n${STAND_IN_SETUP}`);
        execFileSync("ip", ["route", "replace", "10.214.0.0/16", "via", standIn.address]);
        const hostKey = testhostKey(testhost("root", "amd64"));
        const versions: [string, string][] = [];
        if (before) {
            const old = path.join(work, "before");
            projectAt(before, old);
            versions.push([`before (${before})`, old]);
        }
        const now = path.join(work, "now");
        copyProjectFiles(now);
        const head = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
        versions.push([`now (${head}${execFileSync("git", ["-C", ROOT, "status", "--porcelain"], { encoding: "utf8" }).trim() ? "+" : ""})`, now]);
        const rows: Row[] = [];
        console.log(`pulumi up benchmark (engine ${e.bin}, node ${process.version}, ${os.cpus().length} cores), hosts: one test host's OpenSSH on as many addresses, running nothing`);
        console.log("version                 hosts   up (s)  s/host  state (KB)  KB/host  host KB/host  1st up SSH sessions  2nd up (s)  2nd up SSH sessions");
        for (const n of sizes) {
            for (const [version, root] of versions) {
                const r = await one(version, root, n, e.bin as string, hosts, standIn, { hostKey, stackKey, fingerprint });
                rows.push(r);
                console.log(`${r.version.padEnd(22)}  ${String(r.hosts).padStart(5)}  ${r.upSeconds.toFixed(1).padStart(7)}  ${r.perHostSeconds.toFixed(2).padStart(6)}  ` +
                    `${r.stateKb.toFixed(0).padStart(10)}  ${r.stateKbPerHost.toFixed(1).padStart(7)}  ${r.hostKbPerHost.toFixed(1).padStart(11)}  ` +
                    `${String(r.firstUpSessions).padStart(19)}  ` +
                    `${r.secondUpSeconds.toFixed(1).padStart(10)}  ${String(r.secondUpSessions).padStart(19)}`);
                console.log(`    largest in the state: ${r.largest}`);
                console.log(`    one host's resources in the state, KB by field: ${r.byField}`);
            }
        }
        if (json) {
            console.log(JSON.stringify(rows));
        }
    } finally {
        spawnSync("ip", ["route", "del", "10.214.0.0/16"]);
        hosts.downAll();
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch(err => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});

