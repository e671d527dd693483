// HostMetrics on its own and in a fleet: the install command's settings (no
// secret in them), what it waits for on its host, its refusal of a public
// bind, the fleet's metricsTargets (Prometheus file_sd) and drift entry.

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ExistingHost, HostMetrics, RunnerFleet, readDriftTarget } from "../../components";
import { DriftEntry, checkEnvironment } from "../../components/remote/drift-contract";
import { bundleFileHashes, scriptHash } from "../../components/remote/remote-script";
import { RUNNER_RELEASES } from "../../components/spec/catalog";
import { DEFAULTS } from "../../components/spec/settings";
import { MINTED_REGISTRATION_TOKEN, RecordedResource, valueOf } from "../../components/testing/mock-runtime";
import { FAKE, byType, named, record, recordFailure } from "../harness";

const SECRETS = {
    sshPrivateKey: FAKE.sshPrivateKey,
    actuatedLicense: FAKE.actuatedLicense,
    actuatedToken: FAKE.actuatedToken,
    dockerHubToken: FAKE.dockerHubToken,
    githubRunnerToken: FAKE.githubRunnerToken,
};

const calls = {
    "github:index/getActionsOrganizationRegistrationToken:getActionsOrganizationRegistrationToken": () => ({ token: MINTED_REGISTRATION_TOKEN, expiresAt: 0 }),
};

/** An actuated RX170 and a plain x86 host; `more` replaces or adds settings. */
function fleetConfig(more: Record<string, unknown> = {}) {
    return {
        github: { org: "example-org" },
        mirror: { dockerHubUsername: "example-bot" },
        hosts: [
            { name: "arm-1", provider: "existing" as const, plan: "rx170", address: "192.0.2.11" },
            { name: "x86-1", provider: "existing" as const, arch: "amd64" as const, kvm: false, address: "192.0.2.13", agent: "github-runner" as const },
        ],
        ...more,
    };
}

function recordFleet(more: Record<string, unknown> = {}) {
    return record(() => new RunnerFleet("fleet", { config: fleetConfig(more), secrets: SECRETS }), { calls });
}

const existing = (arch: "arm64" | "amd64" = "amd64") =>
    new ExistingHost("h1", { address: "192.0.2.1", arch, kvm: false, privateKey: pulumi.secret(FAKE.sshPrivateKey) });

/** The settings the install command runs with, as its command line carries them. */
function envOf(cmd: RecordedResource): Record<string, string> {
    const create = String(cmd.inputs.create);
    return Object.fromEntries([...create.matchAll(/ ([A-Z][A-Z0-9_]*)='([^']*)'/g)].map(m => [m[1], m[2]]));
}

describe("HostMetrics on its own", () => {
    it("runs install-metrics.sh with the host, arch, agent, binds and the catalog's runner releases, and remove-metrics.sh on delete", async () => {
        const { resources, result } = await record(() => new HostMetrics("m", { host: existing(), agent: "github-runner", mirrorMode: "registry", mirrorBind: "172.17.0.1:5000" }));
        const cmd = named(resources, "m-install");
        expect(cmd.type).to.equal("command:remote:Command");
        expect(String(cmd.inputs.create)).to.match(/ \/usr\/local\/lib\/runner-fleet\/install-metrics\.sh$/);
        const env = envOf(cmd);
        const { SETTINGS_HASH: hash, ...settings } = env;
        expect(settings).to.deep.equal({
            RUNNER_FLEET_HOST: "h1", HOST_ARCH: "amd64", AGENT: "github-runner", METRICS_BIND: DEFAULTS.metrics.bindAddress,
            MIRROR_MODE: "registry", MIRROR_BIND: "172.17.0.1:5000",
        });
        // The catalog's releases on stdin, newest first, as the host counts the days left from them: outside the
        // trigger, so a newer catalog updates the step in place instead of replacing it.
        expect(cmd.inputs.stdin).to.equal(RUNNER_RELEASES.map(r => `${r.version} ${r.date}\n`).join(""));
        expect(String(cmd.inputs.stdin).split("\n")[0]).to.equal(`${RUNNER_RELEASES[0].version} ${RUNNER_RELEASES[0].date}`);
        expect(hash).to.equal(scriptHash("install-metrics.sh", settings)).and.equal(result.settingsHash);
        expect((cmd.inputs.triggers as unknown[])[0]).to.equal(hash);
        expect(String(cmd.inputs.delete)).to.match(/RUNNER_FLEET_HOST='h1' \/usr\/local\/lib\/runner-fleet\/remove-metrics\.sh$/);
        expect(result.target).to.equal(DEFAULTS.metrics.bindAddress);
        // No secret: it logs, and hides no output.
        expect(cmd.inputs.logging).to.equal("stdoutAndStderr");
        expect(cmd.additionalSecretOutputs).to.not.include("stdout");
        expect(cmd.additionalSecretOutputs).to.not.include("stderr");
        expect(cmd.parent).to.equal(named(resources, "m").urn);
    });

    it("tells a host without a mirror and actuated's mirror apart: MIRROR_MODE none or actuated, MIRROR_BIND empty", async () => {
        const none = envOf(named((await record(() => new HostMetrics("m", { host: existing(), agent: "github-runner" }))).resources, "m-install"));
        expect(none).to.include({ MIRROR_MODE: "none", MIRROR_BIND: "" });
        const actuated = envOf(named((await record(() => new HostMetrics("m", { host: existing("arm64"), agent: "actuated", mirrorMode: "actuated", bindAddress: "10.0.0.2:9100" }))).resources, "m-install"));
        expect(actuated).to.include({ MIRROR_MODE: "actuated", MIRROR_BIND: "", AGENT: "actuated", HOST_ARCH: "arm64", METRICS_BIND: "10.0.0.2:9100" });
    });

    it("waits for the host's ready step and what it is told to follow", async () => {
        const { resources } = await record(() => {
            const host = existing();
            const before = new command.local.Command("agent-step", { create: "true" });
            return new HostMetrics("m", { host, agent: "github-runner", after: [before] });
        });
        const deps = [...named(resources, "m-install").dependencies];
        expect(deps).to.include.members([named(resources, "h1-ready").urn, named(resources, "agent-step").urn]);
    });

    it("refuses a public bind before anything exists, naming the field", async () => {
        for (const [bind, why] of [["0.0.0.0:9100", "listens on every address"], ["203.0.113.5:9100", "not a loopback or private address"], ["[::]:9100", "every address"]]) {
            const { error, resources } = await recordFailure(() => new HostMetrics("m", { host: existing(), agent: "github-runner", bindAddress: bind }));
            expect(error.message, bind).to.contain('HostMetrics "m"').and.contain("bindAddress").and.contain(why);
            expect(error.message, bind).to.contain("private network address");
            expect(resources.filter(r => r.name.startsWith("m")), bind).to.have.length(0);
        }
    });

    it("refuses an exporter on the mirror's address or its figures' port, a mirrorBind without a registry mirror, and what is not a resource in after", async () => {
        const clash = await recordFailure(() => new HostMetrics("m", { host: existing(), agent: "github-runner", mirrorMode: "registry", bindAddress: "127.0.0.1:5000" }));
        expect(clash.error.message).to.contain("bindAddress").and.contain("taken by the host's Docker Hub mirror");
        const figures = await recordFailure(() => new HostMetrics("m", { host: existing(), agent: "github-runner", mirrorMode: "registry", mirrorBind: "127.0.0.1:6000", bindAddress: "localhost:6001" }));
        expect(figures.error.message).to.contain("127.0.0.1:6001");
        const stray = await recordFailure(() => new HostMetrics("m", { host: existing(), agent: "actuated", mirrorMode: "actuated", mirrorBind: "127.0.0.1:5000", after: ["agent"] }));
        expect(stray.error.message).to.contain("mirrorBind").and.contain("after[0]");
        const kind = await recordFailure(() => new HostMetrics("m", { host: existing(), agent: "kubernetes" as never }));
        expect(kind.error.message).to.contain("agent").and.contain("not an agent kind");
        // Another port beside the mirror is fine.
        await record(() => new HostMetrics("m", { host: existing(), agent: "github-runner", mirrorMode: "registry", bindAddress: "127.0.0.1:5002" }));
    });
});

describe("HostMetrics in a fleet", () => {
    it("runs on every host after its agent and its mirror, and on that host only", async () => {
        const { resources } = await recordFleet();
        expect(byType(resources, HostMetrics.TYPE).map(m => m.name)).to.deep.equal(["fleet-arm-1-metrics", "fleet-x86-1-metrics"]);
        for (const host of ["arm-1", "x86-1"]) {
            const install = named(resources, `fleet-${host}-metrics-install`);
            expect(named(resources, `fleet-${host}-metrics`).parent).to.equal(named(resources, `fleet-${host}`).urn);
            const deps = [...install.dependencies];
            expect(deps).to.include.members([
                named(resources, `fleet-${host}-ready`).urn, named(resources, `fleet-${host}-agent-install`).urn, named(resources, `fleet-${host}-mirror-configure`).urn,
            ]);
            if (host === "arm-1") {
                expect(deps).to.include(named(resources, "fleet-arm-1-agent-configure").urn);
            }
            expect(deps.filter(d => !d.includes(`::fleet-${host}`)), install.name).to.deep.equal([]);
        }
        expect(envOf(named(resources, "fleet-arm-1-metrics-install"))).to.include({ AGENT: "actuated", HOST_ARCH: "arm64", MIRROR_MODE: "actuated", MIRROR_BIND: "" });
        expect(envOf(named(resources, "fleet-x86-1-metrics-install"))).to.include({
            AGENT: "github-runner", HOST_ARCH: "amd64", MIRROR_MODE: "registry", MIRROR_BIND: DEFAULTS.mirror.bindAddress, METRICS_BIND: DEFAULTS.metrics.bindAddress,
        });
        // Without a mirror, the host's metrics read none.
        const { resources: bare } = await recordFleet({ mirror: { enabled: false } });
        expect(envOf(named(bare, "fleet-x86-1-metrics-install"))).to.include({ MIRROR_MODE: "none", MIRROR_BIND: "" });
    });

    it("puts no secret in the metrics commands", async () => {
        const { resources } = await recordFleet();
        for (const cmd of byType(resources, "command:remote:Command").filter(c => c.name.endsWith("-metrics-install"))) {
            const visible = JSON.stringify(cmd.inputs, (k, v) => k === "connection" ? undefined : v);
            for (const v of [...Object.values(SECRETS), MINTED_REGISTRATION_TOKEN]) {
                expect(visible, cmd.name).to.not.contain(v).and.not.contain(Buffer.from(v).toString("base64"));
            }
            expect(cmd.secretInputs.has("stdin"), cmd.name).to.equal(false);
        }
    });

    it("gives Prometheus one file_sd entry per host, labelled with the host, its arch and its agent", async () => {
        const { result } = await recordFleet({ metrics: { bindAddress: "10.0.0.2:9100" } });
        expect(await valueOf(result.metricsTargets)).to.deep.equal([
            { targets: ["10.0.0.2:9100"], labels: { host: "arm-1", arch: "arm64", kind: "actuated" } },
            { targets: ["10.0.0.2:9100"], labels: { host: "x86-1", arch: "amd64", kind: "github-runner" } },
        ]);
    });

    it("binds a host's exporter to its own metricsBindAddress (a private network address), the others to metrics.bindAddress", async () => {
        const base = fleetConfig();
        const { resources, result } = await record(() => new RunnerFleet("fleet", {
            config: { ...base, metrics: { bindAddress: "10.0.0.2:9100" }, hosts: [{ ...base.hosts[0], metricsBindAddress: "10.1.0.11:9100" }, base.hosts[1]] },
            secrets: SECRETS,
        }), { calls });
        expect(envOf(named(resources, "fleet-arm-1-metrics-install")).METRICS_BIND).to.equal("10.1.0.11:9100");
        expect(envOf(named(resources, "fleet-x86-1-metrics-install")).METRICS_BIND).to.equal("10.0.0.2:9100");
        expect((await valueOf(result.metricsTargets))?.map((t: { targets: string[] }) => t.targets[0])).to.deep.equal(["10.1.0.11:9100", "10.0.0.2:9100"]);
        expect((await valueOf(result.drift))["arm-1"].metricsBind).to.equal("10.1.0.11:9100");
    });

    it("refuses a host's own metrics bind on a public address or where its mirror listens, under that host", async () => {
        const base = fleetConfig();
        for (const [bind, says] of [["198.51.100.7:9100", "not a loopback or private address"], ["127.0.0.1:5001", "taken by the host's Docker Hub mirror"]]) {
            const { error, resources } = await recordFailure(() => new RunnerFleet("fleet", {
                config: { ...base, hosts: [base.hosts[0], { ...base.hosts[1], metricsBindAddress: bind }] }, secrets: SECRETS,
            }));
            expect(error.message, bind).to.contain("hosts[1].metricsBindAddress").and.contain(says);
            expect(resources, bind).to.have.length(0);
        }
    });

    it("with metrics.enabled false creates no HostMetrics and gives no metricsTargets", async () => {
        const { resources, result, componentOutputs } = await recordFleet({ metrics: { enabled: false } });
        expect(byType(resources, HostMetrics.TYPE)).to.have.length(0);
        expect(resources.filter(r => r.name.includes("metrics"))).to.have.length(0);
        expect(await valueOf(result.metricsTargets)).to.equal(undefined);
        expect(componentOutputs.get(named(resources, "fleet").urn)).to.not.have.property("metricsTargets");
        const drift = await valueOf(result.drift);
        expect(drift["x86-1"].metricsBind).to.equal(undefined);
        expect(drift["x86-1"].expect).to.not.contain("metrics");
        expect(checkEnvironment(readDriftTarget(drift["x86-1"] as unknown as Record<string, unknown>)).METRICS_BIND).to.equal("");
    });

    it("puts the exporter in each host's drift entry: its bind, its stamp and its scripts, and check.sh gets METRICS_BIND", async () => {
        const { resources, result } = await recordFleet();
        const drift: Record<string, DriftEntry> = await valueOf(result.drift);
        const metrics = named(resources, "fleet-x86-1-metrics-install");
        const entry = drift["x86-1"];
        expect(entry.metricsBind).to.equal(DEFAULTS.metrics.bindAddress);
        expect(entry.expect.split("\n")).to.include(`stamp metrics ${(metrics.inputs.triggers as string[])[0]}`);
        for (const [path, sha] of Object.entries(bundleFileHashes("install-metrics.sh"))) {
            expect(entry.expect.split("\n")).to.include(`file ${path} ${sha}`);
        }
        const target = readDriftTarget(entry as unknown as Record<string, unknown>);
        expect(target.metricsBind).to.equal(DEFAULTS.metrics.bindAddress);
        expect(checkEnvironment(target)).to.include({ METRICS_BIND: DEFAULTS.metrics.bindAddress, MIRROR_BIND: DEFAULTS.mirror.bindAddress });
        // A stack from before metrics says nothing of them: check.sh looks for no exporter.
        const { metricsBind: _, ...before } = entry;
        expect(readDriftTarget(before as unknown as Record<string, unknown>).metricsBind).to.equal(null);
    });

    it("refuses a metrics bind on a public address, or on the mirror's, with the setting's path", async () => {
        for (const bind of ["0.0.0.0:9100", "203.0.113.5:9100"]) {
            const { error, resources } = await recordFailure(() => new RunnerFleet("fleet", { config: fleetConfig({ metrics: { bindAddress: bind } }), secrets: SECRETS }));
            expect(error.message, bind).to.contain("metrics.bindAddress");
            expect(resources, bind).to.have.length(0);
        }
        const { error } = await recordFailure(() => new RunnerFleet("fleet", { config: fleetConfig({ metrics: { bindAddress: "192.168.128.1:5000" } }), secrets: SECRETS }));
        expect(error.message).to.contain("metrics.bindAddress").and.contain("taken by the host's Docker Hub mirror");
    });
});
