// Benchmark of `pulumi up` under the real engine as the fleet grows: fleets
// of N existing actuated hosts with the mirror (every host step the fleet
// has: the scripts copy, ready, secrets, install, configure, mirror, and the
// agent-port probe where pulumi runs), whose hosts are one SSH stand-in that
// runs nothing (ssh-stand-in.ts), so what is measured is the engine's own
// work: its steps and the checkpoints the local backend writes after each.
// For each size it prints the first `up`'s wall time and time per host, the
// state's size per host, and the second `up` (nothing changed: its time and
// the commands the stand-in saw). `--before REV` runs the same sizes, side by
// side in the same run, with the project as it was at REV (git archive).
//
//   npm run bench:engine -- [--before REV] [sizes...]     (default: 1 10 25 50)
//
// Needs root (the stand-in listens on port 443 of loopback addresses, as the
// agent port probe expects) and the engine (scripts/e2e/engine.sh, with
// pulumi-language-nodejs and pulumi-resource-command on PATH or built); says
// why and exits 0 when it cannot run.

import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ROOT } from "../host/harness";
import { copyProjectFiles, engine, hostStateBytes } from "./harness";
import { SshStandIn } from "./ssh-stand-in";

const SSH_PORT = 2222;

/** Host i's address: a loopback address of its own (127.1.x.y), all answered by the stand-in. */
function address(i: number): string {
    return `127.1.${(i >> 8) & 255}.${(i & 255) + 1}`;
}

interface Row {
    version: string;
    hosts: number;
    upSeconds: number;
    perHostSeconds: number;
    stateKb: number;
    stateKbPerHost: number;
    hostKbPerHost: number;
    secondUpSeconds: number;
    secondUpCommands: number;
}

async function sh(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env });
        let out = "";
        let err = "";
        child.stdout.on("data", d => { out += d; });
        child.stderr.on("data", d => { err += d; });
        child.on("error", reject);
        child.on("close", code => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${(out + err).slice(-3000)}`))));
        child.stdin.end(opts.input ?? "");
    });
}

async function one(version: string, projectRoot: string, n: number, bin: string, standIn: SshStandIn, stackKey: string): Promise<Row> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runner-fleet-upbench-${n}-`));
    try {
        const project = path.join(dir, "project");
        fs.cpSync(projectRoot, project, { recursive: true, verbatimSymlinks: true });
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            PULUMI_HOME: path.join(dir, "home"),
            PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "bench-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        };
        fs.mkdirSync(path.join(dir, "state"));
        const pulumi = (args: string[], input?: string) => sh("pulumi", [...args, "--non-interactive"], { cwd: project, env, input });
        await pulumi(["login", env.PULUMI_BACKEND_URL as string]);
        await pulumi(["plugin", "install", "resource", "command", "1.2.1", "--file", path.join(bin, "pulumi-resource-command")]);
        await pulumi(["stack", "init", "bench"]);
        const config = {
            "runner-fleet:github": { org: "bench-org", manage: false },
            "runner-fleet:agent": { kind: "actuated" },
            "runner-fleet:hosts": Array.from({ length: n }, (_, i) => ({
                name: `bench-${i + 1}`, provider: "existing", address: address(i), port: SSH_PORT, arch: "amd64", kvm: true, hostKey: standIn.hostKey,
            })),
        };
        fs.writeFileSync(path.join(project, "Pulumi.bench.yaml"), YAML.stringify({ config }));
        for (const [key, value] of Object.entries({ sshPrivateKey: stackKey, actuatedLicense: "bench-licence", actuatedToken: "bench-token" })) {
            await pulumi(["config", "set", "--secret", key], value);
        }
        const t0 = Date.now();
        await pulumi(["up", "--yes", "--skip-preview"]);
        const upSeconds = (Date.now() - t0) / 1000;
        const state = await pulumi(["stack", "export"]);
        const names = Array.from({ length: n }, (_, i) => `bench-${i + 1}`);
        const perHost = hostStateBytes(state, names);
        const hostBytes = Object.values(perHost).reduce((s, b) => s + b.inputs + b.outputs, 0);
        const commandsBefore = standIn.counts.commands;
        const t1 = Date.now();
        await pulumi(["up", "--yes", "--skip-preview"]);
        const secondUpSeconds = (Date.now() - t1) / 1000;
        return {
            version, hosts: n, upSeconds, perHostSeconds: upSeconds / n,
            stateKb: state.length / 1024, stateKbPerHost: state.length / 1024 / n, hostKbPerHost: hostBytes / 1024 / n,
            secondUpSeconds, secondUpCommands: standIn.counts.commands - commandsBefore,
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The project as it was at `rev`: its tracked files from git, the work tree's node_modules linked. */
function projectAt(rev: string, dest: string): void {
    fs.mkdirSync(dest, { recursive: true });
    execFileSync("sh", ["-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", ROOT, rev, dest]);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dest, "node_modules"));
}

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    const b = args.indexOf("--before");
    const before = b >= 0 ? args.splice(b, 2)[1] : undefined;
    const sizes = args.length ? args.map(Number) : [1, 10, 25, 50];
    if (sizes.some(s => !Number.isInteger(s) || s < 1 || s > 60000)) {
        throw new Error(`sizes must be whole numbers of hosts, not ${args.join(" ")}`);
    }
    if (process.getuid?.() !== 0) {
        console.log("engine benchmark skipped: it needs root (the stand-in answers the agent port, 443, on loopback addresses)");
        return;
    }
    const e = engine();
    if (!e.bin) {
        console.log(`engine benchmark skipped: the Pulumi engine cannot be had here:\n${e.why}`);
        return;
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-upbench-"));
    const standIn = await (async () => {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "stand-in", "-f", path.join(work, "host_key")]);
        const s = new SshStandIn(path.join(work, "host_key"));
        await s.listen(SSH_PORT, 443);
        return s;
    })();
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", path.join(work, "stack_key")]);
        const stackKey = fs.readFileSync(path.join(work, "stack_key"), "utf8");
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
        console.log(`pulumi up benchmark (engine ${e.bin}, node ${process.version}, ${os.cpus().length} cores), hosts: one SSH stand-in that runs nothing`);
        console.log("version                 hosts   up (s)  s/host  state (KB)  KB/host  host KB/host  2nd up (s)  2nd up commands");
        for (const n of sizes) {
            for (const [version, root] of versions) {
                const r = await one(version, root, n, e.bin, standIn, stackKey);
                rows.push(r);
                console.log(`${r.version.padEnd(22)}  ${String(r.hosts).padStart(5)}  ${r.upSeconds.toFixed(1).padStart(7)}  ${r.perHostSeconds.toFixed(2).padStart(6)}  ` +
                    `${r.stateKb.toFixed(0).padStart(10)}  ${r.stateKbPerHost.toFixed(1).padStart(7)}  ${r.hostKbPerHost.toFixed(1).padStart(11)}  ` +
                    `${r.secondUpSeconds.toFixed(1).padStart(10)}  ${String(r.secondUpCommands).padStart(15)}`);
            }
        }
        console.log(`stand-in totals: ${standIn.counts.connections} SSH connections, ${standIn.counts.commands} commands, ` +
            `${(standIn.counts.stdinBytes / 1024).toFixed(0)} KB of stdin, ${standIn.counts.sftpFiles} files (${(standIn.counts.sftpBytes / 1024).toFixed(0)} KB) over SFTP`);
        if (process.argv.includes("--json")) {
            console.log(JSON.stringify(rows));
        }
    } finally {
        await standIn.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch(err => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});

