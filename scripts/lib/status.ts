// The fleet's live view, per host: its runners as the GitHub API reports them
// (online, busy, offline), each runner's installed version (read on the host)
// against the newest release the fleet knows of, the agent's service, and the
// mirror's hit ratio since it started. Reads only; changes nothing.

import { RUNNER_RELEASES, runnerStanding } from "../../components/catalog";
import { CheckResult, HostRunner, HostTarget, MirrorCacheFigures, checkCommand, mapLimit, mirrorLine, parseChecks, scrub } from "./drift";

/** Where the organization's runners are listed: GitHub's REST API with the operator's token. */
export interface GithubRunnerApi {
    readonly api: string;
    readonly org: string;
    readonly token: string;
}

/** A runner as GET /orgs/{org}/actions/runners reports it (docs.github.com, REST "Self-hosted runners"). */
export interface ApiRunner {
    readonly id: number;
    readonly name: string;
    readonly status: "online" | "offline" | string;
    readonly busy: boolean;
    readonly labels: readonly { readonly name: string }[];
}

export type RunnerState = "busy" | "online" | "offline" | "not registered";

export interface RunnerStatus {
    readonly name: string;
    readonly state: RunnerState;
    /** Installed on the host (the runner's own --version), or null when unknown. */
    readonly version: string | null;
    /** Days left before GitHub stops sending it jobs; null when it is the newest release or unknown. */
    readonly daysLeft: number | null;
    readonly outdated: boolean;
}

export interface HostStatus {
    readonly host: string;
    readonly address: string;
    readonly agent: string;
    /** The agent's services: active, inactive, failed... (one per runner instance on plain hosts). */
    readonly services: readonly string[];
    readonly runners: readonly RunnerStatus[];
    readonly mirror: MirrorCacheFigures | null;
    readonly error?: string;
}

export interface StatusReport {
    readonly stack: string;
    readonly newestRunner: { readonly version: string; readonly date: string };
    readonly hosts: readonly HostStatus[];
    readonly error?: string;
}

/** Every runner of the organization, page by page (100 a page, the API's most). */
export async function listOrgRunners(gh: GithubRunnerApi, fetchImpl: typeof fetch = fetch): Promise<ApiRunner[]> {
    const out: ApiRunner[] = [];
    for (let page = 1; page <= 100; page++) {
        const res = await fetchImpl(`${gh.api}/orgs/${gh.org}/actions/runners?per_page=100&page=${page}`, {
            headers: { Authorization: `Bearer ${gh.token}`, Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" },
        });
        if (!res.ok) {
            throw new Error(`GitHub answered ${res.status} listing the runners of ${gh.org}` +
                (res.status === 401 || res.status === 403 ? ": the token needs the organization permission Self-hosted runners (read)" : ""));
        }
        const body = await res.json() as { runners?: ApiRunner[] };
        const runners = body.runners ?? [];
        out.push(...runners);
        if (runners.length < 100) {
            break;
        }
    }
    return out;
}

function stateOf(r: ApiRunner | undefined): RunnerState {
    return !r ? "not registered" : r.status !== "online" ? "offline" : r.busy ? "busy" : "online";
}

/** One host's view from its check.sh lines and the organization's runner list. */
export function hostStatus(t: HostTarget, checks: readonly CheckResult[], runners: readonly ApiRunner[], today: Date): HostStatus {
    const services = checks.filter(c => /^agent-service(-\d+)?$/.test(c.check)).map(c => c.detail.split(" is ").pop() ?? c.detail);
    const instances = t.agent === "github-runner" ? t.instances ?? 1 : 0;
    const list: RunnerStatus[] = [];
    for (let i = 1; i <= instances; i++) {
        // The fleet names a plain host's runners <host>-<instance> (install-github-runner.sh).
        const name = `${t.name}-${i}`;
        const version = checks.find(c => c.check === `runner-version-${i}`)?.detail ?? "";
        const known = /^\d+\.\d+\.\d+$/.test(version) ? version : null;
        const standing = known ? runnerStanding(known, today) : null;
        list.push({
            name, state: stateOf(runners.find(r => r.name === name)), version: known,
            outdated: standing?.outdated ?? false, daysLeft: standing?.outdated ? standing.daysLeft : null,
        });
    }
    return {
        host: t.name, address: t.address, agent: t.agent, services, runners: list,
        mirror: checks.find(c => c.check === "mirror-cache")?.figures ?? null,
    };
}

/** Reads every host (check.sh over SSH) and the organization's runners, at most `concurrency` hosts at once. */
export async function fleetStatus(stack: string, targets: readonly HostTarget[], runner: HostRunner, gh: GithubRunnerApi | undefined,
    o: { concurrency?: number; hostTimeoutMs?: number; today?: Date; fetchImpl?: typeof fetch } = {}): Promise<StatusReport> {
    const today = o.today ?? new Date();
    const newestRunner = { version: RUNNER_RELEASES[0].version, date: RUNNER_RELEASES[0].date };
    let runners: ApiRunner[] = [];
    let error: string | undefined;
    if (gh && targets.some(t => t.agent === "github-runner")) {
        try {
            runners = await listOrgRunners(gh, o.fetchImpl);
        } catch (e) {
            error = (e as Error).message;
        }
    }
    const hosts = await mapLimit(targets, o.concurrency ?? 4, async (t): Promise<HostStatus> => {
        try {
            const r = await runner.run(t, checkCommand(t), o.hostTimeoutMs ?? 60_000);
            if (r.timedOut) {
                return { ...hostStatus(t, [], runners, today), error: "no answer over SSH in time" };
            }
            const checks = parseChecks(r.stdout);
            if (checks.length === 0) {
                const why = (r.stderr.trim().split("\n").pop() ?? "").slice(0, 200);
                return { ...hostStatus(t, [], runners, today), error: scrub(r.code === 255 ? `unreachable over SSH: ${why}` : `check failed (exit ${r.code}): ${why}`, [t.privateKey]) };
            }
            return hostStatus(t, checks, runners, today);
        } catch (e) {
            return { ...hostStatus(t, [], runners, today), error: scrub(`could not run the check: ${(e as Error).message}`, [t.privateKey]) };
        }
    });
    return { stack, newestRunner, hosts, ...(error ? { error } : {}) };
}

function runnerText(r: RunnerStatus): string {
    const version = r.version === null ? "version unknown"
        : r.outdated ? `${r.version}, outdated${r.daysLeft === null ? "" : r.daysLeft >= 0 ? ` (${r.daysLeft} days of jobs left)` : ` (no jobs since ${-r.daysLeft} days)`}`
            : r.version;
    return `${r.name} ${r.state} (${version})`;
}

function hostCells(h: HostStatus): string[] {
    return [
        h.host, h.agent, h.services.join(", ") || "unknown",
        h.agent === "actuated" ? "one per job (actuated)" : h.runners.map(runnerText).join("; ") || "none",
        h.mirror ? mirrorLine(h.mirror).replace(/^mirror: /, "") : "no figures",
        h.error ?? "",
    ];
}

const HEAD = ["host", "agent", "service", "runners", "mirror", "error"];

/** A table for people. */
export function formatStatusTable(r: StatusReport): string {
    const rows = [HEAD, ...r.hosts.map(hostCells)];
    const widths = HEAD.map((_, i) => Math.min(48, Math.max(...rows.map(row => row[i].length))));
    const lines = rows.map(row => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd());
    lines.splice(1, 0, widths.map(w => "-".repeat(w)).join("  "));
    lines.unshift(`Stack ${r.stack}: newest actions/runner known ${r.newestRunner.version} (${r.newestRunner.date})`);
    if (r.error) {
        lines.push("", `runners: ${r.error}`);
    }
    return lines.join("\n");
}

/** Markdown for $GITHUB_STEP_SUMMARY. */
export function formatStatusMarkdown(r: StatusReport): string {
    const cell = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");
    const out = [`## Fleet status: stack \`${r.stack}\``, "", `Newest actions/runner known: ${r.newestRunner.version} (${r.newestRunner.date}).`, ""];
    if (r.error) {
        out.push(`> runners: ${cell(r.error)}`, "");
    }
    out.push(`| ${HEAD.join(" | ")} |`, `|${HEAD.map(() => "---").join("|")}|`);
    for (const h of r.hosts) {
        out.push(`| ${hostCells(h).map(cell).join(" | ")} |`);
    }
    return out.join("\n");
}

/** Exit status: 0 every host answered, 2 some host or the runner list could not be read. */
export function statusExitCode(r: StatusReport): number {
    return r.error || r.hosts.some(h => h.error) ? 2 : 0;
}
