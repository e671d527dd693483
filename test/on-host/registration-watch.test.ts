// The registration watch's provider (components/on-host/registration-watch.ts), called as the engine
// calls a dynamic provider (check at every preview and up, create once, update with check's inputs;
// the engine's own comparison of check's inputs is the diff), against a loopback stand-in for
// GitHub's runner list: no change while GitHub holds every runner of the hosts, a new generation for
// the host it deleted one of (and so a new token and install there only), one question for all
// hosts, the token asked with and never shown.

import { expect } from "chai";
import { operatorLoader } from "../../components/on-host/operator-command";
import { watchProvider } from "../../components/on-host/registration-watch";
import { GithubStandIn, StandInRunner, refused, runnerList } from "../github-api-stand-in";

const TOKEN = "ghp_fake-operator-token-for-the-watch";

interface WatchInputs {
    hosts: string[];
    org: string;
    githubApi: string;
    instances: number;
    token: string;
    generations?: Record<string, number>;
    missing?: Record<string, string[]>;
}

describe("the registration watch of plain hosts", () => {
    const provider = watchProvider(operatorLoader("registration-watch.js"));
    let runners: StandInRunner[];
    let refuse = false;
    const github = new GithubStandIn(a => {
        if (refuse) {
            return refused(403);
        }
        if (a.method === "GET" && a.path === "/orgs/acme/actions/runners") {
            return runnerList(runners, a.query);
        }
        return { status: 404, body: { message: "Not Found" } };
    });
    before(async () => {
        await github.start();
    });
    after(async () => {
        await github.close();
    });
    beforeEach(() => {
        runners = [{ id: 7, name: "x86-1-1" }, { id: 8, name: "x86-1-2" }, { id: 9, name: "x86-2-1" }, { id: 10, name: "x86-2-2" }, { id: 11, name: "other-1" }];
        refuse = false;
    });
    const news = (over: Partial<WatchInputs> = {}): WatchInputs => ({ hosts: ["x86-1", "x86-2"], org: "acme", githubApi: github.url, instances: 2, token: TOKEN, ...over });
    /** What check returned: the inputs the engine keeps, and compares with the state's. */
    const check = async (olds: Partial<WatchInputs>, n: WatchInputs) => (await provider.check!(olds, n)).inputs as WatchInputs;
    const asked = () => github.asked.length;

    it("asks nothing at the first check or at create (the installs register the runners): every host at generation 0", async () => {
        const before = asked();
        const first = await check({}, news());
        expect(first.generations).to.deep.equal({ "x86-1": 0, "x86-2": 0 });
        const made = await provider.create(first);
        expect(made.outs).to.deep.equal(first);
        expect(asked()).to.equal(before);
    });

    it("returns the inputs it had while GitHub holds every runner: one request for all hosts, with the token as bearer", async () => {
        const state = await check({}, news());
        const before = asked();
        const again = await check(state, news());
        expect(again).to.deep.equal(state);
        const requests = github.asked.slice(before);
        expect(requests.map(a => `${a.method} ${a.path}`)).to.deep.equal(["GET /orgs/acme/actions/runners"]);
        // The token came on the script's stdin and went to GitHub as the bearer.
        expect(requests[0].auth).to.equal(`Bearer ${TOKEN}`);
    });

    it("goes up a generation for the host GitHub deleted a runner of, that host only, and holds still once it is registered again", async () => {
        const state = { ...(await check({}, news())), generations: { "x86-1": 0, "x86-2": 3 } };
        runners = runners.filter(r => r.name !== "x86-2-2");
        const seen = await check(state, news());
        expect(seen.generations).to.deep.equal({ "x86-1": 0, "x86-2": 4 });
        expect(seen.missing).to.deep.equal({ "x86-1": [], "x86-2": ["x86-2-2"] });
        // The update keeps check's inputs as the outputs: the generation reaches the host's triggers.
        expect((await provider.update!("acme-registrations", state, seen)).outs).to.deep.equal(seen);
        runners.push({ id: 12, name: "x86-2-2" });
        expect(await check(seen, news())).to.deep.equal(seen);
    });

    it("reads an organization of many runners page by page once for all hosts, not once per host", async () => {
        runners = [...runners, ...Array.from({ length: 150 }, (_, i) => ({ id: 100 + i, name: `busy-${i}` }))];
        const state = await check({}, news());
        const before = asked();
        expect((await check(state, news())).generations).to.deep.equal(state.generations);
        expect(github.asked.slice(before).map(a => a.query.get("page"))).to.deep.equal(["1", "2"]);
    });

    it("starts a host new to the watch at 0 unasked, asks nothing when the org, API or instances change, and drops a host that left", async () => {
        const state = { ...(await check({}, news())), generations: { "x86-1": 2, "x86-2": 0 } };
        runners = [];
        const before = asked();
        const grown = await check({ ...state, hosts: ["x86-1"], generations: { "x86-1": 2 } }, news());
        expect(grown.generations).to.deep.equal({ "x86-1": 3, "x86-2": 0 });
        expect(asked() - before).to.equal(1);
        const more = await check(state, news({ instances: 3 }));
        expect(more.generations).to.deep.equal({ "x86-1": 2, "x86-2": 0 });
        expect(asked() - before).to.equal(1);
        const fewer = await check(state, news({ hosts: ["x86-2"] }));
        expect(fewer.generations).to.deep.equal({ "x86-2": 1 });
    });

    it("fails the preview or up with the hosts, the reason and the permission when GitHub refuses the token, never showing it", async () => {
        const state = await check({}, news());
        refuse = true;
        const err = await provider.check!(state, news()).then(() => undefined, (e: Error) => e);
        expect(err?.message).to.contain("host x86-1, x86-2").and.contain("Self-hosted runners: read and write");
        expect(err?.message).to.not.contain(TOKEN);
    });
});
