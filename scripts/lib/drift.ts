// The drift check's logic: for each stack, does the cloud still match the
// state (a refresh preview that changes nothing), and does each host still run
// what the stack installed (check.sh over SSH)? The workspace and the SSH
// runner are passed in, so this runs against fakes in tests and against the
// Pulumi Automation API and OpenSSH for real (drift-io.ts).

import { DriftTarget, checkEnvironment } from "../../components/remote/drift-contract";
import { runnerStanding } from "../../components/spec/catalog";
import { renderTransientCommand } from "../../components/remote/remote-script";

/** Exit status of the drift check. */
export const EXIT = { clean: 0, drift: 1, error: 2 } as const;

export interface CloudChange {
    readonly urn: string;
    readonly type: string;
    /** What a refresh would do: update, delete (gone from the cloud), ... */
    readonly op: string;
    /** Properties that differ. */
    readonly diffs: readonly string[];
}

/** A host to check, with the secret it needs to log in. */
export interface HostTarget extends DriftTarget {
    readonly name: string;
    readonly privateKey: string;
}

export interface StackSource {
    /** Every stack of the project. */
    listStacks(): Promise<string[]>;
    /** What a refresh would change, without changing anything. Throws for an unknown stack or missing credentials. */
    refreshPreview(stack: string): Promise<CloudChange[]>;
    /** The hosts to check, from the stack's outputs and config. Throws when a key cannot be read. */
    hosts(stack: string): Promise<HostTarget[]>;
}

export interface RunResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly timedOut: boolean;
}

export interface HostRunner {
    /** Runs a shell command on the host, its text on stdin. */
    run(target: HostTarget, command: string, timeoutMs: number): Promise<RunResult>;
}

export interface CheckResult {
    readonly check: string;
    readonly ok: boolean;
    readonly detail: string;
    /** Figures beside the detail: the mirror-cache check's hits and misses. */
    readonly figures?: MirrorCacheFigures;
}

/** The mirror's own counts since it started (check.sh, from the registry's expvar page). */
export interface MirrorCacheFigures {
    readonly since: string;
    readonly blobs: { readonly requests: number; readonly hits: number; readonly misses: number };
    readonly manifests: { readonly requests: number; readonly hits: number; readonly misses: number };
    /** Blob requests answered from the cache, 0 to 1; null before the first. */
    readonly hitRatio: number | null;
}

export type Status = "ok" | "drift" | "error";

export interface HostReport {
    readonly host: string;
    readonly address: string;
    readonly status: Status;
    readonly checks: readonly CheckResult[];
    /** The mirror's hits and misses since it started, where the host runs runner-fleet's mirror. */
    readonly mirror?: MirrorCacheFigures;
    readonly error?: string;
}

export interface StackReport {
    readonly stack: string;
    readonly status: Status;
    readonly cloud: { readonly status: Status; readonly changes: readonly CloudChange[]; readonly error?: string };
    readonly hosts: readonly HostReport[];
    readonly error?: string;
}

export interface DriftReport {
    readonly status: Status;
    readonly exitCode: number;
    readonly stacks: readonly StackReport[];
}

export interface DriftOptions {
    /** Stacks to check; all of the project's when empty. */
    readonly stacks?: readonly string[];
    /** Stacks and hosts checked at once. Default 4. */
    readonly concurrency?: number;
    /** Time one host's check may take. Default 60 s. */
    readonly hostTimeoutMs?: number;
}

/** Runs fn over items with at most `limit` at once, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return results;
}

function worst(statuses: readonly Status[]): Status {
    return statuses.includes("error") ? "error" : statuses.includes("drift") ? "drift" : "ok";
}

/** The command that runs check.sh on a host, from a temporary folder it removes. */
export function checkCommand(t: DriftTarget): string {
    return renderTransientCommand("check.sh", checkEnvironment(t));
}

function counts(v: unknown): { requests: number; hits: number; misses: number } | undefined {
    const o = v as Record<string, unknown> | undefined;
    const n = (k: string) => (typeof o?.[k] === "number" && Number.isFinite(o[k]) ? o[k] as number : undefined);
    const requests = n("requests"), hits = n("hits"), misses = n("misses");
    return requests === undefined || hits === undefined || misses === undefined ? undefined : { requests, hits, misses };
}

/** The mirror-cache figures of a check.sh line, when they are whole. */
function mirrorFigures(v: unknown): MirrorCacheFigures | undefined {
    const o = v as Record<string, unknown> | undefined;
    const blobs = counts(o?.blobs), manifests = counts(o?.manifests);
    if (!blobs || !manifests) {
        return undefined;
    }
    return {
        since: String(o?.since ?? ""), blobs, manifests,
        hitRatio: blobs.requests > 0 ? blobs.hits / blobs.requests : null,
    };
}

/** check.sh's JSON lines. */
export function parseChecks(stdout: string): CheckResult[] {
    const out: CheckResult[] = [];
    for (const line of stdout.split("\n")) {
        const text = line.trim();
        if (!text.startsWith("{")) {
            continue;
        }
        try {
            const v = JSON.parse(text) as CheckResult;
            if (typeof v.check === "string" && typeof v.ok === "boolean") {
                const figures = mirrorFigures(v.figures);
                out.push({ check: v.check, ok: v.ok, detail: String(v.detail ?? ""), ...(figures ? { figures } : {}) });
            }
        } catch {
            // not one of check.sh's lines
        }
    }
    return out;
}

/**
 * check.sh reports each runner's installed version (runner-version-N); this
 * judges it against the releases the catalog knows: older than the newest is
 * drift, with the days GitHub still sends it jobs.
 */
export function judgeRunnerVersions(checks: readonly CheckResult[], today: Date): CheckResult[] {
    return checks.map(c => {
        const version = c.detail;
        if (!/^runner-version-\d+$/.test(c.check) || !/^\d+\.\d+\.\d+$/.test(version)) {
            return c;
        }
        const s = runnerStanding(version, today);
        if (!s.outdated) {
            return { ...c, ok: true, detail: `${version}, the newest release known (${s.newest.version}, ${s.newest.date})` };
        }
        const left = s.daysLeft === null ? "" : s.daysLeft >= 0
            ? `; GitHub stops sending it jobs in ${s.daysLeft} day(s) unless it updates`
            : `; GitHub stopped sending it jobs ${-s.daysLeft} day(s) ago`;
        return { ...c, ok: false, detail: `${version} is older than ${s.newest.version} (${s.newest.date})${left}` };
    });
}

/** Never lets a secret through into a report: hides each value that appears. */
export function scrub(text: string, secrets: readonly string[]): string {
    let out = text;
    for (const s of secrets) {
        if (s.length >= 6) {
            out = out.split(s).join("[secret]");
        }
    }
    return out;
}

export async function checkHost(t: HostTarget, runner: HostRunner, timeoutMs: number): Promise<HostReport> {
    const base = { host: t.name, address: t.address };
    let r: RunResult;
    try {
        r = await runner.run(t, checkCommand(t), timeoutMs);
    } catch (e) {
        return { ...base, status: "error", checks: [], error: scrub(`could not run the check: ${(e as Error).message}`, [t.privateKey]) };
    }
    if (r.timedOut) {
        return { ...base, status: "error", checks: [], error: `no answer within ${Math.round(timeoutMs / 1000)}s` };
    }
    const checks = judgeRunnerVersions(parseChecks(r.stdout), new Date());
    const mirror = checks.find(c => c.check === "mirror-cache")?.figures;
    const withMirror = { ...base, ...(mirror ? { mirror } : {}) };
    if (checks.every(c => c.ok) && r.code === 0) {
        return { ...withMirror, status: "ok", checks };
    }
    if (r.code === 3 || r.code === 0 || (checks.length > 0 && checks.some(c => !c.ok))) {
        return { ...withMirror, status: "drift", checks };
    }
    const why = (r.stderr.trim().split("\n").pop() ?? "").slice(0, 300);
    return {
        ...withMirror, status: "error", checks,
        error: scrub(r.code === 255 ? `unreachable over SSH: ${why}` : `check failed (exit ${r.code}): ${why}`, [t.privateKey]),
    };
}

/**
 * The cause of an Automation API failure in one line: the Pulumi CLI's own
 * `error:` lines from the stderr the error carries (its message repeats the
 * command, its exit code and both streams), else the message's first line.
 */
export function causeOf(e: Error): string {
    const text = e.message;
    const stderr = text.includes("stderr:") ? text.slice(text.indexOf("stderr:") + 7) : text;
    const errors = stderr.split("\n").map(l => l.trim()).filter(l => /^error:/i.test(l)).map(l => l.replace(/^error:\s*/i, ""));
    const cause = errors.length > 0 ? [...new Set(errors)].join("; ") : text.split("\n").map(l => l.trim()).find(l => l.length > 0) ?? "unknown error";
    return cause.length > 300 ? `${cause.slice(0, 297)}...` : cause;
}

async function checkStack(stack: string, source: StackSource, runner: HostRunner, o: Required<Pick<DriftOptions, "concurrency" | "hostTimeoutMs">>): Promise<StackReport> {
    const [cloud, hosts] = await Promise.all([
        source.refreshPreview(stack).then(
            changes => ({ status: (changes.length ? "drift" : "ok") as Status, changes }),
            (e: Error) => ({ status: "error" as Status, changes: [] as CloudChange[], error: causeOf(e) })),
        source.hosts(stack).then(
            targets => mapLimit(targets, o.concurrency, t => checkHost(t, runner, o.hostTimeoutMs)),
            (e: Error) => e),
    ]);
    if (hosts instanceof Error) {
        const cause = causeOf(hosts);
        // One cause (no credentials, no such stack) that stopped both the refresh and the hosts: said once.
        if ("error" in cloud && cloud.error === cause) {
            return { stack, status: "error", cloud: { status: "error", changes: [] }, hosts: [], error: cause };
        }
        return { stack, status: "error", cloud, hosts: [], error: `cannot check the hosts: ${cause}` };
    }
    return { stack, status: worst([cloud.status, ...hosts.map(h => h.status)]), cloud, hosts };
}

/**
 * Whether two stack names name the same stack: `stack`, `org/stack` and
 * `org/project/stack` (Pulumi's fully qualified form) agree where both say
 * something, so a stack of another organization is checked as itself.
 */
export function sameStack(a: string, b: string): boolean {
    const parts = (n: string) => {
        const p = n.split("/");
        return p.length === 3 ? { org: p[0], project: p[1], stack: p[2] } : p.length === 2 ? { org: p[0], stack: p[1] } : { stack: n };
    };
    const x: { org?: string; project?: string; stack: string } = parts(a), y: { org?: string; project?: string; stack: string } = parts(b);
    return x.stack === y.stack && (!x.org || !y.org || x.org === y.org) && (!x.project || !y.project || x.project === y.project);
}

/** Checks every stack asked for; one failing stack or host never hides the others. */
export async function driftCheck(source: StackSource, runner: HostRunner, options: DriftOptions = {}): Promise<DriftReport> {
    const o = { concurrency: options.concurrency ?? 4, hostTimeoutMs: options.hostTimeoutMs ?? 60_000 };
    let names = [...(options.stacks ?? [])];
    const known = await source.listStacks().catch(() => undefined);
    const whole = (error: string): DriftReport =>
        ({ status: "error", exitCode: EXIT.error, stacks: [{ stack: "(all)", status: "error", cloud: { status: "error", changes: [] }, hosts: [], error }] });
    if (names.length === 0) {
        if (!known) {
            return whole("cannot list the project's stacks");
        }
        if (known.length === 0) {
            // A scheduled check over nothing must not pass as "no drift".
            return whole("the project has no stacks (pulumi stack ls lists none with these credentials): nothing was checked");
        }
        names = known;
    }
    const stacks = await mapLimit(names, o.concurrency, async (stack): Promise<StackReport> => {
        if (known && !known.some(k => sameStack(k, stack))) {
            return { stack, status: "error", cloud: { status: "error", changes: [] }, hosts: [], error: `unknown stack; the project has: ${known.join(", ") || "none"}` };
        }
        try {
            return await checkStack(stack, source, runner, o);
        } catch (e) {
            return { stack, status: "error", cloud: { status: "error", changes: [] }, hosts: [], error: (e as Error).message };
        }
    });
    const status = worst(stacks.map(s => s.status));
    return { status, exitCode: EXIT[status === "ok" ? "clean" : status], stacks };
}

// ---------------------------------------------------------------------------
// Output.

const MARK: Record<Status, string> = { ok: "ok", drift: "DRIFT", error: "ERROR" };

/** The mirror's figures in a few words: "mirror: 12 of 15 blob requests from the cache (80%), 3 fetched upstream". */
export function mirrorLine(m: MirrorCacheFigures): string {
    const b = m.blobs;
    const ratio = m.hitRatio === null ? "" : ` (${Math.round(m.hitRatio * 100)}%)`;
    return `mirror: ${b.hits} of ${b.requests} blob requests from the cache${ratio}, ${b.misses} fetched upstream${m.since ? ` since ${m.since}` : ""}`;
}

function hostLine(h: HostReport): string {
    const failed = h.checks.filter(c => !c.ok).map(c => `${c.check}: ${c.detail}`);
    const line = h.error ?? (failed.length ? failed.join("; ") : `${h.checks.length} checks pass`);
    return h.mirror ? `${line}; ${mirrorLine(h.mirror)}` : line;
}

/** A table for people. */
export function formatTable(r: DriftReport): string {
    const rows: string[][] = [["stack", "level", "what", "status", "detail"]];
    for (const s of r.stacks) {
        if (s.error && s.hosts.length === 0 && s.cloud.changes.length === 0 && !s.cloud.error) {
            rows.push([s.stack, "-", "-", MARK.error, s.error]);
            continue;
        }
        rows.push([s.stack, "cloud", "resources", MARK[s.cloud.status],
            s.cloud.error ?? (s.cloud.changes.length ? s.cloud.changes.map(c => `${c.op} ${c.urn.split("::").pop()}${c.diffs.length ? ` (${c.diffs.join(", ")})` : ""}`).join("; ") : "no changes")]);
        if (s.error) {
            rows.push([s.stack, "hosts", "-", MARK.error, s.error]);
        }
        for (const h of s.hosts) {
            rows.push([s.stack, "host", h.host, MARK[h.status], hostLine(h)]);
        }
    }
    const widths = rows[0].map((_, i) => Math.min(40, Math.max(...rows.map(row => row[i].length))));
    const lines = rows.map(row => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  "));
    lines.splice(1, 0, widths.map(w => "-".repeat(w)).join("  "));
    lines.push("", `result: ${r.status === "ok" ? "no drift" : r.status === "drift" ? "drift found" : "errors (some checks could not run)"} (exit ${r.exitCode})`);
    return lines.join("\n");
}

function md(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Markdown for $GITHUB_STEP_SUMMARY. */
export function formatMarkdown(r: DriftReport): string {
    const out = [`## Drift check: ${r.status === "ok" ? "no drift" : r.status === "drift" ? "drift found" : "errors"}`, ""];
    for (const s of r.stacks) {
        out.push(`### Stack \`${s.stack}\`: ${MARK[s.status]}`, "");
        if (s.error) {
            out.push(`> ${md(s.error)}`, "");
        }
        out.push("| level | what | status | detail |", "|---|---|---|---|");
        out.push(`| cloud | resources | ${MARK[s.cloud.status]} | ${md(s.cloud.error ?? (s.cloud.changes.map(c => `${c.op} \`${c.urn.split("::").pop()}\` ${c.diffs.join(", ")}`).join("<br>") || "no changes"))} |`);
        for (const h of s.hosts) {
            out.push(`| host | ${h.host} (${h.address}) | ${MARK[h.status]} | ${md(hostLine(h))} |`);
        }
        out.push("");
    }
    return out.join("\n");
}
