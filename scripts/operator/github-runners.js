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
//
// Settings (environment): ACTION, HOST_NAME, GITHUB_ORG, GITHUB_API_URL
// (default https://api.github.com), INSTANCES (mint), and the token:
// RUNNER_FLEET_GITHUB_TOKEN (the stack's githubRunnerToken), else GITHUB_TOKEN
// from the environment pulumi runs in. The token needs the organization
// permission "Self-hosted runners: read and write" (fine-grained) or admin:org
// (classic).
//
// REST endpoints, as docs.github.com/en/rest/actions/self-hosted-runners
// documents them: POST /orgs/{org}/actions/runners/registration-token (201,
// token and expires_at, an hour), GET /orgs/{org}/actions/runners?name=
// (200, runners[].id/name/busy), DELETE /orgs/{org}/actions/runners/{id} (204).
"use strict";
const host = process.env.HOST_NAME || "";
const org = process.env.GITHUB_ORG || "";
const api = (process.env.GITHUB_API_URL || "https://api.github.com").replace(/\/$/, "");
// The stack's token first; the environment's when GitHub refuses it (rotated since).
const tokens = [...new Set([process.env.RUNNER_FLEET_GITHUB_TOKEN, process.env.GITHUB_TOKEN].filter(Boolean))];
let token = tokens.shift() || "";
const action = process.env.ACTION || "";
const instances = Number(process.env.INSTANCES || 1);

function fail(message) {
    process.stderr.write(`host ${host}: ${message}\n`);
    process.exit(1);
}

/** Calls the API; answers the body (or the status, for the statuses in `answerStatus`). */
async function call(method, path, okStatus, answerStatus = []) {
    let res;
    try {
        res = await fetch(`${api}${path}`, {
            method,
            headers: { Authorization: `Bearer ${token}`, Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" },
        });
    } catch (e) {
        fail(`${method} ${api}${path} failed: ${e.cause ? e.cause.code || e.cause.message : e.message}`);
    }
    if ((res.status === 401 || res.status === 403) && tokens.length > 0) {
        token = tokens.shift();
        return call(method, path, okStatus, answerStatus);
    }
    if (res.status === 401 || res.status === 403) {
        fail(`GitHub refused the operator token (${res.status}) for ${method} ${path}: it needs the organization permission "Self-hosted runners: read and write" (fine-grained) or admin:org (classic) on ${org}`);
    }
    if (answerStatus.includes(res.status)) {
        return res.status;
    }
    if (res.status !== okStatus) {
        fail(`${method} ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    return res.status === 204 ? undefined : res.json();
}

/** The host's registrations: names HOST-N, with their N. */
async function registrations() {
    const out = [];
    for (let page = 1; ; page++) {
        const body = await call("GET", `/orgs/${org}/actions/runners?per_page=100&page=${page}`, 200);
        for (const r of body.runners || []) {
            const m = new RegExp(`^${host.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d+)$`).exec(r.name);
            if (m) {
                out.push({ id: r.id, name: r.name, n: Number(m[1]), busy: Boolean(r.busy) });
            }
        }
        if ((body.runners || []).length < 100) {
            return out;
        }
    }
}

async function remove(list) {
    const wait = Number(process.env.REMOVE_WAIT || 300) * 1000;
    for (const r of list) {
        // GitHub refuses (422) to remove a runner it still sees running a job, until it learns the job ended.
        for (const until = Date.now() + wait; ;) {
            const status = await call("DELETE", `/orgs/${org}/actions/runners/${r.id}`, 204, [404, 422]);
            if (status !== 422) {
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
        await remove((await registrations()).filter(r => r.n > instances));
        const body = await call("POST", `/orgs/${org}/actions/runners/registration-token`, 201);
        process.stdout.write(`registration-token ${Buffer.from(body.token, "utf8").toString("base64")}\n`);
    } else if (action === "remove") {
        await remove(await registrations());
    } else {
        fail(`ACTION must be mint or remove, not "${action}"`);
    }
}

main().catch(e => fail(e.message));
