import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ExistingHost, HostMetrics, RunnerAgent, RunnerFleet } from "../../components";
import { fleetProgram } from "../../components/fleet/program";
import { valueOf } from "../../components/testing/mock-runtime";
import { formatPlan, planStack, readStackConfig } from "../../scripts/plan";
import { sdkDebuggable } from "../../scripts/plan/run";
import { pulumiEntryPoint } from "../../scripts/lib/entry-point";
import { FAKE, PROJECT, projectDir, record, recordFailure, stackConfig, REPO_ROOT, PLAN_CLI } from "../harness";


const HOSTS = [
    { name: "arm-metal-1", provider: "equinix-metal", plan: "c3.large.arm64", metro: "da" },
    { name: "arm-hcloud-1", provider: "hetzner-cloud", plan: "cax41", location: "fsn1", agent: "github-runner" },
    { name: "arm-robot-1", provider: "existing", plan: "rx170", address: "203.0.113.10", privateKeySecret: "robotKey" },
];

function config(overrides: Record<string, unknown> = {}) {
    return stackConfig({
        github: { org: "example-org" },
        equinixProjectId: "00000000-0000-4000-8000-000000000000",
        adminCidrs: ["198.51.100.0/24"],
        sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake test",
        hosts: HOSTS,
        sshPrivateKey: FAKE.sshPrivateKey,
        robotKey: FAKE.robotKey,
        actuatedLicense: FAKE.actuatedLicense,
        actuatedToken: FAKE.actuatedToken,
        githubRunnerToken: FAKE.githubRunnerToken,
        ...overrides,
    });
}
const SECRET_KEYS = ["sshPrivateKey", "robotKey", "actuatedLicense", "actuatedToken", "githubRunnerToken"].map(k => `${PROJECT}:${k}`);

describe("the program", () => {
    it("builds every host of a mixed fleet from stack config", async () => {
        const { resources, result } = await record(() => fleetProgram(), { config: config(), secretKeys: SECRET_KEYS });
        const components = resources.filter(r => r.type.endsWith("Host") || r.type.endsWith("Fleet")).map(r => `${r.type.split(":")[2]} ${r.name}`);
        expect(components).to.have.members([
            "RunnerFleet fleet", "EquinixMetalHost fleet-arm-metal-1", "HetznerCloudHost fleet-arm-hcloud-1", "ExistingHost fleet-arm-robot-1",
        ]);
        // Only outputs with a value: the engine warns about each undefined one.
        expect(Object.keys(result)).to.have.members(["hosts", "labelsByArch", "runsOn", "estimatedMonthlyCost", "drift", "metricsTargets"]);
        const hosts = await valueOf(result.hosts);
        expect(hosts["arm-robot-1"]).to.deep.include({ address: "203.0.113.10", arch: "arm64", agent: "actuated", labels: ["actuated-arm64"] });
        expect(await valueOf(result.labelsByArch)).to.deep.equal({
            arm64: { actuated: ["actuated-arm64"], "github-runner": ["runner-fleet-arm64"], preferred: "actuated" },
        });
        expect(await valueOf(result.estimatedMonthlyCost)).to.deep.equal({ USD: 1825, EUR: 225.49 });
        // The robot host uses its own key; every connection carries its key as a secret.
        const robotReady = resources.find(r => r.name === "fleet-arm-robot-1-ready")!;
        expect((robotReady.inputs.connection as { privateKey: string }).privateKey).to.equal(FAKE.robotKey);
        for (const r of resources.filter(x => x.type === "command:remote:Command")) {
            expect(r.secretInputs.has("connection"), r.name).to.equal(true);
        }
    });

    it("exports the workflow only when the fleet renders one", async () => {
        const { result } = await record(() => fleetProgram(), { config: config({ workflow: { image: "docker.io/example-org/app", registryUsername: "example-pusher" }, imageRegistryToken: "fake-push-token" }), secretKeys: [...SECRET_KEYS, `${PROJECT}:imageRegistryToken`] });
        expect(Object.keys(result)).to.include("workflowYaml");
        expect(await valueOf((result as { workflowYaml?: unknown }).workflowYaml as never)).to.contain("jobs:");
    });

    it("registers zero resources when the config is invalid, and lists every problem", async () => {
        const bad = config({ hosts: [...HOSTS, { ...HOSTS[1], name: "arm-hcloud-2", agent: "actuated" }, HOSTS[0]] });
        const { error, resources } = await recordFailure(() => fleetProgram(), { config: bad, secretKeys: SECRET_KEYS });
        expect(resources).to.have.length(0);
        expect(error.message).to.contain("hosts[3].agent").and.contain("arm-hcloud-2").and.contain("KVM");
        expect(error.message).to.contain("hosts[4].name");
        expect(error.message).to.contain("nothing was created");
    });

    it("names a missing secret without reading any other", async () => {
        const cfg = config();
        delete cfg[`${PROJECT}:actuatedLicense`];
        const { error, resources } = await recordFailure(() => fleetProgram(), { config: cfg, secretKeys: SECRET_KEYS });
        expect(resources).to.have.length(0);
        expect(error.message).to.contain("actuatedLicense");
        for (const v of Object.values(FAKE)) {
            expect(error.message).to.not.contain(v);
        }
    });
});

describe("the project's entry point", () => {
    it("is the program: Pulumi.yaml and package.json make pulumi up run index.ts, not the library", () => {
        const entry = pulumiEntryPoint(REPO_ROOT);
        expect(entry.relative).to.equal("index.ts");
        expect(entry.via).to.equal("Pulumi.yaml main");
        // The program registers the fleet; the library entry does not.
        expect(fs.readFileSync(entry.file, "utf8")).to.match(/fleetProgram\(\)/);
    });

    it("resolves as the Node.js language host does when Pulumi.yaml names no main", () => {
        const noMain = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8").replace(/^main:.*\n/m, "");
        const dir = projectDir({ "Pulumi.yaml": noMain });
        // package.json's exports["."] wins; it exists once bin/ is built.
        fs.mkdirSync(path.join(dir, "bin", "components"), { recursive: true });
        fs.writeFileSync(path.join(dir, "bin", "components", "index.js"), "");
        expect(pulumiEntryPoint(dir)).to.deep.include({ relative: path.join("bin", "components", "index.js"), via: 'package.json exports["."]' });
        // Before a build, the folder itself is required: Node's index lookup finds index.ts.
        fs.rmSync(path.join(dir, "bin"), { recursive: true });
        expect(pulumiEntryPoint(dir)).to.deep.include({ relative: "index.ts", via: "the project folder" });
    });
});

describe("the offline plan", function () {
    this.timeout(60000);

    it("plans the example stack: resources per host, labels per arch, costs", () => {
        const out = execFileSync(process.execPath, [...PLAN_CLI, "--stack", "example", "--cwd", REPO_ROOT], { encoding: "utf8" });
        for (const host of ["arm-metal-1", "arm-hcloud-1", "arm-robot-1"]) {
            expect(out).to.contain(`Host ${host}:`);
        }
        expect(out).to.contain("equinix-metal:index/device:Device  fleet-arm-metal-1-device");
        expect(out).to.contain("hcloud:index/firewall:Firewall  fleet-arm-hcloud-1-firewall");
        expect(out).to.contain("arm64 actuated: actuated-arm64-8cpu-16gb").and.contain("arm64 github-runner: runner-fleet-arm64");
        expect(out).to.contain("amd64 actuated: actuated-8cpu-16gb");
        // No plain host carries an actuated* label, and there is no actuated-amd64 anywhere.
        expect(out).to.not.contain("actuated-amd64");
        const hcloud = out.split(/\n\s*Host /).find(b => b.startsWith("arm-hcloud-1"))!;
        expect(hcloud).to.match(/labels: runner-fleet-arm64\n/);
        expect(out).to.contain("Fleet fleet: 4 host(s), 1825.00 USD + 329.49 EUR per month");
        const x86 = out.split(/\n\s*Host /).find(b => b.startsWith("x86-robot-1"))!;
        expect(x86).to.match(/labels: actuated\n/);
        expect(out).to.match(/fleet fleet\s+1825\.00 USD \+ 329\.49 EUR per month/).and.match(/total\s+1825\.00 USD \+ 329\.49 EUR per month/);
        expect(out).to.not.contain("secure");
        expect(out).to.not.contain("v1:");
    });

    it("shows each host's metrics target and the scrape targets, with where a loopback bind answers", () => {
        const out = execFileSync(process.execPath, [...PLAN_CLI, "--stack", "example", "--cwd", REPO_ROOT], { encoding: "utf8" });
        for (const host of ["arm-metal-1", "arm-hcloud-1", "arm-robot-1", "x86-robot-1"]) {
            const block = out.split(/\n\s*Host /).find(b => b.startsWith(host))!;
            expect(block, host).to.contain("metrics: 127.0.0.1:9100 (Prometheus node exporter, loopback)");
            expect(block, host).to.contain(`runner-fleet:index:HostMetrics  fleet-${host}-metrics`).and.contain(`command:remote:Command  fleet-${host}-metrics-install`);
        }
        const section = out.slice(out.indexOf("Scrape targets"));
        expect(section).to.match(/^Scrape targets \(Prometheus file_sd_configs: pulumi stack output metricsTargets --json/);
        expect(section).to.match(/\n  arm-hcloud-1\s+127\.0\.0\.1:9100\s+arch=arm64 kind=github-runner\n/);
        expect(section).to.match(/\n  x86-robot-1\s+127\.0\.0\.1:9100\s+arch=amd64 kind=actuated\n/);
        expect(section).to.contain("loopback, reachable from the host itself only").and.contain("SSH tunnel");
        const json = JSON.parse(execFileSync(process.execPath, [...PLAN_CLI, "--stack", "example", "--cwd", REPO_ROOT, "--json"], { encoding: "utf8" }));
        expect(json.metricsTargets).to.deep.include({ targets: ["127.0.0.1:9100"], labels: { host: "arm-metal-1", arch: "arm64", kind: "actuated" } });
        expect(json.metricsTargets).to.have.length(4);
    });

    it("shows no scrape targets for a stack with metrics off", () => {
        const example = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8");
        const dir = projectDir({ "Pulumi.quiet.yaml": example.replace(/^config:\n/m, "config:\n  runner-fleet:metrics:\n    enabled: false\n") });
        const r = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "quiet", "--cwd", dir], { encoding: "utf8" });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.not.contain("Scrape targets").and.not.contain("metrics:").and.not.contain("HostMetrics");
    });

    it("never hands ciphertext to the program: secure values become placeholders", () => {
        const cfg = readStackConfig(REPO_ROOT, "example");
        expect(cfg.secretKeys).to.include.members(["runner-fleet:sshPrivateKey", "runner-fleet:actuatedLicense"]);
        expect(cfg.config["runner-fleet:sshPrivateKey"]).to.equal("[secret runner-fleet:sshPrivateKey]");
    });

    function planDir(stackYaml: string): string {
        return projectDir({ "Pulumi.bad.yaml": stackYaml });
    }

    it("says which program pulumi up would run", () => {
        const out = execFileSync(process.execPath, [...PLAN_CLI, "--stack", "example", "--cwd", REPO_ROOT], { encoding: "utf8" });
        expect(out).to.contain("Program: index.ts (what pulumi up runs, from Pulumi.yaml main)");
        const json = JSON.parse(execFileSync(process.execPath, [...PLAN_CLI, "--stack", "example", "--cwd", REPO_ROOT, "--json"], { encoding: "utf8" }));
        expect(json.entryPoint).to.deep.equal({ file: "index.ts", via: "Pulumi.yaml main" });
    });

    it("refuses a project whose entry point registers nothing (the library entry), naming it and the fix", () => {
        const example = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8");
        const noMain = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8").replace(/^main:.*\n/m, "");
        // The library entry as package.json names it, whether bin/ was built or not.
        const dir = projectDir({ "Pulumi.yaml": noMain, "Pulumi.bad.yaml": example });
        fs.mkdirSync(path.join(dir, "bin", "components"), { recursive: true });
        fs.writeFileSync(path.join(dir, "bin", "components", "index.js"), `module.exports = require(${JSON.stringify(path.join(REPO_ROOT, "bin", "components", "index.js"))});\n`);
        const r = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "bad", "--cwd", dir], { encoding: "utf8" });
        expect(r.status).to.equal(2);
        expect(r.stderr).to.contain("pulumi up would run bin/components/index.js (from package.json exports[\".\"])")
            .and.contain("registers no resource").and.contain("main: index.ts");
        expect(r.stdout).to.equal("");
    });

    it("exits non-zero naming the host and KVM for actuated on Hetzner Cloud", () => {
        const example = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8");
        const dir = planDir(example.replace("      agent: github-runner\n", ""));
        const r = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "bad", "--cwd", dir], { encoding: "utf8" });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.contain('host "arm-hcloud-1"').and.contain("KVM");
        expect(r.stdout).to.equal("");
    });

    it("marks a plain host that keeps an organization credential (ephemeral opt-in) as EXPOSED", () => {
        const example = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8")
            .replace("    vmSize: 8cpu-16gb\n", "    vmSize: 8cpu-16gb\n    ephemeral: true\n    installDocker: false\n");
        const r = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "bad", "--cwd", planDir(example)], { encoding: "utf8" });
        expect(r.status, r.stderr).to.equal(0);
        const hcloud = r.stdout.split(/\n\s*Host /).find(b => b.startsWith("arm-hcloud-1"))!;
        expect(hcloud).to.contain("EXPOSED: keeps githubRunnerToken");
        const metal = r.stdout.split(/\n\s*Host /).find(b => b.startsWith("arm-metal-1"))!;
        expect(metal).to.not.contain("EXPOSED");
    });

    it("exits 2 with the stacks it can see when the stack file is missing", () => {
        const r = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "nope", "--cwd", REPO_ROOT], { encoding: "utf8" });
        expect(r.status).to.equal(2);
        expect(r.stderr).to.contain("Pulumi.nope.yaml").and.contain("example");
    });
});

describe("the offline plan of a program composed its own way", function () {
    this.timeout(60000);

    it("groups by fleet and by host for two fleets and a host with an agent the program made itself, with costs per host and fleet", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-compose-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: platform\nruntime: nodejs\n");
        fs.writeFileSync(path.join(dir, "Pulumi.two.yaml"), "config: {}\n");
        const fake = { sshPrivateKey: "k", actuatedLicense: "l", actuatedToken: "t", githubRunnerToken: "g" };
        const fleet = (name: string, hosts: Record<string, unknown>[]) => new RunnerFleet(name, {
            config: { github: { org: "example-org" }, adminCidrs: ["198.51.100.0/24"], sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake t", hosts: hosts as never },
            secrets: fake,
        });
        const limit = Error.stackTraceLimit;
        const stackTraceOf = (pulumi.Resource as unknown as { stackTrace: unknown }).stackTrace;
        let during = -1;
        let frames: unknown[] = ["unset"];
        const wrapOf = sdkDebuggable().debuggablePromise;
        let wrapped: [boolean, boolean] = [false, false];
        const plan = await planStack(dir, "two", () => {
            // The plan runs the program without the SDK's per-promise and per-resource stack traces, and gives the settings back.
            during = Error.stackTraceLimit;
            frames = (pulumi.Resource as unknown as { stackTrace: (skip?: number) => unknown[] }).stackTrace(0);
            // ... and without the SDK's per-promise bookkeeping: the promise comes back as it went in.
            const probe = Promise.resolve(1);
            wrapped = [sdkDebuggable().debuggablePromise === wrapOf, sdkDebuggable().debuggablePromise(probe, "probe") !== probe];
            fleet("blue", [{ name: "blue-arm", provider: "existing", plan: "rx170", address: "192.0.2.21" }]);
            fleet("green", [{ name: "green-x86", provider: "hetzner-cloud", plan: "ccx33", location: "fsn1", agent: "github-runner" }]);
            const own = new ExistingHost("lab-box", { address: "192.0.2.30", arch: "amd64", kvm: false, model: "ax102", privateKey: pulumi.secret("k") });
            const agent = new RunnerAgent("lab-box-agent", { host: own, kind: "github-runner", labels: ["lab-amd64"], org: "example-org", secrets: { githubRunnerToken: "g" } });
            // Beside the host, not below it: grouped with it by the host it names.
            new HostMetrics("lab-box-metrics", { host: own, agent: "github-runner", bindAddress: "10.0.0.30:9100", after: [agent.install] });
            return {};
        });
        expect([during, Error.stackTraceLimit]).to.deep.equal([0, limit]);
        expect(frames).to.deep.equal([]);
        expect(wrapped).to.deep.equal([false, false]);
        const probe = Promise.resolve(2);
        expect(sdkDebuggable().debuggablePromise).to.equal(wrapOf);
        expect(sdkDebuggable().debuggablePromise(probe, "probe")).to.not.equal(probe);
        expect((pulumi.Resource as unknown as { stackTrace: unknown }).stackTrace).to.equal(stackTraceOf);
        expect((pulumi.Resource as unknown as { stackTrace: (skip?: number) => unknown[] }).stackTrace(0).length).to.be.greaterThan(0);
        expect(plan.fleets.map(f => [f.fleet, f.hosts])).to.deep.equal([["blue", ["blue-arm"]], ["green", ["green-x86"]]]);
        const lab = plan.hosts.find(h => h.host === "lab-box")!;
        expect(lab).to.deep.include({ fleet: null, component: "lab-box", provider: "existing", plan: "ax102", agent: "github-runner", labels: ["lab-amd64"] });
        expect(lab.monthlyPrice).to.be.a("number");
        expect(lab.resources.map(r => r.name)).to.include.members(["lab-box", "lab-box-ready", "lab-box-agent", "lab-box-agent-install", "lab-box-metrics", "lab-box-metrics-install"]);
        expect(lab.metrics).to.equal("10.0.0.30:9100");
        expect(plan.metricsTargets).to.deep.include({ targets: ["10.0.0.30:9100"], labels: { host: "lab-box", arch: "amd64", kind: "github-runner" } });
        expect(plan.metricsTargets.map(t => t.labels.host)).to.have.members(["blue-arm", "green-x86", "lab-box"]);
        const blue = plan.hosts.find(h => h.host === "blue-arm")!;
        expect(blue).to.deep.include({ fleet: "blue", component: "blue-blue-arm", agent: "actuated", monthlyPrice: 184, currency: "EUR" });
        // Each fleet's own resources (organization wiring) stay with it; nothing is lost.
        expect(plan.fleets.every(f => f.resources.length > 0)).to.equal(true);
        expect(plan.hosts.reduce((n, h) => n + h.resources.length, 0) + plan.fleetWide.length).to.equal(plan.resourceCount);
        const text = formatPlan(plan);
        expect(text).to.contain("Fleet blue: 1 host(s), 184.00 EUR per month").and.contain("Fleet green: 1 host(s)")
            .and.contain("Host lab-box: existing ax102, amd64, agent github-runner")
            .and.contain("metrics: 10.0.0.30:9100 (Prometheus node exporter, private address)")
            .and.contain("10.0.0.30:9100: a private address, reachable from the hosts' private network only");
    });
});
