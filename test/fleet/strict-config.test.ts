// The stack config lets nothing through silently: unknown keys, secrets in
// plain text, numbers out of range are refused (with the field and the fix,
// and nothing registered); SSH open to everyone is allowed but warned about;
// the mirror address check is the host scripts' own.

import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { isPrivateAddress } from "../../components/spec/addresses";
import { fleetProgram } from "../../components/fleet/program";
import { FAKE, PROJECT, REPO_ROOT, projectDir, record, recordFailure, stackConfig, PLAN_CLI } from "../harness";

const HOSTS = [
    { name: "arm-robot-1", provider: "existing", plan: "rx170", address: "203.0.113.10" },
    { name: "x86-cloud-1", provider: "hetzner-cloud", plan: "ccx33", location: "fsn1", agent: "github-runner" },
];
const SECRETS = {
    sshPrivateKey: FAKE.sshPrivateKey, actuatedLicense: FAKE.actuatedLicense, actuatedToken: FAKE.actuatedToken, githubRunnerToken: FAKE.githubRunnerToken,
};
const SECRET_KEYS = Object.keys(SECRETS).map(k => `${PROJECT}:${k}`);

function config(overrides: Record<string, unknown> = {}) {
    return stackConfig({
        github: { org: "example-org" }, adminCidrs: ["198.51.100.0/24"], sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake test",
        hosts: HOSTS, ...SECRETS, ...overrides,
    });
}

async function refused(cfg: Record<string, string>, secretKeys = SECRET_KEYS): Promise<string> {
    const { error, resources } = await recordFailure(() => fleetProgram(), { config: cfg, secretKeys });
    expect(resources, "nothing is registered").to.have.length(0);
    for (const v of Object.values(FAKE)) {
        expect(error.message, "no secret value in the error").to.not.contain(v);
    }
    return error.message;
}

describe("strict stack config", () => {
    it("accepts the valid config", async () => {
        const { resources } = await record(() => fleetProgram(), { config: config(), secretKeys: SECRET_KEYS });
        expect(resources.length).to.be.greaterThan(5);
    });

    it("refuses an unknown key under the project namespace, naming the nearest known one", async () => {
        const cfg = config();
        cfg[`${PROJECT}:mirrors`] = JSON.stringify({ enabled: false });
        const message = await refused(cfg);
        expect(message).to.contain("mirrors: is not a runner-fleet setting").and.contain("did you mean mirror?").and.contain("pulumi config rm mirrors");
    });

    it("refuses an unknown key inside a section and inside a host", async () => {
        const message = await refused(config({ mirror: { ttll: "72h" }, hosts: [{ ...HOSTS[0], adress: "x" }, HOSTS[1]] }));
        expect(message).to.contain("mirror.ttll: is not a setting of mirror").and.contain("did you mean ttl?");
        expect(message).to.contain("hosts[0].adress").and.contain("did you mean address?");
    });

    it("refuses a secret stored in plain text, with the command that encrypts it, without printing it", async () => {
        const message = await refused(config(), SECRET_KEYS.filter(k => !k.endsWith(":actuatedLicense")));
        expect(message).to.contain("actuatedLicense: is a secret stored in plain text").and.contain("pulumi config set --secret actuatedLicense");
    });

    it("refuses a host's own SSH key in plain text too", async () => {
        const message = await refused(config({ robotKey: FAKE.robotKey, hosts: [{ ...HOSTS[0], privateKeySecret: "robotKey" }, HOSTS[1]] }));
        expect(message).to.contain("robotKey: is a secret stored in plain text");
    });

    it("gives every numeric setting a range", async () => {
        const message = await refused(config({
            agent: { instances: 40 }, bootTimeoutMinutes: 0,
            hosts: [{ ...HOSTS[0], port: 0 }, { ...HOSTS[1] }, { name: "priced", provider: "existing", arch: "amd64", address: "192.0.2.9", monthlyPrice: -5, kvm: false, agent: "github-runner" }],
        }));
        expect(message).to.contain("agent.instances: 40 is above the maximum 32");
        expect(message).to.contain("bootTimeoutMinutes: 0 is below the minimum 1");
        expect(message).to.contain("hosts[0].port: 0 is below the minimum 1");
        expect(message).to.contain("hosts[2].monthlyPrice: -5 is below the minimum 0");
    });

    it("reports a type mistake and a fleet problem together", async () => {
        const message = await refused(config({ hosts: [{ ...HOSTS[0], port: "22" }, { ...HOSTS[1], agent: "actuated" }] }));
        expect(message).to.match(/hosts\[0\]\.port: must be a (whole )?number, got string "22"/);
        expect(message).to.contain("hosts[1].agent").and.contain("KVM");
    });
});

describe("SSH open to the whole internet", function () {
    this.timeout(60000);

    it("is allowed, and the plan prints it as a warning", () => {
        const example = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8")
            .replace("    - 198.51.100.0/24\n", "    - 198.51.100.0/24\n    - 0.0.0.0/0\n");
        const dir = projectDir({ "Pulumi.open.yaml": example });
        const r = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "open", "--cwd", dir], { encoding: "utf8" });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/WARNING: adminCidrs\[1\]: 0\.0\.0\.0\/0 opens SSH on the Hetzner Cloud hosts to the whole internet/);
        const json = JSON.parse(spawnSync(process.execPath, [...PLAN_CLI, "--stack", "open", "--cwd", dir, "--json"], { encoding: "utf8" }).stdout);
        expect(json.warnings).to.have.length(1);
    });

    it("prints no warning for the example", () => {
        const r = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "example", "--cwd", REPO_ROOT], { encoding: "utf8" });
        expect(r.stdout).to.not.contain("WARNING");
    });
});

/**
 * One list of cases for the address a service binds to (the mirror's, the
 * metrics exporter's), run against the config's check and the host scripts'
 * own (is_private_bind in scripts/host/common.sh).
 */
const BIND_HOSTS: readonly [string, boolean][] = [
    ["127.0.0.1", true], ["127.10.0.5", true], ["10.0.0.1", true], ["172.16.0.1", true], ["172.31.255.1", true],
    ["192.168.1.1", true], ["::1", true], ["localhost", true],
    ["172.15.0.1", false], ["172.32.0.1", false], ["192.169.0.1", false], ["11.0.0.1", false], ["0.0.0.0", false],
    ["203.0.113.5", false], ["::", false], ["fd00::1", false], ["fc00::5", false], ["2001:db8::1", false], ["mirror.example.com", false],
];

describe("the bind address check (mirror, metrics) is the host scripts' own", () => {
    const shell = (host: string) => spawnSync("bash", ["-c", `. "$1"; is_private_bind "$2"`, "x", path.join(REPO_ROOT, "scripts", "host", "common.sh"), host]).status === 0;
    for (const [host, ok] of BIND_HOSTS) {
        it(`${host}: ${ok ? "private" : "refused"} on both sides`, () => {
            expect(isPrivateAddress(host), "config").to.equal(ok);
            expect(shell(host), "common.sh").to.equal(ok);
        });
    }
});
