// github-runners.js: run where `pulumi up` runs (command.local steps), never
// on a host: it holds the operator's GitHub token, which can register and
// remove the organization's runners, so it must never reach a runner host.
//
//   ACTION=mint    prints a registration token for the host's install, as
//                  "registration-token <base64>" (the install's stdin), and
//                  removes registrations of instances the host no longer runs
//                  (names HOST-N with N > INSTANCES)
//   ACTION=remove  removes every registration of the host (HOST-N) from the
//                  organization: pulumi destroy and host replacement
//   ACTION=missing prints, as a JSON object by host, the names
//                  HOST-1..HOST-INSTANCES the organization holds no
//                  registration for, of each host HOST_NAME lists
//                  (comma-separated: the registration
//                  watch, registration-watch.ts, asks for a fleet's hosts at
//                  once, so the organization's list is read once)
//
// Settings (environment): ACTION, HOST_NAME, GITHUB_ORG, GITHUB_API_URL
// (default https://api.github.com), INSTANCES (mint, missing), and the token:
// RUNNER_FLEET_GITHUB_TOKEN (the stack's githubRunnerToken), or the same on
// stdin with RUNNER_FLEET_TOKEN_STDIN=1, else GITHUB_TOKEN from the
// environment pulumi runs in. The token needs the organization
// permission "Self-hosted runners: read and write" (fine-grained) or admin:org
// (classic).
//
// REST endpoints, as docs.github.com/en/rest/actions/self-hosted-runners
// documents them: POST /orgs/{org}/actions/runners/registration-token (201,
// token and expires_at, an hour), GET /orgs/{org}/actions/runners?name=
// (200, total_count and runners[].id/name/busy; `name` is the runner's name,
// also in @octokit/openapi-types' "actions/list-self-hosted-runners-for-org"),
// DELETE /orgs/{org}/actions/runners/{id} (204).
//
// The client is Octokit (@octokit/core with @octokit/plugin-throttling and
// @octokit/plugin-retry, runner-fleet's dependencies). They are ES modules
// only and this script runs as CommonJS (`node -e`, operator-command.ts), so
// they are loaded with import(), from where runner-fleet is installed (its own
// versions), else from the directory pulumi runs in.
//
// Rate limits (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api,
// "Exceeding the rate limit", and .../rest/using-the-rest-api/best-practices-for-using-the-rest-api,
// "Handle rate limit errors appropriately"): GitHub answers 403 or 429 to a
// token past its primary limit, with x-ratelimit-remaining: 0 (wait until
// x-ratelimit-reset, UTC epoch seconds), and 403 or 429 with a message naming a
// secondary rate limit, retry-after seconds when present (else at least a
// minute). Neither says anything about the token's permissions: they are waited
// out (plugin-throttling), said on stderr, at most RATE_LIMIT_RETRIES times per
// request and never longer than RATE_LIMIT_MAX_WAIT at once; beyond, the step
// fails saying so. Only a 401 or 403 without those signs is a refusal of the
// token. 5xx and network failures are retried by plugin-retry (3 times, 1, 4
// and 9 s apart). Requests go one at a time and writes at least a second apart
// (the throttling plugin's queue), as the best practices ask.
"use strict";
const path = require("path");
const { createRequire } = require("module");
const { pathToFileURL } = require("url");

const host = process.env.HOST_NAME || "";
const org = process.env.GITHUB_ORG || "";
const api = (process.env.GITHUB_API_URL || "https://api.github.com").replace(/\/$/, "");
// The stack's token first; the environment's when GitHub refuses it (rotated since).
const stdinToken = process.env.RUNNER_FLEET_TOKEN_STDIN === "1" ? require("fs").readFileSync(0, "utf8").trim() : "";
const tokens = [...new Set([stdinToken, process.env.RUNNER_FLEET_GITHUB_TOKEN, process.env.GITHUB_TOKEN].filter(Boolean))];
let token = tokens.shift() || "";
const action = process.env.ACTION || "";
const instances = Number(process.env.INSTANCES || 1);

// The most runner instances a host may run: agent.instances in components/settings.ts
// (1 to 32; test/github-runners.test.ts holds the two equal).
const MAX_INSTANCES = 32;
const RATE_LIMIT_RETRIES = 3;
const RATE_LIMIT_MAX_WAIT = 15 * 60;
const PERMISSION = `the organization permission "Self-hosted runners: read and write" (fine-grained) or admin:org (classic) on ${org}`;

function fail(message) {
    process.stderr.write(`host ${host}: ${message}\n`);
    process.exit(1);
}

function say(message) {
    process.stderr.write(`host ${host}: ${message}\n`);
}

/** Imports an ES module package as runner-fleet's dependency (the versions it was tested with), else from pulumi's directory. */
async function load(spec) {
    const bases = [];
    try {
        bases.push(require.resolve("runner-fleet/package.json"));
    } catch {
        // not installed under that name: pulumi's directory only
    }
    bases.push(path.join(process.cwd(), "[operator]"));
    for (const base of bases) {
        let file;
        try {
            file = createRequire(base).resolve(spec);
        } catch {
            continue;
        }
        return import(pathToFileURL(file).href);
    }
    return fail(`${spec} is missing where pulumi runs (${process.cwd()}): install the program's dependencies (npm ci), runner-fleet brings it`);
}

/** What a 403 or 429 says of a rate limit, or null when it says none. */
function rateLimitOf(e) {
    const headers = (e.response && e.response.headers) || {};
    if (e.status !== 403 && e.status !== 429) {
        return null;
    }
    if (headers["x-ratelimit-remaining"] === "0") {
        const reset = Number(headers["x-ratelimit-reset"]);
        return { kind: "primary", reset: Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : null };
    }
    if (/\bsecondary rate\b/i.test(e.message) || headers["retry-after"] !== undefined || e.status === 429) {
        return { kind: "secondary", after: Number(headers["retry-after"]) || null };
    }
    return null;
}

let Client;

/** Octokit with the throttling and retry plugins, and the token as a Bearer header. */
async function client(bearer) {
    if (!Client) {
        const [{ Octokit }, { throttling }, { retry }] = await Promise.all(
            ["@octokit/core", "@octokit/plugin-throttling", "@octokit/plugin-retry"].map(load));
        // Innermost (first): the token and API version on every attempt, and a 403 or 429 with retry-after
        // but no message naming it (or a bare 429) told to plugin-throttling as the secondary limit it is
        // (it reads only the message).
        const signs = (octokit, options) => {
            octokit.hook.before("request", o => {
                o.headers.authorization = `Bearer ${options.bearer}`;
                o.headers["x-github-api-version"] = "2022-11-28";
            });
            octokit.hook.error("request", e => {
                const limit = rateLimitOf(e);
                if (limit && limit.kind === "secondary" && !/\bsecondary rate\b/i.test(e.message)) {
                    e.message = `${e.message} (secondary rate limit)`;
                }
                throw e;
            });
        };
        Client = Octokit.plugin(signs, retry, throttling);
    }
    const wait = kind => (after, options, _octokit, count) => {
        const what = kind === "primary" ? "GitHub's rate limit for the operator token is used up" : "GitHub's secondary rate limit (too many requests at once)";
        if (count >= RATE_LIMIT_RETRIES || after > RATE_LIMIT_MAX_WAIT) {
            return false;
        }
        say(`${what} on ${options.method} ${String(options.url).replace(/\{(\w+)\}/g, (t, k) => (options[k] === undefined ? t : options[k]))}: waiting ${after}s${kind === "primary" ? ` until it resets at ${new Date(Date.now() + after * 1000).toISOString()}` : ""} (wait ${count + 1} of at most ${RATE_LIMIT_RETRIES})`);
        return true;
    };
    return new Client({
        bearer,
        baseUrl: api,
        userAgent: "runner-fleet",
        log: { debug() { }, info() { }, warn: m => say(String(m)), error: m => say(String(m)) },
        // 429 is a rate limit: plugin-throttling's, never plugin-retry's blind backoff.
        retry: { doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
        throttle: { onRateLimit: wait("primary"), onSecondaryRateLimit: wait("secondary") },
    });
}

let octokit;

/** Calls the API; answers the body (or { status } for the statuses in `answerStatus`). */
async function call(route, params = {}, answerStatus = []) {
    for (;;) {
        octokit = octokit || await client(token);
        try {
            const res = await octokit.request(route, { org, ...params });
            return res.data;
        } catch (e) {
            const label = route.replace("{org}", org).replace("{runner_id}", params.runner_id);
            if (!e.response) {
                return fail(`${label} at ${api} failed: ${e.message}`);
            }
            if (answerStatus.includes(e.status)) {
                return { status: e.status };
            }
            const limit = rateLimitOf(e);
            if (limit && limit.kind === "primary") {
                const left = limit.reset ? Math.max(0, Math.ceil((limit.reset.getTime() - Date.now()) / 1000)) : null;
                return fail(`GitHub's rate limit for the operator token is used up (${e.status} on ${label}) until ${limit.reset ? `${limit.reset.toISOString()}, in ${left}s` : "its reset"}: ` +
                    `longer than the ${RATE_LIMIT_MAX_WAIT}s this step waits, or still so after ${RATE_LIMIT_RETRIES} waits. The token itself is fine; run pulumi up again once the limit resets`);
            }
            if (limit) {
                return fail(`GitHub's secondary rate limit (too many requests at once) still holds (${e.status} on ${label}${limit.after ? `, retry-after ${limit.after}s` : ""}) after ${RATE_LIMIT_RETRIES} waits: ` +
                    `the token itself is fine; run pulumi up again in a few minutes, or with fewer hosts at once (pulumi up --parallel)`);
            }
            if ((e.status === 401 || e.status === 403) && tokens.length > 0) {
                token = tokens.shift();
                octokit = undefined;
                continue;
            }
            if (e.status === 401 || e.status === 403) {
                return fail(`GitHub refused the operator token (${e.status}) for ${label}: it needs ${PERMISSION}`);
            }
            return fail(`${label} answered ${e.status}: ${e.message.slice(0, 300)}`);
        }
    }
}

/** The registrations among `runners` of a host `of` names: names HOST-N, with their host and N. */
function ofHosts(runners, of) {
    const hosts = new Set(of);
    const out = [];
    for (const r of runners) {
        const m = /^(.+)-(\d+)$/.exec(r.name);
        if (m && hosts.has(m[1])) {
            out.push({ id: r.id, name: r.name, host: m[1], n: Number(m[2]), busy: Boolean(r.busy) });
        }
    }
    return out;
}

/**
 * The registrations HOST-N with N >= from of each host `of` names (the
 * host's own by default).
 *
 * GitHub's `name` filter is one exact name, so it cannot find "every HOST-N
 * above INSTANCES" by itself: those are the names up to MAX_INSTANCES (a host
 * never ran more). The fewest requests either way: the organization's first
 * page (100 runners) comes first; when that is the whole organization (most
 * are), it is the answer, one request. A larger organization is read by name,
 * one request per name HOST-from..HOST-MAX_INSTANCES of each host, when that
 * is fewer requests than its remaining pages (over ~3,200 runners a host),
 * else page by page.
 * A server that ignores `name` (it answers other names: an older GitHub
 * Enterprise Server) is read page by page too.
 */
async function registrations(from, of = [host]) {
    const names = [];
    for (const h of of) {
        for (let n = from; n <= MAX_INSTANCES; n++) {
            names.push(`${h}-${n}`);
        }
    }
    const list = params => call("GET /orgs/{org}/actions/runners", params);
    const first = await list({ per_page: 100, page: 1 });
    let runners = first.runners || [];
    if (runners.length >= 100) {
        const total = Number(first.total_count);
        const pagesLeft = Number.isFinite(total) ? Math.ceil(total / 100) - 1 : Infinity;
        let byName = null;
        if (pagesLeft > names.length) {
            byName = [];
            for (const name of names) {
                const found = (await list({ name, per_page: 100 })).runners || [];
                if (found.some(r => r.name !== name)) {
                    byName = null;
                    break;
                }
                byName.push(...found);
            }
        }
        if (byName) {
            runners = byName;
        } else {
            for (let page = 2, last = runners; last.length >= 100; page++) {
                last = (await list({ per_page: 100, page })).runners || [];
                runners = runners.concat(last);
            }
        }
    }
    return ofHosts(runners, of).filter(r => r.n >= from);
}

async function remove(list) {
    const wait = Number(process.env.REMOVE_WAIT || 300) * 1000;
    for (const r of list) {
        // GitHub refuses (422) to remove a runner it still sees running a job, until it learns the job ended.
        for (const until = Date.now() + wait; ;) {
            const answer = await call("DELETE /orgs/{org}/actions/runners/{runner_id}", { runner_id: r.id }, [404, 422]);
            if (!answer || answer.status !== 422) {
                break;
            }
            if (Date.now() > until) {
                fail(`runner ${r.name} (${r.id}) is still running a job after ${wait / 1000}s; remove it in the organization's settings once its job ended, or run pulumi destroy again`);
            }
            await new Promise(done => setTimeout(done, 5000));
        }
        process.stderr.write(`host ${host}: removed runner ${r.name} (${r.id}) from ${org}\n`);
    }
}

async function main() {
    if (!host || !org) {
        fail("HOST_NAME and GITHUB_ORG are required");
    }
    if (!token) {
        fail("no operator token: set the githubRunnerToken secret (pulumi config set --secret githubRunnerToken ...) or GITHUB_TOKEN where pulumi runs");
    }
    if (action === "mint") {
        await remove(await registrations(instances + 1));
        const body = await call("POST /orgs/{org}/actions/runners/registration-token");
        process.stdout.write(`registration-token ${Buffer.from(body.token, "utf8").toString("base64")}\n`);
    } else if (action === "remove") {
        await remove(await registrations(1));
    } else if (action === "missing") {
        const of = host.split(",");
        const held = new Set((await registrations(1, of)).map(r => r.name));
        const missing = {};
        for (const h of of) {
            missing[h] = [];
            for (let n = 1; n <= instances; n++) {
                if (!held.has(`${h}-${n}`)) {
                    missing[h].push(`${h}-${n}`);
                }
            }
        }
        process.stdout.write(`${JSON.stringify(missing)}\n`);
    } else {
        fail(`ACTION must be mint, remove or missing, not "${action}"`);
    }
}

main().catch(e => fail(e.message));
