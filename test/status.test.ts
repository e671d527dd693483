// runner-fleet status: the host's view from check.sh's lines and the organization's runner list.

import { expect } from "chai";
import { RUNNER_RELEASES } from "../components/catalog";
import { HostTarget } from "../scripts/lib/drift";
import { ApiRunner, fleetStatus, formatStatusMarkdown, formatStatusTable, hostStatus, listOrgRunners, statusExitCode } from "../scripts/lib/status";

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
            return new Response(JSON.stringify({ total_count: all.length, runners: all.slice((page - 1) * per, page * per) }), { status: 200 });
        }) as unknown as typeof fetch;
        const got = await listOrgRunners({ api: "https://api.example", org: "o", token: "t" }, fake);
        expect(got).to.have.length(150);
        expect(asked).to.deep.equal(["https://api.example/orgs/o/actions/runners?per_page=100&page=1", "https://api.example/orgs/o/actions/runners?per_page=100&page=2"]);
        const denied = (async () => new Response("{}", { status: 403 })) as unknown as typeof fetch;
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
});
