// The fleet under the real Pulumi engine: the repository's own project files
// (Pulumi.yaml, package.json, index.ts and the TypeScript components, copied
// as they are) through the Pulumi CLI and the command provider, on the local
// backend, against the host suite's test hosts and outside world, as a user
// following the README runs them. A first preview that lists every host's
// resources, up, a preview that must show no change, a second up that runs no
// command on any host, a label change that touches one host only, destroy; no
// secret in clear in the state or in anything the CLI printed; and the
// preview time of fleets of 1, 10 and 50 existing hosts.

import { expect } from "chai";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { MIRROR_REGISTRY_RELEASE } from "../../components";
import { World } from "../host/world";
import { GithubOrgStandIn } from "../github-org-stand-in";
import { Figures, Host, ROOT, TestHosts, aptRepos, hostSuitePossible, runSecrets, sha256File, testhost, waitFor } from "../host/harness";
import { PulumiCli, authorizeStackKey, copyProjectFiles, engine, engineEnv, fleetStateBytes, hostStateBytes, keySessions, onPath, stackKeyIn, testhostKey, timedFigure } from "./harness";

const figures = new Figures();
const figure = (line: string) => figures.add(line);

/**
 * The GitHub provider (pulumi-resource-github 6.15.0), where one is on PATH. The Go module proxy does not serve
 * it: it is built from public source (pulumi/pulumi-github v6.15.0 with terraform-provider-github v6.13.0), and
 * without it the stack leaves GitHub alone (github.manage: false) and the tests of the wiring say why they skip.
 */
function githubProvider(): { bin?: string; why?: string } {
    const bin = onPath("pulumi-resource-github");
    return bin
        ? { bin }
        : { why: "no pulumi-resource-github on PATH (GitHub provider 6.15.0, built from pulumi/pulumi-github v6.15.0: the Go module proxy does not serve it)" };
}

const possible = hostSuitePossible();

describe("the fleet under the real Pulumi engine", function () {
    this.timeout(1_800_000);
    if (possible) {
        it(`cannot run here: ${possible}`, function () {
            this.skip();
        });
        return;
    }

    const secrets = runSecrets();
    const world = new World(secrets);
    const hosts = new TestHosts();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-engine-"));
    const project = path.join(dir, "project");
    const passphrase = `fake-passphrase-${randomBytes(6).toString("hex")}`;
    let stackKey = "";
    let stackKeyFingerprint = "";
    const provider = githubProvider();
    // GitHub's organization API as the provider, the operator steps and the drift check use it, every request
    // checked against GitHub's OpenAPI description; runner registration is handed on to the World.
    let gh: GithubOrgStandIn | undefined;
    const upToken = `ghs_up${randomBytes(12).toString("hex")}`;
    const freshToken = `ghs_fresh${randomBytes(12).toString("hex")}`;
    const imageRegistryToken = `dckr_pat_${randomBytes(12).toString("hex")}`;
    /** github.repositories of the stack (visibility selected, with the GitHub provider). */
    let selectedRepos = ["app"];
    let runner: Host;
    let actuated: Host;
    /**
     * Every secret as it could leak: in clear, and base64-encoded as the fleet
     * sends it on stdin ("name base64" lines). For the stack's SSH key, a line
     * of its private part (the first body lines of an unencrypted ed25519
     * key are the same for every key) and the start of its base64 encoding.
     */
    const allSecrets = () => {
        const body = stackKey.split("\n").filter(l => l && !l.startsWith("-----"));
        const keyLine = body.length > 3 ? body[3] : "no-key-line";
        const values = [secrets.adminToken, secrets.actuatedToken, secrets.actuatedLicense, secrets.registryPassword, passphrase,
            ...(gh ? [upToken, freshToken, imageRegistryToken] : [])];
        return [
            ...values, ...values.map(v => Buffer.from(v).toString("base64")),
            keyLine, Buffer.from(stackKey).toString("base64").slice(0, 60),
        ];
    };

    const cli = new PulumiCli(project);
    const cliOutput = cli.output;
    const run = (command: string, args: string[], input = "") => cli.run(command, args, input);
    const pulumi = (args: string[], input?: string, okCodes = [0]) => cli.pulumi(args, input, okCodes);

    const timed = <T>(label: string, fn: () => Promise<T>) => timedFigure(figure, label, fn);

    /** SSH sessions the stack's key opened on a host. */
    const stackSessions = (host: Host) => keySessions(hosts, host, stackKeyFingerprint);

    function writeConfig(runnerLabels: string[]): void {
        const file = path.join(project, "Pulumi.e2e.yaml");
        const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
        const hostKey = testhostKey(testhostRoot());
        doc.config = {
            ...(doc.config ?? {}),
            "runner-fleet:github": gh
                ? { org: "example-org", runnerGroup: "native", manage: true, visibility: "selected", repositories: selectedRepos }
                : { org: "example-org", runnerGroup: "native", manage: false },
            // With the GitHub provider: the workflow too, committed to app (directly) and api (main protected: a pull request).
            ...(gh ? { "runner-fleet:workflow": { image: "docker.io/example-org/app", registryUsername: "example-pusher", repositories: ["app", "api"] } } : {}),
            "runner-fleet:agent": { installDocker: false },
            // The registry built from the Go module proxy as distribution's release builds it: a release of one's own.
            "runner-fleet:mirror": {
                dockerHubUsername: secrets.registryUser, upstream: world.upstream,
                release: { version: MIRROR_REGISTRY_RELEASE.version, sha256: { amd64: sha256File(registryArchive) } },
            },
            "runner-fleet:endpoints": {
                actuatedInstaller: `${world.base}/actuated/install.sh`, runnerDownloads: `${world.base}/actions-runner`,
                mirrorDownloads: `${world.base}/distribution`,
                githubUrl: world.base, githubApi: gh ? gh.url : `${world.base}/api`, allowInsecureHttp: true,
            },
            "runner-fleet:hosts": [
                { name: "runner", provider: "existing", address: runner.address, arch: "amd64", kvm: false, agent: "github-runner", hostKey, labels: runnerLabels },
                { name: "actuated", provider: "existing", address: actuated.address, arch: "amd64", kvm: true, hostKey },
            ],
        };
        fs.writeFileSync(file, YAML.stringify(doc));
    }

    /** The mirror's registry archive, built from the Go module proxy (testhost.sh registry). */
    let registryArchive = "";

    before(async function () {
        const e = engine();
        if (!e.bin) {
            throw new Error(`the Pulumi engine cannot be had here:\n${e.why}`);
        }
        figure(`engine ready in ${e.seconds.toFixed(1)}s (scripts/e2e/engine.sh; cached after the first build)`);
        testhost("down-all");
        testhost("setup");
        testhost("build", "amd64");
        testhost("net");
        world.aptRepos = aptRepos("amd64");
        registryArchive = testhost("registry", MIRROR_REGISTRY_RELEASE.version, "amd64");
        world.registryArchives = { [path.basename(registryArchive)]: registryArchive };
        await world.start();
        if (provider.bin) {
            gh = await new GithubOrgStandIn({
                org: "example-org", tokens: [upToken], plan: "team",
                repositories: { app: { id: 501, files: { "README.md": "# app\n", Dockerfile: "FROM busybox\n" } }, api: 502 },
                forward: {
                    base: `${world.base}/api`,
                    operations: ["POST /orgs/{org}/actions/runners/registration-token", "GET /orgs/{org}/actions/runners", "DELETE /orgs/{org}/actions/runners/{runner_id}"],
                },
            }).start();
            gh.protectBranch("api", "main");
            figure(`GitHub provider: ${provider.bin}; the organization API: the OpenAPI-checked stand-in at ${gh.url}`);
        } else {
            figure(`GitHub provider: none, the stack leaves GitHub alone: ${provider.why}`);
        }
        runner = hosts.boot("runner", 1, "amd64");
        actuated = hosts.boot("actuated", 2, "amd64");
        await Promise.all([runner, actuated].map(h => hosts.waitForSsh(h)));

        // The stack's own key: made now, never committed.
        const key = stackKeyIn(dir);
        stackKey = key.privateKey;
        stackKeyFingerprint = key.fingerprint;
        for (const h of [runner, actuated]) {
            await authorizeStackKey(hosts, h, key.publicKey);
        }

        // The repository's project files as they are (what a fresh clone has,
        // TypeScript and all, nothing built), and its installed node_modules.
        copyProjectFiles(project);

        // The token of up: what a job's github.token or an App's installation token is, short-lived.
        cli.env = engineEnv(e.bin, dir, passphrase, gh ? { GITHUB_TOKEN: upToken } : {});
        await pulumi(["login", cli.env.PULUMI_BACKEND_URL as string]);
        await pulumi(["plugin", "install", "resource", "command", "1.2.1", "--file", path.join(e.bin as string, "pulumi-resource-command")]);
        if (provider.bin) {
            await pulumi(["plugin", "install", "resource", "github", "6.15.0", "--file", provider.bin]);
        }
        await pulumi(["stack", "init", "e2e"]);
        writeConfig(["e2e"]);
        for (const [key, value] of Object.entries({
            sshPrivateKey: stackKey, githubRunnerToken: secrets.adminToken, actuatedLicense: secrets.actuatedLicense,
            actuatedToken: secrets.actuatedToken, dockerHubToken: secrets.registryPassword,
            ...(gh ? { imageRegistryToken } : {}),
        })) {
            await pulumi(["config", "set", "--secret", key], value);
        }
    });

    after(async () => {
        hosts.downAll();
        await gh?.stop();
        await world.stop();
        // It holds the stack's private key and state.
        fs.rmSync(dir, { recursive: true, force: true });
        figures.print("engine suite figures");
    });

    it("pulumi preview in the project lists every host's resources and warns of nothing but the stand-ins' plain http", async () => {
        const r = await timed("pulumi preview (first, as the README says)", () => pulumi(["preview", "--json"]));
        const preview = JSON.parse(r.stdout) as { steps?: { op: string; urn: string }[]; diagnostics?: { severity: string; message: string }[] };
        const created = (preview.steps ?? []).filter(s => s.op === "create").map(s => s.urn.split("::").pop() as string);
        figure(`first preview: ${created.length} resources to create`);
        for (const host of ["runner", "actuated"]) {
            expect(created, host).to.include.members([`fleet-${host}`, `fleet-${host}-scripts`, `fleet-${host}-ready`, `fleet-${host}-agent-install`, `fleet-${host}-mirror-configure`]);
        }
        const warnings: string[] = (preview.diagnostics ?? []).filter((d: { severity: string }) => d.severity === "warning").map((d: { message: string }) => d.message);
        // The stand-ins serve plain http (endpoints.allowInsecureHttp): each such URL is warned about, and nothing else is.
        const insecure = warnings.filter(w => /INSECURE plain http "http:\/\//.test(w));
        expect(insecure.length, warnings.join("\n")).to.be.at.least(5);
        expect(warnings.filter(w => !insecure.includes(w)), warnings.join("\n")).to.deep.equal([]);
    });

    it("pulumi up installs the agents and the mirror, and the fake GitHub lists the runner", async () => {
        await timed("pulumi up (first)", () => pulumi(["up", "--yes", "--skip-preview"]));
        expect((await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1 runner-fleet-mirror")).trim().split("\n")).to.deep.equal(["active", "active"]);
        expect((await hosts.sh(actuated, "systemctl is-active actuated registry-mirror")).trim().split("\n")).to.deep.equal(["active", "active"]);
        expect([...world.runners.keys()]).to.deep.equal(["runner-1"]);
        expect(world.count("enroll")).to.equal(1);
    });

    it("wires the organization as GitHub keeps it: the secret and variables for the selected repository, the runner group, the workflow committed to app and proposed to api's protected main", async function () {
        if (!gh) {
            return this.skip();
        }
        const appId = gh.repositoryId("app");
        expect(gh.secret("IMAGE_REGISTRY_TOKEN")).to.include({ visibility: "selected" });
        expect(gh.secret("IMAGE_REGISTRY_TOKEN")?.repositories).to.deep.equal([appId]);
        expect(gh.variable("IMAGE_REGISTRY_USERNAME")).to.include({ value: "example-pusher", visibility: "selected" });
        expect(gh.variable("RUNNER_AMD64")?.repositories).to.deep.equal([appId]);
        const group = gh.runnerGroups().find(g => g.name === "native");
        expect(group).to.include({ visibility: "selected", allowsPublicRepositories: false, restrictedToWorkflows: false });
        expect(group?.repositories).to.deep.equal([appId]);
        // app: committed to main, with [skip ci] (the commit starts no publishing run).
        expect(gh.file("app", ".github/workflows/multi-arch-image.yml")).to.contain("Written by runner-fleet");
        expect(gh.headMessage("app", "main")).to.contain("[skip ci]");
        // api: main is protected (GitHub refuses a direct commit with 409): a pull request from a branch of its own.
        expect(gh.file("api", ".github/workflows/multi-arch-image.yml")).to.equal(undefined);
        expect(gh.pullRequests("api").map(p => [p.state, p.head, p.base])).to.deep.equal([["open", "runner-fleet/multi-arch-image", "main"]]);
        expect(gh.file("api", ".github/workflows/multi-arch-image.yml", "runner-fleet/multi-arch-image")).to.contain("Written by runner-fleet");
    });

    it("keeps every secret out of the state and out of everything the CLI printed", async () => {
        const state = (await pulumi(["stack", "export"])).stdout;
        const perHost = hostStateBytes(state, ["runner", "actuated"]);
        figure(`state per host (inputs + outputs of its resources, secrets excluded): ${Object.entries(perHost).map(([h, b]) =>
            `${h} ${(b.inputs / 1024).toFixed(1)} + ${(b.outputs / 1024).toFixed(1)} KB in ${b.resources} resources (${b.byResource.map(([n, x]) => `${n} ${(x / 1024).toFixed(1)}`).join(", ")})`).join("; ")}; whole state ${(state.length / 1024).toFixed(0)} KB`);
        // The scripts' text is in no step (it was some 600 KB per host): no step holds more than 3 KB (every step's own
        // script, install or configure, is larger than 4 KB), and each host's share, agent, mirror and metrics included, stays within 12 KB (10.7 KB
        // measured with the metrics step's 1.8 KB). The plain hosts' registration watch is the fleet's, once whatever the hosts' number.
        for (const [h, b] of Object.entries(perHost)) {
            expect(b.inputs + b.outputs, h).to.be.lessThan(12 * 1024);
            for (const [step, bytes] of b.byResource) {
                expect(bytes, `${h} ${step}`).to.be.lessThan(3 * 1024);
            }
        }
        const watch = fleetStateBytes(state, "fleet-registrations");
        figure(`the fleet's registration watch: ${(watch / 1024).toFixed(1)} KB`);
        expect(watch).to.be.greaterThan(0).and.lessThan(2.5 * 1024);
        expect(state).to.contain("ciphertext");
        for (const s of allSecrets()) {
            expect(state.includes(s), `the state holds ${s.slice(0, 14)}... in clear`).to.equal(false);
            expect(cliOutput.join("\n").includes(s), `the CLI printed ${s.slice(0, 14)}...`).to.equal(false);
        }
    });

    it("previews no change", async () => {
        const r = await timed("pulumi preview --expect-no-changes", () => pulumi(["preview", "--expect-no-changes"], undefined, [0, 7]));
        expect(r.code, r.out.slice(-3000)).to.equal(0);
    });

    /** The drift check on this stack, through the Automation API and OpenSSH. */
    async function drift(): Promise<{ code: number; report: { status: string; stacks: { cloud: { status: string }; hosts: { host: string; status: string; checks: { check: string; ok: boolean }[] }[] }[] } }> {
        const r = await run(process.execPath, [path.join(ROOT, "bin", "scripts", "cli.js"), "drift", "--cwd", project, "--stack", "e2e", "--json"]);
        if (!r.stdout.trim().startsWith("{")) {
            throw new Error(`the drift check printed no report (exit ${r.code}): ${r.stderr}`);
        }
        return { code: r.code, report: JSON.parse(r.stdout) };
    }

    it("the drift check finds the stack clean, then finds a stopped mirror", async () => {
        const clean = await timed("drift check (clean)", () => drift());
        expect(clean.code, JSON.stringify(clean.report)).to.equal(0);
        expect(clean.report.stacks[0].cloud.status).to.equal("ok");
        expect(clean.report.stacks[0].hosts.map(h => [h.host, h.status])).to.have.deep.members([["runner", "ok"], ["actuated", "ok"]]);
        // The runner's installed version, read on the host, against the newest release the catalog knows.
        const version = clean.report.stacks[0].hosts.find(h => h.host === "runner")?.checks.find(c => c.check === "runner-version-1") as { detail?: string } | undefined;
        expect(version?.detail).to.contain("the newest release known");
        await hosts.sh(runner, "systemctl stop runner-fleet-mirror");
        try {
            const drifted = await drift();
            expect(drifted.code).to.equal(1);
            const host = drifted.report.stacks[0].hosts.find(h => h.host === "runner");
            expect(host?.status).to.equal("drift");
            expect(host?.checks.filter(c => !c.ok).map(c => c.check)).to.deep.equal(["mirror-private"]);
        } finally {
            await hosts.sh(runner, "systemctl start runner-fleet-mirror");
        }
    });

    it("the drift check stays clean with the token of up revoked and a fresh one in its environment, where a refresh from the state alone fails", async function () {
        if (!gh) {
            return this.skip();
        }
        gh.revokeToken(upToken);
        gh.addToken(freshToken);
        cli.env = { ...cli.env, GITHUB_TOKEN: freshToken };
        // The drift check before: providers configured from the state, which holds the token of up.
        const stale = await pulumi(["refresh", "--preview-only", "--run-program=false"], undefined, [0, 1, 255]);
        expect(stale.code, stale.out.slice(-2000)).to.not.equal(0);
        expect(stale.out).to.contain("401 Bad credentials");
        const r = await timed("drift check (the token of up revoked, a fresh one in the environment)", () => drift());
        expect(r.code, JSON.stringify(r.report)).to.equal(0);
        expect(r.report.stacks[0].cloud.status).to.equal("ok");
    });

    it("a change of the repository list: up updates the wiring, the preview after it shows no change, and the drift check finds none", async function () {
        if (!gh) {
            return this.skip();
        }
        selectedRepos = ["app", "api"];
        writeConfig(["e2e"]);
        await timed("pulumi up (github.repositories: app, then app and api)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const ids = [gh.repositoryId("app"), gh.repositoryId("api")];
        expect(gh.secret("IMAGE_REGISTRY_TOKEN")?.repositories).to.have.members(ids);
        expect(gh.variable("RUNNER_AMD64")?.repositories).to.have.members(ids);
        expect(gh.runnerGroups().find(g => g.name === "native")?.repositories).to.have.members(ids);
        const r = await pulumi(["preview", "--expect-no-changes"], undefined, [0, 7]);
        expect(r.code, r.out.slice(-3000)).to.equal(0);
        // GitHub moved the secret's updated_at with its repositories; the check must not take that for a change made outside.
        const d = await timed("drift check (after the repository list changed)", () => drift());
        expect(d.code, JSON.stringify(d.report)).to.equal(0);
        // Nor a refresh that is written (pulumi up --refresh, pulumi refresh): the preview after it changes nothing.
        await pulumi(["refresh", "--yes", "--skip-preview"]);
        const after = await pulumi(["preview", "--expect-no-changes"], undefined, [0, 7]);
        expect(after.code, after.out.slice(-3000)).to.equal(0);
    });

    it("runs no command on any host on a second up", async () => {
        const before = [await stackSessions(runner), await stackSessions(actuated)];
        await timed("pulumi up (second, nothing changed)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const after = [await stackSessions(runner), await stackSessions(actuated)];
        const ran = after.map((n, i) => n - before[i]);
        figure(`host commands run by the second up: runner ${ran[0]}, actuated ${ran[1]}`);
        expect(ran).to.deep.equal([0, 0]);
    });

    it("changing one host's labels updates only that host's agent", async () => {
        writeConfig(["e2e", "relabelled"]);
        const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout);
        const steps = (preview.steps ?? []).filter((s: { op: string }) => s.op !== "same") as { urn: string }[];
        const changed = steps.filter(s => !s.urn.includes("$github:")).map(s => s.urn.split("::").pop());
        // The host's install, and the operator-side step that mints its registration token (nothing of the other host).
        expect([...new Set(changed)].sort()).to.deep.equal(["fleet-runner-agent-install", "fleet-runner-agent-token"]);
        // Nothing in GitHub: the variables and the workflow name each kind's own label (runner-fleet-amd64,
        // actuated), not a host's extra labels.
        expect(steps.filter(s => s.urn.includes("$github:")).map(s => s.urn)).to.deep.equal([]);
        const before = [await stackSessions(runner), await stackSessions(actuated)];
        await timed("pulumi up (one host's labels changed)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const after = [await stackSessions(runner), await stackSessions(actuated)];
        expect(after[0] - before[0]).to.be.greaterThan(0);
        expect(after[1] - before[1]).to.equal(0);
        await waitFor(() => (world.runners.get("runner-1")?.labels ?? []).includes("relabelled"), "the runner to register with its new labels");
    });
    it("registers again a runner GitHub deleted: the preview shows it, up does it on that host only, and the up after changes nothing", async () => {
        world.deleteRunner("runner-1");
        // The host stops the runner (runner-service.sh); the watch finds it missing where pulumi runs.
        await waitFor(async () => (await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1 || true")).trim() !== "active", "the runner to stop");
        const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout);
        const changed = (preview.steps ?? []).filter((s: { op: string }) => s.op !== "same").map((s: { urn: string }) => s.urn.split("::").pop());
        expect([...new Set(changed)].sort()).to.deep.equal(["fleet-registrations", "fleet-runner-agent-install", "fleet-runner-agent-token"]);
        const before = [await stackSessions(runner), await stackSessions(actuated)];
        await timed("pulumi up (a registration GitHub deleted)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const after = [await stackSessions(runner), await stackSessions(actuated)];
        expect(after[1] - before[1], "nothing ran on the other host").to.equal(0);
        expect(world.runners.has("runner-1")).to.equal(true);
        expect((await hosts.sh(runner, "systemctl is-active runner-fleet-runner@1")).trim()).to.equal("active");
        const again = [await stackSessions(runner), await stackSessions(actuated)];
        await timed("pulumi up (after the re-registration, nothing changed)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const last = [await stackSessions(runner), await stackSessions(actuated)];
        expect(last.map((n, k) => n - again[k])).to.deep.equal([0, 0]);
    });

    it("previews fleets of 1, 10 and 50 existing hosts (nothing contacted) and reports the time", async () => {
        for (const n of [1, 10, 50]) {
            const stack = `scale-${n}`;
            await pulumi(["stack", "init", stack]);
            // The e2e stack's config, secrets included, then n example-shaped hosts that nothing contacts in a preview.
            await pulumi(["config", "cp", "--stack", "e2e", "--dest", stack]);
            const file = path.join(project, `Pulumi.${stack}.yaml`);
            const doc = YAML.parse(fs.readFileSync(file, "utf8"));
            doc.config["runner-fleet:hosts"] = Array.from({ length: n }, (_, i) => i % 2 === 0
                ? { name: `arm-${i}`, provider: "existing", plan: "rx170", address: `203.0.113.${(i % 250) + 1}` }
                : { name: `x86-${i}`, provider: "existing", arch: "amd64", kvm: false, agent: "github-runner", address: `198.51.100.${(i % 250) + 1}` });
            fs.writeFileSync(file, YAML.stringify(doc));
            const t0 = Date.now();
            const r = await pulumi(["preview", "--stack", stack, "--json"]);
            const seconds = (Date.now() - t0) / 1000;
            const creates = (JSON.parse(r.stdout).steps ?? []).filter((s: { op: string }) => s.op === "create").length;
            figure(`preview of ${n} existing host(s): ${seconds.toFixed(1)}s, ${creates} resources to create`);
            expect(creates).to.be.greaterThan(n * 4);
            await pulumi(["stack", "rm", "--yes", "--force", stack]);
        }
        await pulumi(["stack", "select", "e2e"]);
    });

    it("the real engine tells a secret stored in plain text apart, and the program refuses it", async () => {
        await pulumi(["stack", "init", "plain"]);
        await pulumi(["config", "cp", "--stack", "e2e", "--dest", "plain"]);
        const plainValue = `plain-licence-${randomBytes(6).toString("hex")}`;
        await pulumi(["config", "set", "--stack", "plain", "actuatedLicense", plainValue]);
        const r = await pulumi(["preview", "--stack", "plain"], undefined, [255, 1]);
        expect(r.out).to.contain("actuatedLicense: is a secret stored in plain text").and.contain("pulumi config set --secret actuatedLicense");
        expect(r.out).to.not.contain(plainValue);
        await pulumi(["stack", "rm", "--yes", "--force", "plain"]);
        await pulumi(["stack", "select", "e2e"]);
    });

    it("pulumi destroy leaves the hosts without agent or mirror, and no runner in the organization", async () => {
        await timed("pulumi destroy", () => pulumi(["destroy", "--yes", "--skip-preview"]));
        const left = async (h: Host) => (await hosts.sh(h, "systemctl list-units --all --plain --no-legend 'runner-fleet-*' 'actuated*' 'registry-mirror*' | grep -c loaded || true; " +
            "ls /etc/runner-fleet 2>/dev/null | wc -l; ls -A /root/.cache/runner-fleet /usr/local/lib/runner-fleet 2>/dev/null | wc -l")).trim().split("\n");
        expect(await left(runner)).to.deep.equal(["0", "0", "0"]);
        expect(await left(actuated)).to.deep.equal(["0", "0", "0"]);
        expect(world.runners.size).to.equal(0);
        for (const s of allSecrets()) {
            expect(cliOutput.join("\n").includes(s)).to.equal(false);
        }
        if (gh) {
            // The organization's wiring is gone; what was committed to the repositories stays (retainOnDelete).
            expect([gh.secret("IMAGE_REGISTRY_TOKEN"), gh.variable("RUNNER_AMD64")]).to.deep.equal([undefined, undefined]);
            expect(gh.runnerGroups().map(g => g.name)).to.deep.equal(["Default"]);
            expect(gh.file("app", ".github/workflows/multi-arch-image.yml")).to.contain("Written by runner-fleet");
            expect(gh.pullRequests("api").map(p => p.state)).to.deep.equal(["open"]);
        }
    });

    it("sent GitHub nothing its OpenAPI description does not document: every request of the run checked, the count printed", async function () {
        if (!gh) {
            return this.skip();
        }
        const operations = new Set(gh.requests.map(r => r.operation).filter(Boolean));
        figure(`GitHub API requests (provider, operator steps, drift checks): ${gh.requests.length}, of which ${gh.validated} matched GitHub's OpenAPI description ` +
            `(@octokit/openapi ${gh.description.name}), over ${operations.size} operations; answers off their schema: ${gh.responseFailures.length}`);
        expect(gh.failures).to.deep.equal([]);
        expect(gh.responseFailures).to.deep.equal([]);
        expect(gh.validated).to.equal(gh.requests.length);
        expect(gh.validated).to.be.greaterThan(50);
    });
});

function testhostRoot(): string {
    return testhost("root", "amd64");
}
