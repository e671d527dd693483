// What the engine suite and the engine benchmark share: the engine (the
// Pulumi CLI and the plugins scripts/e2e/engine.sh finds or builds), a
// project made of the repository's files, and what an exported state holds
// per host.

import { execFileSync, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Figures, Host, ROOT, TestHosts, aptRepos, runSecrets, testhost } from "../host/harness";
import { World } from "../host/world";

/** The engine, from scripts/e2e/engine.sh: its bin folder, or why it cannot be had. */
export function engine(): { bin?: string; why?: string; seconds: number } {
    const t0 = Date.now();
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "e2e", "engine.sh")], { encoding: "utf8" });
    const seconds = (Date.now() - t0) / 1000;
    if (r.status === 0) {
        return { bin: r.stdout.trim().split("\n").pop(), seconds };
    }
    return { why: r.stderr.trim(), seconds };
}

interface ExportedResource {
    urn: string;
    inputs?: unknown;
    outputs?: unknown;
    custom?: boolean;
}

function exportedResources(exported: string): ExportedResource[] {
    return (JSON.parse(exported).deployment.resources ?? []) as ExportedResource[];
}

/** A value's bytes in the state, secret values (ciphertext) left out. */
function size(v: unknown): number {
    const plain = (x: unknown): unknown => {
        if (Array.isArray(x)) {
            return x.map(plain);
        }
        if (x && typeof x === "object") {
            const o = x as Record<string, unknown>;
            return "ciphertext" in o ? null : Object.fromEntries(Object.entries(o).map(([k, y]) => [k, plain(y)]));
        }
        return x;
    };
    return v === undefined ? 0 : Buffer.byteLength(JSON.stringify(plain(v)));
}

/** The bytes of one resource's inputs and outputs in an exported state, by its name, secret values left out. */
export function fleetStateBytes(exported: string, name: string): number {
    const r = exportedResources(exported).find(x => x.urn.split("::").pop() === name);
    return r ? size(r.inputs) + size(r.outputs) : 0;
}

/**
 * Per host, the bytes of its resources' inputs and outputs in an exported
 * state (`pulumi stack export`), secret values (ciphertext) left out: what
 * every checkpoint write of a self-managed backend carries for it.
 */
export function hostStateBytes(exported: string, hosts: readonly string[]): Record<string, { inputs: number; outputs: number; resources: number; byResource: [string, number][] }> {
    const resources = exportedResources(exported);
    const out: Record<string, { inputs: number; outputs: number; resources: number; byResource: [string, number][] }> = {};
    for (const h of hosts) {
        const prefix = `fleet-${h}-`;
        const own = resources.filter(r => r.custom && r.urn.split("::").pop()?.startsWith(prefix));
        out[h] = {
            inputs: own.reduce((n, r) => n + size(r.inputs), 0), outputs: own.reduce((n, r) => n + size(r.outputs), 0), resources: own.length,
            // Largest first: inputs and outputs of each, by its name in the host.
            byResource: own.map((r): [string, number] => [(r.urn.split("::").pop() as string).slice(prefix.length), size(r.inputs) + size(r.outputs)])
                .sort((a, b) => b[1] - a[1]),
        };
    }
    return out;
}

/** Copies the repository's tracked files (as they are in the work tree) into `dest`, and links its node_modules. */
export function copyProjectFiles(dest: string, root = ROOT): void {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const f of files) {
        const from = path.join(root, f);
        if (fs.existsSync(from)) {
            fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
            fs.copyFileSync(from, path.join(dest, f));
        }
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dest, "node_modules"));
}


/**
 * The Pulumi CLI in a project folder: runs without blocking (the test worlds
 * answer the hosts and the providers from this same process) and keeps all
 * it printed, for the secrets checks.
 */
export class PulumiCli {
    public readonly output: string[] = [];

    constructor(public readonly cwd: string, public env: NodeJS.ProcessEnv = {}) {}

    run(command: string, args: string[], input = ""): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve, reject) => {
            const child = spawn(command, args, { cwd: this.cwd, env: this.env });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", d => { stdout += d; });
            child.stderr.on("data", d => { stderr += d; });
            child.on("error", reject);
            child.on("close", code => {
                this.output.push(stdout, stderr);
                resolve({ code: code ?? -1, stdout, stderr });
            });
            child.stdin.end(input);
        });
    }

    async pulumi(args: string[], input?: string, okCodes = [0]): Promise<{ code: number; out: string; stdout: string }> {
        const r = await this.run("pulumi", [...args, "--non-interactive"], input);
        const out = `${r.stdout}${r.stderr}`;
        if (!okCodes.includes(r.code)) {
            throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${out.slice(-4000)}`);
        }
        return { code: r.code, out, stdout: r.stdout };
    }
}

/** The engine's environment for a project under `dir`: the engine first on PATH, a local backend in dir/state, no plugin downloads. */
export function engineEnv(bin: string, dir: string, passphrase: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    fs.mkdirSync(path.join(dir, "state"), { recursive: true });
    return {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        PULUMI_HOME: path.join(dir, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        ...extra,
    };
}

/** A stack's own SSH key, made now in `dir` (never committed): the private key, the public line and its fingerprint. */
export function stackKeyIn(dir: string): { privateKey: string; publicKey: string; fingerprint: string } {
    const file = path.join(dir, "stack_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "runner-fleet-engine-suite", "-f", file]);
    return {
        privateKey: fs.readFileSync(file, "utf8"),
        publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim(),
        fingerprint: execFileSync("ssh-keygen", ["-lf", `${file}.pub`], { encoding: "utf8" }).split(" ")[1],
    };
}

/** SSH sessions a key (by fingerprint) opened as root on a host (sshd logs each key's fingerprint). */
export async function keySessions(hosts: TestHosts, host: Host, fingerprint: string): Promise<number> {
    const out = await hosts.sh(host, `journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey for root .* ${fingerprint}' || true`);
    return Number(out.trim());
}

/** The host key of the test hosts' root (every test host boots from it). */
export function testhostKey(root: string): string {
    return fs.readFileSync(path.join(root, "etc/ssh/ssh_host_ed25519_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
}

/** Lets a stack's key in as root on a test host besides the suite's own (sshd's AuthorizedKeysFile). */
export async function authorizeStackKey(hosts: TestHosts, host: Host, publicKey: string): Promise<void> {
    await hosts.sh(host, `mkdir -p /etc/ssh/sshd_config.d; printf 'AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/stack_keys\\n' > /etc/ssh/sshd_config.d/stack.conf; ` +
        `printf '%s\\n' '${publicKey}' > /etc/ssh/stack_keys; systemctl reload ssh`);
}

/** Runs `fn` and adds its wall time, labelled, to the figures. */
export async function timedFigure<T>(figure: (line: string) => void, label: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    const v = await fn();
    figure(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return v;
}

/**
 * What an engine suite over the test hosts is made of: its figures, the run's
 * fake secrets, the outside world, the test hosts, a scratch folder (it will
 * hold the stack's key and state) and the stack's passphrase. `start` (in a
 * `before`) finds the engine and readies the amd64 test hosts' image, network
 * and the world; `stop` (in an `after`) takes them down, removes the folder
 * and prints the figures.
 */
export function engineSuite(name: string, title: string) {
    const figures = new Figures();
    const figure = (line: string) => figures.add(line);
    const secrets = runSecrets();
    const world = new World(secrets);
    const hosts = new TestHosts();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runner-fleet-${name}-`));
    const passphrase = `fake-passphrase-${randomBytes(6).toString("hex")}`;
    return {
        figure, secrets, world, hosts, dir, passphrase,
        timed: <T>(label: string, fn: () => Promise<T>) => timedFigure(figure, label, fn),
        /** The engine's bin folder, once the test hosts and the world are up. */
        async start(): Promise<string> {
            const e = engine();
            if (!e.bin) {
                throw new Error(`the Pulumi engine cannot be had here:\n${e.why}`);
            }
            testhost("down-all");
            testhost("setup");
            testhost("build", "amd64");
            testhost("net");
            world.aptRepos = aptRepos("amd64");
            await world.start();
            return e.bin;
        },
        async stop(): Promise<void> {
            hosts.downAll();
            await world.stop();
            fs.rmSync(dir, { recursive: true, force: true });
            figures.print(title);
        },
    };
}

/** Where `bin` is on PATH, if it is: the plugins and language hosts built outside the repository. */
export function onPath(bin: string): string | undefined {
    const r = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" });
    return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}
