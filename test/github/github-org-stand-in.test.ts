import { expect } from "chai";
import * as crypto from "crypto";
import { GithubOrgStandIn, GithubOrgStandInOptions, OpenApiDescription } from "../github-org-stand-in";

const ORG = "example-org";
const TOKEN = "ghp_standin_token_1";
const OTHER = "ghp_standin_token_2";

/** A clock the test moves: GitHub's timestamps are whole seconds. */
function testClock(start = Date.parse("2026-01-01T00:00:00Z")) {
    let now = start;
    return { now: () => now, advance: (seconds: number) => { now += seconds * 1000; } };
}

async function standIn(options: Partial<GithubOrgStandInOptions> = {}): Promise<GithubOrgStandIn> {
    return new GithubOrgStandIn({
        org: ORG,
        repositories: { app: 101, api: { id: 102, private: false }, site: { id: 103, files: { ".github/workflows/ci.yml": "on: push\n" } } },
        tokens: [TOKEN, OTHER],
        ...options,
    }).start();
}

interface Reply {
    status: number;
    body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    headers: Headers;
}

/** A call as go-github makes it: JSON body, Bearer token, path relative to the REST base URL. */
async function call(s: GithubOrgStandIn, method: string, rel: string, body?: unknown, opts: { token?: string | null; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { Accept: "application/vnd.github+json", ...opts.headers };
    const token = opts.token === undefined ? TOKEN : opts.token;
    if (token !== null) {
        headers.Authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
        headers["Content-Type"] = "application/json";
    }
    const res = await fetch(new URL(rel, s.url), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** A value sealed as the provider seals it (libsodium crypto_box_seal: 32-byte ephemeral key, 16-byte MAC, the message); random bytes of that length. */
function sealed(plaintext: string): string {
    return crypto.randomBytes(48 + Buffer.byteLength(plaintext)).toString("base64");
}

describe("GitHub organization stand-in (the REST API the Pulumi GitHub provider uses, checked against GitHub's OpenAPI description)", function () {
    this.timeout(60000);
    let s: GithubOrgStandIn;

    afterEach(async () => {
        if (s) {
            await s.stop();
            // Whatever a test did, the stand-in's own answers match the operations' response schemas.
            expect(s.responseFailures, "answers that do not match GitHub's response schemas").to.deep.equal([]);
        }
    });

    it("serves REST under /api/v3/ and every operation it serves is in GitHub's description (api.github.com and GHES 3.19)", async () => {
        s = await standIn();
        expect(s.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3\/$/);
        expect(s.servedOperations.length).to.be.greaterThan(35);
        const ghes = OpenApiDescription.load("ghes-3.19");
        const missing = s.servedOperations.filter(k => !ghes.has(k.split(" ")[0], k.split(" ")[1]));
        expect(missing).to.deep.equal([]);
        // At configure time the provider asks for the organization (provider.go configureProviderMeta).
        const org = await call(s, "GET", `orgs/${ORG}`);
        expect(org.status).to.equal(200);
        expect(org.body.login).to.equal(ORG);
        expect(org.body.type).to.equal("Organization");
        expect((await call(s, "GET", "orgs/someone-else")).status).to.equal(404);
        expect(s.failures).to.deep.equal([]);
    });

    it("fails validation for an undocumented path, method or query parameter, and for GraphQL", async () => {
        s = await standIn();
        // A secret's value cannot be read through the API: no such path.
        const r = await call(s, "GET", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN/value`);
        expect(r.status).to.equal(404);
        expect(r.body.message).to.contain("no such path in GitHub's OpenAPI description");
        expect(s.failures).to.have.length(1);
        expect(s.failures[0]).to.include({ method: "GET", path: `/api/v3/orgs/${ORG}/actions/secrets/RUNNER_TOKEN/value` });

        const m = await call(s, "POST", `orgs/${ORG}/actions/secrets/public-key`, {});
        expect(m.status).to.equal(404);
        expect(s.failures[1].reason).to.contain("method not documented");

        const q = await call(s, "GET", `orgs/${ORG}/actions/runner-groups?perpage=5`);
        expect(q.status).to.equal(400);
        expect(s.failures[2].reason).to.contain("query parameter perpage is not documented");

        const t = await call(s, "GET", `orgs/${ORG}/actions/runner-groups?per_page=many`);
        expect(t.status).to.equal(400);
        expect(s.failures[3].reason).to.contain("query parameter per_page").and.contain("is not of type integer");

        const p = await call(s, "GET", `orgs/${ORG}/actions/runner-groups/first`);
        expect(p.status).to.equal(400);
        expect(s.failures[4].reason).to.contain("path parameter runner_group_id");

        const g = await fetch(new URL("/api/graphql", s.url), { method: "POST", headers: { Authorization: `Bearer ${TOKEN}` }, body: "{}" });
        expect(g.status).to.equal(404);
        expect(s.failures[5].reason).to.contain("GraphQL is not served");
        expect(s.validated).to.equal(0);
    });

    it("fails validation for a body of the wrong type, a missing required property or a value outside the enum", async () => {
        s = await standIn();
        const wrongType = await call(s, "POST", `orgs/${ORG}/actions/variables`, { name: "REGISTRY", value: 42, visibility: "all" });
        expect(wrongType.status).to.equal(400);
        expect(s.failures).to.have.length(1);
        expect(s.failures[0].reason).to.contain("body.value: 42 is not of type string");
        expect(s.variable("REGISTRY")).to.equal(undefined);

        const missing = await call(s, "PUT", `orgs/${ORG}/actions/secrets/TOKEN_A/repositories`, {});
        expect(missing.status).to.equal(400);
        expect(s.failures[1].reason).to.contain("required property selected_repository_ids is missing");

        const enumValue = await call(s, "POST", `orgs/${ORG}/actions/runner-groups`, { name: "fleet", visibility: "internal" });
        expect(enumValue.status).to.equal(400);
        expect(s.failures[2].reason).to.contain("body.visibility: \"internal\" is not one of");

        const items = await call(s, "PUT", `orgs/${ORG}/actions/runner-groups/1/repositories`, { selected_repository_ids: ["101"] });
        expect(items.status).to.equal(400);
        expect(s.failures[3].reason).to.contain("body.selected_repository_ids[0]");

        const noBody = await call(s, "PUT", `orgs/${ORG}/actions/secrets/TOKEN_A`);
        expect(noBody.status).to.equal(400);
        expect(s.failures[4].reason).to.contain("requires a JSON body");
        expect(s.validated).to.equal(0);
    });

    it("passes and counts a valid secret PUT as the provider sends it, and reads the secret back", async () => {
        s = await standIn();
        const key = await call(s, "GET", `orgs/${ORG}/actions/secrets/public-key`);
        expect(key.status).to.equal(200);
        expect(Buffer.from(key.body.key, "base64")).to.have.length(32);
        // go-github EncryptedSecret: key_id, encrypted_value, visibility (selected_repository_ids omitted when empty).
        const put = await call(s, "PUT", `orgs/${ORG}/actions/secrets/docker_hub_token`, { key_id: key.body.key_id, encrypted_value: sealed("dckr_pat"), visibility: "private" });
        expect(put.status).to.equal(201);
        expect(s.failures).to.deep.equal([]);
        expect(s.validated).to.equal(2);
        const again = await call(s, "PUT", `orgs/${ORG}/actions/secrets/DOCKER_HUB_TOKEN`, { key_id: key.body.key_id, encrypted_value: sealed("dckr_pat2"), visibility: "private" });
        expect(again.status).to.equal(204);
        const got = await call(s, "GET", `orgs/${ORG}/actions/secrets/docker_hub_token`);
        expect(got.status).to.equal(200);
        expect(got.body).to.include({ name: "DOCKER_HUB_TOKEN", visibility: "private" });
        expect(got.body.created_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(s.validated).to.equal(4);
        expect(s.requests.map(r => r.status)).to.deep.equal([200, 201, 204, 200]);
        expect(s.requests[1].operation).to.contain("actions/create-or-update-org-secret");

        const wrongKey = await call(s, "PUT", `orgs/${ORG}/actions/secrets/OTHER`, { key_id: "1", encrypted_value: sealed("x"), visibility: "all" });
        expect(wrongKey.status).to.equal(422);
        expect((await call(s, "DELETE", `orgs/${ORG}/actions/secrets/DOCKER_HUB_TOKEN`)).status).to.equal(204);
        expect((await call(s, "GET", `orgs/${ORG}/actions/secrets/DOCKER_HUB_TOKEN`)).status).to.equal(404);
    });

    it("moves a secret's updated_at when its value or its repositories change", async () => {
        const clock = testClock();
        s = await standIn({ clock: clock.now });
        const key = (await call(s, "GET", `orgs/${ORG}/actions/secrets/public-key`)).body;
        await call(s, "PUT", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN`, { key_id: key.key_id, encrypted_value: sealed("a"), visibility: "selected", selected_repository_ids: [101] });
        const first = (await call(s, "GET", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN`)).body;
        expect(first.created_at).to.equal("2026-01-01T00:00:00Z");
        expect(first.updated_at).to.equal(first.created_at);
        expect(first.selected_repositories_url).to.contain("/actions/secrets/RUNNER_TOKEN/repositories");

        clock.advance(5);
        // resource_github_actions_organization_secret_repositories.go: SetSelectedReposForOrgSecret.
        expect((await call(s, "PUT", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN/repositories`, { selected_repository_ids: [101, 102] })).status).to.equal(204);
        const second = (await call(s, "GET", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN`)).body;
        expect(second.updated_at).to.equal("2026-01-01T00:00:05Z");
        expect(second.created_at).to.equal(first.created_at);
        const repos = await call(s, "GET", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN/repositories?per_page=100`);
        expect(repos.body.total_count).to.equal(2);
        expect(repos.body.repositories.map((r: { id: number }) => r.id)).to.deep.equal([101, 102]);

        clock.advance(5);
        await call(s, "PUT", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN`, { key_id: key.key_id, encrypted_value: sealed("b"), visibility: "selected", selected_repository_ids: [101, 102] });
        expect((await call(s, "GET", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN`)).body.updated_at).to.equal("2026-01-01T00:00:10Z");

        const unknown = await call(s, "PUT", `orgs/${ORG}/actions/secrets/RUNNER_TOKEN/repositories`, { selected_repository_ids: [999] });
        expect(unknown.status).to.equal(422);
        expect(s.failures).to.deep.equal([]);
    });

    it("stores a runner group created or patched with visibility private as all, with an ETag the provider's conditional read can use", async () => {
        s = await standIn();
        // go-github CreateRunnerGroupRequest as the provider fills it (restricted_to_workflows is always sent).
        const created = await call(s, "POST", `orgs/${ORG}/actions/runner-groups`, { name: "fleet", visibility: "private", restricted_to_workflows: false, allows_public_repositories: false });
        expect(created.status).to.equal(201);
        expect(created.body.visibility).to.equal("all");
        const id = created.body.id as number;
        const read = await call(s, "GET", `orgs/${ORG}/actions/runner-groups/${id}`);
        expect(read.body).to.include({ id, name: "fleet", visibility: "all", default: false, allows_public_repositories: false });
        const etag = read.headers.get("etag")!;
        expect(etag).to.match(/^W\/"/);
        const unchanged = await call(s, "GET", `orgs/${ORG}/actions/runner-groups/${id}`, undefined, { headers: { "If-None-Match": etag } });
        expect(unchanged.status).to.equal(304);

        const patched = await call(s, "PATCH", `orgs/${ORG}/actions/runner-groups/${id}`, { name: "fleet", visibility: "selected", restricted_to_workflows: false, allows_public_repositories: false });
        expect(patched.body.visibility).to.equal("selected");
        expect((await call(s, "PUT", `orgs/${ORG}/actions/runner-groups/${id}/repositories`, { selected_repository_ids: [101] })).status).to.equal(204);
        const repos = await call(s, "GET", `orgs/${ORG}/actions/runner-groups/${id}/repositories?per_page=100`);
        expect(repos.body.repositories.map((r: { id: number }) => r.id)).to.deep.equal([101]);
        expect((await call(s, "GET", `orgs/${ORG}/actions/runner-groups/${id}`, undefined, { headers: { "If-None-Match": etag } })).status).to.equal(200);

        await call(s, "PATCH", `orgs/${ORG}/actions/runner-groups/${id}`, { name: "fleet", visibility: "private", restricted_to_workflows: false, allows_public_repositories: false });
        expect((await call(s, "GET", `orgs/${ORG}/actions/runner-groups/${id}`)).body.visibility).to.equal("all");
        const list = await call(s, "GET", `orgs/${ORG}/actions/runner-groups`);
        expect(list.body.runner_groups.map((g: { name: string }) => g.name)).to.deep.equal(["Default", "fleet"]);
        expect(s.failures).to.deep.equal([]);
    });

    it("restricts a runner group to workflows only for an organization on GitHub Enterprise", async () => {
        const wf = `${ORG}/app/.github/workflows/build.yml@refs/heads/main`;
        s = await standIn();
        const team = await call(s, "POST", `orgs/${ORG}/actions/runner-groups`, { name: "fleet", visibility: "all", restricted_to_workflows: true, selected_workflows: [wf] });
        expect(team.status).to.equal(422);
        expect(team.body.message).to.contain("GitHub Enterprise");
        expect(s.runnerGroups()).to.have.length(1);
        await s.stop();

        s = await standIn({ plan: "enterprise" });
        const ent = await call(s, "POST", `orgs/${ORG}/actions/runner-groups`, { name: "fleet", visibility: "all", restricted_to_workflows: true, selected_workflows: [wf] });
        expect(ent.status).to.equal(201);
        expect(ent.body).to.deep.include({ restricted_to_workflows: true, selected_workflows: [wf] });
    });

    it("handles org variables as the provider sends them (selected_repository_ids always present)", async () => {
        s = await standIn();
        expect((await call(s, "POST", `orgs/${ORG}/actions/variables`, { name: "mirror", value: "172.17.0.1:5000", visibility: "all", selected_repository_ids: [] })).status).to.equal(201);
        const v = await call(s, "GET", `orgs/${ORG}/actions/variables/MIRROR`);
        expect(v.body).to.include({ name: "MIRROR", value: "172.17.0.1:5000", visibility: "all" });
        // go-github UpdateOrgVariable sends the whole ActionsVariable, name included.
        expect((await call(s, "PATCH", `orgs/${ORG}/actions/variables/MIRROR`, { name: "MIRROR", value: "10.0.2.2:5000", visibility: "selected", selected_repository_ids: [102] })).status).to.equal(204);
        expect((await call(s, "GET", `orgs/${ORG}/actions/variables/MIRROR/repositories`)).body.total_count).to.equal(1);
        await call(s, "PATCH", `orgs/${ORG}/actions/variables/MIRROR`, { name: "MIRROR", value: "10.0.2.2:5000", visibility: "all", selected_repository_ids: [] });
        // Documented: 409 when the variable's visibility is not selected.
        expect((await call(s, "GET", `orgs/${ORG}/actions/variables/MIRROR/repositories`)).status).to.equal(409);
        expect((await call(s, "POST", `orgs/${ORG}/actions/variables`, { name: "MIRROR", value: "x", visibility: "all" })).status).to.equal(409);
        expect(s.failures).to.deep.equal([]);
    });

    it("answers an unknown or revoked token with 401 Bad credentials", async () => {
        s = await standIn();
        expect((await call(s, "GET", `orgs/${ORG}`)).status).to.equal(200);
        s.revokeToken(TOKEN);
        const revoked = await call(s, "GET", `orgs/${ORG}`);
        expect(revoked.status).to.equal(401);
        expect(revoked.body.message).to.equal("Bad credentials");
        const unknown = await call(s, "GET", `orgs/${ORG}`, undefined, { token: "ghp_never_issued" });
        expect(unknown.status).to.equal(401);
        expect(unknown.body.message).to.equal("Bad credentials");
        const none = await call(s, "GET", `orgs/${ORG}`, undefined, { token: null });
        expect(none.status).to.equal(401);
        expect(none.body.message).to.equal("Requires authentication");
        // The other token, sent as "token <t>", still works.
        const res = await fetch(new URL(`orgs/${ORG}`, s.url), { headers: { Authorization: `token ${OTHER}` } });
        expect(res.status).to.equal(200);
        expect(s.failures).to.deep.equal([]);
    });

    it("answers the repository data source: 200 with the id for a repository of the org, 404 for a missing one", async () => {
        s = await standIn();
        const app = await call(s, "GET", `repos/${ORG}/app`);
        expect(app.status).to.equal(200);
        expect(app.body).to.include({ id: 101, name: "app", full_name: `${ORG}/app`, private: true, visibility: "private", default_branch: "main", has_pages: false });
        expect(app.body.license).to.equal(null);
        expect((await call(s, "GET", `repos/${ORG}/api`)).body).to.include({ id: 102, private: false, visibility: "public" });
        const missing = await call(s, "GET", `repos/${ORG}/nope`);
        expect(missing.status).to.equal(404);
        expect(missing.body.message).to.equal("Not Found");
        expect((await call(s, "GET", `repos/other-org/app`)).status).to.equal(404);
        // A 404 for a missing repository is GitHub's answer, not a validation failure.
        expect(s.failures).to.deep.equal([]);
        expect(s.validated).to.equal(4);
    });

    it("commits a file as resource_github_repository_file does, and refuses a commit to a protected branch", async () => {
        s = await standIn();
        const file = ".github/workflows/multi-arch-image.yml";
        const enc = (t: string) => Buffer.from(t).toString("base64");
        expect((await call(s, "GET", `repos/${ORG}/app/branches/main`)).body).to.include({ name: "main", protected: false });
        expect((await call(s, "GET", `repos/${ORG}/app/branches/nope`)).status).to.equal(404);
        expect((await call(s, "GET", `repos/${ORG}/app/contents/${file}?ref=main`)).status).to.equal(404);
        const created = await call(s, "PUT", `repos/${ORG}/app/contents/${file}`, { message: `Add ${file}`, content: enc("name: build\n"), branch: "main" });
        expect(created.status).to.equal(201);
        const got = await call(s, "GET", `repos/${ORG}/app/contents/${file}?ref=main`);
        expect(got.status).to.equal(200);
        expect(Buffer.from(got.body.content, "base64").toString()).to.equal("name: build\n");
        expect(new URL(got.body.url).searchParams.get("ref")).to.equal("main");
        const commit = await call(s, "GET", `repos/${ORG}/app/commits/${created.body.commit.sha}`);
        expect(commit.body.files).to.deep.include({ ...commit.body.files[0], filename: file, status: "added" });
        const history = await call(s, "GET", `repos/${ORG}/app/commits?sha=main&path=${encodeURIComponent(file)}`);
        expect(history.body.map((c: { sha: string }) => c.sha)).to.deep.equal([created.body.commit.sha]);
        // An update needs the blob sha (422 without it, 409 with a stale one).
        expect((await call(s, "PUT", `repos/${ORG}/app/contents/${file}`, { message: "Update", content: enc("v2\n"), branch: "main" })).status).to.equal(422);
        expect((await call(s, "PUT", `repos/${ORG}/app/contents/${file}`, { message: "Update", content: enc("v2\n"), branch: "main", sha: "0".repeat(40) })).status).to.equal(409);
        expect((await call(s, "PUT", `repos/${ORG}/app/contents/${file}`, { message: "Update", content: enc("v2\n"), branch: "main", sha: got.body.sha })).status).to.equal(200);

        s.protectBranch("app", "main");
        expect((await call(s, "GET", `repos/${ORG}/app/branches/main`)).body.protected).to.equal(true);
        const head = s.branchHead("app", "main");
        const refused = await call(s, "PUT", `repos/${ORG}/app/contents/other.yml`, { message: "Add other.yml", content: enc("x\n"), branch: "main" });
        expect(refused.status).to.equal(409);
        expect(refused.body.message).to.equal("Could not update file: Changes must be made through a pull request.");
        expect(s.branchHead("app", "main")).to.equal(head);
        expect(s.file("app", "other.yml")).to.equal(undefined);
        const sha = (await call(s, "GET", `repos/${ORG}/app/contents/${file}`)).body.sha;
        const refusedDelete = await call(s, "DELETE", `repos/${ORG}/app/contents/${file}`, { message: "Delete", sha, branch: "main", content: enc("v2\n") });
        expect(refusedDelete.status).to.equal(409);
        expect(s.file("app", file)).to.equal("v2\n");
        expect(s.failures).to.deep.equal([]);
        // go-github's DeleteFile sends content too: allowed by the schema, noted as undocumented.
        expect(s.undocumentedBodyProperties).to.deep.equal([`DELETE /repos/${ORG}/app/contents/${file}: body.content`]);
    });

    it("creates, reads and closes a pull request from a branch as resource_github_repository_pull_request does", async () => {
        s = await standIn();
        const enc = (t: string) => Buffer.from(t).toString("base64");
        const main = s.branchHead("app", "main")!;
        expect((await call(s, "POST", `repos/${ORG}/app/git/refs`, { ref: "refs/heads/runner-fleet", sha: main })).status).to.equal(201);
        expect((await call(s, "GET", `repos/${ORG}/app/git/ref/heads/runner-fleet`)).body.object.sha).to.equal(main);
        expect((await call(s, "POST", `repos/${ORG}/app/git/refs`, { ref: "refs/heads/runner-fleet", sha: main })).status).to.equal(422);
        s.protectBranch("app", "main");
        const nothing = await call(s, "POST", `repos/${ORG}/app/pulls`, { title: "Build natively", head: "runner-fleet", base: "main", body: "", maintainer_can_modify: false });
        expect(nothing.status).to.equal(422);
        expect(nothing.body.errors[0].message).to.equal("No commits between main and runner-fleet");
        expect((await call(s, "PUT", `repos/${ORG}/app/contents/ci.yml`, { message: "Add ci.yml", content: enc("on: push\n"), branch: "runner-fleet" })).status).to.equal(201);
        const pr = await call(s, "POST", `repos/${ORG}/app/pulls`, { title: "Build natively", head: "runner-fleet", base: "main", body: "", maintainer_can_modify: false });
        expect(pr.status).to.equal(201);
        expect(pr.body).to.include({ number: 1, state: "open", title: "Build natively" });
        expect(pr.body.head).to.include({ ref: "runner-fleet", sha: s.branchHead("app", "runner-fleet") });
        expect(pr.body.base).to.include({ ref: "main", sha: main });
        expect((await call(s, "POST", `repos/${ORG}/app/pulls`, { title: "Again", head: "runner-fleet", base: "main" })).status).to.equal(422);
        expect((await call(s, "GET", `repos/${ORG}/app/pulls/1`)).body.title).to.equal("Build natively");
        // go-github Edit for the provider's Delete: state closed only.
        const closed = await call(s, "PATCH", `repos/${ORG}/app/pulls/1`, { state: "closed" });
        expect(closed.body.state).to.equal("closed");
        expect(closed.body.closed_at).to.be.a("string");
        expect((await call(s, "GET", `repos/${ORG}/app/pulls/2`)).status).to.equal(404);
        expect(s.failures).to.deep.equal([]);
    });

    it("lists branches with the protected filter as data_source_github_repository_branches asks (protected=true)", async () => {
        s = await standIn();
        s.createBranch("app", "topic");
        s.protectBranch("app", "main");
        const only = await call(s, "GET", `repos/${ORG}/app/branches?protected=true&per_page=100`);
        expect(only.body.map((b: { name: string; protected: boolean }) => [b.name, b.protected])).to.deep.equal([["main", true]]);
        const all = await call(s, "GET", `repos/${ORG}/app/branches`);
        expect(all.body.map((b: { name: string }) => b.name)).to.deep.equal(["main", "topic"]);
        expect((await call(s, "GET", `repos/${ORG}/app/branches?protected=maybe`)).status).to.equal(400);
        expect(s.failures.map(f => f.path)).to.deep.equal([`/api/v3/repos/${ORG}/app/branches`]);
    });

    it("hands on the operations named for forwarding, checked first, to the stand-in that serves them, with the caller's token", async () => {
        const seen: string[] = [];
        const { createServer } = await import("http");
        const other = createServer((req, res) => {
            seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
            res.statusCode = 201;
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify({ token: "AABF3JGZDX3P5PMEXLND6TS6FCWO6", expires_at: "2026-01-01T01:00:00Z" }));
        });
        await new Promise<void>(done => other.listen(0, "127.0.0.1", done));
        const port = (other.address() as { port: number }).port;
        try {
            s = await standIn({ forward: { base: `http://127.0.0.1:${port}/api`, operations: ["POST /orgs/{org}/actions/runners/registration-token"] } });
            const r = await call(s, "POST", `orgs/${ORG}/actions/runners/registration-token`, undefined, { token: "operator-token-unknown-here" });
            expect(r.status).to.equal(201);
            expect(r.body.token).to.equal("AABF3JGZDX3P5PMEXLND6TS6FCWO6");
            expect(seen).to.deep.equal([`POST /api/orgs/${ORG}/actions/runners/registration-token Bearer operator-token-unknown-here`]);
            // Not named: documented, not served, a failure.
            expect((await call(s, "GET", `orgs/${ORG}/actions/runners`)).status).to.equal(404);
            expect(s.failures.map(f => f.reason)).to.deep.equal(["/orgs/{org}/actions/runners (actions/list-self-hosted-runners-for-org) is documented but the stand-in does not serve it"]);
        } finally {
            other.close();
        }
    });
});
