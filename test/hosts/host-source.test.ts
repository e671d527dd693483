// Adding a host source is one file (fake-cloud.ts): registered, its hosts are
// parsed with its own fields and rules, resolved with its plans and prices,
// created by its own component inside a RunnerFleet with an agent and a
// mirror, and planned offline with the cost; nothing else in the package
// names it.

import { expect } from "chai";
import { FLEET_RESOURCE_NAME, checkFleet, fleetProgram, registerHostSource } from "../../components";
import { unregisterHostSource } from "../../components/spec/host-sources";
import { planStack } from "../../scripts/plan";
import { projectDir } from "../harness";
import { fakeCloud } from "./fake-cloud";

const SECRETS = new Set(["sshPrivateKey", "githubRunnerToken"]);

describe("a fourth host source, added by one file", () => {
    before(() => registerHostSource(fakeCloud));
    after(() => unregisterHostSource(fakeCloud.id));

    const config = (hosts: unknown[], more: Record<string, unknown> = { fakeCloudAccount: "acct-42" }) => ({
        github: { org: "example-org" }, sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake test", agent: { kind: "github-runner" }, hosts, ...more,
    });

    it("is checked with its own fields, regions, plans, KVM and fleet-wide setting, and the others' fields are refused", () => {
        expect(checkFleet(config([{ name: "f1", provider: "fake-cloud", zone: "fk1" }]) as never, SECRETS).problems).to.deep.equal([]);
        const problems = checkFleet(config([
            { name: "f1", provider: "fake-cloud", zone: "zz9" },
            { name: "f2", provider: "fake-cloud", zone: "fk2", metro: "da", agent: "actuated" },
            { name: "f3", provider: "existing", arch: "amd64", address: "192.0.2.7", zone: "fk1" },
        ], {}) as never, SECRETS).problems.map(p => `${p.path}: ${p.message} | ${p.fix}`);
        expect(problems).to.include('hosts[0].zone: "zz9" is not a known Fake Cloud zone | use one of: fk1, fk2');
        expect(problems).to.include("hosts[1].metro: applies to equinix-metal hosts only, not to fake-cloud | use zone for Fake Cloud");
        expect(problems.find(p => p.startsWith("hosts[1].agent:"))).to.contain("Fake Cloud has no KVM");
        expect(problems).to.include("hosts[2].zone: applies to fake-cloud hosts only, not to existing | remove zone");
        expect(problems).to.include('fakeCloudAccount: host "f1" is a Fake Cloud server and no account is set | set runner-fleet:fakeCloudAccount');
        expect(checkFleet(config([{ name: "f1", provider: "fake-cloud", zone: "fk1" }], { fakeCloudAccount: "nope" }) as never, SECRETS).problems[0])
            .to.include({ path: "fakeCloudAccount", fix: "write acct-<digits>" });
    });

    it("is planned offline by the CLI's plan: its component, the agent and mirror on it, and its price in the totals", async () => {
        const stack = [
            "config:",
            "  runner-fleet:github:",
            "    org: example-org",
            "  runner-fleet:agent:",
            "    kind: github-runner",
            "  runner-fleet:sshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake test",
            "  runner-fleet:fakeCloudAccount: acct-42",
            "  runner-fleet:hosts:",
            "    - { name: fake-arm, provider: fake-cloud, zone: fk1 }",
            "    - { name: fake-x86, provider: fake-cloud, zone: fk2, arch: amd64 }",
            "  runner-fleet:sshPrivateKey:",
            "    secure: v1:ZmFrZQ==",
            "  runner-fleet:githubRunnerToken:",
            "    secure: v1:ZmFrZQ==",
        ].join("\n");
        const dir = projectDir({ "Pulumi.fake.yaml": `${stack}\n` });
        const plan = await planStack(dir, "fake", fleetProgram);
        expect(plan.hosts.map(h => [h.host, h.fleet, h.provider, h.arch, h.plan, h.monthlyPrice, h.currency])).to.deep.equal([
            ["fake-arm", FLEET_RESOURCE_NAME, "fake-cloud", "arm64", "fk-arm-4", 12.5, "EUR"],
            ["fake-x86", FLEET_RESOURCE_NAME, "fake-cloud", "amd64", "fk-x86-4", 10, "EUR"],
        ]);
        expect(plan.estimatedMonthlyCost).to.deep.equal({ EUR: 22.5 });
        const types = plan.hosts[0].resources.map(r => r.type);
        expect(types).to.include("runner-fleet:index:RunnerAgent").and.include("runner-fleet:index:RegistryMirror").and.include("command:remote:Command");
        expect(plan.hosts[0].labels).to.include("runner-fleet-arm64");
    });
});
