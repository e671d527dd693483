// The drift check's real world: stacks through the Pulumi Automation API
// (the CLI does the work), hosts through the OpenSSH client.

import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { EngineEvent, LocalWorkspace } from "@pulumi/pulumi/automation";
import { readDriftTarget } from "../../components/remote/drift-contract";
import { GithubSchema } from "../../components/spec/settings";
import { CloudChange, HostRunner, HostTarget, RunResult, StackSource } from "./drift";

/** Stacks of the project in `workDir`, through the Pulumi CLI. */
export class PulumiStackSource implements StackSource {
    private readonly project: string;

    constructor(private readonly workDir: string) {
        const file = path.join(workDir, "Pulumi.yaml");
        this.project = String((YAML.parse(fs.readFileSync(file, "utf8")) ?? {}).name ?? "");
    }

    async listStacks(): Promise<string[]> {
        const ws = await LocalWorkspace.create({ workDir: this.workDir });
        return (await ws.listStacks()).map(s => s.name);
    }

    private select(stack: string) {
        return LocalWorkspace.selectStack({ stackName: stack, workDir: this.workDir });
    }

    async refreshPreview(stack: string): Promise<CloudChange[]> {
        const s = await this.select(stack);
        const changes = new Map<string, CloudChange>();
        const note = (e: EngineEvent) => {
            const m = e.resourcePreEvent?.metadata ?? e.resOutputsEvent?.metadata;
            // Only custom resources exist outside to drift: a component (whose outputs the program's run sets
            // again, refresh --run-program reports them as updates with no diff) and the providers are the program's.
            const custom = (m?.new ?? m?.old)?.custom ?? Boolean(m?.provider);
            if (!m || m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:") || !custom) {
                return;
            }
            const diffs = m.diffs ?? [];
            const changed = (m.op !== "same" && m.op !== "refresh" && m.op !== "read") || diffs.length > 0;
            if (changed) {
                changes.set(m.urn, { urn: m.urn, type: m.type, op: m.op === "refresh" ? "update" : m.op, diffs });
            }
        };
        // The program runs (refresh --run-program): providers are configured from it, so from the credentials
        // of the environment the check runs in. Without it the engine configures them from the state, where
        // an explicit provider keeps the token it was given at up, GITHUB_TOKEN included (the bridge stores
        // environment defaults as inputs: pulumi/pulumi-github#203): a short-lived or rotated token then
        // failed every check.
        await s.previewRefresh({ onEvent: note, runProgram: true });
        return [...changes.values()];
    }

    /** The stack's GitHub organization: its runner-fleet:github.org (under the project's own name or runner-fleet's). */
    async org(stack: string): Promise<string | undefined> {
        const config = await (await this.select(stack)).getAllConfig();
        for (const key of [`${this.project}:github`, "runner-fleet:github"]) {
            const raw = config[key]?.value;
            // Read through the setting's own declaration, as the program reads it.
            const parsed = raw ? GithubSchema.safeParse(JSON.parse(raw)) : undefined;
            if (parsed?.success) {
                return parsed.data.org;
            }
        }
        return undefined;
    }

    async hosts(stack: string): Promise<HostTarget[]> {
        const s = await this.select(stack);
        const outputs = await s.outputs();
        const drift = outputs.drift?.value as Record<string, Record<string, unknown>> | undefined;
        if (!drift) {
            throw new Error(`stack ${stack} has no "drift" output; run pulumi up with this version of runner-fleet first`);
        }
        const config = await s.getAllConfig();
        return Object.entries(drift).map(([name, raw]) => {
            const t = readDriftTarget(raw);
            const key = config[`${this.project}:${t.privateKeySecret}`]?.value;
            if (!key) {
                throw new Error(`missing credentials: the secret ${t.privateKeySecret} of stack ${stack} is not set or cannot be decrypted (PULUMI_CONFIG_PASSPHRASE?)`);
            }
            return { ...t, name, privateKey: key };
        });
    }
}

/** Runs commands over SSH with the OpenSSH client; the key goes to a 0600 file for the one call. */
export class OpenSshRunner implements HostRunner {
    constructor(private readonly ssh = "ssh") {}

    /** Runs a shell command (its text on stdin) on the host. */
    run(t: HostTarget, command: string, timeoutMs: number): Promise<RunResult> {
        return this.exec(t, "sh -s", command, timeoutMs);
    }

    /**
     * Runs `command` as the session's command with `stdin` piped to it, the
     * way the command provider runs a remote command.
     */
    async exec(t: Pick<HostTarget, "address" | "user" | "port" | "hostKey" | "privateKey">, command: string, stdin: string, timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-ssh-"));
        try {
            const key = path.join(dir, "key");
            fs.writeFileSync(key, t.privateKey.endsWith("\n") ? t.privateKey : `${t.privateKey}\n`, { mode: 0o600 });
            const knownHosts = path.join(dir, "known_hosts");
            const hostPattern = t.port === 22 ? t.address : `[${t.address}]:${t.port}`;
            fs.writeFileSync(knownHosts, t.hostKey ? `${hostPattern} ${t.hostKey}\n` : "", { mode: 0o600 });
            const args = [
                "-i", key, "-p", String(t.port),
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
                "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "GlobalKnownHostsFile=/dev/null",
                // A pinned key is enforced; without one, the first key seen is taken for this call only.
                "-o", `StrictHostKeyChecking=${t.hostKey ? "yes" : "accept-new"}`,
                "-o", `ConnectTimeout=${Math.max(1, Math.min(30, Math.floor(timeoutMs / 2000)))}`,
                `${t.user}@${t.address}`, command,
            ];
            return await new Promise<RunResult>((resolve, reject) => {
                const child = spawn(this.ssh, args, { stdio: ["pipe", "pipe", "pipe"] });
                let stdout = "";
                let stderr = "";
                let timedOut = false;
                const timer = setTimeout(() => {
                    timedOut = true;
                    child.kill("SIGKILL");
                }, timeoutMs);
                signal?.addEventListener("abort", () => child.kill("SIGKILL"));
                child.stdout.on("data", d => { stdout += d; });
                child.stderr.on("data", d => { stderr += d; });
                child.stdin.on("error", () => { /* the far end may close early */ });
                child.on("error", e => {
                    clearTimeout(timer);
                    reject(e);
                });
                child.on("close", code => {
                    clearTimeout(timer);
                    resolve({ code, stdout, stderr, timedOut });
                });
                child.stdin.end(stdin);
            });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
}
