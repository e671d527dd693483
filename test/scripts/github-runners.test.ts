// The operator script scripts/operator/github-runners.js, run as pulumi's command.local runs it (the
// command text of components/on-host/operator-command.ts, `node -e <script>`), against a loopback stand-in for
// GitHub's REST API: rate limits waited out (not taken for a refused token), the token fallback, the
// permission named on a refusal, plugin-retry on 5xx, removal of instances above INSTANCES with the
// `name` filter or the pages, whichever asks less.

import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { operatorCommandText } from "../../components/on-host/operator-command";
import { runShell, REPO_ROOT } from "../harness";
import { Answer, Asked, GithubStandIn, StandInRunner, primaryLimit, refused, runnerList, secondaryLimit } from "../github-api-stand-in";

const TOKEN_LINE = (t: string) => `registration-token ${Buffer.from(t, "utf8").toString("base64")}\n`;

interface Run { code: number; stdout: string; stderr: string }

/** Runs the script where pulumi runs (the repository here: runner-fleet's own node_modules), with only the given environment. */
function runScript(env: Record<string, string>): Promise<Run> {
    return runShell(operatorCommandText("github-runners.js"), { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env }, REPO_ROOT);
}

/** A stand-in organization: the runner list as GitHub answers it, DELETE and the registration token; `over` answers first when it answers. */
function org(runners: StandInRunner[], over: (a: Asked, n: number) => Answer | undefined = () => undefined, honourName = true): GithubStandIn {
    let n = 0;
    return new GithubStandIn(a => {
        const o = over(a, n++);
        if (o) {
            return o;
        }
        if (a.method === "GET" && a.path === "/orgs/acme/actions/runners") {
            return runnerList(runners, a.query, honourName);
        }
        const del = /^\/orgs\/acme\/actions\/runners\/(\d+)$/.exec(a.path);
        if (a.method === "DELETE" && del) {
            const i = runners.findIndex(r => r.id === Number(del[1]));
            if (i < 0) {
                return { status: 404, body: { message: "Not Found" } };
            }
            runners.splice(i, 1);
            return { status: 204 };
        }
        if (a.method === "POST" && a.path === "/orgs/acme/actions/runners/registration-token") {
            return { status: 201, body: { token: "REG-TOKEN-1", expires_at: new Date(Date.now() + 3600_000).toISOString() } };
        }
        return { status: 404, body: { message: "Not Found" } };
    });
}

const env = (api: GithubStandIn, more: Record<string, string> = {}) => ({
    ACTION: "mint", HOST_NAME: "x86-1", GITHUB_ORG: "acme", GITHUB_API_URL: api.url, INSTANCES: "1",
    RUNNER_FLEET_GITHUB_TOKEN: "STACK-TOKEN-aaa", ...more,
});
const calls = (s: GithubStandIn) => s.asked.map(a => `${a.method} ${a.path}${[...a.query].length ? `?${a.query}` : ""}`);
const noSecrets = (r: Run) => expect(r.stdout + r.stderr).to.not.contain("STACK-TOKEN").and.not.contain("ENV-TOKEN").and.not.contain("REG-TOKEN");

describe("github-runners.js (operator): GitHub's rate limits, token fallback, the name filter", function () {
    // A loaded machine: generous, though each case takes a few seconds at most.
    this.timeout(60_000);
    const servers: GithubStandIn[] = [];
    const serve = async (s: GithubStandIn) => { servers.push(s); return s.start(); };
    afterEach(async () => {
        await Promise.all(servers.splice(0).map(s => s.close()));
    });

    it("mints a token and removes the instances above INSTANCES, with one list request in a small organization", async () => {
        const s = await serve(org([{ id: 1, name: "x86-1-1" }, { id: 2, name: "x86-1-2" }, { id: 3, name: "x86-1-3" }, { id: 4, name: "x86-10-2" }, { id: 5, name: "other-2" }]));
        const r = await runScript(env(s));
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(TOKEN_LINE("REG-TOKEN-1"));
        expect(calls(s)).to.deep.equal([
            "GET /orgs/acme/actions/runners?per_page=100&page=1", "DELETE /orgs/acme/actions/runners/2", "DELETE /orgs/acme/actions/runners/3",
            "POST /orgs/acme/actions/runners/registration-token",
        ]);
        expect(s.asked.map(a => a.auth)).to.deep.equal(Array(4).fill("Bearer STACK-TOKEN-aaa"));
        expect(r.stderr).to.contain("removed runner x86-1-2 (2)").and.contain("removed runner x86-1-3 (3)");
        noSecrets(r);
    });

    it("waits out the primary rate limit (403, x-ratelimit-remaining 0) until x-ratelimit-reset, says so, and keeps the token", async () => {
        let limit: ReturnType<typeof primaryLimit> | undefined;
        const s = await serve(org([], a => {
            if (a.method === "POST" && !limit) {
                limit = primaryLimit(1);
                return limit;
            }
            return undefined;
        }));
        const r = await runScript(env(s, { GITHUB_TOKEN: "ENV-TOKEN-bbb" }));
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(TOKEN_LINE("REG-TOKEN-1"));
        expect(r.stderr).to.match(/GitHub's rate limit for the operator token is used up on POST \/orgs\/acme\/actions\/runners\/registration-token: waiting \d+s until it resets at \d{4}-/);
        expect(r.stderr).to.not.contain("refused");
        const posts = s.asked.filter(a => a.method === "POST");
        expect(posts).to.have.length(2);
        expect(posts[1].at).to.be.at.least(limit!.reset * 1000);
        // The limit is the token's, not a refusal: no fallback to GITHUB_TOKEN.
        expect(s.asked.every(a => a.auth === "Bearer STACK-TOKEN-aaa")).to.equal(true);
        noSecrets(r);
    });

    it("waits out a secondary rate limit for its retry-after (403 with GitHub's message, 429 without one)", async () => {
        const s = await serve(org([{ id: 7, name: "x86-1-2" }], (a, n) => {
            if (n === 0) {
                return secondaryLimit(1, 403);
            }
            if (a.method === "POST" && s.asked.filter(x => x.method === "POST").length === 1) {
                return secondaryLimit(1, 429, "Too Many Requests");
            }
            return undefined;
        }));
        const r = await runScript(env(s));
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(TOKEN_LINE("REG-TOKEN-1"));
        expect(r.stderr.match(/GitHub's secondary rate limit \(too many requests at once\) on (GET|POST) \/orgs\/acme\/actions\/runners(\/registration-token)?: waiting 1s/g)).to.have.length(2);
        expect(calls(s)).to.deep.equal([
            "GET /orgs/acme/actions/runners?per_page=100&page=1", "GET /orgs/acme/actions/runners?per_page=100&page=1", "DELETE /orgs/acme/actions/runners/7",
            "POST /orgs/acme/actions/runners/registration-token", "POST /orgs/acme/actions/runners/registration-token",
        ]);
        expect(s.asked[1].at - s.asked[0].at).to.be.at.least(1000);
        expect(s.asked[4].at - s.asked[3].at).to.be.at.least(1000);
    });

    it("fails at once on a rate limit that resets later than it waits, saying when, that the token is fine, and never falling back", async () => {
        const limit = primaryLimit(3600);
        const s = await serve(org([], () => limit));
        const r = await runScript(env(s, { GITHUB_TOKEN: "ENV-TOKEN-bbb" }));
        expect(r.code).to.equal(1);
        expect(r.stdout).to.equal("");
        expect(r.stderr).to.contain("GitHub's rate limit for the operator token is used up (403 on GET /orgs/acme/actions/runners)")
            .and.contain(new Date(limit.reset * 1000).toISOString()).and.contain("The token itself is fine").and.not.contain("refused");
        expect(s.asked).to.have.length(1);
        noSecrets(r);
    });

    it("names the permission the token lacks on a 403 without rate-limit signs, after trying GITHUB_TOKEN too", async () => {
        const s = await serve(org([], () => refused(403)));
        const r = await runScript(env(s, { GITHUB_TOKEN: "ENV-TOKEN-bbb" }));
        expect(r.code).to.equal(1);
        expect(r.stdout).to.equal("");
        expect(r.stderr).to.contain("GitHub refused the operator token (403) for GET /orgs/acme/actions/runners")
            .and.contain(`"Self-hosted runners: read and write" (fine-grained) or admin:org (classic) on acme`).and.not.contain("rate limit");
        expect(s.asked.map(a => a.auth)).to.deep.equal(["Bearer STACK-TOKEN-aaa", "Bearer ENV-TOKEN-bbb"]);
        noSecrets(r);
    });

    it("falls back to GITHUB_TOKEN when GitHub answers 401 to the stack's token", async () => {
        const s = await serve(org([{ id: 9, name: "x86-1-4" }], a => (a.auth === "Bearer STACK-TOKEN-aaa" ? refused(401) : undefined)));
        const r = await runScript(env(s, { GITHUB_TOKEN: "ENV-TOKEN-bbb" }));
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(TOKEN_LINE("REG-TOKEN-1"));
        expect(s.asked.map(a => a.auth)).to.deep.equal(["Bearer STACK-TOKEN-aaa", ...Array(3).fill("Bearer ENV-TOKEN-bbb")]);
        expect(calls(s).slice(1)).to.deep.equal(["GET /orgs/acme/actions/runners?per_page=100&page=1", "DELETE /orgs/acme/actions/runners/9", "POST /orgs/acme/actions/runners/registration-token"]);
        noSecrets(r);
    });

    it("retries a 5xx (plugin-retry), tolerates 404 on DELETE and waits for a runner's job to end on 422", async () => {
        let deletes = 0;
        const s = await serve(org([{ id: 2, name: "x86-1-2" }, { id: 3, name: "x86-1-3" }], (a, n) => {
            if (n === 0) {
                return { status: 502, body: { message: "Server Error" } };
            }
            if (a.method === "DELETE" && a.path.endsWith("/2")) {
                return { status: 404, body: { message: "Not Found" } };
            }
            if (a.method === "DELETE" && a.path.endsWith("/3") && deletes++ === 0) {
                return { status: 422, body: { message: "Runner x86-1-3 is still running a job" } };
            }
            return undefined;
        }));
        const r = await runScript(env(s, { ACTION: "remove", INSTANCES: "2" }));
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal("");
        expect(calls(s)).to.deep.equal([
            "GET /orgs/acme/actions/runners?per_page=100&page=1", "GET /orgs/acme/actions/runners?per_page=100&page=1",
            "DELETE /orgs/acme/actions/runners/2", "DELETE /orgs/acme/actions/runners/3", "DELETE /orgs/acme/actions/runners/3",
        ]);
        expect(r.stderr).to.contain("removed runner x86-1-2 (2)").and.contain("removed runner x86-1-3 (3)");
    });

    it("asks by name (exact) in an organization whose pages would be more requests than the host's names", async () => {
        const others: StandInRunner[] = Array.from({ length: 5000 }, (_, i) => ({ id: 1000 + i, name: `other-${i}` }));
        const s = await serve(org([...others, { id: 1, name: "x86-1-1" }, { id: 31, name: "x86-1-31" }, { id: 32, name: "x86-1-32" }, { id: 33, name: "x86-1-3" }]));
        const r = await runScript(env(s, { INSTANCES: "30" }));
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(TOKEN_LINE("REG-TOKEN-1"));
        expect(calls(s)).to.deep.equal([
            "GET /orgs/acme/actions/runners?per_page=100&page=1",
            "GET /orgs/acme/actions/runners?name=x86-1-31&per_page=100", "GET /orgs/acme/actions/runners?name=x86-1-32&per_page=100",
            "DELETE /orgs/acme/actions/runners/31", "DELETE /orgs/acme/actions/runners/32", "POST /orgs/acme/actions/runners/registration-token",
        ]);
    });

    it("pages instead when that is fewer requests, or when the server ignores `name`", async () => {
        // 250 runners: two more pages are fewer requests than the 32 names of `remove`.
        const few: StandInRunner[] = [...Array.from({ length: 248 }, (_, i) => ({ id: 1000 + i, name: `other-${i}` })), { id: 1, name: "x86-1-1" }, { id: 2, name: "x86-1-2" }];
        const s = await serve(org(few));
        const r = await runScript(env(s, { ACTION: "remove" }));
        expect(r.code, r.stderr).to.equal(0);
        expect(calls(s)).to.deep.equal([1, 2, 3].map(p => `GET /orgs/acme/actions/runners?per_page=100&page=${p}`)
            .concat(["DELETE /orgs/acme/actions/runners/1", "DELETE /orgs/acme/actions/runners/2"]));

        // A server without the filter answers the first page to a name: the script pages through after all.
        const many: StandInRunner[] = [...Array.from({ length: 3400 }, (_, i) => ({ id: 1000 + i, name: `other-${i}` })), { id: 32, name: "x86-1-32" }];
        const old = await serve(org(many, undefined, false));
        const r2 = await runScript(env(old, { INSTANCES: "31" }));
        expect(r2.code, r2.stderr).to.equal(0);
        expect(r2.stdout).to.equal(TOKEN_LINE("REG-TOKEN-1"));
        const c = calls(old);
        expect(c[1]).to.equal("GET /orgs/acme/actions/runners?name=x86-1-32&per_page=100");
        expect(c.filter(x => /&page=\d+$/.test(x))).to.have.length(35);
        expect(c.slice(-2)).to.deep.equal(["DELETE /orgs/acme/actions/runners/32", "POST /orgs/acme/actions/runners/registration-token"]);
    });

    it("bounds the names it asks by the most instances the settings allow", () => {
        const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "schema", "stack-config.schema.json"), "utf8"));
        const found: number[] = [];
        const walk = (v: unknown): void => {
            if (v && typeof v === "object") {
                for (const [k, x] of Object.entries(v)) {
                    if (k === "instances" && x && typeof x === "object" && typeof (x as { maximum?: unknown }).maximum === "number") {
                        found.push((x as { maximum: number }).maximum);
                    }
                    walk(x);
                }
            }
        };
        walk(schema);
        expect(found).to.not.be.empty;
        const script = fs.readFileSync(path.join(REPO_ROOT, "scripts", "operator", "github-runners.js"), "utf8");
        for (const max of found) {
            expect(script).to.contain(`const MAX_INSTANCES = ${max};`);
        }
    });
});
