import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { BuildWorkflow, BuildWorkflowOptions, GithubOrgWiring, RunnerFleet, buildWorkflow, renderWorkflowYaml } from "../../components";
import { ACTIONS, fleetRouting } from "../../components/github/workflow-model";
import { orgRepository } from "../../components/github/github-org";
import { valueOf } from "../../components/testing/mock-runtime";
import { longestChain } from "../../components/testing/mock-runtime";
import { FAKE, byType, named, record, recordFailure, REPO_ROOT, PLAN_CLI } from "../harness";

const REPO_IDS: Record<string, number> = { "example-org/app": 101, "example-org/api": 102 };
const calls = {
    "github:index/getRepository:getRepository": (inputs: Record<string, unknown>) => {
        const id = REPO_IDS[String(inputs.fullName)];
        if (id === undefined) {
            // What the provider's data source answers for a repository GitHub cannot find: empty fields, no error
            // (integrations/terraform-provider-github data_source_github_repository.go clears the id on a 404).
            return { fullName: inputs.fullName, repoId: 0, name: "" };
        }
        return { repoId: id, fullName: inputs.fullName, name: String(inputs.fullName).split("/")[1], defaultBranch: "main" };
    },
    // example-org/api protects its default branch (branch protection or a ruleset): GitHub lists it with protected=true.
    "github:index/getRepositoryBranches:getRepositoryBranches": (inputs: Record<string, unknown>) => ({
        repository: inputs.repository,
        branches: inputs.repository === "api" && inputs.onlyProtectedBranches ? [{ name: "main", protected: true }] : [],
    }),
};

const SECRETS = {
    sshPrivateKey: FAKE.sshPrivateKey, actuatedLicense: FAKE.actuatedLicense, actuatedToken: FAKE.actuatedToken,
    dockerHubToken: FAKE.dockerHubToken, githubRunnerToken: FAKE.githubRunnerToken, imageRegistryToken: "fake-image-registry-push-token",
};
/** The workflow of a fleet that publishes to Docker Hub with a login of its own. */
const HUB_WORKFLOW = { image: "docker.io/example-org/app", registryUsername: "example-pusher" };

/** A two-arch fleet: actuated on an Arm64 RX170, the GitHub runner on an x86 Hetzner Cloud server. */
function twoArch(github: Record<string, unknown> = {}, workflow?: Record<string, unknown>) {
    return new RunnerFleet("fleet", {
        config: {
            github: { org: "example-org", ...github },
            mirror: { dockerHubUsername: "example-bot", bindAddress: "172.17.0.1:5000" },
            adminCidrs: ["198.51.100.0/24"],
            sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake test",
            hosts: [
                { name: "arm-1", provider: "existing", plan: "rx170", address: "192.0.2.11" },
                { name: "x86-1", provider: "hetzner-cloud", plan: "ccx33", location: "fsn1", agent: "github-runner" },
            ],
            // A registry other than ghcr.io pushes with a login of its own (HUB_WORKFLOW's user unless the case names one).
            workflow: (workflow && String(workflow.image).startsWith("ghcr.io/") ? workflow : workflow && { registryUsername: "example-pusher", ...workflow }) as never,
        },
        secrets: SECRETS,
    });
}

function actionlintPath(): string | undefined {
    const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "runner-fleet", "bin", "actionlint");
    for (const candidate of [cache, ...(process.env.PATH ?? "").split(":").map(d => path.join(d, "actionlint"))]) {
        if (fs.existsSync(candidate)) {
            return candidate;
        }
    }
    return undefined;
}

/** Runs actionlint over a workflow; the test fails when actionlint is missing. */
export function actionlint(yaml: string): { status: number | null; out: string } {
    const bin = actionlintPath();
    if (!bin) {
        throw new Error("actionlint is not installed; npm test's pretest step installs it with go install (see scripts/setup-test-tools.sh)");
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-wf-"));
    const file = path.join(dir, "workflow.yml");
    fs.writeFileSync(file, yaml);
    const r = spawnSync(bin, ["-no-color", file], { encoding: "utf8" });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("GitHub organization wiring", () => {
    it("creates the workflow's own registry login and the per-arch variables, visible to private repositories by default; the mirror's pull login stays off GitHub", async () => {
        const { resources } = await record(() => twoArch({}, HUB_WORKFLOW), { calls });
        const secrets = byType(resources, "github:index/actionsOrganizationSecret:ActionsOrganizationSecret");
        expect(secrets.map(s => s.inputs.secretName)).to.have.members(["IMAGE_REGISTRY_TOKEN"]);
        for (const s of secrets) {
            expect(s.inputs.visibility).to.equal("private");
            expect(s.secretInputs.has("value"), String(s.inputs.secretName)).to.equal(true);
        }
        expect(named(resources, "fleet-org-secret-image-registry-token").inputs.value).to.equal(SECRETS.imageRegistryToken);
        for (const r of resources.filter(x => x.type.startsWith("github:"))) {
            expect(JSON.stringify(r.inputs), r.name).to.not.contain(FAKE.dockerHubToken);
        }
        const vars = Object.fromEntries(byType(resources, "github:index/actionsOrganizationVariable:ActionsOrganizationVariable")
            .map(v => [v.inputs.variableName, v.inputs.value]));
        expect(vars).to.deep.equal({
            IMAGE_REGISTRY_USERNAME: "example-pusher",
            RUNNER_ARM64: '["actuated-arm64"]',
            RUNNER_ARM64_ACTUATED: '["actuated-arm64"]',
            RUNNER_AMD64: '["runner-fleet-amd64"]',
            RUNNER_AMD64_PLAIN: '["runner-fleet-amd64"]',
            REGISTRY_MIRROR_ARM64: "192.168.128.1:5000",
            REGISTRY_MIRROR_AMD64: "172.17.0.1:5000",
        });
        expect(byType(resources, "github:index/actionsOrganizationSecretRepositories:ActionsOrganizationSecretRepositories")).to.have.length(0);
    });

    it("resolves selected repositories to ids for secrets, variables and the runner group", async () => {
        const { resources } = await record(() => twoArch({ visibility: "selected", repositories: ["app", "api"] }, HUB_WORKFLOW), { calls });
        for (const s of byType(resources, "github:index/actionsOrganizationSecret:ActionsOrganizationSecret")) {
            expect(s.inputs.visibility).to.equal("selected");
        }
        const access = byType(resources, "github:index/actionsOrganizationSecretRepositories:ActionsOrganizationSecretRepositories");
        expect(access.map(a => a.inputs.secretName)).to.have.members(["IMAGE_REGISTRY_TOKEN"]);
        for (const a of access) {
            expect(a.inputs.selectedRepositoryIds).to.deep.equal([101, 102]);
        }
        for (const v of byType(resources, "github:index/actionsOrganizationVariable:ActionsOrganizationVariable")) {
            expect(v.inputs).to.include({ visibility: "selected" });
            expect(v.inputs.selectedRepositoryIds).to.deep.equal([101, 102]);
        }
        expect(named(resources, "fleet-org-runner-group").inputs.selectedRepositoryIds).to.deep.equal([101, 102]);
    });

    it("keeps public repositories off the runner group unless the config opts in, and can restrict it to workflows on Enterprise", async () => {
        const closed = await record(() => twoArch(), { calls });
        // visibility private: the secrets and variables keep it; the runner group, which GitHub stores as all
        // (the provider's docs: private "is not currently supported"), gets all without public repositories.
        expect(named(closed.resources, "fleet-org-runner-group").inputs).to.include({
            name: "runner-fleet", visibility: "all", allowsPublicRepositories: false, restrictedToWorkflows: false,
        });
        for (const s of byType(closed.resources, "github:index/actionsOrganizationSecret:ActionsOrganizationSecret")) {
            expect(s.inputs.visibility).to.equal("private");
        }
        const wf = "example-org/app/.github/workflows/multi-arch-image.yml@refs/heads/main";
        const open = await record(() => twoArch({ allowPublicRepositories: true, visibility: "all", workflows: [wf], plan: "enterprise" }), { calls });
        const group = named(open.resources, "fleet-org-runner-group");
        expect(group.inputs).to.include({ allowsPublicRepositories: true, visibility: "all", restrictedToWorkflows: true });
        expect(group.inputs.selectedWorkflows).to.deep.equal([wf]);
    });

    it("points the GitHub provider at GitHub Enterprise Server when endpoints.githubApi says so, and at github.com otherwise", async () => {
        const ghes = await record(() => new RunnerFleet("fleet", {
            config: {
                github: { org: "example-org" }, endpoints: { githubUrl: "https://ghe.example.com", githubApi: "https://ghe.example.com/api/v3" },
                hosts: [{ name: "x86-1", provider: "existing", arch: "amd64", kvm: false, agent: "github-runner", address: "192.0.2.9" }],
                workflow: { image: "ghcr.io/example-org/app" },
            },
            secrets: SECRETS,
        }), { calls });
        const provider = ghes.resources.find(r => r.type === "pulumi:providers:github");
        expect(provider?.inputs.baseUrl).to.equal("https://ghe.example.com/api/v3");
        // Enterprise Server has no hosted runners: the workflow names none.
        expect(ghes.result.workflow!.yaml).to.not.contain("ubuntu-");
        expect(ghes.result.workflow!.yaml).to.contain("runs-on: ${{ matrix.runner }}");
        const dotcom = await record(() => twoArch(), { calls });
        // The provider's own default (@pulumi/github fills in https://api.github.com/).
        expect([undefined, "https://api.github.com/"]).to.include(dotcom.resources.find(r => r.type === "pulumi:providers:github")?.inputs.baseUrl);
    });

    it("creates no runner group for a fleet of actuated hosts only", async () => {
        const { resources } = await record(() => new GithubOrgWiring("org", { org: "example-org", variables: { A: "1" } }));
        expect(byType(resources, "github:index/actionsRunnerGroup:ActionsRunnerGroup")).to.have.length(0);
    });

    it("refuses a workflow restriction outside GitHub Enterprise, and public repositories with visibility private, before creating anything", async () => {
        const wf = "example-org/app/.github/workflows/multi-arch-image.yml@refs/heads/main";
        const team = await recordFailure(() => twoArch({ workflows: [wf] }), { calls });
        expect(team.error.message).to.contain("github.workflows").and.contain("Enterprise Cloud and Server only (plan is team)").and.contain("github.plan: enterprise");
        expect(team.resources).to.have.length(0);
        const open = await recordFailure(() => twoArch({ allowPublicRepositories: true }), { calls });
        expect(open.error.message).to.contain("github.allowPublicRepositories").and.contain("visibility private keeps them out");
    });

    it("refuses visibility private on GitHub Free, whose private repositories cannot use organization secrets and variables", async () => {
        const free = await recordFailure(() => twoArch({ plan: "free" }), { calls });
        expect(free.error.message).to.contain("github.visibility").and.contain("GitHub Free does not let use them (plan is free)");
        expect(free.resources).to.have.length(0);
        const open = await record(() => twoArch({ plan: "free", visibility: "all" }), { calls });
        expect(named(open.resources, "fleet-org-runner-group").inputs).to.include({ visibility: "all" });
    });

    it("refuses selected visibility without repositories, and bad names, before creating anything", async () => {
        const { error, resources } = await recordFailure(() => twoArch({ visibility: "selected", workflows: ["not-a-workflow"] }), { calls });
        expect(error.message).to.contain("github.repositories").and.contain("github.workflows[0]");
        expect(resources).to.have.length(0);
    });
});

describe("the multi-arch build workflow", () => {
    it("builds each arch on its native runners, falls back to hosted ones outside the org, and merges the digests", async () => {
        const { result } = await record(() => twoArch({}, { image: "docker.io/example-org/app" }), { calls });
        const wf = YAML.parse(result.workflow!.yaml);
        expect(Object.keys(wf.jobs)).to.deep.equal(["build", "publish", "merge"]);
        const build = wf.jobs.publish;
        expect(build.strategy.matrix.include.map((m: { platform: string; runner: string[]; actuated: boolean }) => [m.platform, m.runner, m.actuated]))
            .to.deep.equal([["linux/arm64", ["actuated-arm64"], true], ["linux/amd64", ["runner-fleet-amd64"], false]]);
        expect(build["runs-on"]).to.equal(`\${{ (${fleetRouting("example-org")}) && matrix.runner || (matrix.arch == 'arm64' && !github.event.repository.private) && 'ubuntu-24.04-arm' || 'ubuntu-latest' }}`);
        expect(wf.jobs.build["runs-on"]).to.equal(build["runs-on"]);
        const push = build.steps.find((s: { id?: string }) => s.id === "build");
        expect(push.with.outputs).to.contain("push-by-digest=true").and.contain("name-canonical=true").and.contain("name=docker.io/example-org/app,");
        expect(push.with.provenance).to.equal(false);
        expect(build.steps.map((s: { uses?: string }) => s.uses)).to.include.members([ACTIONS.hubMirror, ACTIONS.upload, ACTIONS.qemu, ACTIONS.metadata]);
        const mirrorStep = build.steps.findIndex((s: { uses?: string }) => s.uses === ACTIONS.hubMirror);
        expect(mirrorStep).to.be.lessThan(build.steps.indexOf(push));
        expect(wf.jobs.merge.needs).to.deep.equal(["publish"]);
        const merge = wf.jobs.merge.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
        expect(merge).to.contain("docker buildx imagetools create").and.contain("docker buildx imagetools inspect");
        // The x86 runner's mirror on the Docker bridge reaches BuildKit's container.
        expect(build.strategy.matrix.include[1].buildkitd).to.contain('mirrors = ["172.17.0.1:5000"]');
        expect(result.workflow!.yaml).to.contain("# Provenance attestations are off: with them each per-arch push becomes an");
    });

    it("commits the workflow only when repositories are named: directly with [skip ci], through a pull request where the branch is protected", async () => {
        const without = await record(() => twoArch({}, { image: "docker.io/example-org/app" }), { calls });
        expect(byType(without.resources, "github:index/repositoryFile:RepositoryFile")).to.have.length(0);
        const withRepos = await record(() => twoArch({}, {
            image: "docker.io/example-org/app", repositories: ["app", "api"], path: ".github/workflows/image.yml", commitMessage: "ci: native builds",
        }), { calls });
        const files = byType(withRepos.resources, "github:index/repositoryFile:RepositoryFile");
        expect(files.map(f => [f.name, f.inputs.repository, f.inputs.branch])).to.deep.equal([
            ["fleet-workflow-app", "app", "main"], ["fleet-workflow-api-proposed", "api", "runner-fleet/image"]]);
        // app: committed to main; its message skips the push run (no publishing run from the commit itself), and a
        // file already there is not replaced (the provider refuses to overwrite without overwriteOnCreate).
        expect(files[0].inputs).to.include({ file: ".github/workflows/image.yml", commitMessage: "ci: native builds [skip ci]", overwriteOnCreate: false });
        expect(files[0].inputs.content).to.equal(withRepos.result.workflow!.yaml);
        // api: main is protected, so the file goes to a branch of its own, from main, and a pull request proposes it.
        expect(files[1].inputs).to.include({ commitMessage: "ci: native builds", overwriteOnCreate: true });
        const branches = byType(withRepos.resources, "github:index/branch:Branch");
        expect(branches.map(b => b.inputs)).to.deep.equal([{ repository: "api", branch: "runner-fleet/image", sourceBranch: "main" }]);
        const prs = byType(withRepos.resources, "github:index/repositoryPullRequest:RepositoryPullRequest");
        expect(prs.map(p => p.inputs)).to.deep.equal([{
            baseRepository: "api", baseRef: "main", headRef: "runner-fleet/image", title: "ci: native builds", maintainerCanModify: true,
            body: "runner-fleet proposes `.github/workflows/image.yml`: main is protected, so `pulumi up` does not commit to it. Merge this to build the image natively per arch on the fleet's runners.",
        }]);
        // Nothing the fleet wrote into a repository is deleted by destroy.
        for (const r of [...files, ...prs, ...branches]) {
            expect(r.retainOnDelete, r.name).to.equal(true);
        }
    });

    it("takes over a file at the path only when told, asks for a pull request everywhere when told, and refuses a direct commit to a protected branch before anything is created", async () => {
        const over = await record(() => twoArch({}, { image: "docker.io/example-org/app", repositories: ["app"], overwriteExisting: true, commitMessage: "ci [skip actions]" }), { calls });
        expect(byType(over.resources, "github:index/repositoryFile:RepositoryFile")[0].inputs).to.include({ overwriteOnCreate: true, commitMessage: "ci [skip actions]" });
        const pr = await record(() => twoArch({}, { image: "docker.io/example-org/app", repositories: ["app"], pullRequest: true }), { calls });
        expect(byType(pr.resources, "github:index/repositoryPullRequest:RepositoryPullRequest").map(p => p.inputs.baseRepository)).to.deep.equal(["app"]);
        const refused = await record(() => twoArch({}, { image: "docker.io/example-org/app", repositories: ["api"], pullRequest: false }), { calls });
        // The Output's own promise (what the engine awaits), which carries the apply's error.
        const error = await (refused.result.workflow!.commits[0] as unknown as { promise(): Promise<unknown> }).promise().then(() => undefined, (e: Error) => e.message);
        expect(error).to.contain("workflow.pullRequest: false, and the branch main of example-org/api is protected");
        expect(byType(refused.resources, "github:index/repositoryFile:RepositoryFile")).to.have.length(0);
    });

    it("fails naming the entry when GitHub has no such repository (a misspelled name)", async () => {
        const { result } = await record(() => orgRepository("example-org", "ap", "workflow.repositories[1]", {}), { calls });
        // The Output's own promise (what the engine awaits), which carries the apply's error.
        const error = await (result as unknown as { promise(): Promise<unknown> }).promise().then(() => undefined, (e: Error) => e.message);
        expect(error).to.equal("runner-fleet: workflow.repositories[1]: GitHub has no repository example-org/ap that the token can read; " +
            "check the name (without the owner) and that the token may read the repository");
        const { result: found } = await record(() => orgRepository("example-org", "app", "github.repositories[0]", {}), { calls });
        expect((await valueOf(found)).repoId).to.equal(101);
    });

    it("logs in to ghcr.io with the job's token", () => {
        const wf = buildWorkflow({ org: "o", image: "ghcr.io/o/app", platforms: [{ arch: "arm64", labels: ["actuated-arm64"], actuated: true }] });
        const login = wf.jobs.merge.steps.find(s => s.uses === ACTIONS.login);
        expect(login?.with).to.deep.equal({ registry: "ghcr.io", username: "${{ github.actor }}", password: "${{ secrets.GITHUB_TOKEN }}" });
    });

    it("refuses an image with a tag, a bad tag and a bad path", async () => {
        const { error } = await recordFailure(() => new BuildWorkflow("wf", {
            org: "o", image: "docker.io/o/app:latest", tags: ["bad tag"], path: "workflow.yml",
            platforms: [{ arch: "amd64", labels: ["x"], actuated: false }],
        }));
        expect(error.message).to.contain("- image:").and.contain("- tags:").and.contain("- path:");
    });

    for (const [name, opts] of <[string, BuildWorkflowOptions][]>[
        ["a two-arch fleet on Docker Hub", { org: "example-org", image: "docker.io/example-org/app", platforms: [
            { arch: "arm64", labels: ["actuated-arm64"], actuated: true },
            { arch: "amd64", labels: ["actuated-amd64", "gpu"], actuated: false, mirror: "172.17.0.1:5000" }] }],
        ["one arch on ghcr.io with tags", { org: "o", image: "ghcr.io/o/app", tags: ["${{ github.sha }}", "latest"], branches: ["main", "release"],
            platforms: [{ arch: "arm64", labels: ["actuated-arm64"], actuated: true }] }],
    ]) {
        it(`passes actionlint: ${name}`, () => {
            const r = actionlint(renderWorkflowYaml(opts));
            expect(r.out).to.equal("");
            expect(r.status).to.equal(0);
        });
    }

    it("passes actionlint for the example stack's workflow", function () {
        this.timeout(60000);
        const root = REPO_ROOT;
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-plan-")), "wf.yml");
        const plan = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "example", "--cwd", root, "--workflow", out], { encoding: "utf8" });
        expect(plan.status, plan.stderr).to.equal(0);
        const r = actionlint(fs.readFileSync(out, "utf8"));
        expect(r.out).to.equal("");
        expect(r.status).to.equal(0);
    });
});

describe("hosts never wait for each other", () => {
    function fleetOf(n: number) {
        return new RunnerFleet("fleet", {
            config: {
                github: { org: "example-org" },
                mirror: { dockerHubUsername: "example-bot" },
                adminCidrs: ["198.51.100.0/24"],
                sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake test",
                equinixProjectId: "00000000-0000-4000-8000-000000000000",
                hosts: Array.from({ length: n }, (_, i) => [
                    { name: `cloud-${i}`, provider: "hetzner-cloud" as const, location: "fsn1", agent: "github-runner" as const },
                    { name: `metal-${i}`, provider: "equinix-metal" as const, metro: "da" },
                    { name: `robot-${i}`, provider: "existing" as const, plan: "rx170", address: `192.0.2.${i % 250}` },
                ][i % 3]),
                workflow: { image: "docker.io/example-org/app", registryUsername: "example-pusher" },
            },
            secrets: SECRETS,
        });
    }

    it("has the same longest dependency chain for 3, 10 and 100 hosts", async function () {
        this.timeout(120000);
        const depths: number[] = [];
        for (const n of [3, 10, 100]) {
            const { resources } = await record(() => fleetOf(n));
            depths.push(longestChain(resources));
        }
        // A Hetzner Cloud plain host: key and firewall, server, ready, scripts copy, secrets, the operator's runners
        // and token steps, install, mirror, metrics (an actuated host: ..., install, configure, the port probe or the metrics).
        expect(depths).to.deep.equal([depths[0], depths[0], depths[0]]);
        expect(depths[0]).to.equal(10);
    });
});

describe("a fleet that leaves the organization alone (github.manage: false)", () => {
    it("creates no GitHub provider or resources; the registration token is still minted where pulumi runs", async () => {
        const { resources } = await record(() => twoArch({ manage: false }, { image: "docker.io/example-org/app" }));
        expect(resources.filter(r => r.type.startsWith("github:") || r.type === "pulumi:providers:github")).to.deep.equal([]);
        const install = named(resources, "fleet-x86-1-agent-install");
        expect([...install.dependencies]).to.include(named(resources, "fleet-x86-1-agent-token").urn);
        expect(install.secretInputs.has("stdin")).to.equal(true);
        expect([...install.dependencies].some(d => d.includes("runner-group"))).to.equal(false);
    });

    it("refuses to commit the workflow without the provider", async () => {
        const { error, resources } = await recordFailure(() => twoArch({ manage: false }, { image: "docker.io/example-org/app", repositories: ["app"] }));
        expect(error.message).to.contain("workflow.repositories").and.contain("github.manage");
        expect(resources).to.have.length(0);
    });
});

