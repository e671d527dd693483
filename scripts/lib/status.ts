// The fleet's live view, per host: its runners as the GitHub API reports them
// (online, busy, offline), each runner's installed version (read on the host)
// against the newest release the fleet knows of, the agent's service, and the
// mirror's hit ratio since it started. Reads only; changes nothing.

import { pathToFileURL } from "url";
import { RUNNER_RELEASES, runnerStanding } from "../../components/spec/catalog";
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

// GitHub's REST API through Octokit (@octokit/core with @octokit/plugin-throttling and @octokit/plugin-retry).
// Rate limits (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api, "Exceeding the rate
// limit"; .../best-practices-for-using-the-rest-api, "Handle rate limit errors appropriately"): a 403 or 429
// with x-ratelimit-remaining: 0 is the token's primary limit, to wait out until x-ratelimit-reset (UTC epoch
// seconds); a 403 or 429 naming a secondary rate limit (retry-after seconds when present, else a minute at
// least) is the secondary one. Both say nothing of the token's permissions: they are waited out, said on
// stderr, at most RATE_LIMIT_RETRIES times and never longer than RATE_LIMIT_MAX_WAIT_S at once, then
// reported as the rate limit. Only a 401 or 403 without those signs is a refusal. 5xx and network failures
// are retried by plugin-retry (3 times, 1, 4 and 9 s apart).
const RATE_LIMIT_RETRIES = 3;
const RATE_LIMIT_MAX_WAIT_S = 15 * 60;

// The Octokit packages are ES modules only. tsc ("module": "commonjs") compiles import() to require(), which
// Node 20 and 22 refuse for some ES modules or warn about; a Function keeps import() as it is. The file is
// resolved from this package's place (require.resolve: their "default" export condition), so it is
// runner-fleet's dependency whatever the caller's directory.
const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;
async function loadModule<T>(name: string): Promise<T> {
    return await importModule(pathToFileURL(require.resolve(name)).href) as T;
}

type OctokitClass = typeof import("@octokit/core").Octokit;
let githubClient: Promise<OctokitClass> | undefined;

/** What a 403 or 429 says of a rate limit, or null when it says none. */
function rateLimitOf(e: { status?: number; message: string; response?: { headers?: Record<string, string | number | undefined> } }):
    { kind: "primary"; reset: Date | null } | { kind: "secondary"; after: number | null } | null {
    const headers = e.response?.headers ?? {};
    if (e.status !== 403 && e.status !== 429) {
        return null;
    }
    if (String(headers["x-ratelimit-remaining"]) === "0") {
        const reset = Number(headers["x-ratelimit-reset"]);
        return { kind: "primary", reset: Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : null };
    }
    if (/\bsecondary rate\b/i.test(e.message) || headers["retry-after"] !== undefined || e.status === 429) {
        return { kind: "secondary", after: Number(headers["retry-after"]) || null };
    }
    return null;
}

/** Octokit with the throttling and retry plugins; the token goes as a Bearer header on every attempt. */
async function octokitClass(): Promise<OctokitClass> {
    githubClient ??= (async () => {
        const [{ Octokit }, { throttling }, { retry }] = await Promise.all([
            loadModule<typeof import("@octokit/core")>("@octokit/core"),
            loadModule<typeof import("@octokit/plugin-throttling")>("@octokit/plugin-throttling"),
            loadModule<typeof import("@octokit/plugin-retry")>("@octokit/plugin-retry"),
        ]);
        // Innermost: the headers, and a 403 or 429 with retry-after but no message naming it (or a bare 429)
        // told to plugin-throttling as the secondary limit it is (it reads only the message).
        const signs = (octokit: InstanceType<OctokitClass>, options: ConstructorParameters<OctokitClass>[0]) => {
            const bearer = (options as { bearer?: string }).bearer ?? "";
            octokit.hook.before("request", o => {
                o.headers.authorization = `Bearer ${bearer}`;
                o.headers["x-github-api-version"] = "2022-11-28";
            });
            octokit.hook.error("request", (e: Error & { status?: number; response?: { headers?: Record<string, string | number | undefined> } }) => {
                const limit = rateLimitOf(e);
                if (limit?.kind === "secondary" && !/\bsecondary rate\b/i.test(e.message)) {
                    e.message = `${e.message} (secondary rate limit)`;
                }
                throw e;
            });
        };
        return Octokit.plugin(signs, retry, throttling) as unknown as OctokitClass;
    })();
    return githubClient;
}

/**
 * Every runner of the organization, page by page (100 a page, the API's most). One paged list for the whole
 * fleet, not GitHub's `name` filter per runner: status shows every host's runners in one run, and the
 * organization's pages (one request per 100 runners) are fewer requests than one per runner name (up to 32 a
 * host) unless the organization has far more runners than the fleet.
 */
export async function listOrgRunners(gh: GithubRunnerApi, fetchImpl: typeof fetch = fetch,
    o: { log?: (line: string) => void } = {}): Promise<ApiRunner[]> {
    const log = o.log ?? ((line: string) => { process.stderr.write(`${line}\n`); });
    const wait = (kind: "primary" | "secondary") => (after: number, options: { method: string; url: string }, _octokit: unknown, count: number): boolean => {
        if (count >= RATE_LIMIT_RETRIES || after > RATE_LIMIT_MAX_WAIT_S) {
            return false;
        }
        log(`${kind === "primary" ? "GitHub's rate limit for the token is used up" : "GitHub's secondary rate limit (too many requests at once)"} on ${options.method} ${options.url.replace("{org}", gh.org)}: ` +
            `waiting ${after}s${kind === "primary" ? ` until it resets at ${new Date(Date.now() + after * 1000).toISOString()}` : ""} (wait ${count + 1} of at most ${RATE_LIMIT_RETRIES})`);
        return true;
    };
    const Client = await octokitClass();
    const octokit = new Client({
        bearer: gh.token, baseUrl: gh.api.replace(/\/$/, ""), userAgent: "runner-fleet",
        request: { fetch: fetchImpl },
        log: { debug: () => undefined, info: () => undefined, warn: log, error: log },
        // 429 is a rate limit: plugin-throttling's, never plugin-retry's blind backoff.
        retry: { doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
        throttle: { onRateLimit: wait("primary"), onSecondaryRateLimit: wait("secondary") },
    } as ConstructorParameters<OctokitClass>[0] & { bearer: string });
    const out: ApiRunner[] = [];
    for (let page = 1; page <= 100; page++) {
        let body: { runners?: ApiRunner[] };
        try {
            body = (await octokit.request("GET /orgs/{org}/actions/runners", { org: gh.org, per_page: 100, page })).data as { runners?: ApiRunner[] };
        } catch (err) {
            const e = err as Error & { status?: number; response?: { headers?: Record<string, string | number | undefined> } };
            if (!e.response) {
                throw new Error(`GitHub could not be reached listing the runners of ${gh.org} (${gh.api}): ${e.message}`);
            }
            const limit = rateLimitOf(e);
            if (limit?.kind === "primary") {
                throw new Error(`GitHub's rate limit for the token is used up (${e.status} listing the runners of ${gh.org}) until ` +
                    `${limit.reset ? `${limit.reset.toISOString()}, in ${Math.max(0, Math.ceil((limit.reset.getTime() - Date.now()) / 1000))}s` : "its reset"}: ` +
                    `longer than the ${RATE_LIMIT_MAX_WAIT_S}s status waits, or still so after ${RATE_LIMIT_RETRIES} waits. The token itself is fine; run status again once the limit resets`);
            }
            if (limit) {
                throw new Error(`GitHub's secondary rate limit (too many requests at once) still holds (${e.status} listing the runners of ${gh.org}` +
                    `${limit.after ? `, retry-after ${limit.after}s` : ""}) after ${RATE_LIMIT_RETRIES} waits: the token itself is fine; run status again in a few minutes`);
            }
            throw new Error(`GitHub answered ${e.status} listing the runners of ${gh.org}` +
                (e.status === 401 || e.status === 403 ? ": the token needs the organization permission \"Self-hosted runners: read\" (fine-grained) or admin:org (classic)" : `: ${e.message.slice(0, 300)}`));
        }
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
