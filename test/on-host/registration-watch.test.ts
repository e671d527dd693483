// The registration watch's provider (components/on-host/registration-watch.ts), called as the engine
// calls a dynamic provider (create, then diff and update at later runs), against a loopback stand-in
// for GitHub's runner list: no change while GitHub holds every runner of the host, a new generation
// (and so a new token and install) when it deleted one, the token asked with and never shown.

import { expect } from "chai";
import { operatorLoader } from "../../components/on-host/operator-command";
import { watchProvider } from "../../components/on-host/registration-watch";
import { GithubStandIn, StandInRunner, refused, runnerList } from "../github-api-stand-in";

const TOKEN = "ghp_fake-operator-token-for-the-watch";

describe("the registration watch of a plain host", () => {
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
        runners = [{ id: 7, name: "x86-1-1" }, { id: 8, name: "x86-1-2" }, { id: 9, name: "other-1" }];
        refuse = false;
    });
    const inputs = (over: Record<string, unknown> = {}) => ({ host: "x86-1", org: "acme", githubApi: github.url, instances: 2, token: TOKEN, generation: 0, ...over });

    it("asks nothing when it is created (the install registers the runners), and starts at generation 0", async () => {
        const asked = github.asked.length;
        const made = await provider.create(inputs());
        expect(made.outs).to.include({ generation: 0 });
        expect(github.asked.length).to.equal(asked);
    });

    it("changes nothing while GitHub holds every runner of the host: a repeat up runs no command", async () => {
        const asked = github.asked.length;
        const d = await provider.diff!("x86-1-registrations", { ...inputs(), generation: 3 }, inputs());
        expect(d.changes).to.equal(false);
        const requests = github.asked.slice(asked);
        expect(requests.map(a => `${a.method} ${a.path}`)).to.deep.equal(["GET /orgs/acme/actions/runners"]);
        // The token came on the script's stdin and went to GitHub as the bearer.
        expect(requests[0].auth).to.equal(`Bearer ${TOKEN}`);
    });

    it("goes up a generation when GitHub deleted a runner, and holds still once it is registered again", async () => {
        runners = runners.filter(r => r.name !== "x86-1-2");
        const olds = { ...inputs(), generation: 3 };
        const d = await provider.diff!("x86-1-registrations", olds, inputs());
        expect(d.changes).to.equal(true);
        const u = await provider.update!("x86-1-registrations", olds, inputs());
        expect(u.outs).to.deep.include({ generation: 4, missing: ["x86-1-2"] });
        runners.push({ id: 10, name: "x86-1-2" });
        expect((await provider.diff!("x86-1-registrations", u.outs, inputs())).changes).to.equal(false);
    });

    it("changes with the host's settings without asking (more instances register with the install anyway)", async () => {
        const asked = github.asked.length;
        expect((await provider.diff!("x86-1-registrations", inputs(), inputs({ instances: 3 }))).changes).to.equal(true);
        expect(github.asked.length).to.equal(asked);
    });

    it("fails the preview or up with the host, the reason and the permission when GitHub refuses the token, never showing it", async () => {
        refuse = true;
        const err = await provider.diff!("x86-1-registrations", inputs(), inputs()).then(() => undefined, (e: Error) => e);
        expect(err?.message).to.contain("host x86-1").and.contain("Self-hosted runners: read and write");
        expect(err?.message).to.not.contain(TOKEN);
    });
});
