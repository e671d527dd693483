// The component package from a Pulumi YAML program, under the real engine:
// a scratch project that installs the packed package with npm and adds it
// with `pulumi package add`, as the README tells a platform team, and declares a
// RunnerFleet of one existing actuated host plus an ExistingHost and a
// RunnerAgent composed by hand (a plain runner), passing the host's outputs
// to the agent as they are. preview, up, a second up that runs no command, a
// bad config refused with the same problems as from TypeScript, destroy.
// Needs the YAML language host and the providers the package's schema names
// (command, github, hcloud) on PATH, built from public source like the
// engine suite's; without them it says what is missing and skips.

import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { World } from "../host/world";
import { Figures, Host, TestHosts, aptRepos, hostSuitePossible, runSecrets, testhost } from "../host/harness";
import { RunnerFleet } from "../../components";
import { recordFailure } from "../harness";
import { PulumiCli, authorizeStackKey, engine, engineEnv, keySessions, stackKeyIn, testhostKey, timedFigure } from "./harness";
import { ROOT } from "../../scripts/docs";

/** The plugins the package's schema needs, by name and version, each from PATH. */
const PLUGINS: readonly [string, string][] = [["github", "6.15.0"], ["hcloud", "1.41.0"]];

function onPath(bin: string): string | undefined {
    const r = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" });
    return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

function missing(): string | undefined {
    if (!onPath("pulumi-language-yaml")) {
        return "no pulumi-language-yaml on PATH (pulumi/pulumi-yaml's cmd/pulumi-language-yaml, built from public source)";
    }
    const absent = PLUGINS.filter(([name]) => !onPath(`pulumi-resource-${name}`)).map(([name, v]) => `${name} ${v}`);
    return absent.length > 0 ? `no provider on PATH for ${absent.join(", ")}, which the package's schema names (pulumi package add loads their schemas)` : undefined;
}

const possible = hostSuitePossible() ?? missing();

describe("the component package from a Pulumi YAML program", function () {
    this.timeout(1_800_000);
    if (possible) {
        it(`cannot run here: ${possible}`, function () {
            this.skip();
        });
        return;
    }

    const figures = new Figures();
    const figure = (line: string) => figures.add(line);
    const secrets = runSecrets();
    const world = new World(secrets);
    const hosts = new TestHosts();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-yaml-"));
    const project = path.join(dir, "project");
    const cli = new PulumiCli(project);
    const pulumi = (args: string[], input?: string, okCodes = [0]) => cli.pulumi(args, input, okCodes);
    const passphrase = `fake-passphrase-${randomBytes(6).toString("hex")}`;
    let stack = { privateKey: "", publicKey: "", fingerprint: "" };
    let metal: Host;
    let plain: Host;
    const timed = <T>(label: string, fn: () => Promise<T>) => timedFigure(figure, label, fn);
    const sessions = (h: Host) => keySessions(hosts, h, stack.fingerprint);

    function endpoints(): Record<string, unknown> {
        return {
            actuatedInstaller: `${world.base}/actuated/install.sh`, runnerDownloads: `${world.base}/actions-runner`,
            githubUrl: world.base, githubApi: `${world.base}/api`, allowInsecureHttp: true,
        };
    }

    /** The fleet's config, as a YAML program writes it: the same shape as the stack config. */
    function fleetConfig(hostName = "metal"): Record<string, unknown> {
        return {
            github: { org: "example-org", runnerGroup: "native", manage: false },
            agent: { installDocker: false },
            mirror: { enabled: false },
            endpoints: endpoints(),
            hosts: [{ name: hostName, provider: "existing", address: metal.address, arch: "amd64", kvm: true, hostKey: testhostKey(testhost("root", "amd64")) }],
        };
    }

    /** The program: the fleet, and unless `fleetOnly`, the host and agent composed by hand. */
    function writeProgram(config: Record<string, unknown>, fleetOnly = false): void {
        const file = path.join(project, "Pulumi.yaml");
        const doc = YAML.parse(fs.readFileSync(file, "utf8"));
        doc.config = {
            sshPrivateKey: { type: "string", secret: true },
            githubRunnerToken: { type: "string", secret: true },
            actuatedLicense: { type: "string", secret: true },
            actuatedToken: { type: "string", secret: true },
        };
        doc.resources = {
            fleet: {
                type: "runner-fleet:index:RunnerFleet",
                properties: {
                    config,
                    secrets: { sshPrivateKey: "${sshPrivateKey}", actuatedLicense: "${actuatedLicense}", actuatedToken: "${actuatedToken}" },
                },
            },
            plain: {
                type: "runner-fleet:index:ExistingHost",
                properties: { address: plain.address, arch: "amd64", kvm: false, privateKey: "${sshPrivateKey}", hostKey: testhostKey(testhost("root", "amd64")) },
            },
            plainAgent: {
                type: "runner-fleet:index:RunnerAgent",
                properties: {
                    // A host component's outputs are a RunnerHost: passed on field by field, but for arch, stated as
                    // the host states it: pulumi-yaml's checker refuses an enum-typed output where an enum input is
                    // expected (pkg/pulumiyaml/analyser.go, isAssignable: the EnumType case checks the enum
                    // against its element type, string, and an enum is not a string there).
                    host: {
                        name: "${plain.name}", arch: "amd64", kvm: "${plain.kvm}", publicIp: "${plain.publicIp}",
                        connection: "${plain.connection}", ready: "${plain.ready}", hostId: "${plain.hostId}",
                    },
                    kind: "github-runner",
                    labels: ["runner-fleet-amd64", "yaml"],
                    org: "example-org",
                    runnerGroup: "native",
                    installDocker: false,
                    endpoints: endpoints(),
                    secrets: { githubRunnerToken: "${githubRunnerToken}" },
                },
            },
        };
        doc.outputs = { hosts: "${fleet.hosts}", runsOn: "${fleet.runsOn}", agentKind: "${plainAgent.kind}" };
        if (fleetOnly) {
            delete doc.resources.plain;
            delete doc.resources.plainAgent;
            delete doc.outputs.agentKind;
        }
        fs.writeFileSync(file, YAML.stringify(doc));
    }

    before(async function () {
        const e = engine();
        if (!e.bin) {
            throw new Error(`the Pulumi engine cannot be had here:\n${e.why}`);
        }
        testhost("down-all");
        testhost("setup");
        testhost("build", "amd64");
        testhost("net");
        world.aptRepos = aptRepos("amd64");
        await world.start();
        metal = hosts.boot("metal", 2, "amd64");
        plain = hosts.boot("plain", 1, "amd64");
        await Promise.all([metal, plain].map(h => hosts.waitForSsh(h)));
        stack = stackKeyIn(dir);
        for (const h of [metal, plain]) {
            await authorizeStackKey(hosts, h, stack.publicKey);
        }
        fs.mkdirSync(project, { recursive: true });
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), YAML.stringify({ name: "rf-yaml", runtime: "yaml" }));
        // The YAML language host is one the CLI counts as bundled, looked for beside it or on PATH, never installed:
        // this suite lets it come from PATH (the providers are installed from their files all the same).
        // The package in the project's node_modules, as the README has it: what pulumi runs of it beside the
        // engine (the operator steps, `node -e require("runner-fleet/operator/...")`, and the registration
        // watch, a dynamic resource whose provider loads @pulumi/pulumi from the program's folder,
        // pulumi/pulumi#5455) is found from the project's folder. Packed as built (npm run test:engine built it).
        const tarball = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" }).trim().split("\n").pop() as string;
        fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({
            name: "rf-yaml-project", private: true, dependencies: { "runner-fleet": `file:${path.join(dir, tarball)}` },
        }, null, 2));
        await timed("npm install of the packed package (its dependencies from the npm cache or registry)", async () => {
            execFileSync("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: project, stdio: "pipe" });
        });
        cli.env = engineEnv(e.bin, dir, passphrase, { PULUMI_IGNORE_AMBIENT_PLUGINS: "false" });
        await pulumi(["login", cli.env.PULUMI_BACKEND_URL as string]);
        await pulumi(["plugin", "install", "resource", "command", "1.2.1", "--file", path.join(e.bin, "pulumi-resource-command")]);
        for (const [name, version] of PLUGINS) {
            await pulumi(["plugin", "install", "resource", name, version, "--file", onPath(`pulumi-resource-${name}`) as string]);
        }
        await timed("pulumi package add ./node_modules/runner-fleet/plugin (schema inferred, YAML binding)", () => pulumi(["package", "add", "./node_modules/runner-fleet/plugin"]));
        await pulumi(["stack", "init", "e2e"]);
        for (const [key, value] of Object.entries({
            sshPrivateKey: stack.privateKey, githubRunnerToken: secrets.adminToken,
            actuatedLicense: secrets.actuatedLicense, actuatedToken: secrets.actuatedToken,
        })) {
            await pulumi(["config", "set", "--secret", key], value);
        }
    });

    after(async () => {
        hosts.downAll();
        await world.stop();
        fs.rmSync(dir, { recursive: true, force: true });
        figures.print("YAML engine figures");
    });

    it("records the package in Pulumi.yaml from the installed package's plugin folder", () => {
        const doc = YAML.parse(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8"));
        expect(Object.keys(doc.packages)).to.deep.equal(["runner-fleet"]);
        expect(path.resolve(project, doc.packages["runner-fleet"])).to.equal(path.join(project, "node_modules", "runner-fleet", "plugin"));
    });

    it("refuses a bad config with the same problems as from TypeScript, and registers nothing", async () => {
        // Wrong values the schema's types cannot see (YAML's own checker refuses a missing required field first).
        const bad = { ...fleetConfig("Bad_Name"), github: { org: "-example-org", runnerGroup: "native", manage: false } };
        writeProgram(bad, true);
        const r = await timed("pulumi preview, bad config", () => pulumi(["preview"], undefined, [1, 255]));
        const ts = await recordFailure(() => new RunnerFleet("fleet", { config: bad as never, secrets: { sshPrivateKey: "k", actuatedLicense: "l", actuatedToken: "t" } }));
        const problems = (text: string) => text.split("\n").map(l => l.trim()).filter(l => l.startsWith("- ")).map(l => l.replace(/\s+/g, " "));
        expect(problems(ts.error.message)).to.have.length(2);
        for (const p of problems(ts.error.message)) {
            expect(r.out.replace(/\s+/g, " "), p).to.contain(p);
        }
        expect(r.out).to.contain('RunnerFleet "fleet" has 2 problems; nothing was created');
        expect(r.out).to.not.contain(stack.privateKey.split("\n")[1]);
    });

    it("pulumi up installs the fleet's actuated agent and the hand-composed plain runner", async () => {
        writeProgram(fleetConfig());
        const preview = await timed("pulumi preview (first)", () => pulumi(["preview"]));
        expect(preview.out).to.contain("runner-fleet:index:RunnerFleet").and.contain("runner-fleet:index:RunnerAgent");
        await timed("pulumi up (first)", () => pulumi(["up", "--yes", "--skip-preview"]));
        expect((await hosts.sh(metal, "systemctl is-active actuated")).trim()).to.equal("active");
        expect((await hosts.sh(plain, "systemctl is-active runner-fleet-runner@1")).trim()).to.equal("active");
        expect([...world.runners.keys()].sort()).to.deep.equal(["plain-1"]);
        const out = JSON.parse((await pulumi(["stack", "output", "--json"])).out);
        expect(out.hosts.metal).to.include({ address: metal.address, agent: "actuated", arch: "amd64" });
        expect(out.agentKind).to.equal("github-runner");
        const state = (await pulumi(["stack", "export"])).out;
        expect(state.includes(stack.privateKey.split("\n")[1])).to.equal(false);
    });

    it("runs no command on either host on a second up, and previews no change", async () => {
        const before = await Promise.all([metal, plain].map(sessions));
        const r = await timed("pulumi preview --expect-no-changes", () => pulumi(["preview", "--expect-no-changes"], undefined, [0, 255]));
        expect(r.code, r.out.slice(-3000)).to.equal(0);
        await timed("pulumi up (second)", () => pulumi(["up", "--yes", "--skip-preview"]));
        const after = await Promise.all([metal, plain].map(sessions));
        figure(`second up: ${after[0] - before[0]} SSH sessions of the stack's key on metal, ${after[1] - before[1]} on plain`);
        expect([after[0] - before[0], after[1] - before[1]]).to.deep.equal([0, 0]);
    });

    it("pulumi destroy removes the agents and leaves no runner registered", async () => {
        expect(world.runners.size).to.equal(1);
        await timed("pulumi destroy", () => pulumi(["destroy", "--yes", "--skip-preview"]));
        expect(world.runners.size).to.equal(0);
        expect((await hosts.sh(metal, "systemctl is-active actuated || true")).trim()).to.not.equal("active");
    });
});
