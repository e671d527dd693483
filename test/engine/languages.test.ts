// The component package from Pulumi YAML and Go programs, under the real
// engine: for each language a scratch project that installs the packed
// package with npm and adds it with `pulumi package add`, as the README
// tells a platform team, and declares a RunnerFleet of one existing actuated
// host plus an ExistingHost and a RunnerAgent composed by hand (a plain
// runner), the host's outputs handed to the agent. preview, up, a second up
// that runs no command, destroy, and a bad config from each, refused with
// the same problems as from TypeScript. Needs the providers the package's
// schema names (command, hcloud) and each language's host on PATH,
// built from public source like the rest of the engine suite's; without
// them a language says what is missing and skips.

import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Host, hostSuitePossible, testhost } from "../host/harness";
import { RunnerFleet } from "../../components";
import { recordFailure } from "../harness";
import { PulumiCli, authorizeStackKey, engineEnv, engineSuite, keySessions, onPath, stackKeyIn, testhostKey } from "./harness";
import { README_FILE, ROOT } from "../../scripts/docs";

/** The provider the package's schema names besides command (in the engine's cache), by name and version, from PATH. */
const PLUGINS: readonly [string, string][] = [["hcloud", "1.41.0"]];
/** The Go program (a Go module of its own; the runnerfleet SDK is generated into it). */
const GO_PROGRAM = path.join(ROOT, "test", "engine", "go-program", "main.go");
/** The Go modules the generated SDK and the program import, at the versions the package's providers have. */
const GO_REQUIRES = ["github.com/pulumi/pulumi/sdk/v3@v3.259.0", "github.com/pulumi/pulumi-command/sdk@v1.2.1", "github.com/pulumi/pulumi-hcloud/sdk@v1.41.0"];

/** The README's YAML example, parsed: the program the YAML suite runs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function readmeYamlExample(): any {
    const block = /<!-- yaml-example:begin[^\n]*\n```yaml\n([\s\S]*?)```\n<!-- yaml-example:end -->/.exec(fs.readFileSync(README_FILE, "utf8"));
    if (!block) {
        throw new Error("README.md has no yaml-example block");
    }
    return YAML.parse(block[1]);
}

function missingPlugins(): string | undefined {
    const absent = PLUGINS.filter(([name]) => !onPath(`pulumi-resource-${name}`)).map(([name, v]) => `${name} ${v}`);
    return absent.length > 0 ? `no provider on PATH for ${absent.join(", ")}, which the package's schema names (pulumi package add loads their schemas)` : undefined;
}

const LANGUAGES = {
    yaml: () => onPath("pulumi-language-yaml") ? undefined : "no pulumi-language-yaml on PATH (pulumi/pulumi-yaml's cmd/pulumi-language-yaml, built from public source)",
    go: () => !onPath("go") ? "no go on PATH"
        : onPath("pulumi-language-go") ? undefined : "no pulumi-language-go on PATH (pulumi/pulumi's sdk/go/pulumi-language-go, built from public source)",
} as const;
type Language = keyof typeof LANGUAGES;

const possible = hostSuitePossible() ?? missingPlugins();

describe("the component package from Pulumi YAML and Go programs", function () {
    this.timeout(1_800_000);
    if (possible) {
        it(`cannot run here: ${possible}`, function () {
            this.skip();
        });
        return;
    }

    const suite = engineSuite("languages", "YAML and Go engine figures");
    const { figure, secrets, world, hosts, dir, passphrase, timed } = suite;
    let stack = { privateKey: "", publicKey: "", fingerprint: "" };
    let metal: Host;
    let plain: Host;
    let tarball = "";
    let engineBin = "";
    const sessions = (h: Host) => keySessions(hosts, h, stack.fingerprint);
    const hostKey = () => testhostKey(testhost("root", "amd64"));
    /** A line of the private key's body: what must show nowhere. */
    const keyLine = () => stack.privateKey.split("\n")[1];

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
            hosts: [{ name: hostName, provider: "existing", address: metal.address, arch: "amd64", kvm: true, hostKey: hostKey() }],
        };
    }

    before(async function () {
        engineBin = await suite.start();
        metal = hosts.boot("metal", 2, "amd64");
        plain = hosts.boot("plain", 1, "amd64");
        await Promise.all([metal, plain].map(h => hosts.waitForSsh(h)));
        stack = stackKeyIn(dir);
        for (const h of [metal, plain]) {
            await authorizeStackKey(hosts, h, stack.publicKey);
        }
        // Packed as built (npm run test:engine built it): what a platform team installs.
        tarball = path.join(dir, execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" }).trim().split("\n").pop() as string);
    });

    after(() => suite.stop());

    /**
     * A project of the language with the package installed and added, and a stack with the secrets: the
     * package sits in the project's node_modules, as the README has it, because what pulumi runs of it beside
     * the engine is found from the project's folder: the operator steps (`node -e
     * require("runner-fleet/operator/...")`) and the registration watch, a dynamic resource whose provider
     * loads @pulumi/pulumi from there (pulumi/pulumi#5455).
     */
    async function project(language: Language, prepare: (project: string) => void): Promise<PulumiCli> {
        const folder = path.join(dir, language);
        fs.mkdirSync(folder, { recursive: true });
        fs.writeFileSync(path.join(folder, "Pulumi.yaml"), YAML.stringify({ name: `rf-${language}`, runtime: language }));
        fs.writeFileSync(path.join(folder, "package.json"), JSON.stringify({
            name: `rf-${language}-project`, private: true, dependencies: { "runner-fleet": `file:${tarball}` },
        }, null, 2));
        prepare(folder);
        const cli = new PulumiCli(folder);
        // The YAML and Go language hosts are ones the CLI counts as bundled, looked for beside it or on PATH,
        // never installed: they come from PATH here (the providers are installed from their files all the same).
        cli.env = engineEnv(engineBin, path.join(dir, `${language}-home`), passphrase, { PULUMI_IGNORE_AMBIENT_PLUGINS: "false" });
        await timed(`${language}: npm install of the packed package`, async () => {
            execFileSync("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: folder, stdio: "pipe" });
        });
        await cli.pulumi(["login", cli.env.PULUMI_BACKEND_URL as string]);
        await cli.pulumi(["plugin", "install", "resource", "command", "1.2.1", "--file", path.join(engineBin, "pulumi-resource-command")]);
        for (const [name, version] of PLUGINS) {
            await cli.pulumi(["plugin", "install", "resource", name, version, "--file", onPath(`pulumi-resource-${name}`) as string]);
        }
        await timed(`${language}: pulumi package add ./node_modules/runner-fleet/plugin (schema inferred${language === "go" ? ", Go SDK generated" : ""})`,
            () => cli.pulumi(["package", "add", "./node_modules/runner-fleet/plugin"]));
        await cli.pulumi(["stack", "init", "e2e"]);
        for (const [key, value] of Object.entries({
            sshPrivateKey: stack.privateKey, githubRunnerToken: secrets.adminToken,
            actuatedLicense: secrets.actuatedLicense, actuatedToken: secrets.actuatedToken,
        })) {
            await cli.pulumi(["config", "set", "--secret", key], value);
        }
        return cli;
    }

    /** The bad config both languages write: wrong values the schema's types cannot see. */
    const badConfig = () => ({ ...fleetConfig("Bad_Name"), github: { org: "-example-org", runnerGroup: "native", manage: false } });

    /**
     * A refused up: every problem TypeScript lists for the same config, the same heading, no line of the key,
     * and nothing of the fleet in the state (the fleet, or a resource named after it).
     */
    async function expectRefused(language: Language, cli: PulumiCli): Promise<void> {
        const r = await timed(`${language}: pulumi up, bad config`, () => cli.pulumi(["up", "--yes", "--skip-preview"], undefined, [1, 255]));
        const ts = await recordFailure(() => new RunnerFleet("fleet", { config: badConfig() as never, secrets: { sshPrivateKey: "k", actuatedLicense: "l", actuatedToken: "t" } }));
        const problems = (text: string) => text.split("\n").map(l => l.trim()).filter(l => l.startsWith("- ")).map(l => l.replace(/\s+/g, " "));
        expect(problems(ts.error.message)).to.have.length(2);
        for (const p of problems(ts.error.message)) {
            expect(r.out.replace(/\s+/g, " "), p).to.contain(p);
        }
        expect(r.out).to.contain('RunnerFleet "fleet" has 2 problems; nothing was created');
        expect(r.out).to.not.contain(keyLine());
        const state = JSON.parse((await cli.pulumi(["stack", "export"])).stdout) as { deployment: { resources?: { type: string; urn: string }[] } };
        const ofFleet = (state.deployment.resources ?? []).filter(x => x.type === "runner-fleet:index:RunnerFleet" || /^fleet(-|$)/.test(x.urn.split("::").pop() ?? ""));
        expect(ofFleet.map(x => x.urn)).to.deep.equal([]);
    }

    /** up, a second up that runs nothing, destroy: the same for every language. `handHost`: the hand-composed host's name. */
    function lifecycle(language: Language, cli: () => PulumiCli, handHost: string): void {
        const pulumi = (args: string[], okCodes = [0]) => cli().pulumi(args, undefined, okCodes);

        it("pulumi up installs the fleet's actuated agent and the hand-composed plain runner", async () => {
            const preview = await timed(`${language}: pulumi preview (first)`, () => pulumi(["preview"]));
            expect(preview.out).to.contain("runner-fleet:index:RunnerFleet").and.contain("runner-fleet:index:RunnerAgent");
            await timed(`${language}: pulumi up (first)`, () => pulumi(["up", "--yes", "--skip-preview"]));
            expect((await hosts.sh(metal, "systemctl is-active actuated")).trim()).to.equal("active");
            expect((await hosts.sh(plain, "systemctl is-active runner-fleet-runner@1")).trim()).to.equal("active");
            expect([...world.runners.keys()].sort()).to.deep.equal([`${handHost}-1`]);
            const out = JSON.parse((await pulumi(["stack", "output", "--json"])).out);
            expect(out.hosts.metal).to.include({ address: metal.address, agent: "actuated", arch: "amd64" });
            expect(out.agentKind).to.equal("github-runner");
            expect((await pulumi(["stack", "export"])).out.includes(keyLine())).to.equal(false);
            expect(cli().output.join("\n").includes(keyLine())).to.equal(false);
        });

        it("runs no command on either host on a second up, and previews no change", async () => {
            const before = await Promise.all([metal, plain].map(sessions));
            const r = await timed(`${language}: pulumi preview --expect-no-changes`, () => pulumi(["preview", "--expect-no-changes"], [0, 255]));
            expect(r.code, r.out.slice(-3000)).to.equal(0);
            await timed(`${language}: pulumi up (second)`, () => pulumi(["up", "--yes", "--skip-preview"]));
            const after = await Promise.all([metal, plain].map(sessions));
            figure(`${language}: second up: ${after[0] - before[0]} SSH sessions of the stack's key on metal, ${after[1] - before[1]} on plain`);
            expect([after[0] - before[0], after[1] - before[1]]).to.deep.equal([0, 0]);
        });

        it("pulumi destroy removes the agents and leaves no runner registered", async () => {
            expect(world.runners.size).to.equal(1);
            await timed(`${language}: pulumi destroy`, () => pulumi(["destroy", "--yes", "--skip-preview"]));
            expect(world.runners.size).to.equal(0);
            expect((await hosts.sh(metal, "systemctl is-active actuated || true")).trim()).to.not.equal("active");
            expect((await hosts.sh(plain, "systemctl is-active runner-fleet-runner@1 || true")).trim()).to.not.equal("active");
        });
    }

    describe("from YAML", function () {
        const why = LANGUAGES.yaml();
        if (why) {
            it(`cannot run here: ${why}`, function () {
                this.skip();
            });
            return;
        }
        let cli: PulumiCli;

        /**
         * The README's YAML example (its fleet, and unless `fleetOnly`, its host and agent composed by hand)
         * with the suite's hosts and stand-ins in place of the example's addresses and of GitHub and the
         * download sites: what a platform team writes, run. The host's arch is stated there: pulumi-yaml's
         * checker refuses an enum-typed output where an enum input is expected (pkg/pulumiyaml/analyser.go,
         * isAssignable: the EnumType case checks the enum against its element type, string).
         */
        function writeProgram(config: Record<string, unknown>, fleetOnly = false): void {
            const file = path.join(cli.cwd, "Pulumi.yaml");
            const doc = readmeYamlExample();
            doc.name = YAML.parse(fs.readFileSync(file, "utf8")).name;
            doc.resources.fleet.properties.config = config;
            Object.assign(doc.resources.x86.properties, { address: plain.address, hostKey: hostKey() });
            const agent = doc.resources.x86Agent.properties;
            Object.assign(agent, { org: "example-org", runnerGroup: "native", installDocker: false, endpoints: endpoints(), labels: [...agent.labels, "yaml"] });
            doc.outputs.agentKind = "${x86Agent.kind}";
            if (fleetOnly) {
                delete doc.resources.x86;
                delete doc.resources.x86Agent;
                delete doc.outputs.agentKind;
            }
            fs.writeFileSync(file, YAML.stringify(doc));
        }

        before(async () => {
            cli = await project("yaml", () => undefined);
        });

        it("records the package in Pulumi.yaml from the installed package's plugin folder, as the README's example has it", () => {
            const doc = YAML.parse(fs.readFileSync(path.join(cli.cwd, "Pulumi.yaml"), "utf8"));
            expect(doc.packages).to.deep.equal(readmeYamlExample().packages);
            expect(path.resolve(cli.cwd, doc.packages["runner-fleet"])).to.equal(path.join(cli.cwd, "node_modules", "runner-fleet", "plugin"));
        });

        it("refuses a bad config with the same problems as from TypeScript, and registers nothing", async () => {
            // YAML's own checker refuses a missing required field before the package sees it.
            writeProgram(badConfig(), true);
            await expectRefused("yaml", cli);
            writeProgram(fleetConfig());
        });

        lifecycle("yaml", () => cli, "x86");
    });

    describe("from Go", function () {
        const why = LANGUAGES.go();
        if (why) {
            it(`cannot run here: ${why}`, function () {
                this.skip();
            });
            return;
        }
        let cli: PulumiCli;

        before(async () => {
            cli = await project("go", folder => {
                fs.copyFileSync(GO_PROGRAM, path.join(folder, "main.go"));
                // The versions the package's providers have; the generated SDK's own go.mod names none of them.
                fs.writeFileSync(path.join(folder, "go.mod"), "module rf-go\n\ngo 1.26\n");
                execFileSync("go", ["mod", "edit", ...GO_REQUIRES.flatMap(m => ["-require", m]),
                    "-require", "example.com/pulumi-runner-fleet/sdk/go@v0.0.0-00010101000000-000000000000"], { cwd: folder });
            });
            for (const [key, value] of Object.entries({ base: world.base, hostKey: hostKey(), metalAddress: metal.address, plainAddress: plain.address })) {
                await cli.pulumi(["config", "set", key, value]);
            }
        });

        it("generates the runnerfleet Go SDK into the project and builds the program with it", async () => {
            const mod = fs.readFileSync(path.join(cli.cwd, "go.mod"), "utf8");
            expect(mod).to.match(/replace example\.com\/pulumi-runner-fleet\/sdk\/go => \.\/sdks\/runner-fleet/);
            expect(fs.existsSync(path.join(cli.cwd, "sdks", "runner-fleet", "runnerfleet", "runnerFleet.go"))).to.equal(true);
            await timed("go: go build of the program and the generated SDK", async () => {
                execFileSync("go", ["build", "-o", path.join(dir, "go-program"), "."], { cwd: cli.cwd, stdio: "pipe", env: cli.env });
            });
        });

        it("refuses a bad config with the same problems as from TypeScript, and registers nothing", async () => {
            // On stdin: a value starting with - would be read as a flag.
            await cli.pulumi(["config", "set", "fleetOrg"], "-example-org");
            await cli.pulumi(["config", "set", "metalName", "Bad_Name"]);
            await expectRefused("go", cli);
            await cli.pulumi(["config", "rm", "fleetOrg"]);
            await cli.pulumi(["config", "rm", "metalName"]);
        });

        lifecycle("go", () => cli, "plain");
    });
});
