import { expect } from "chai";
import { catalog, findPlan } from "../../components/spec/host-sources";
import { checkFleet } from "../../components/fleet/check";
import { labelProblem } from "../../components/spec/labels";
import { parseFleetConfig } from "../../components/spec/parse";
import { Problem } from "../../components/spec/problems";
import { FleetConfigInput, FleetSpec, HostSpec } from "../../components/spec/settings";
import { requiredSecrets, resolveFleet } from "../../components/spec/resolve";

const ALL_SECRETS = new Set(["sshPrivateKey", "actuatedLicense", "actuatedToken", "dockerHubToken", "githubRunnerToken"]);

/** A fleet's input: the hosts and settings given, on top of a valid base. */
function fleet(hosts: unknown[], extra: Record<string, unknown> = {}): FleetConfigInput {
    return {
        hosts,
        github: { org: "example-org" },
        equinixProjectId: "00000000-0000-4000-8000-000000000000",
        adminCidrs: ["198.51.100.0/24"],
        sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake",
        ...extra,
    } as FleetConfigInput;
}

/** The parsed spec of an input that must have no field problem. */
function specOf(input: FleetConfigInput): FleetSpec {
    const { spec, problems } = parseFleetConfig(input);
    expect(problems, JSON.stringify(problems)).to.deep.equal([]);
    return spec as FleetSpec;
}

const metal = (name: string, more: Partial<HostSpec> = {}) => ({ name, provider: "equinix-metal", plan: "c3.large.arm64", metro: "da", ...more });
const hcloud = (name: string, more: Partial<HostSpec> = {}) => ({ name, provider: "hetzner-cloud", plan: "cax41", location: "fsn1", agent: "github-runner", ...more });
const robot = (name: string, more: Partial<HostSpec> = {}) => ({ name, provider: "existing", plan: "rx170", address: "203.0.113.10", ...more });

/** Every problem of an input, field checks and fleet checks alike: what RunnerFleet throws. */
function problemsOf(input: FleetConfigInput, secrets = ALL_SECRETS): Problem[] {
    return checkFleet(input, secrets).problems;
}

function only(problems: Problem[], path: string): Problem {
    const hit = problems.filter(p => p.path === path);
    expect(hit, `problems at ${path} in ${JSON.stringify(problems, null, 1)}`).to.have.length(1);
    return hit[0];
}

describe("stack config validation", () => {
    it("takes a mirror registry release of one's own only with a sha256 for each arch a mirror runs on", () => {
        const sha = "a".repeat(64);
        const p = only(problemsOf(fleet([hcloud("arm-hcloud-1")], { mirror: { release: { version: "3.2.0", sha256: { amd64: sha } } } })), "mirror.release.sha256.arm64");
        expect(p.message).to.contain('host "arm-hcloud-1" (arm64) runs the mirror');
        expect(p.fix).to.contain("registry_3.2.0_linux_arm64.tar.gz");
        expect(problemsOf(fleet([hcloud("arm-hcloud-1")], { mirror: { release: { version: "3.2.0", sha256: { arm64: sha } } } }))).to.deep.equal([]);
        const bad = problemsOf(fleet([hcloud("arm-hcloud-1")], { mirror: { release: { version: "v3.2.0", sha256: { arm64: "xyz" } } } })).map(x => x.path);
        expect(bad).to.include.members(["mirror.release.version", "mirror.release.sha256.arm64"]);
    });

    it("accepts the mixed example fleet", () => {
        expect(problemsOf(fleet([metal("arm-metal-1"), hcloud("arm-hcloud-1"), robot("arm-robot-1")]))).to.deep.equal([]);
    });

    it("rejects an empty fleet", () => {
        const p = only(problemsOf(fleet([])), "hosts");
        expect(p.message).to.contain("no hosts");
        expect(p.fix).to.contain("runner-fleet:hosts");
    });

    it("rejects duplicate host names, naming the first holder", () => {
        const p = only(problemsOf(fleet([metal("a1"), robot("a1")])), "hosts[1].name");
        expect(p.message).to.contain("hosts[0]");
        expect(p.fix).to.contain("unique");
    });

    it("rejects an arch that contradicts the plan", () => {
        const p = only(problemsOf(fleet([metal("m1", { arch: "amd64" })])), "hosts[0].arch");
        expect(p.message).to.contain("amd64").and.contain("c3.large.arm64").and.contain("arm64");
        expect(p.fix).to.contain("c3.medium.x86");
    });

    it("rejects an unknown provider", () => {
        const p = only(problemsOf(fleet([{ name: "x1", provider: "aws" }])), "hosts[0].provider");
        expect(p.message).to.contain('"aws"');
        expect(p.fix).to.contain("equinix-metal").and.contain("hetzner-cloud").and.contain("existing");
    });

    it("rejects an unknown metro", () => {
        const p = only(problemsOf(fleet([metal("m1", { metro: "zz" })])), "hosts[0].metro");
        expect(p.message).to.contain('"zz"');
        expect(p.fix).to.contain("da");
    });

    it("rejects an unknown location, and an Arm type where it is not sold", () => {
        only(problemsOf(fleet([hcloud("h1", { location: "mars1" })])), "hosts[0].location");
        const p = only(problemsOf(fleet([hcloud("h1", { location: "ash" })])), "hosts[0].location");
        expect(p.message).to.contain("cax41 is not sold in ash");
    });

    it("rejects the actuated agent on a Hetzner Cloud host, naming the host and KVM", () => {
        const p = only(problemsOf(fleet([hcloud("h1", { agent: "actuated" })])), "hosts[0].agent");
        expect(p.message).to.contain('"h1"').and.contain("KVM");
        expect(p.fix).to.contain("github-runner");
    });

    it("rejects the fleet's actuated default on an existing host without declared KVM", () => {
        const p = only(problemsOf(fleet([{ name: "onprem", provider: "existing", address: "192.0.2.4", arch: "amd64" }])), "hosts[0]");
        expect(p.message).to.contain("KVM");
        expect(p.fix).to.contain("kvm: true");
    });

    for (const [label, why] of [
        ["has,comma", "comma"], ["has space", "white space"], ["self-hosted", "default label"], ["ubuntu-latest", "GitHub-hosted"],
        ["x".repeat(101), "at most 100"], ["-leading", "start with a letter"], ["ünicode", "characters"],
    ] as const) {
        it(`rejects the runner label ${JSON.stringify(label.slice(0, 20))} (${why})`, () => {
            const p = only(problemsOf(fleet([metal("m1", { labels: [label] })])), "hosts[0].labels[0]");
            expect(p.message).to.contain(why);
        });
    }

    it("rejects bad fleet-wide labels too", () => {
        only(problemsOf(fleet([metal("m1")], { agent: { labels: ["ok", "not ok"] } })), "agent.labels[1]");
    });

    it("reports a missing secret with the command that sets it", () => {
        const p = only(problemsOf(fleet([metal("m1")]), new Set(["sshPrivateKey", "actuatedToken"])), "actuatedLicense");
        expect(p.fix).to.contain("pulumi config set --secret actuatedLicense");
    });

    it("needs the Docker Hub token only when a Docker Hub user is set", () => {
        // githubRunnerToken is the operator's (it may come from GITHUB_TOKEN where pulumi runs); a host needs it only when ephemeral.
        expect(requiredSecrets(specOf(fleet([hcloud("h1")])))).to.deep.equal(["sshPrivateKey"]);
        expect(requiredSecrets(specOf(fleet([hcloud("h1")], { agent: { ephemeral: true, installDocker: false } })))).to.deep.equal(["sshPrivateKey", "githubRunnerToken"]);
        expect(requiredSecrets(specOf(fleet([hcloud("h1")], { mirror: { dockerHubUsername: "example-bot" } })))).to.include("dockerHubToken");
    });

    it("needs a per-host key when an existing host names one", () => {
        const input = fleet([robot("r1", { privateKeySecret: "robotKey" })]);
        expect(requiredSecrets(specOf(input))).to.include("robotKey");
        only(problemsOf(input), "robotKey");
    });

    it("accepts a plan it does not know only when the arch is stated", () => {
        only(problemsOf(fleet([metal("m1", { plan: "x9.huge.arm64" })])), "hosts[0].plan");
        expect(problemsOf(fleet([metal("m1", { plan: "x9.huge.arm64", arch: "arm64" })]))).to.deep.equal([]);
    });

    it("requires address and arch for an existing host that is no catalog model", () => {
        const problems = problemsOf(fleet([{ name: "onprem", provider: "existing", kvm: true }]));
        only(problems, "hosts[0].address");
        only(problems, "hosts[0].arch");
    });

    it("reports every problem at once, fleet-wide settings once", () => {
        const input = fleet([metal("m1", { metro: "zz" }), metal("m1"), hcloud("h1", { agent: "actuated" }), hcloud("h2", { labels: ["a,b"] })],
            { sshPublicKey: undefined, adminCidrs: [] });
        const problems = problemsOf(input, new Set());
        const paths = problems.map(p => p.path);
        expect(paths).to.include.members([
            "hosts[0].metro", "hosts[1].name", "hosts[2].agent", "hosts[3].labels[0]", "sshPublicKey", "adminCidrs",
            "sshPrivateKey", "actuatedLicense", "actuatedToken",
        ]);
        expect(paths.filter(p => p === "sshPublicKey")).to.have.length(1);
        expect(paths.filter(p => p === "adminCidrs")).to.have.length(1);
    });

    it("reports type mistakes in the raw config with their paths", () => {
        const { problems } = parseFleetConfig({ hosts: [{ name: 3, provider: "existing", kvm: "yes", port: "22", colour: "red" }], agent: "actuated" });
        expect(problems.map(p => p.path)).to.have.members(["hosts[0].name", "hosts[0].kvm", "hosts[0].port", "hosts[0].colour", "agent", "github.org"]);
    });

    it("rejects a bad CIDR, a bad host key and a bad port", () => {
        const problems = problemsOf(fleet([hcloud("h1"), robot("r1", { hostKey: "not a key", port: 70000 })], { adminCidrs: ["10.0.0.0/33"] }));
        only(problems, "adminCidrs[0]");
        only(problems, "hosts[1].hostKey");
        only(problems, "hosts[1].port");
    });

    it("rejects a mirror bound to a public address, and accepts private ones", () => {
        for (const bind of ["0.0.0.0:5000", "203.0.113.5:5000", "[::]:5000", "mirror"]) {
            only(problemsOf(fleet([metal("m1")], { mirror: { bindAddress: bind } })), "mirror.bindAddress");
        }
        for (const bind of ["127.0.0.1:5000", "172.17.0.1:5000", "10.1.2.3:5001", "[::1]:5000"]) {
            expect(problemsOf(fleet([metal("m1")], { mirror: { bindAddress: bind } })), bind).to.deep.equal([]);
        }
    });

    it("turns metrics on by default, on loopback, and takes them off or on a private address", () => {
        const on = specOf(fleet([metal("m1")]));
        expect(on.metrics).to.deep.equal({ enabled: true, bindAddress: "127.0.0.1:9100" });
        expect(specOf(fleet([metal("m1")], { metrics: { enabled: false } })).metrics.enabled).to.equal(false);
        for (const bind of ["10.0.0.2:9100", "172.17.0.1:9100", "192.168.1.5:9100", "[::1]:9100", "localhost:9100"]) {
            expect(problemsOf(fleet([metal("m1")], { metrics: { bindAddress: bind } })), bind).to.deep.equal([]);
        }
    });

    it("rejects metrics bound to a public address, with the setting's path, the mirror's wording and a fix of its own", () => {
        for (const [bind, why] of [["0.0.0.0:9100", "listens on every address"], ["203.0.113.5:9100", "is not a loopback or private address"], ["[::]:9100", "every address"], ["9100", "is not host:port"]]) {
            const p = only(problemsOf(fleet([metal("m1")], { metrics: { bindAddress: bind } })), "metrics.bindAddress");
            expect(p.message, bind).to.contain(why);
            expect(p.fix, bind).to.contain("private network address").and.not.contain("Docker bridge");
            // The mirror's check is the same one: the same wording for the same address.
            const mirror = only(problemsOf(fleet([metal("m1")], { mirror: { bindAddress: bind.replace("9100", "5000") } })), "mirror.bindAddress");
            expect(mirror.message, bind).to.equal(p.message.replace("9100", "5000"));
            expect(mirror.fix).to.contain("Docker bridge");
        }
        // Turned off, a bad bind is still a mistake in the stack file.
        only(problemsOf(fleet([metal("m1")], { metrics: { enabled: false, bindAddress: "0.0.0.0:9100" } })), "metrics.bindAddress");
    });

    it("rejects metrics on an address the hosts' mirror takes: its bind, its figures' port, actuated's bridge", () => {
        const plain = [hcloud("h1")];
        const taken = only(problemsOf(fleet(plain, { metrics: { bindAddress: "127.0.0.1:5000" } })), "metrics.bindAddress");
        expect(taken.message).to.contain("taken by the host's Docker Hub mirror").and.contain("127.0.0.1:5001");
        only(problemsOf(fleet(plain, { metrics: { bindAddress: "127.0.0.1:5001" } })), "metrics.bindAddress");
        only(problemsOf(fleet(plain, { mirror: { bindAddress: "172.17.0.1:5000" }, metrics: { bindAddress: "172.17.0.1:5000" } })), "metrics.bindAddress");
        only(problemsOf(fleet([metal("m1")], { metrics: { bindAddress: "192.168.128.1:5000" } })), "metrics.bindAddress");
        // Not where the hosts' mirror is not: actuated's bridge on plain hosts, any mirror when it is off, another port.
        expect(problemsOf(fleet(plain, { metrics: { bindAddress: "192.168.128.1:5000" } }))).to.deep.equal([]);
        expect(problemsOf(fleet(plain, { mirror: { enabled: false }, metrics: { bindAddress: "127.0.0.1:5000" } }))).to.deep.equal([]);
        expect(problemsOf(fleet(plain, { metrics: { bindAddress: "127.0.0.1:5002" } }))).to.deep.equal([]);
    });

    it("checks agent settings: instances, runner version, VM disk and device", () => {
        const problems = problemsOf(fleet([metal("m1", { vmDevice: "sdb" }), hcloud("h1", { vmDevice: "/dev/sdb" })],
            { agent: { instances: 0, runnerVersion: "v2", vmDiskSize: "lots" } }));
        for (const path of ["agent.instances", "agent.runnerVersion", "agent.vmDiskSize", "hosts[0].vmDevice", "hosts[1].vmDevice"]) {
            only(problems, path);
        }
    });

    it("tells GitHub-safe labels apart", () => {
        expect(labelProblem("actuated-arm64")).to.equal(undefined);
        expect(labelProblem("gpu.large_2")).to.equal(undefined);
    });
});

describe("catalog and fleet summary", () => {
    it("knows the Ampere Altra plans as arm64 with KVM on bare metal", () => {
        expect(findPlan("equinix-metal", "c3.large.arm64")).to.include({ arch: "arm64", cores: 80, kvm: true });
        expect(findPlan("existing", "RX170")).to.include({ arch: "arm64", kvm: true });
        expect(catalog().filter(e => e.provider === "hetzner-cloud").every(e => !e.kvm)).to.equal(true);
    });

    it("sums prices per currency and labels per arch", () => {
        const s = resolveFleet(specOf(fleet([metal("m1"), hcloud("h1"), robot("r1"), robot("r2", { plan: undefined, arch: "amd64", kvm: true, monthlyPrice: 50 })])));
        expect(s.monthlyTotal.USD).to.equal(1825);
        expect(s.monthlyTotal.EUR).to.equal(Math.round((41.49 + 184 + 50) * 100) / 100);
        // Per arch and kind: actuated matches actuated-arm64 and, on x86, actuated; plain hosts never carry actuated*.
        expect(s.labelsByArch).to.deep.equal({
            arm64: { actuated: ["actuated-arm64"], "github-runner": ["runner-fleet-arm64"], preferred: "actuated" },
            amd64: { actuated: ["actuated"], preferred: "actuated" },
        });
        expect(s.hosts.find(h => h.name === "h1")).to.include({ agent: "github-runner", kvm: false });
    });
});
