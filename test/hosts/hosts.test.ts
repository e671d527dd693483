import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { EquinixMetalHost, ExistingHost, HetznerCloudHost, HostOutputs } from "../../components";
import { isSecretOutput, valueOf } from "../../components/testing/mock-runtime";
import { hostScriptsHash } from "../../components/remote/remote-script";
import { FAKE, byType, named, record, recordFailure } from "../harness";

const ssh = { privateKey: pulumi.secret(FAKE.sshPrivateKey) };
const PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake test";

describe("EquinixMetalHost", () => {
    it("creates a project key and an hourly Ubuntu 22.04 device on the Altra plan, with no user data", async () => {
        const { resources, result } = await record(() => new EquinixMetalHost("m1", {
            ...ssh, projectId: "proj", metro: "da", sshPublicKey: PUB, hardwareReservationId: "resv-1", tags: ["team:ci"],
        }));
        expect(resources.map(r => r.type)).to.have.members([
            "runner-fleet:index:EquinixMetalHost", "equinix-metal:index/projectSshKey:ProjectSshKey",
            "equinix-metal:index/device:Device", "command:remote:Command", "command:remote:CopyToRemote",
        ]);
        const device = named(resources, "m1-device");
        expect(device.inputs).to.include({
            hostname: "m1", plan: "c3.large.arm64", metro: "da", operatingSystem: "ubuntu_22_04",
            billingCycle: "hourly", hardwareReservationId: "resv-1", projectId: "proj",
        });
        expect(device.inputs).to.not.have.property("userData");
        expect(device.inputs).to.not.have.property("customData");
        expect(device.inputs.projectSshKeyIds).to.deep.equal(["m1-ssh-key-id"]);
        expect(device.inputs.tags).to.include.members(["runner-fleet", "arch:arm64", "team:ci"]);
        expect(named(resources, "m1-ssh-key").inputs).to.include({ publicKey: PUB, projectId: "proj" });
        expect(device.parent).to.equal(named(resources, "m1").urn);
        const ready = named(resources, "m1-ready");
        expect([...ready.dependencies]).to.include(device.urn);
        expect(result.arch).to.equal("arm64");
        expect(result.kvm).to.equal(true);
    });

    it("uses an x86 plan for amd64", async () => {
        const { resources } = await record(() => new EquinixMetalHost("x1", { ...ssh, projectId: "p", metro: "sv", arch: "amd64", sshPublicKey: PUB }));
        expect(named(resources, "x1-device").inputs.plan).to.equal("c3.medium.x86");
    });
});

describe("HetznerCloudHost", () => {
    it("creates a key, an SSH-only firewall for the admin networks and a CAX server on Ubuntu 22.04", async () => {
        const { resources, result } = await record(() => new HetznerCloudHost("h1", {
            ...ssh, location: "fsn1", sshPublicKey: PUB, adminCidrs: ["198.51.100.0/24", "2001:db8::/32"],
        }));
        const fw = named(resources, "h1-firewall");
        expect(fw.inputs.rules).to.deep.equal([{
            description: "SSH from admin networks", direction: "in", protocol: "tcp", port: "22",
            sourceIps: ["198.51.100.0/24", "2001:db8::/32"],
        }]);
        const server = named(resources, "h1-server");
        expect(server.inputs).to.include({ name: "h1", serverType: "cax41", image: "ubuntu-22.04", location: "fsn1" });
        expect(server.inputs.sshKeys).to.deep.equal(["h1-ssh-key-id"]);
        expect(server.inputs.firewallIds).to.have.length(1);
        expect(server.inputs).to.not.have.property("userData");
        expect([...named(resources, "h1-ready").dependencies]).to.include(server.urn);
        expect(result.kvm).to.equal(false);
        expect(await valueOf(result.publicIp)).to.match(/^203\.0\.113\./);
    });

    it("sends the public key trimmed, as Hetzner stores it (a .pub file's newline would fail the apply)", async () => {
        const { resources } = await record(() => new HetznerCloudHost("h1", { ...ssh, location: "fsn1", sshPublicKey: `  ${PUB}\n`, adminCidrs: ["198.51.100.0/24"] }));
        expect(named(resources, "h1-ssh-key").inputs.publicKey).to.equal(PUB.trim());
    });

    it("refuses to build with no admin network, before creating anything", async () => {
        const { error, resources } = await recordFailure(() => new HetznerCloudHost("h1", { ...ssh, location: "fsn1", sshPublicKey: PUB, adminCidrs: [] }));
        expect(error.message).to.contain("adminCidrs");
        expect(resources).to.have.length(0);
    });
});

describe("ExistingHost", () => {
    it("connects with the pinned host key and waits for SSH with unlimited retries inside a timeout", async () => {
        const { resources, result } = await record(() => new ExistingHost("r1", {
            ...ssh, address: "203.0.113.10", model: "rx170", user: "ubuntu", port: 2222,
            hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey", bootTimeoutMinutes: 7,
        }));
        expect(resources.map(r => r.type)).to.have.members(["runner-fleet:index:ExistingHost", "command:remote:Command", "command:remote:CopyToRemote"]);
        const ready = named(resources, "r1-ready");
        // The scripts travel first, over the same connection, by their folder (path and content hash in the state),
        // and wait for SSH as long as the ready step; the ready step carries the folder's hash, not its text.
        const scripts = named(resources, "r1-scripts");
        expect(scripts.inputs).to.deep.include({ source: { fileArchive: "<runner-fleet>/scripts/host" }, remotePath: ".cache/runner-fleet", triggers: ["existing:203.0.113.10"] });
        expect(scripts.inputs.connection).to.deep.equal(ready.inputs.connection);
        expect([...ready.dependencies]).to.include(scripts.urn);
        expect(scripts.secretInputs.has("connection")).to.equal(true);
        expect(scripts.customTimeouts).to.deep.equal({ create: "7m", update: "7m", delete: undefined });
        expect(String(ready.inputs.create)).to.contain(hostScriptsHash()).and.not.contain("cloud-init");
        expect(ready.inputs.triggers).to.deep.equal(["existing:203.0.113.10"]);
        expect(String(ready.inputs.delete)).to.contain(`rm -rf "$HOME/.cache/runner-fleet"`).and.contain("$r rm -rf /usr/local/lib/runner-fleet");
        expect(ready.inputs.connection).to.deep.include({
            host: "203.0.113.10", user: "ubuntu", port: 2222, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey",
            dialErrorLimit: -1, privateKey: FAKE.sshPrivateKey,
        });
        expect(ready.secretInputs.has("connection")).to.equal(true);
        expect(ready.customTimeouts.create).to.equal("7m");
        expect(String(ready.inputs.create)).to.contain("RUNNER_FLEET_HOST='r1'").and.contain("EXPECTED_ARCH='arm64'");
        expect(String(ready.inputs.create)).to.not.contain(FAKE.sshPrivateKey);
        expect(result).to.include({ arch: "arm64", kvm: true });
    });

    it("keeps the private key secret in the connection it hands to bootstrap", async () => {
        const { result } = await record(() => new ExistingHost("r2", { ...ssh, address: "192.0.2.1", arch: "amd64", kvm: false }));
        const host: HostOutputs = result;
        expect(await isSecretOutput(host.connection)).to.equal(true);
    });

    it("lists every problem of its args at once and registers nothing", async () => {
        const { error, resources } = await recordFailure(() => new ExistingHost("bad_name", {
            ...ssh, address: "", hostKey: "nope", port: 0,
        }));
        expect(error.name).to.equal("FleetConfigError");
        for (const field of ["args.name", "args.address", "args.arch", "args.hostKey", "args.port"]) {
            expect(error.message).to.contain(field);
        }
        expect(error.message).to.not.contain(FAKE.sshPrivateKey);
        expect(resources).to.have.length(0);
    });

    it("fails a timed-out wait with the host's name in the resource", async () => {
        const { resources } = await record(() => new ExistingHost("slowpoke", { ...ssh, address: "192.0.2.9", arch: "arm64", kvm: true }));
        const ready = byType(resources, "command:remote:Command")[0];
        expect(ready.name).to.equal("slowpoke-ready");
        expect(ready.customTimeouts.create).to.equal("20m");
    });
});
