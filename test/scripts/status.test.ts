// runner-fleet status: the host's view from check.sh's lines and the organization's runner list.

import { expect } from "chai";
import { RUNNER_RELEASES } from "../../components/spec/catalog";
import { HostTarget } from "../../scripts/lib/drift";
import { ApiRunner, fleetStatus, formatStatusMarkdown, formatStatusTable, hostStatus, listOrgRunners, statusExitCode } from "../../scripts/lib/status";
import { Answer, Asked, GithubStandIn, primaryLimit, refused, runnerList, secondaryLimit } from "../github-api-stand-in";

const target = (name: string, over: Partial<HostTarget> = {}): HostTarget => ({
    name, address: "192.0.2.1", user: "root", port: 22, hostKey: null, privateKeySecret: "sshPrivateKey", privateKey: "KEY-never-shown",
    agent: "github-runner", instances: 2, mirrorMode: "registry", mirrorBind: "127.0.0.1:5000", expect: "", ...over,
});
const runner = (id: number, name: string, status: string, busy: boolean): ApiRunner => ({ id, name, status, busy, labels: [{ name: "runner-fleet-amd64" }] });
const CHECKS = [
    { check: "agent-service-1", ok: true, detail: "runner-fleet-runner@1 is active" },
    { check: "runner-version-1", ok: true, detail: RUNNER_RELEASES[0].version },
    { check: "agent-service-2", ok: false, detail: "runner-fleet-runner@2 is failed" },
    { check: "runner-version-2", ok: true, detail: "2.329.0" },
    { check: "mirror-cache", ok: true, detail: "", figures: { since: "Wed", blobs: { requests: 10, hits: 7, misses: 3 }, manifests: { requests: 2, hits: 0, misses: 2 }, hitRatio: 0.7 } },
];

describe("runner-fleet status", () => {
    it("joins the API's runner states with the versions, services and mirror figures read on the host", () => {
        const h = hostStatus(target("x86-1"), CHECKS, [runner(1, "x86-1-1", "online", true), runner(2, "other-1", "online", false)], new Date("2026-11-25T00:00:00Z"));
        expect(h.services).to.deep.equal(["active", "failed"]);
        expect(h.runners.map(r => [r.name, r.state, r.version, r.outdated])).to.deep.equal([
            ["x86-1-1", "busy", RUNNER_RELEASES[0].version, false], ["x86-1-2", "not registered", "2.329.0", true],
        ]);
        expect(h.runners[1].daysLeft).to.be.lessThan(0);
        expect(h.mirror?.hitRatio).to.equal(0.7);
    });

    it("reads every page of the runner list, 100 at a time, as GitHub paginates it", async () => {
        const all = Array.from({ length: 150 }, (_, i) => runner(i + 1, `r-${i + 1}`, i % 2 ? "online" : "offline", false));
        const asked: string[] = [];
        const fake = (async (url: string) => {
            asked.push(url);
            const u = new URL(url);
            const page = Number(u.searchParams.get("page")), per = Number(u.searchParams.get("per_page"));
            return new Response(JSON.stringify({ total_count: all.length, runners: all.slice((page - 1) * per, page * per) }), { status: 200, headers: { "content-type": "application/json; charset=utf-8" } });
        }) as unknown as typeof fetch;
        const got = await listOrgRunners({ api: "https://api.example", org: "o", token: "t" }, fake);
        expect(got).to.have.length(150);
        expect(asked).to.deep.equal(["https://api.example/orgs/o/actions/runners?per_page=100&page=1", "https://api.example/orgs/o/actions/runners?per_page=100&page=2"]);
        const denied = (async () => new Response(JSON.stringify({ message: "Resource not accessible by personal access token" }), { status: 403, headers: { "content-type": "application/json" } })) as unknown as typeof fetch;
        await listOrgRunners({ api: "https://api.example", org: "o", token: "t" }, denied).then(() => expect.fail("no error"), e => expect(e.message).to.contain("403").and.contain("Self-hosted runners"));
    });

    it("prints a table and Markdown, names what could not be read, exits 2 then, and never shows the key", async () => {
        const lines = CHECKS.map(c => JSON.stringify(c)).join("\n");
        const hostRunner = { run: async (t: HostTarget) => t.name === "down" ? { code: 255, stdout: "", stderr: `ssh: connect refused KEY-never-shown\n`, timedOut: false } : { code: 0, stdout: lines, stderr: "", timedOut: false } };
        const r = await fleetStatus("prod", [target("x86-1"), target("down"), target("arm-1", { agent: "actuated", instances: null })], hostRunner, undefined);
        const table = formatStatusTable(r);
        expect(table).to.contain("x86-1").and.contain("x86-1-1 not registered").and.contain("7 of 10 blob requests from the cache (70%)")
            .and.contain("one per job (actuated)").and.contain("unreachable over SSH");
        expect(formatStatusMarkdown(r)).to.contain("| host | agent | service | runners | mirror | error |");
        expect(JSON.stringify(r) + table).to.not.contain("KEY-never-shown");
        expect(statusExitCode(r)).to.equal(2);
    });

    describe("the runner list against a stand-in GitHub API: rate limits are waited out, not taken for a refusal", function () {
        // A loaded machine: generous, though each case takes a few seconds at most.
        this.timeout(60_000);
        const all = Array.from({ length: 120 }, (_, i) => ({ id: i + 1, name: `x86-${i + 1}-1` }));
        let server: GithubStandIn | undefined;
        const serve = async (over: (a: Asked, n: number) => Answer | undefined) => {
            let n = 0;
            server = await new GithubStandIn(a => over(a, n++) ?? runnerList(all, a.query)).start();
            return { api: server.url, org: "acme", token: "STATUS-TOKEN" };
        };
        afterEach(async () => {
            await server?.close();
            server = undefined;
        });

        it("waits until x-ratelimit-reset on the primary limit, says so, then reads every page", async () => {
            let limit: ReturnType<typeof primaryLimit> | undefined;
            const gh = await serve((_, n) => (n === 1 ? (limit = primaryLimit(1)) : undefined));
            const said: string[] = [];
            const got = await listOrgRunners(gh, fetch, { log: l => said.push(l) });
            expect(got).to.have.length(120);
            expect(said.join("\n")).to.match(/GitHub's rate limit for the token is used up on GET \/orgs\/acme\/actions\/runners: waiting \d+s until it resets at/);
            expect(server!.asked.map(a => a.query.get("page"))).to.deep.equal(["1", "2", "2"]);
            expect(server!.asked[2].at).to.be.at.least(limit!.reset * 1000);
            expect(server!.asked.every(a => a.auth === "Bearer STATUS-TOKEN")).to.equal(true);
        });

        it("waits for retry-after on a secondary limit (403 with GitHub's message, 429 without)", async () => {
            const gh = await serve((_, n) => (n === 0 ? secondaryLimit(1, 403) : n === 2 ? secondaryLimit(1, 429, "Too Many Requests") : undefined));
            const said: string[] = [];
            expect(await listOrgRunners(gh, fetch, { log: l => said.push(l) })).to.have.length(120);
            expect(said.filter(l => /GitHub's secondary rate limit \(too many requests at once\) on GET \/orgs\/acme\/actions\/runners: waiting 1s/.test(l))).to.have.length(2);
            const at = server!.asked.map(a => a.at);
            expect(at[1] - at[0]).to.be.at.least(1000);
            expect(at[3] - at[2]).to.be.at.least(1000);
        });

        it("says the rate limit, its reset and that the token is fine when it resets later than status waits", async () => {
            const limit = primaryLimit(3600);
            const gh = await serve(() => limit);
            const e = await listOrgRunners(gh, fetch, { log: () => undefined }).then(() => expect.fail("no error"), (x: Error) => x);
            expect(e.message).to.contain("GitHub's rate limit for the token is used up (403 listing the runners of acme)")
                .and.contain(new Date(limit.reset * 1000).toISOString()).and.contain("The token itself is fine").and.not.contain("permission");
            expect(server!.asked).to.have.length(1);
        });

        it("names the permission on a 403 or 401 without rate-limit signs", async () => {
            const gh = await serve((_, n) => refused(n === 0 ? 403 : 401));
            for (const status of [403, 401]) {
                const e = await listOrgRunners(gh, fetch, { log: () => undefined }).then(() => expect.fail("no error"), (x: Error) => x);
                expect(e.message).to.equal(`GitHub answered ${status} listing the runners of acme: the token needs the organization permission "Self-hosted runners: read" (fine-grained) or admin:org (classic)`);
            }
            expect(server!.asked).to.have.length(2);
        });
    });
});
