// The host suite's harness: test hosts (scripts/e2e/testhost.sh), SSH to them
// with the same contract the command provider uses (the command as the
// session's command, stdin piped), and the commands the components render.

import { execFileSync, spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ExistingHost, HostMetrics, RegistryMirror, RunnerAgent, RunnerAgentArgs, RegistryMirrorArgs } from "../../components";
import { OpenSshRunner } from "../../scripts/lib/drift-io";
import { RunResult } from "../../scripts/lib/drift";
import { RecordedResource } from "../../components/testing/mock-runtime";
import { REPO_ROOT, record } from "../harness";
import { HOST_SCRIPT_DIR, hostScriptsHash, scriptHash } from "../../components/remote/remote-script";

export const ROOT = REPO_ROOT;
const TESTHOST = path.join(ROOT, "scripts", "e2e", "testhost.sh");

export function testhost(...args: string[]): string {
    return execFileSync("bash", [TESTHOST, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/**
 * What the scripts install on a minimal host, served from the bridge: sudo for actuated's installer, ICU for the runner's .NET,
 * Prometheus's node exporter for the fleet's metrics.
 */
export const APT_PACKAGES = ["sudo", "libicu72", "libkrb5-3", "prometheus-node-exporter"];

/**
 * What the amd64 runner host has besides, as a server with containers has them: Docker and containerd
 * (Debian's); what rootless Docker needs, which the install takes from there (rootlesskit, uidmap,
 * slirp4netns); busybox-static, which the world turns into the image the suite's container jobs run.
 */
export const CLIENT_PACKAGES = ["docker.io", "containerd", "rootlesskit", "uidmap", "slirp4netns", "busybox-static"];

/** The local apt repositories the test world serves on the bridge, per arch (testhost.sh apt-repo). */
export function aptRepos(...arches: ("amd64" | "arm64")[]): Record<string, string> {
    return Object.fromEntries(arches.map(a => [a, testhost("apt-repo", a, ...APT_PACKAGES, ...(a === "amd64" ? CLIENT_PACKAGES : []))]));
}

/** Whether this machine can run the suite, and why not. */
export function hostSuitePossible(): string | undefined {
    if (process.getuid?.() !== 0) {
        return "the host suite needs root (network namespaces, systemd-nspawn)";
    }
    if (process.platform !== "linux") {
        return "the host suite needs Linux";
    }
    const probe = spawnSync("ip", ["netns", "list"]);
    if (probe.error || probe.status !== 0) {
        return "cannot manage network namespaces here (ip netns)";
    }
    return undefined;
}

export interface Host {
    readonly name: string;
    readonly address: string;
    readonly arch: "amd64" | "arm64";
}

export class TestHosts {
    public readonly keyFile: string;
    public readonly privateKey: string;
    private readonly ssh = new OpenSshRunner();
    private readonly up: Host[] = [];

    constructor() {
        // A key made for this run; no key is ever committed.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-keys-"));
        this.keyFile = path.join(dir, "id_ed25519");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "runner-fleet-host-suite", "-f", this.keyFile]);
        this.privateKey = fs.readFileSync(this.keyFile, "utf8");
    }

    /** Boots a host; with `keep`, its disk outlives a reboot (testhost.sh up ... keep). */
    boot(name: string, index: number, arch: "amd64" | "arm64", keep = false): Host {
        const address = testhost("up", name, String(index), arch, `${this.keyFile}.pub`, ...(keep ? ["keep"] : [])).split("\n").pop() as string;
        const host = { name, address, arch };
        this.up.push(host);
        return host;
    }

    async waitForSsh(host: Host, timeoutMs = 120_000): Promise<void> {
        const until = Date.now() + timeoutMs;
        for (;;) {
            const r = await this.exec(host, "systemctl is-system-running --wait >/dev/null 2>&1; true", "", 30_000).catch(() => undefined);
            if (r && r.code === 0) {
                return;
            }
            if (Date.now() > until) {
                throw new Error(`test host ${host.name} did not answer SSH within ${timeoutMs / 1000}s`);
            }
            await new Promise(r2 => setTimeout(r2, 1000));
        }
    }

    exec(host: Host, command: string, stdin = "", timeoutMs = 300_000, signal?: AbortSignal): Promise<RunResult> {
        return this.ssh.exec({
            address: host.address, user: "root", port: 22, hostKey: null, privateKey: this.privateKey,
        }, command, stdin, timeoutMs, signal);
    }

    /** Runs a shell snippet and returns its stdout, failing on a non-zero exit. */
    async sh(host: Host, script: string): Promise<string> {
        const r = await this.exec(host, "bash -s", script, 120_000);
        if (r.code !== 0) {
            throw new Error(`on ${host.name}: exit ${r.code}: ${r.stderr}`);
        }
        return r.stdout;
    }

    downAll(): void {
        for (const h of this.up.splice(0)) {
            spawnSync("bash", [TESTHOST, "down", h.name], { stdio: "ignore" });
        }
        spawnSync("bash", [TESTHOST, "down-all"], { stdio: "ignore" });
    }
}

/** A remote command as the component declared it (or the scripts copy: `copy`). */
export interface RenderedCommand {
    readonly name: string;
    /** A command:remote:CopyToRemote: the local folder it sends and where to. */
    readonly copy?: { readonly source: string; readonly remotePath: string };
    readonly create: string;
    readonly delete: string;
    readonly stdin: string;
    /** Local commands (run where pulumi runs): their environment. */
    readonly environment: Record<string, string>;
    readonly local: boolean;
}

function rendered(r: RecordedResource): RenderedCommand {
    const source = (r.inputs.source ?? {}) as { fileArchive?: string };
    return {
        ...(r.type === "command:remote:CopyToRemote" ? {
            copy: { source: String(source.fileArchive).replace(/^<runner-fleet>/, ROOT), remotePath: String(r.inputs.remotePath) },
        } : {}),
        name: r.name,
        create: String(r.inputs.create ?? ""),
        delete: String(r.inputs.delete ?? ""),
        stdin: String(r.inputs.stdin ?? ""),
        environment: (r.inputs.environment ?? {}) as Record<string, string>,
        local: r.type === "command:local:Command",
    };
}

/** Distinctive fake secrets for one run. */
export function runSecrets() {
    const tag = randomBytes(6).toString("hex");
    return {
        adminToken: `fake-admin-token-${tag}`,
        actuatedToken: `fake-actuated-token-${tag}`,
        actuatedLicense: `fake-actuated-licence-${tag}`,
        registryUser: "hubuser",
        registryPassword: `fake-hub-password-${tag}`,
    };
}

/**
 * The commands RunnerAgent and RegistryMirror render for a host, evaluated
 * under the mock runtime exactly as `pulumi up` would evaluate them.
 */
export async function renderHost(
    host: Host, privateKey: string, agent: Omit<RunnerAgentArgs, "host">, mirror?: Omit<RegistryMirrorArgs, "host">,
    metrics?: { bindAddress: string },
): Promise<Record<string, RenderedCommand>> {
    const { resources } = await record(() => {
        const h = new ExistingHost(host.name, {
            address: host.address, arch: host.arch, kvm: agent.kind === "actuated", privateKey: pulumi.secret(privateKey),
        });
        const a = new RunnerAgent(`${host.name}-agent`, { ...agent, host: h });
        const m = mirror ? new RegistryMirror(`${host.name}-mirror`, { ...mirror, host: h, after: [a.install] }) : undefined;
        if (metrics) {
            new HostMetrics(`${host.name}-metrics`, {
                host: h, agent: agent.kind, bindAddress: metrics.bindAddress, mirrorMode: mirror?.mode,
                mirrorBind: mirror?.mode === "registry" ? mirror.bindAddress : undefined, after: [a.install, ...(m ? [m.configure] : [])],
            });
        }
    });
    const out: Record<string, RenderedCommand> = {};
    for (const r of resources.filter(x => ["command:remote:Command", "command:local:Command", "command:remote:CopyToRemote"].includes(x.type))) {
        out[r.name.slice(host.name.length + 1)] = rendered(r);
    }
    return out;
}

/**
 * The scripts copy as the command provider performs it (pulumi-command
 * provider/pkg/provider/remote/copyController.go): as the login user, a
 * folder named without a trailing slash lands in <remotePath>/<its name>,
 * relative paths under the user's home (SFTP), parents made, files
 * overwritten, nothing removed. Here over the same SSH, by tar.
 */
export async function copyToRemote(hosts: TestHosts, host: Host, cmd: RenderedCommand): Promise<void> {
    if (!cmd.copy) {
        throw new Error(`${cmd.name} is not a copy`);
    }
    const { source, remotePath } = cmd.copy;
    const tar = execFileSync("tar", ["-C", path.dirname(source), "-cf", "-", path.basename(source)]);
    const dest = remotePath.startsWith("/") ? remotePath : `"$HOME"/${remotePath}`;
    const r = await hosts.exec(host, `set -e; mkdir -p ${dest}; base64 -d | tar -C ${dest} --no-same-owner -xf -`, tar.toString("base64"), 120_000);
    if (r.code !== 0) {
        throw new Error(`copying ${source} to ${host.name}:${remotePath} failed: ${r.stderr}`);
    }
}

/** A host step's script and settings, read back from the line that runs it (`exec $r env K='v' ... /usr/local/lib/runner-fleet/x.sh`). */
export function runLineOf(text: string): { script: string; env: Record<string, string> } | undefined {
    const m = new RegExp(`exec \\$r env (.*?) ?${HOST_SCRIPT_DIR.replace(/[/.]/g, "\\$&")}/([a-z0-9-]+\\.sh)$`, "m").exec(text);
    if (!m) {
        return undefined;
    }
    const env: Record<string, string> = {};
    for (const a of m[1].matchAll(/([A-Z][A-Z0-9_]*)='((?:[^']|'"'"')*)'/g)) {
        env[a[1]] = a[2].replace(/'"'"'/g, "'");
    }
    return { script: m[2], env };
}

/**
 * What the runner-fleet of commit `rev` (a version with the scripts copy) left on a host with the same settings:
 * its scripts folder (to copy, then its ready step, which checks the folder's hash and installs it) and each
 * step's run line with the settings hash that version gave it (`trigger`; `newTrigger` is this version's). At an
 * upgrade pulumi replaces a step whose trigger changed: the delete side the state holds runs first (the same
 * run line as now, so the scripts the new ready step installed), then the new create; a step whose run line did
 * not change does not run.
 */
export function previousVersion(rev: string, cmds: Record<string, RenderedCommand>, steps: readonly string[]): {
    scripts: RenderedCommand; ready: string; steps: Record<string, { create: string; trigger: string; newTrigger: string }>;
} {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-previous-"));
    execFileSync("sh", ["-c", `git -C "$1" archive "$2" scripts/host | tar -x -C "$3"`, "sh", ROOT, rev, dir]);
    const folder = path.join(dir, "scripts", "host");
    const source = (name: string) => fs.readFileSync(path.join(folder, name), "utf8");
    const files = fs.readdirSync(folder).sort().map(name => ({ name, text: source(name) }));
    const copy = cmds.scripts.copy as { source: string; remotePath: string };
    const out: Record<string, { create: string; trigger: string; newTrigger: string }> = {};
    for (const step of steps) {
        const line = runLineOf(cmds[step].create);
        if (!line) {
            throw new Error(`${step}: no run line in its command`);
        }
        const { SETTINGS_HASH: newTrigger, ...settings } = line.env;
        const trigger = scriptHash(line.script, settings, source);
        out[step] = { create: cmds[step].create.replace(newTrigger, trigger), trigger, newTrigger };
    }
    return {
        scripts: { ...cmds.scripts, copy: { ...copy, source: folder } },
        ready: cmds.ready.create.replace(hostScriptsHash(), hostScriptsHash(files)),
        steps: out,
    };
}

/** The figures a suite prints as it goes and once more at the end. */
export class Figures {
    private readonly lines: string[] = [];

    add(line: string): void {
        this.lines.push(line);
        console.log(`      ${line}`);
    }

    print(title: string): void {
        console.log(`\n      ${title}:`);
        for (const l of this.lines) {
            console.log(`        ${l}`);
        }
    }
}

/** Waits until `cond` holds (it may be async), failing after `timeoutMs` with what was awaited. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 180_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await cond())) {
        if (Date.now() > until) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise(r => setTimeout(r, 250));
    }
}

/** sha256 of a file, hex: what a release archive is pinned by. */
export function sha256File(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}
