// A Hetzner Cloud host under the real engine and the real hcloud provider:
// the repository's project files through the Pulumi CLI, the command
// provider and pulumi-resource-hcloud (pulumi-hcloud 1.41.0, a bridge of
// terraform-provider-hcloud v1.66.1 and hcloud-go), its `endpoint` pointed at
// a stand-in of Hetzner's API (test/hcloud-stand-in.ts). Creating a server
// there boots a real test host (the host suite's), with the request's SSH
// keys as root's, after a delay during which nothing answers at its address,
// so the scripts copy and the ready step meet a server that is still booting.
// A fleet of that host (plain runner) and an existing actuated host: preview,
// up, a preview that must show no change, a second up that runs no command
// and writes nothing to Hetzner, adminCidrs changed (the firewall updated in
// place, the server kept), destroy; and every request the provider sent,
// counted by endpoint. The firewall is enforced on the machine (iptables in
// its network namespace) as Hetzner enforces it: SSH from adminCidrs only.

import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Host, hostSuitePossible, testhost } from "../host/harness";
import { HcloudStandIn, StandInRule, StandInServer } from "../hcloud-stand-in";
import { PulumiCli, authorizeStackKey, copyProjectFiles, engineEnv, engineSuite, keySessions, onPath, stackKeyIn, testhostKey } from "./harness";

/** The version of @pulumi/hcloud in package.json: the plugin the program asks for. */
const HCLOUD_VERSION = "1.41.0";

/**
 * The hcloud provider where one is on PATH. The Go module proxy does not
 * serve the terraform-provider-hcloud it bridges (v1.66.1): it is built from
 * public source (pulumi/pulumi-hcloud's provider/ with that tag of
 * hetznercloud/terraform-provider-hcloud), and without it these tests say why
 * they skip.
 */
function hcloudProvider(): { bin?: string; why?: string } {
    const bin = onPath("pulumi-resource-hcloud");
    if (!bin) {
        return { why: `no pulumi-resource-hcloud on PATH (hcloud provider ${HCLOUD_VERSION}, built from pulumi/pulumi-hcloud with terraform-provider-hcloud v1.66.1: the Go module proxy does not serve that version)` };
    }
    const version = spawnSync(bin, ["-version"], { encoding: "utf8" }).stdout.trim();
    return version === HCLOUD_VERSION ? { bin } : { why: `${bin} is version ${version || "unknown"}, and the program's @pulumi/hcloud asks for ${HCLOUD_VERSION}` };
}

const possible = hostSuitePossible();
const provider = hcloudProvider();

describe("a Hetzner Cloud host under the real engine and the real hcloud provider", function () {
    this.timeout(1_800_000);
    if (possible || !provider.bin) {
        it(`cannot run here: ${possible ?? provider.why}`, function () {
            this.skip();
        });
        return;
    }

    const suite = engineSuite("hcloud", "hcloud engine figures");
    const { figure, secrets, world, hosts, dir, passphrase, timed } = suite;
    const project = path.join(dir, "project");
    const cli = new PulumiCli(project);
    const pulumi = (args: string[], input?: string, okCodes = [0]) => cli.pulumi(args, input, okCodes);
    // Hetzner's API tokens are 64 characters; the provider refuses any other length.
    const hcloudToken = randomBytes(32).toString("hex");
    const CLOUD_INDEX = 3;
    const BRIDGE = "10.213.0.1/32";
    let stack = { privateKey: "", publicKey: "", fingerprint: "" };
    let metal: Host;
    let cloud: Host | undefined;
    const boots: { name: string; createdAt: number; bootAt: number }[] = [];
    const stops: string[] = [];
    /** What the stand-in had enforced on a server's machine, in order. */
    const filters: { name: string; inbound: StandInRule[] | null }[] = [];
    const createdAt = new Map<number, number>();

    const standIn = new HcloudStandIn({
        token: hcloudToken,
        address: () => `10.213.0.${10 + CLOUD_INDEX}`,
        // Booted as cloud-init would leave it: the keys of the request's ssh_keys are root's (and the suite's, to look inside).
        boot: async (server: StandInServer) => {
            const bootAt = Date.now();
            const keys = path.join(dir, `keys-${server.id}`);
            fs.writeFileSync(keys, [...server.publicKeys, fs.readFileSync(`${hosts.keyFile}.pub`, "utf8").trim()].join("\n") + "\n");
            const address = testhost("up", server.name, String(CLOUD_INDEX), "amd64", keys).split("\n").pop() as string;
            cloud = { name: server.name, address, arch: "amd64" };
            boots.push({ name: server.name, createdAt: createdAt.get(server.id) ?? bootAt, bootAt });
        },
        stop: async (server: StandInServer) => {
            stops.push(server.name);
            testhost("down", server.name);
        },
        onCreate: (server: StandInServer) => {
            createdAt.set(server.id, Date.now());
        },
        // The firewalls applied to the server, enforced in its machine's network namespace as Hetzner enforces
        // them in front of it: inbound traffic no rule allows is dropped, replies to its own connections get in.
        filter: async (server: StandInServer, inbound: StandInRule[] | null) => {
            const rules = ["-F INPUT", "-P INPUT ACCEPT"];
            if (inbound) {
                rules.push("-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
                for (const r of inbound) {
                    const port = r.port && r.port !== "any" ? ` --dport ${r.port.replace("-", ":")}` : "";
                    const proto = ["tcp", "udp"].includes(r.protocol) ? ` -p ${r.protocol}${port}` : ` -p ${r.protocol}`;
                    // The test hosts have IPv4 only.
                    for (const src of r.source_ips.filter(ip => !ip.includes(":"))) {
                        rules.push(`-A INPUT -s ${src}${proto} -j ACCEPT`);
                    }
                }
                rules.push("-P INPUT DROP");
            }
            for (const rule of rules) {
                execFileSync("ip", ["netns", "exec", `rf-${server.name}`, "iptables", ...rule.split(" ")]);
            }
            filters.push({ name: server.name, inbound });
        },
        actionMs: 3000,
        bootDelayMs: 10_000,
    });

    /** Requests that change something in Hetzner, since `from`. */
    const writes = (from: number) => standIn.requests.slice(from).filter(r => r.method !== "GET");

    function writeConfig(adminCidrs: string[]): void {
        const file = path.join(project, "Pulumi.e2e.yaml");
        const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
        doc.config = {
            ...(doc.config ?? {}),
            "hcloud:endpoint": standIn.url,
            "runner-fleet:github": { org: "example-org", runnerGroup: "native", manage: false },
            "runner-fleet:agent": { installDocker: false },
            "runner-fleet:mirror": { enabled: false },
            "runner-fleet:endpoints": {
                actuatedInstaller: `${world.base}/actuated/install.sh`, runnerDownloads: `${world.base}/actions-runner`,
                githubUrl: world.base, githubApi: `${world.base}/api`, allowInsecureHttp: true,
            },
            "runner-fleet:sshPublicKey": stack.publicKey,
            "runner-fleet:adminCidrs": adminCidrs,
            "runner-fleet:hosts": [
                { name: "cloud", provider: "hetzner-cloud", plan: "ccx13", location: "fsn1", agent: "github-runner" },
                { name: "metal", provider: "existing", address: metal.address, arch: "amd64", kvm: true, hostKey: testhostKey(testhost("root", "amd64")) },
            ],
        };
        fs.writeFileSync(file, YAML.stringify(doc));
    }

    /** Whether a TCP connection from one test host to another's SSH port gets through (3 s). */
    async function reaches(from: Host, to: Host): Promise<boolean> {
        const out = await hosts.sh(from, `timeout 3 bash -c '</dev/tcp/${to.address}/22' 2>/dev/null && echo open || echo closed`);
        return out.trim() === "open";
    }

    /** SSH sessions the stack's key opened on a host. */
    const sessions = (h: Host | undefined) => h ? keySessions(hosts, h, stack.fingerprint) : Promise.resolve(0);


    before(async function () {
        const bin = await suite.start();
        await standIn.start();
        figure(`hcloud provider: ${provider.bin} (${HCLOUD_VERSION}); Hetzner's API: the stand-in at ${standIn.url}`);
        metal = hosts.boot("metal", 2, "amd64");
        await hosts.waitForSsh(metal);
        stack = stackKeyIn(dir);
        await authorizeStackKey(hosts, metal, stack.publicKey);
        copyProjectFiles(project);
        cli.env = engineEnv(bin, dir, passphrase);
        await pulumi(["login", cli.env.PULUMI_BACKEND_URL as string]);
        await pulumi(["plugin", "install", "resource", "command", "1.2.1", "--file", path.join(bin, "pulumi-resource-command")]);
        await pulumi(["plugin", "install", "resource", "hcloud", HCLOUD_VERSION, "--file", provider.bin as string]);
        await pulumi(["stack", "init", "e2e"]);
        // Where pulumi (and this test) reach the test hosts from: the bridge's own address, and nothing else.
        writeConfig([BRIDGE]);
        for (const [key, value] of Object.entries({
            "runner-fleet:sshPrivateKey": stack.privateKey, "runner-fleet:githubRunnerToken": secrets.adminToken,
            "runner-fleet:actuatedLicense": secrets.actuatedLicense, "runner-fleet:actuatedToken": secrets.actuatedToken,
            "hcloud:token": hcloudToken,
        })) {
            await pulumi(["config", "set", "--secret", key], value);
        }
    });

    after(async () => {
        await standIn.stop();
        await suite.stop();
    });

    it("previews the server with its key and firewall, and sends Hetzner nothing that changes anything", async () => {
        const r = await timed("pulumi preview (first)", () => pulumi(["preview", "--json"]));
        const created = (JSON.parse(r.stdout).steps ?? []).filter((s: { op: string }) => s.op === "create").map((s: { urn: string }) => s.urn.split("::").pop());
        expect(created).to.include.members(["fleet-cloud-ssh-key", "fleet-cloud-firewall", "fleet-cloud-server", "fleet-cloud-ready", "fleet-cloud-agent-install"]);
        expect(writes(0)).to.deep.equal([]);
    });

    it("pulumi up creates the key, firewall and server, the ready step waits out the boot, and the runner registers", async () => {
        await timed("pulumi up (first)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const [server] = standIn.servers();
        expect(standIn.servers().map(s => [s.name, s.serverType, s.location, s.image])).to.deep.equal([["cloud", "ccx13", "fsn1", "ubuntu-22.04"]]);
        // The stack's key reached the server through the SshKey the server named (type and key; the comment aside).
        const keyOf = (line: string) => line.split(" ").slice(0, 2).join(" ");
        expect(server.publicKeys.map(keyOf)).to.deep.equal([keyOf(stack.publicKey)]);
        const [firewall] = standIn.firewalls();
        expect(server.firewallIds).to.deep.equal([firewall.id]);
        expect(firewall.name).to.equal("runner-fleet-cloud");
        expect(standIn.sshKeys().map(k => k.name)).to.deep.equal(["runner-fleet-cloud"]);
        expect(boots.map(b => b.name)).to.deep.equal(["cloud"]);
        expect(cloud).to.not.equal(undefined);
        // The first session of the stack's key on the new server: what the ready step waited for.
        const first = Number((await hosts.sh(cloud as Host, `journalctl -u ssh --no-pager -o short-unix | grep 'Accepted publickey for root .* ${stack.fingerprint}' | head -n 1 | cut -d' ' -f1`)).trim()) * 1000;
        figure(`boot to ready: server created -> first SSH session of the stack ${((first - boots[0].createdAt) / 1000).toFixed(1)}s (of it, nothing answered for the stand-in's 10 s boot delay, then the test host booted in ${((first - boots[0].bootAt) / 1000).toFixed(1)}s)`);
        expect(first).to.be.greaterThan(boots[0].bootAt);
        expect([...world.runners.keys()].sort()).to.deep.equal(["cloud-1"]);
        // The firewall holds: SSH from the bridge only; the other test host's connection is dropped.
        expect(filters.map(f => f.name)).to.include("cloud");
        expect(await reaches(metal, cloud as Host)).to.equal(false);
        expect((await hosts.sh(cloud as Host, "systemctl is-active runner-fleet-runner@1")).trim()).to.equal("active");
        expect((await hosts.sh(metal, "systemctl is-active actuated")).trim()).to.equal("active");
    });

    it("previews no change, also after reading the key, firewall and server back from Hetzner (a perpetual diff shows there)", async () => {
        const r = await timed("pulumi preview --expect-no-changes", () => pulumi(["preview", "--expect-no-changes", "--diff"], undefined, [0, 255]));
        expect(r.code, r.out.slice(-4000)).to.equal(0);
        const from = standIn.requests.length;
        const refreshed = await timed("pulumi preview --refresh --expect-no-changes", () => pulumi(["preview", "--refresh", "--expect-no-changes", "--diff"], undefined, [0, 255]));
        expect(refreshed.code, refreshed.out.slice(-4000)).to.equal(0);
        const reads = standIn.requests.slice(from).map(q => `${q.method} ${q.route}`);
        figure(`preview --refresh: Hetzner requests ${reads.join(", ")}`);
        expect(reads).to.include.members(["GET /servers/{id}", "GET /firewalls/{id}", "GET /ssh_keys/{id}"]);
        expect(writes(from)).to.deep.equal([]);
    });

    it("runs no command on either host and changes nothing in Hetzner on a second up", async () => {
        const from = standIn.requests.length;
        const before = [await sessions(cloud), await sessions(metal)];
        await timed("pulumi up (second, nothing changed)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const after = [await sessions(cloud), await sessions(metal)];
        figure(`second up: host commands cloud ${after[0] - before[0]}, metal ${after[1] - before[1]}; Hetzner requests ${standIn.requests.length - from}, of which changes ${writes(from).length}`);
        expect([after[0] - before[0], after[1] - before[1]]).to.deep.equal([0, 0]);
        expect(writes(from)).to.deep.equal([]);
        // The Hetzner token is in the state only as ciphertext, and nowhere in what the CLI printed.
        const state = (await pulumi(["stack", "export"])).stdout;
        expect(state.includes(hcloudToken)).to.equal(false);
        expect(cli.output.join("\n").includes(hcloudToken)).to.equal(false);
    });

    it("a change of adminCidrs updates the firewall's rules in place: the server, its key and every host step stay", async () => {
        const serverId = standIn.servers()[0].id;
        writeConfig([BRIDGE, `${metal.address}/32`]);
        const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout);
        const changed = (preview.steps ?? []).filter((s: { op: string }) => s.op !== "same").map((s: { op: string; urn: string }) => `${s.op} ${s.urn.split("::").pop()}`);
        expect(changed).to.deep.equal(["update fleet-cloud-firewall"]);
        const from = standIn.requests.length;
        const before = [await sessions(cloud), await sessions(metal)];
        await timed("pulumi up (adminCidrs changed)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const after = [await sessions(cloud), await sessions(metal)];
        expect(writes(from).map(r => `${r.method} ${r.route}`)).to.deep.equal(["POST /firewalls/{id}/actions/set_rules"]);
        expect(standIn.servers().map(s => s.id)).to.deep.equal([serverId]);
        // source_ips is a set to the provider (terraform-provider-hcloud's firewall schema): it sends them in its own
        // order, and compares them as a set, so the order is no diff.
        const rules = standIn.firewalls()[0].rules as { source_ips: string[] }[];
        expect(rules.map(r => ({ ...r, source_ips: [...r.source_ips].sort() }))).to.deep.equal([{
            direction: "in", protocol: "tcp", port: "22", source_ips: [BRIDGE, `${metal.address}/32`].sort(), destination_ips: [], description: "SSH from admin networks",
        }]);
        // Enforced once its apply_firewall action finished (the provider waited for it): the other host gets in now.
        expect(await reaches(metal, cloud as Host)).to.equal(true);
        expect([after[0] - before[0], after[1] - before[1]]).to.deep.equal([0, 0]);
    });

    it("pulumi destroy leaves no server, key or firewall in Hetzner and no runner in the organization; every request counted", async () => {
        await timed("pulumi destroy", () => pulumi(["destroy", "--yes", "--skip-preview"]));
        expect([standIn.servers(), standIn.sshKeys(), standIn.firewalls()]).to.deep.equal([[], [], []]);
        expect(stops).to.deep.equal(["cloud"]);
        expect(world.runners.size).to.equal(0);
        const counts = Object.entries(standIn.counts()).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ");
        figure(`Hetzner API requests of the run (${standIn.requests.length}): ${counts}`);
        expect(standIn.unserved).to.deep.equal([]);
    });
});
