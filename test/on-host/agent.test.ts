import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { ExistingHost, MIRROR_REGISTRY_RELEASE, RegistrationWatch, RegistryMirror, RunnerAgent, RunnerFleet } from "../../components";
import { hostScript, scriptHash, sha256 } from "../../components/remote/remote-script";
import { operatorScript } from "../../components/on-host/operator-command";
import { MINTED_REGISTRATION_TOKEN, RecordedResource, isSecretOutput, valueOf } from "../../components/testing/mock-runtime";
import { secretLines } from "../../components/on-host/host-command";
import { FAKE, byType, named, record, recordFailure } from "../harness";

const SECRETS = {
    sshPrivateKey: FAKE.sshPrivateKey,
    actuatedLicense: FAKE.actuatedLicense,
    actuatedToken: FAKE.actuatedToken,
    dockerHubToken: FAKE.dockerHubToken,
    githubRunnerToken: "fake-github-runner-token-for-tests-0006",
};
const REGISTRATION = MINTED_REGISTRATION_TOKEN;
const ALL_SECRET_VALUES = [...Object.values(SECRETS), REGISTRATION];

function fleetArgs(hostLabels: Record<string, string[]> = {}) {
    return {
        config: {
            github: { org: "example-org" },
            mirror: { dockerHubUsername: "example-bot" },
            hosts: [
                { name: "arm-1", provider: "existing" as const, plan: "rx170", address: "192.0.2.11", labels: hostLabels["arm-1"] },
                { name: "arm-2", provider: "existing" as const, plan: "rx170", address: "192.0.2.12", labels: hostLabels["arm-2"] },
                { name: "x86-1", provider: "existing" as const, arch: "amd64" as const, kvm: false, address: "192.0.2.13", agent: "github-runner" as const },
            ],
        },
        secrets: SECRETS,
    };
}

const calls = {
    "github:index/getActionsOrganizationRegistrationToken:getActionsOrganizationRegistrationToken": () => ({ token: REGISTRATION, expiresAt: 0 }),
};

async function recordFleet(hostLabels: Record<string, string[]> = {}) {
    return record(() => new RunnerFleet("fleet", fleetArgs(hostLabels)), { calls });
}

function commands(resources: readonly RecordedResource[]): RecordedResource[] {
    return byType(resources, "command:remote:Command");
}

/** Everything a resource waits for, transitively. */
function closure(resources: readonly RecordedResource[], start: RecordedResource): Set<string> {
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const seen = new Set<string>();
    const stack = [...start.dependencies];
    while (stack.length) {
        const u = stack.pop()!;
        if (seen.has(u)) {
            continue;
        }
        seen.add(u);
        stack.push(...(byUrn.get(u)?.dependencies ?? []));
    }
    return seen;
}

describe("RunnerAgent and RegistryMirror in a fleet", () => {
    it("creates, per host, the ready, secrets, install, mirror and metrics commands", async () => {
        const { resources } = await recordFleet();
        for (const host of ["arm-1", "arm-2", "x86-1"]) {
            const names = commands(resources).map(c => c.name).filter(n => n.startsWith(`fleet-${host}-`));
            // actuated hosts also get the in-place step (licence, mirror login) after the install.
            expect(names, host).to.have.members([
                `fleet-${host}-ready`, `fleet-${host}-agent-secrets`, `fleet-${host}-agent-install`, `fleet-${host}-mirror-configure`,
                `fleet-${host}-metrics-install`,
                ...(host.startsWith("arm") ? [`fleet-${host}-agent-configure`] : []),
            ]);
        }
    });

    it("chains each host's commands on that host only: the scripts copy, then ready, then secrets, then install, then mirror", async () => {
        const { resources } = await recordFleet();
        for (const host of ["arm-1", "arm-2", "x86-1"]) {
            const ready = named(resources, `fleet-${host}-ready`);
            const scripts = named(resources, `fleet-${host}-scripts`);
            const secrets = named(resources, `fleet-${host}-agent-secrets`);
            const install = named(resources, `fleet-${host}-agent-install`);
            const mirror = named(resources, `fleet-${host}-mirror-configure`);
            expect([...ready.dependencies]).to.include(scripts.urn);
            expect([...secrets.dependencies]).to.include(ready.urn);
            expect([...install.dependencies]).to.include(secrets.urn);
            expect([...mirror.dependencies]).to.include.members([ready.urn, install.urn]);
            for (const cmd of [ready, scripts, secrets, install, mirror]) {
                for (const dep of closure(resources, cmd)) {
                    // Its own host's resources, or fleet-wide ones (the runner group, the registration watch); never another host's.
                    const ok = dep.includes(`::fleet-${host}`) || dep.endsWith("::fleet-org-runner-group") || dep.endsWith("::fleet-registrations");
                    expect(ok, `${cmd.name} waits for ${dep}`).to.equal(true);
                }
            }
        }
    });

    it("watches every plain host's registrations with one watch of the fleet, its generation a trigger of that host's token and install only", async () => {
        const twoPlain = fleetArgs();
        twoPlain.config.hosts.push({ name: "x86-2", provider: "existing" as const, arch: "amd64" as const, kvm: false, address: "192.0.2.14", agent: "github-runner" as const });
        const { resources } = await record(() => new RunnerFleet("fleet", twoPlain), { calls });
        const watches = byType(resources, "pulumi-nodejs:dynamic:Resource");
        expect(watches.map(w => w.name)).to.deep.equal(["fleet-registrations"]);
        const watch = watches[0];
        expect(watch.inputs).to.include({ org: "example-org", instances: 1 });
        expect(watch.inputs.hosts).to.deep.equal(["x86-1", "x86-2"]);
        // The operator's token, as a secret (the mocks record the value under it).
        expect(watch.inputs.token).to.equal(FAKE.githubRunnerToken);
        expect(watch.secretInputs.has("token")).to.equal(true);
        expect(watch.additionalSecretOutputs).to.include("token");
        // Under mocks the watch answers its inputs: check left no generation, so each host's reads 0.
        for (const host of ["x86-1", "x86-2"]) {
            for (const step of ["agent-install", "agent-token"]) {
                const cmd = named(resources, `fleet-${host}-${step}`);
                expect([...cmd.dependencies], cmd.name).to.include(watch.urn);
                expect(cmd.inputs.triggers as unknown[], cmd.name).to.include(0);
            }
        }
        for (const cmd of commands(resources).filter(c => c.name.startsWith("fleet-arm-"))) {
            expect([...cmd.dependencies], cmd.name).to.not.include(watch.urn);
        }
    });

    it("makes no watch for ephemeral runners (each registers again after every job) nor for actuated hosts", async () => {
        const ephemeral = await record(() => new RunnerFleet("fleet", {
            config: { github: { org: "example-org" }, agent: { ephemeral: true }, hosts: [{ name: "x86-1", provider: "existing", arch: "amd64", kvm: false, agent: "github-runner", address: "192.0.2.9" }] },
            secrets: { sshPrivateKey: FAKE.sshPrivateKey, githubRunnerToken: FAKE.githubRunnerToken },
        }), { calls });
        expect(byType(ephemeral.resources, "pulumi-nodejs:dynamic:Resource")).to.have.length(0);
        const actuated = fleetArgs();
        actuated.config.hosts = actuated.config.hosts.filter(h => h.name !== "x86-1");
        expect(byType((await record(() => new RunnerFleet("fleet", actuated), { calls })).resources, "pulumi-nodejs:dynamic:Resource")).to.have.length(0);
    });

    it("registers github runners only once their runner group exists", async () => {
        const { resources } = await recordFleet();
        const group = named(resources, "fleet-org-runner-group");
        expect([...named(resources, "fleet-x86-1-agent-install").dependencies]).to.include(group.urn);
        expect([...named(resources, "fleet-arm-1-agent-install").dependencies]).to.not.include(group.urn);
    });

    it("uses the actuated installer on KVM hosts and the GitHub runner elsewhere, with actuated's own mirror", async () => {
        const { resources } = await recordFleet();
        const actuated = String(named(resources, "fleet-arm-1-agent-install").inputs.create);
        expect(actuated).to.contain("install-actuated.sh").and.contain("LABELS='actuated-arm64'").and.contain("MIRROR='actuated'");
        expect(actuated).to.contain("DOCKERHUB_USERNAME='example-bot'");
        const runner = String(named(resources, "fleet-x86-1-agent-install").inputs.create);
        expect(runner).to.contain("install-github-runner.sh").and.contain("GITHUB_ORG='example-org'")
            .and.contain("RUNNER_GROUP='runner-fleet'").and.contain("LABELS='runner-fleet-amd64'").and.contain("EPHEMERAL='0'");
        expect(String(named(resources, "fleet-arm-1-mirror-configure").inputs.create)).to.contain("MIRROR_MODE='actuated'");
        const own = String(named(resources, "fleet-x86-1-mirror-configure").inputs.create);
        expect(own).to.contain("MIRROR_MODE='registry'").and.contain("MIRROR_BIND='127.0.0.1:5000'").and.contain("RUNTIME_CONFIG='1'");
    });

    it("puts no secret in any command string or environment, and hides what carries one", async () => {
        const { resources } = await recordFleet();
        for (const cmd of commands(resources)) {
            const visible = JSON.stringify({ c: cmd.inputs.create, u: cmd.inputs.update, d: cmd.inputs.delete, e: cmd.inputs.environment, t: cmd.inputs.triggers });
            for (const v of ALL_SECRET_VALUES) {
                expect(visible, `${cmd.name} shows a secret`).to.not.contain(v);
                expect(visible, `${cmd.name} shows a secret in base64`).to.not.contain(Buffer.from(v).toString("base64"));
            }
            expect(cmd.inputs, cmd.name).to.not.have.property("environment");
            if (cmd.secretInputs.has("stdin")) {
                expect(cmd.inputs.logging, cmd.name).to.equal("none");
                expect(cmd.additionalSecretOutputs, cmd.name).to.include.members(["stdout", "stderr"]);
            }
        }
        // The secrets travel on stdin, as secrets.
        const secrets = named(resources, "fleet-arm-1-agent-secrets");
        expect(secrets.secretInputs.has("stdin")).to.equal(true);
        const lines = String(secrets.inputs.stdin).trim().split("\n").map(l => l.split(" "));
        expect(lines.map(([n]) => n)).to.deep.equal(["actuated-license", "actuated-token", "dockerhub-token"]);
        expect(Buffer.from(lines[0][1], "base64").toString()).to.equal(FAKE.actuatedLicense);
        const install = named(resources, "fleet-x86-1-agent-install");
        expect(install.secretInputs.has("stdin")).to.equal(true);
        expect(String(install.inputs.stdin)).to.contain(Buffer.from(REGISTRATION).toString("base64"));
        const mirror = named(resources, "fleet-x86-1-mirror-configure");
        expect(mirror.secretInputs.has("stdin")).to.equal(true);
        expect(mirror.inputs.logging).to.equal("none");
    });

    it("gives the same secret lines Output for the same names over the same Outputs (a fleet's hosts share one), still secret; other names or values make others", async () => {
        const { result } = await record(() => {
            const license = pulumi.secret("other-license");
            const token = pulumi.secret("other-token");
            return {
                pair: [secretLines({ a: license, b: token }), secretLines({ b: token, a: license })],
                others: [secretLines({ a: license }), secretLines({ c: license, b: token }), secretLines({ a: license, b: pulumi.secret("other-token") })],
                plain: [secretLines({ a: "x" }), secretLines({ a: "x" })],
            };
        }, { calls });
        // The SDK's Outputs are what hundreds of hosts are made of: a fleet's hosts, handed the same secrets, share one.
        expect(result.pair[0]).to.equal(result.pair[1]);
        for (const other of [...result.others, result.plain[0]]) {
            expect(other).to.not.equal(result.pair[0]);
        }
        // Plain strings are not remembered (nothing identifies them but their secret text).
        expect(result.plain[0]).to.not.equal(result.plain[1]);
        for (const o of [...result.pair, ...result.others, ...result.plain]) {
            expect(await isSecretOutput(o)).to.equal(true);
        }
        expect(await valueOf(result.others[1])).to.equal(`b ${Buffer.from("other-token").toString("base64")}\nc ${Buffer.from("other-license").toString("base64")}\n`);
        expect(await valueOf(result.pair[0])).to.equal(`a ${Buffer.from("other-license").toString("base64")}\nb ${Buffer.from("other-token").toString("base64")}\n`);
    });

    it("has a delete side on every agent, mirror and metrics command, run before a replacement is created", async () => {
        const { resources } = await recordFleet();
        for (const cmd of commands(resources).filter(c => !c.name.endsWith("-ready") && !c.name.endsWith("-agent-configure"))) {
            expect(String(cmd.inputs.delete), cmd.name).to.match(/(remove-actuated|remove-github-runner|remove-mirror|remove-metrics|write-secrets)\.sh/);
        }
        // The in-place step removes nothing: the install's delete side removes the agent, and a
        // replacement of the step (a new Docker Hub user) must not take the agent down first.
        expect(named(resources, "fleet-arm-1-agent-configure").inputs.delete).to.equal(undefined);
        expect(String(named(resources, "fleet-x86-1-agent-install").inputs.delete)).to.match(/ \/usr\/local\/lib\/runner-fleet\/remove-github-runner\.sh$/);
        expect(String(named(resources, "fleet-arm-1-agent-secrets").inputs.delete)).to.contain("ACTION='remove'");
    });

    it("gives the same triggers for the same inputs, and new ones only where an input changed", async () => {
        const triggers = (rs: readonly RecordedResource[]) => Object.fromEntries(commands(rs).map(c => [c.name, JSON.stringify(c.inputs.triggers)]));
        const a = triggers((await recordFleet()).resources);
        const b = triggers((await recordFleet()).resources);
        expect(b).to.deep.equal(a);
        const c = triggers((await recordFleet({ "arm-2": ["gpu"] })).resources);
        const changed = Object.keys(a).filter(k => a[k] !== c[k]);
        expect(changed).to.deep.equal(["fleet-arm-2-agent-install"]);
        for (const [name, t] of Object.entries(a).filter(([n]) => !n.endsWith("-ready"))) {
            const [hash, hostId] = JSON.parse(t);
            expect(hash, name).to.match(/^[0-9a-f]{64}$/);
            expect(hostId, name).to.match(/^existing:192\.0\.2\./);
        }
    });

    it("ignores a new registration token on every run, so a repeat up runs nothing", async () => {
        const { resources } = await recordFleet();
        // ignoreChanges is not on the wire under mocks; the trigger must not depend on the token either.
        const install = named(resources, "fleet-x86-1-agent-install");
        expect(JSON.stringify(install.inputs.triggers)).to.not.contain(REGISTRATION);
    });

    it("mints the registration token where pulumi runs, exactly when the install runs, and keeps no organization credential on a plain host", async () => {
        const { resources } = await recordFleet();
        const token = named(resources, "fleet-x86-1-agent-token");
        const runners = named(resources, "fleet-x86-1-agent-runners");
        const install = named(resources, "fleet-x86-1-agent-install");
        expect([token.type, runners.type]).to.deep.equal(["command:local:Command", "command:local:Command"]);
        // The operator's token goes to the local steps' environment only, as a secret, and the mint logs nothing.
        const env = token.inputs.environment as Record<string, string>;
        expect(env).to.include({ ACTION: "mint", HOST_NAME: "x86-1", GITHUB_ORG: "example-org", INSTANCES: "1" });
        expect(env.RUNNER_FLEET_GITHUB_TOKEN).to.equal(FAKE.githubRunnerToken);
        expect(token.secretInputs.has("environment")).to.equal(true);
        expect(token.inputs.logging).to.equal("none");
        expect(token.additionalSecretOutputs).to.include.members(["stdout", "stderr"]);
        expect(String(token.inputs.create)).to.equal(`node -e 'require("runner-fleet/operator/github-runners.js")'`);
        expect(token.inputs.triggers as string[]).to.include(sha256(operatorScript("github-runners.js")));
        // Minted exactly when the install runs: the install's own settings hash is among its triggers.
        const installHash = (install.inputs.triggers as string[])[0];
        expect(token.inputs.triggers as string[]).to.include(installHash);
        // Removal at destroy: the operator's token, where pulumi runs, after the install is gone.
        expect(String(runners.inputs.delete)).to.equal(String(token.inputs.create));
        expect((runners.inputs.environment as Record<string, string>).ACTION).to.equal("remove");
        expect([...install.dependencies]).to.include(token.urn);
        expect([...token.dependencies]).to.include(runners.urn);
        // The install reads the minted token on stdin, as a secret.
        expect(install.secretInputs.has("stdin")).to.equal(true);
        // Nothing that can register or remove runners is sent to the host.
        const secrets = String(named(resources, "fleet-x86-1-agent-secrets").inputs.stdin);
        expect(secrets).to.not.contain("github-runner-token");
        for (const cmd of commands(resources).filter(c => c.name.startsWith("fleet-x86-1-"))) {
            expect(JSON.stringify(cmd.inputs), cmd.name).to.not.contain(FAKE.githubRunnerToken);
            expect(JSON.stringify(cmd.inputs), cmd.name).to.not.contain(Buffer.from(FAKE.githubRunnerToken).toString("base64"));
        }
    });

    it("takes ephemeral runners with Docker (no job's user can read the kept token: Docker is rootless and each instance's own)", async () => {
        const { resources } = await record(() => new RunnerFleet("fleet", {
            config: { github: { org: "example-org" }, agent: { ephemeral: true }, hosts: [{ name: "x86-1", provider: "existing", arch: "amd64", kvm: false, agent: "github-runner", address: "192.0.2.9" }] },
            secrets: { sshPrivateKey: FAKE.sshPrivateKey, githubRunnerToken: FAKE.githubRunnerToken },
        }), { calls });
        const create = String(named(resources, "fleet-x86-1-agent-install").inputs.create);
        expect(create).to.contain("EPHEMERAL='1'").and.contain("INSTALL_DOCKER='1'");
    });

    it("installs a mirror registry release of one's own from the stack config on the plain hosts of the arch it names", async () => {
        const sha = "c".repeat(64);
        const args = fleetArgs();
        const { resources } = await record(() => new RunnerFleet("fleet", {
            ...args, config: { ...args.config, mirror: { ...args.config.mirror, release: { version: "3.2.0", sha256: { amd64: sha } } } },
        }), { calls });
        const create = String(named(resources, "fleet-x86-1-mirror-configure").inputs.create);
        expect(create).to.contain("MIRROR_VERSION='3.2.0'").and.contain(`MIRROR_SHA256='${sha}'`);
    });

    it("changes the trigger when a script changes", () => {
        const env = { RUNNER_FLEET_HOST: "h" };
        const real = scriptHash("configure-mirror.sh", env);
        const edited = scriptHash("configure-mirror.sh", env, n => n === "common.sh" ? `${hostScript(n)}\n# edited\n` : hostScript(n));
        expect(edited).to.not.equal(real);
        expect(scriptHash("configure-mirror.sh", env)).to.equal(real);
        expect(scriptHash("configure-mirror.sh", { RUNNER_FLEET_HOST: "other" })).to.not.equal(real);
    });
});

describe("RunnerAgent and RegistryMirror on their own", () => {
    const existing = (kvm: boolean) => new ExistingHost("h1", { address: "192.0.2.1", arch: "arm64", kvm, privateKey: pulumi.secret(FAKE.sshPrivateKey) });

    it("refuses actuated on a host without KVM, naming the host, and creates nothing for the agent", async () => {
        const { error, resources } = await recordFailure(() => new RunnerAgent("a", {
            host: existing(false), kind: "actuated", labels: ["actuated-arm64"], org: "o",
            secrets: { actuatedLicense: "x", actuatedToken: "y" },
        }));
        expect(error.message).to.contain('host "h1" would run the actuated agent without KVM');
        expect(resources.filter(r => r.type === "runner-fleet:index:RunnerAgent")).to.have.length(0);
    });

    it("makes a watch of its own for a plain runner made alone, and takes a handed generation instead of one", async () => {
        const plainHost = () => new ExistingHost("x1", { address: "192.0.2.2", arch: "amd64", kvm: false, privateKey: pulumi.secret(FAKE.sshPrivateKey) });
        const alone = await record(() => new RunnerAgent("a", {
            host: plainHost(), kind: "github-runner", labels: ["runner-fleet-amd64"], org: "o", instances: 2, secrets: { githubRunnerToken: FAKE.githubRunnerToken },
        }));
        const own = named(alone.resources, "a-registrations");
        expect(own.inputs.hosts).to.deep.equal(["x1"]);
        expect(own.inputs).to.include({ instances: 2, org: "o" });
        const handed = await record(() => {
            const watch = new RegistrationWatch("w", { hosts: ["x1"], org: "o", githubApi: "https://api.github.com", instances: 1 });
            return new RunnerAgent("b", {
                host: plainHost(), kind: "github-runner", labels: ["runner-fleet-amd64"], org: "o",
                registrationGeneration: watch.generationOf("x1"), secrets: { githubRunnerToken: FAKE.githubRunnerToken },
            });
        });
        expect(handed.resources.filter(r => r.name === "b-registrations")).to.have.length(0);
        // The install's triggers: its settings hash, the host, and the generation, handed in place of a watch's.
        expect((named(handed.resources, "b-install").inputs.triggers as unknown[]).slice(1)).to.deep.equal((named(alone.resources, "a-install").inputs.triggers as unknown[]).slice(1));
    });

    it("refuses a mirror on a public address", async () => {
        const { error } = await recordFailure(() => new RegistryMirror("m", { host: existing(true), mode: "registry", bindAddress: "0.0.0.0:5000" }));
        expect(error.message).to.contain("bindAddress").and.contain("every address");
        const pub = await recordFailure(() => new RegistryMirror("m", { host: existing(true), mode: "registry", bindAddress: "203.0.113.5:5000" }));
        expect(pub.error.message).to.contain("not a loopback or private address");
    });

    it("installs the catalog's registry release with the sha256 of the host's arch, from endpoints.mirrorDownloads", async () => {
        const { resources } = await record(() => new RegistryMirror("m", { host: existing(true), mode: "registry", downloads: "https://artifacts.example/distribution" }));
        const create = String(named(resources, "m-configure").inputs.create);
        expect(create).to.contain(`MIRROR_VERSION='${MIRROR_REGISTRY_RELEASE.version}'`)
            .and.contain(`MIRROR_SHA256='${MIRROR_REGISTRY_RELEASE.sha256.arm64}'`)
            .and.contain("MIRROR_DOWNLOAD_URL='https://artifacts.example/distribution'");
        expect(create).to.not.contain(MIRROR_REGISTRY_RELEASE.sha256.amd64);
    });

    it("refuses a registry release of one's own without a sha256 for the host's arch, naming the field", async () => {
        const { error, resources } = await recordFailure(() => new RegistryMirror("m", {
            host: existing(true), mode: "registry", release: { version: "v3.1.2", sha256: { amd64: "", arm64: "" } },
        }));
        expect(error.message).to.contain("release.version").and.contain("without a leading v")
            .and.contain("release.sha256.arm64").and.contain("registry_v3.1.2_linux_arm64.tar.gz");
        expect(resources.filter(r => r.name.startsWith("m"))).to.have.length(0);
        // Only the host's arch needs one (a fleet's release of its own leaves the others empty).
        const { resources: ok } = await record(() => new RegistryMirror("m", {
            host: existing(true), mode: "registry", release: { version: "3.2.0", sha256: { amd64: "", arm64: "b".repeat(64) } },
        }));
        expect(String(named(ok, "m-configure").inputs.create)).to.contain(`MIRROR_SHA256='${"b".repeat(64)}'`);
    });

    it("accepts the Docker bridge and logs a mirror without secrets", async () => {
        const { resources } = await record(() => new RegistryMirror("m", { host: existing(true), mode: "registry", bindAddress: "172.17.0.1:5000" }));
        const cmd = named(resources, "m-configure");
        expect(cmd.inputs.logging).to.equal("stdoutAndStderr");
        expect(cmd.inputs).to.not.have.property("stdin");
    });
});
