// What the rendered build workflow and drift.yml DO per event, as GitHub
// would run them: parsed and validated by @actions/workflow-parser, every
// `if:`, `runs-on` and input evaluated by @actions/expressions against the
// contexts of real events (docs.github.com, "Events that trigger workflows",
// and the webhook payloads: pull_request.head.repo, workflow_run.head_repository,
// issue.pull_request).

import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { BuildWorkflowOptions } from "../../components/github/workflow-options";
import { fleetRouting } from "../../components/github/workflow-model";
import { renderWorkflowYaml } from "../../components/github/workflow-yaml";
import { EventContext, JobRun, parseAsGithub, simulate } from "../github-actions";
import { REPO_ROOT } from "../harness";
import { EXAMPLE_WORKFLOWS } from "../../scripts/examples";

const ORG = "example-org";
const REPO = `${ORG}/app`;
const FORK = "someone/app";
const ALL_SECRETS = { IMAGE_REGISTRY_TOKEN: "push-token", GITHUB_TOKEN: "job-token" };
// The organization's variables: the registry user pushes log in as (never a secret: it is in the image's name on Docker Hub).
const VARS = { IMAGE_REGISTRY_USERNAME: "example-pusher" };
// A fork's pull_request run gets no secrets but a read-only GITHUB_TOKEN.
const FORK_SECRETS = { GITHUB_TOKEN: "read-only-token" };

const repository = (full: string, isPrivate = false) => ({ full_name: full, fork: full !== REPO, private: isPrivate, owner: { login: full.split("/")[0] } });
const pr = (head: string) => ({ number: 7, head: { ref: "topic", repo: { full_name: head } }, base: { ref: "main", repo: { full_name: REPO } } });

/** The events, each as the run in that repository sees it. */
const EVENTS: Record<string, { ctx: EventContext; fleet: boolean; publish: boolean }> = {
    "push to main in the organization's repository": {
        ctx: { github: { event_name: "push", actor: "octocat", repository: REPO, repository_owner: ORG, ref: "refs/heads/main", sha: "a".repeat(40), event: { repository: repository(REPO) } }, secrets: ALL_SECRETS, vars: VARS },
        fleet: true, publish: true,
    },
    "push in a fork": {
        ctx: { github: { event_name: "push", repository: FORK, repository_owner: "someone", ref: "refs/heads/main", sha: "b".repeat(40), event: { repository: repository(FORK) } }, secrets: FORK_SECRETS },
        fleet: false, publish: false,
    },
    "pull request from a branch of the same repository": {
        ctx: { github: { event_name: "pull_request", repository: REPO, repository_owner: ORG, ref: "refs/pull/7/merge", event: { pull_request: pr(REPO), repository: repository(REPO) } }, secrets: ALL_SECRETS, vars: VARS },
        fleet: true, publish: false,
    },
    "pull request from a fork": {
        ctx: { github: { event_name: "pull_request", repository: REPO, repository_owner: ORG, ref: "refs/pull/7/merge", event: { pull_request: pr(FORK), repository: repository(REPO) } }, secrets: FORK_SECRETS },
        fleet: false, publish: false,
    },
    "pull request from a fork of a private repository": {
        ctx: { github: { event_name: "pull_request", repository: REPO, repository_owner: ORG, ref: "refs/pull/7/merge", event: { pull_request: pr(FORK), repository: repository(REPO, true) } }, secrets: FORK_SECRETS },
        fleet: false, publish: false,
    },
    "pull_request_target from a fork": {
        ctx: { github: { event_name: "pull_request_target", repository: REPO, repository_owner: ORG, ref: "refs/heads/main", event: { pull_request: pr(FORK), repository: repository(REPO) } }, secrets: ALL_SECRETS, vars: VARS },
        fleet: false, publish: false,
    },
    "workflow_run of a fork's pull request": {
        ctx: { github: { event_name: "workflow_run", repository: REPO, repository_owner: ORG, ref: "refs/heads/main", event: { workflow_run: { event: "pull_request", head_repository: { full_name: FORK } }, repository: repository(REPO) } }, secrets: ALL_SECRETS, vars: VARS },
        fleet: false, publish: false,
    },
    "issue_comment on a pull request": {
        ctx: { github: { event_name: "issue_comment", repository: REPO, repository_owner: ORG, ref: "refs/heads/main", event: { issue: { number: 7, pull_request: { url: `https://api.github.com/repos/${REPO}/pulls/7` } }, repository: repository(REPO) } }, secrets: ALL_SECRETS, vars: VARS },
        fleet: false, publish: false,
    },
    "workflow_dispatch in the organization's repository": {
        ctx: { github: { event_name: "workflow_dispatch", actor: "octocat", repository: REPO, repository_owner: ORG, ref: "refs/heads/main", sha: "c".repeat(40), event: { repository: repository(REPO), inputs: {} } }, secrets: ALL_SECRETS, vars: VARS },
        fleet: true, publish: true,
    },
};

/** Fleet shapes: the labels the fleet gives each arch. */
const SHAPES: Record<string, BuildWorkflowOptions> = {
    "a mixed fleet (arm64 actuated, amd64 plain with a bridge mirror) on Docker Hub, context app": {
        org: ORG, image: "docker.io/example-org/app", context: "app", platforms: [
            { arch: "arm64", labels: ["actuated-arm64-4cpu-16gb"], actuated: true },
            { arch: "amd64", labels: ["runner-fleet-amd64"], actuated: false, mirror: "172.17.0.1:5000" },
        ],
    },
    "a single-arch fleet (arm64 actuated) on ghcr.io": {
        org: ORG, image: "ghcr.io/example-org/app", platforms: [{ arch: "arm64", labels: ["actuated-arm64"], actuated: true }],
    },
    "an arch with only a plain runner (amd64) on quay.io, provenance max, registry cache, a Dockerfile of its own": {
        org: ORG, image: "quay.io/example-org/app", dockerfile: "build/app.Dockerfile", provenance: "max", cache: "registry",
        platforms: [{ arch: "amd64", labels: ["runner-fleet-amd64"], actuated: false }],
    },
};

const step = (job: JobRun, name: RegExp) => {
    const s = job.steps.find(x => name.test(x.name));
    if (!s) {
        throw new Error(`no step ${name} in ${job.id}: ${job.steps.map(x => x.name).join(", ")}`);
    }
    return s;
};

describe("the build workflow per event, as GitHub runs it (@actions/workflow-parser, @actions/expressions)", function () {
    this.timeout(30_000);

    for (const [shapeName, shape] of Object.entries(SHAPES)) {
        describe(shapeName, () => {
            const text = renderWorkflowYaml(shape);

            it("GitHub's parser reports nothing", async () => {
                expect((await parseAsGithub("build.yml", text)).errors).to.deep.equal([]);
            });

            for (const [eventName, e] of Object.entries(EVENTS)) {
                it(`${eventName}: ${e.fleet ? "the fleet's runners" : "hosted runners"}, ${e.publish ? "publishes" : "publishes nothing"}`, async () => {
                    const jobs = await simulate("build.yml", text, e.ctx);
                    // Two jobs over one matrix: build (publishes nothing, a token that writes nothing) or publish.
                    const ran = jobs.filter(j => j.id === "build" || j.id === "publish");
                    expect(ran.map(j => `${j.id} ${j.ran}`)).to.have.members([
                        ...shape.platforms.map(() => `build ${!e.publish}`), ...shape.platforms.map(() => `publish ${e.publish}`)]);
                    const builds = ran.filter(j => j.ran);
                    expect(builds).to.have.length(shape.platforms.length);
                    const isPrivate = (e.ctx.github.event as { repository?: { private?: boolean } }).repository?.private === true;
                    builds.forEach((b, i) => {
                        const p = shape.platforms[i];
                        expect(b.permissions?.packages ?? "none", "packages").to.equal(e.publish && shape.image.startsWith("ghcr.io/") ? "write" : "none");
                        // Off the fleet: GitHub's hosted Arm64 runner for arm64 in a public repository, else ubuntu-latest with QEMU.
                        const nativeHosted = p.arch === "arm64" && !isPrivate;
                        expect(b.runsOn, `runs-on for ${p.arch}`).to.deep.equal(e.fleet ? p.labels : nativeHosted ? "ubuntu-24.04-arm" : "ubuntu-latest");
                        expect(step(b, /Docker Hub mirror/).ran, "hub-mirror").to.equal(e.fleet && p.actuated);
                        expect(step(b, /QEMU/).ran, "QEMU").to.equal(!e.fleet && p.arch !== "amd64" && !nativeHosted);
                        expect(b.steps.some(x => /^Log in/.test(x.name) && x.ran), "login").to.equal(e.publish);
                        const build = step(b, /^Build/);
                        expect(build.ran).to.equal(true);
                        expect(build.with.outputs).to.equal(`type=image,name=${shape.image},push-by-digest=true,name-canonical=true,push=${e.publish}`);
                        // build-push-action reads `file` from the workspace root (its default is <context>/Dockerfile).
                        expect(build.with.file).to.equal(shape.dockerfile ?? (shape.context ? `${shape.context}/Dockerfile` : "Dockerfile"));
                        expect(build.with.context).to.equal(shape.context ?? ".");
                        expect(build.with.provenance).to.equal(shape.provenance ? `mode=${shape.provenance}` : false);
                        const cacheTo = String(build.with["cache-to"] ?? "");
                        expect(cacheTo === "", "cache written only where it publishes").to.equal(!e.publish || shape.cache === "none");
                        // GitHub's cache service is the repository's: the scope names the image and the arch.
                        expect(String(build.with["cache-from"])).to.contain(shape.cache === "registry" ? `type=registry,ref=${shape.image}:buildcache-${p.arch}` : `type=gha,scope=${shape.image.replace(/[^a-z0-9]+/g, "-")}-${p.arch}`);
                        // "Re-run failed jobs" uploads the arch's digest again in the same run: upload-artifact refuses that without overwrite.
                        const upload = b.steps.find(x => /Upload the digest/.test(x.name));
                        expect(upload?.ran ?? false).to.equal(e.publish);
                        if (upload?.ran) {
                            expect(upload.with.overwrite).to.equal(true);
                        }
                        // The fleet's Docker Hub mirror reaches BuildKit only on the fleet.
                        const buildx = b.steps.find(s => s.name === "Set up Buildx");
                        expect(buildx?.ran).to.equal(!(e.fleet && p.actuated));
                        if (buildx?.ran) {
                            expect(buildx.with["buildkitd-config-inline"]).to.equal(e.fleet && p.mirror ? `[registry."docker.io"]\n  mirrors = ["${p.mirror}"]\n\n[registry."${p.mirror}"]\n  http = true\n` : "");
                        }
                    });
                    const merge = jobs.find(j => j.id === "merge");
                    expect(merge?.ran, "merge").to.equal(e.publish);
                    if (merge?.ran) {
                        expect(step(merge, /^Log in/).ran).to.equal(true);
                        const login = step(merge, /^Log in/).with;
                        // Secrets the run has: a publishing run never logs in with empty ones, and never with the mirror's pull login.
                        expect(login.password).to.not.equal("");
                        expect(login.username).to.not.equal("");
                        const registry = shape.image.split("/")[0];
                        expect([login.registry ?? "docker.io", login.username, login.password]).to.deep.equal(registry === "ghcr.io"
                            ? ["ghcr.io", "octocat", "job-token"] : [registry, VARS.IMAGE_REGISTRY_USERNAME, ALL_SECRETS.IMAGE_REGISTRY_TOKEN]);
                    }
                });
            }
        });
    }

    it("would have caught the old generator: a fork's push logged in with empty secrets, a fork's pull_request_target ran on the fleet", async () => {
        // The conditions the generator used before (commit ad89dfd): publish on any event but pull_request, route on pull_request only.
        const oldPublish = "github.event_name != 'pull_request'";
        const oldRouting = `github.repository_owner == '${ORG}' && (github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository)`;
        const wf = [
            "on: push", "jobs:", "  j:", `    runs-on: \${{ (${oldRouting}) && 'fleet' || 'ubuntu-latest' }}`, "    steps:",
            `      - name: Log in`, `        if: ${oldPublish}`, "        uses: docker/login-action@v4", "        with:", "          password: ${{ secrets.DOCKERHUB_TOKEN }}",
        ].join("\n");
        const fork = await simulate("old.yml", wf, EVENTS["push in a fork"].ctx);
        expect(step(fork[0], /Log in/)).to.deep.include({ ran: true, with: { password: "" } });
        const target = await simulate("old.yml", wf, EVENTS["pull_request_target from a fork"].ctx);
        expect(target[0].runsOn).to.equal("fleet");
    });

    it("triggers on pushes to the branches, pull requests and manual runs only; cancels superseded pull request runs, never a publishing one", async () => {
        const text = renderWorkflowYaml({ ...SHAPES["a single-arch fleet (arm64 actuated) on ghcr.io"], branches: ["main", "release"] });
        const { template } = await parseAsGithub("build.yml", text);
        expect(Object.keys(template.events).sort()).to.deep.equal(["pull_request", "push", "workflow_dispatch"]);
        expect(template.events.push.branches).to.deep.equal(["main", "release"]);
        const doc = YAML.parse(text);
        const cancel = String(doc.concurrency["cancel-in-progress"]).replace(/^\$\{\{\s*|\s*\}\}$/g, "");
        for (const [name, e] of Object.entries(EVENTS)) {
            const jobs = await simulate("c.yml", `on: push\njobs:\n  j:\n    if: ${cancel}\n    runs-on: x\n    steps:\n      - run: "true"\n`, e.ctx);
            expect(jobs[0].ran, name).to.equal(e.ctx.github.event_name === "pull_request");
        }
    });

    it("asks for packages: write only where the job's token pushes (ghcr.io), and only in the jobs that publish", () => {
        const ghcr = YAML.parse(renderWorkflowYaml(SHAPES["a single-arch fleet (arm64 actuated) on ghcr.io"]));
        const hub = renderWorkflowYaml(SHAPES["a mixed fleet (arm64 actuated, amd64 plain with a bridge mirror) on Docker Hub, context app"]);
        expect(Object.entries(ghcr.jobs).map(([id, j]) => `${id} ${(j as { permissions: Record<string, string> }).permissions.packages ?? "-"}`))
            .to.deep.equal(["build -", "publish write", "merge write"]);
        expect(hub).to.not.contain("packages:");
    });

    it("on Enterprise Server (no hosted runners): every job on the fleet, the merge on its amd64 runner, and a fork's run builds nothing", async () => {
        const shape = { ...SHAPES["a mixed fleet (arm64 actuated, amd64 plain with a bridge mirror) on Docker Hub, context app"], hostedRunners: false };
        const text = renderWorkflowYaml(shape);
        expect((await parseAsGithub("build.yml", text)).errors).to.deep.equal([]);
        expect(text).to.not.contain("ubuntu-");
        expect(text).to.not.contain("QEMU");
        for (const [eventName, e] of Object.entries(EVENTS)) {
            const jobs = await simulate("build.yml", text, e.ctx);
            const ran = jobs.filter(j => j.ran);
            expect(ran.map(j => j.id), eventName).to.deep.equal(!e.fleet ? [] : e.publish ? ["publish", "publish", "merge"] : ["build", "build"]);
            ran.filter(j => j.id !== "merge").forEach((j, i) => expect(j.runsOn, eventName).to.deep.equal(shape.platforms[i].labels));
            expect(ran.find(j => j.id === "merge")?.runsOn ?? ["runner-fleet-amd64"]).to.deep.equal(["runner-fleet-amd64"]);
        }
    });

    it("would have caught today's rendering on Enterprise Server and for pull requests: ubuntu-latest, and packages: write in a pull request's job", async () => {
        // The rendering before (one build job for every event; hosted fallback always).
        const old = [
            "on: [push, pull_request]", "jobs:", "  build:", "    permissions: { contents: read, packages: write }",
            "    runs-on: ${{ (github.repository_owner == 'example-org') && 'fleet' || 'ubuntu-latest' }}", "    steps:", "      - run: 'true'",
        ].join("\n");
        const jobs = await simulate("old.yml", old, EVENTS["pull request from a branch of the same repository"].ctx);
        expect(jobs[0].permissions?.packages).to.equal("write");
        const fork = await simulate("old.yml", old, EVENTS["push in a fork"].ctx);
        expect(fork[0].runsOn).to.equal("ubuntu-latest");
    });
});

describe("the routed runs-on snippet (cost routing, not a security boundary)", () => {
    for (const [eventName, e] of Object.entries(EVENTS)) {
        it(`${eventName}: ${e.fleet ? "the fleet" : "hosted runners"}`, async () => {
            const wf = `on: push\njobs:\n  j:\n    runs-on: \${{ (${fleetRouting(ORG)}) && fromJSON(vars.RUNNER_ARM64) || 'ubuntu-latest' }}\n    steps:\n      - run: "true"\n`;
            const jobs = await simulate("routed.yml", wf, { ...e.ctx, vars: { RUNNER_ARM64: '["actuated-arm64"]' } });
            expect(jobs[0].runsOn).to.deep.equal(e.fleet ? ["actuated-arm64"] : "ubuntu-latest");
        });
    }
});

describe("drift.yml, as GitHub runs it", () => {
    const file = path.resolve(REPO_ROOT, ".github", "workflows", "drift.yml");
    const text = fs.readFileSync(file, "utf8");
    const schedule = { github: { event_name: "schedule", repository: REPO, repository_owner: ORG, ref: "refs/heads/main", event: { schedule: "17 5 * * *" } }, secrets: { PULUMI_ACCESS_TOKEN: "pul-token", HCLOUD_TOKEN: "hc", FLEET_GITHUB_TOKEN: "gh" } };

    it("GitHub's parser reports nothing", async () => {
        expect((await parseAsGithub("drift.yml", text)).errors).to.deep.equal([]);
    });

    it("checks from the runner the DRIFT_RUNNER variable names (inside adminCidrs), else GitHub's hosted one", async () => {
        const hosted = await simulate("drift.yml", text, schedule);
        expect(hosted.find(j => j.id === "check")?.runsOn).to.equal("ubuntu-latest");
        const inside = await simulate("drift.yml", text, { ...schedule, vars: { DRIFT_RUNNER: '["self-hosted", "drift"]' } });
        expect(inside.find(j => j.id === "check")?.runsOn).to.deep.equal(["self-hosted", "drift"]);
        expect(inside.find(j => j.id === "stacks")?.runsOn).to.equal("ubuntu-latest");
    });

    it("hands the operator's secrets to the steps that use them only, runs bash with pipefail, and fails on zero stacks", async () => {
        const doc = YAML.parse(text);
        expect(doc.env ?? {}).to.not.have.any.keys("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "HCLOUD_TOKEN", "METAL_AUTH_TOKEN", "GITHUB_TOKEN");
        expect(doc.defaults.run.shell).to.equal("bash");
        const withSecrets: string[] = [];
        for (const [id, job] of Object.entries(doc.jobs as Record<string, { env?: object; steps: { name?: string; uses?: string; run?: string; env?: Record<string, string> }[] }>)) {
            expect(job.env ?? {}, `job ${id}'s env`).to.deep.equal({});
            for (const s of job.steps) {
                if (Object.values(s.env ?? {}).some(v => /secrets\.(?!GITHUB_TOKEN\b)/.test(v))) {
                    withSecrets.push(`${id}: ${s.name ?? s.uses ?? s.run}`);
                }
            }
        }
        expect(withSecrets).to.deep.equal(["stacks: List the stacks", "check: Check the stack"]);
        const list = doc.jobs.stacks.steps.find((s: { id?: string }) => s.id === "list").run;
        expect(list).to.contain('if [ "$stacks" = "[]" ]').and.contain("exit 1");
        // Names as pulumi lists them, organization included.
        expect(list).to.contain("jq -c '[.[].name]'").and.not.contain("split(");
    });
});

describe("drift.yml's issue step, run by bash with a stand-in gh (GitHub CLI: issue list/create/edit/comment/close, label create)", () => {
    const doc = YAML.parse(fs.readFileSync(path.resolve(REPO_ROOT, ".github", "workflows", "drift.yml"), "utf8"));
    const issueStep = doc.jobs.check.steps.find((s: { name?: string }) => /issues/.test(s.name ?? ""));

    /** Runs the step for an exit code of the check, with the open issues given by title; returns gh's calls. */
    const run = (code: number, open: Record<string, number>): string[] => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drift-issues-"));
        const log = path.join(dir, "calls");
        // gh issue list ... --jq: answers from the open issues whose title the search names.
        fs.writeFileSync(path.join(dir, "gh"), [
            "#!/usr/bin/env bash",
            `printf '%s\\n' "$*" >> ${JSON.stringify(log)}`,
            'if [ "$1 $2" = "issue list" ]; then',
            '  search="$(sed -n \'s/.*"\\(.*\\)" in:title.*/\\1/p\' <<<"$*")"',
            ...Object.entries(open).map(([title, n]) => `  [ "$search" = ${JSON.stringify(title)} ] && echo ${n}`),
            "fi",
            "exit 0",
        ].join("\n"), { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "drift.md"), "report\n");
        const r = spawnSync("bash", ["-eo", "pipefail", "-c", issueStep.run], {
            cwd: dir, encoding: "utf8",
            env: { PATH: `${dir}:${process.env.PATH}`, STACK: "prod", CODE: String(code), RUN_URL: "https://github.com/o/r/actions/runs/1", GH_TOKEN: "t" },
        });
        expect(r.status, r.stderr).to.equal(0);
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(l => !l.startsWith("issue list")) : [];
    };

    it("runs whenever the check produced an exit code, even after a failed step", () => {
        expect(issueStep.if).to.equal("always() && steps.drift.outputs.code != ''");
    });

    it("drift (1) opens the drift issue; a check that cannot run (2) opens an issue of its own; clean (0) closes both", () => {
        expect(run(1, {})).to.deep.equal([
            "label create drift --color D93F0B --description Infrastructure drift", "issue create --title Drift in stack prod --label drift --body-file body.md"]);
        expect(run(2, {})).to.deep.equal([
            "label create drift --color D93F0B --description Infrastructure drift", "issue create --title Drift check of stack prod cannot run --label drift --body-file body.md"]);
        expect(run(2, { "Drift check of stack prod cannot run": 9 })).to.deep.equal([
            "issue edit 9 --body-file body.md", "issue comment 9 --body Still so: https://github.com/o/r/actions/runs/1"]);
        expect(run(1, { "Drift in stack prod": 4, "Drift check of stack prod cannot run": 9 })).to.deep.equal([
            "issue edit 4 --body-file body.md", "issue comment 4 --body Still so: https://github.com/o/r/actions/runs/1",
            "issue close 9 --comment Clean again: https://github.com/o/r/actions/runs/1"]);
        expect(run(0, { "Drift in stack prod": 4, "Drift check of stack prod cannot run": 9 })).to.deep.equal([
            "issue close 4 --comment Clean again: https://github.com/o/r/actions/runs/1", "issue close 9 --comment Clean again: https://github.com/o/r/actions/runs/1"]);
    });

    it("pins every action by its full commit SHA, its tag beside it", () => {
        const uses = fs.readFileSync(path.resolve(REPO_ROOT, ".github", "workflows", "drift.yml"), "utf8").split("\n").filter(l => /^\s*-?\s*uses:/.test(l));
        expect(uses).to.not.be.empty;
        for (const line of uses) {
            expect(line, line).to.match(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
        }
    });
});

describe("the example workflows", () => {
    for (const [file, render] of Object.entries(EXAMPLE_WORKFLOWS)) {
        it(`${file} is up to date (npm run examples) and GitHub's parser reports nothing`, async () => {
            const p = path.resolve(REPO_ROOT, "examples", "workflows", file);
            expect(fs.existsSync(p) && fs.readFileSync(p, "utf8") === render(), `${file} is out of date: run npm run examples`).to.equal(true);
            expect((await parseAsGithub(file, render())).errors).to.deep.equal([]);
        });
    }
});
