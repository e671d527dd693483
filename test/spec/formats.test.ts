// Every free-form setting has a format (issue 20): each refused value is
// reported with its field and fix, and the stack registers nothing; a
// private key pasted for a public one is never shown; no two hosts share a
// machine; plain http needs an explicit switch, which the plan marks.

import { expect } from "chai";
import { spawnSync } from "child_process";
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { checkFleet } from "../../components/fleet/check";
import { ExistingHost } from "../../components/hosts/existing";
import { RunnerAgent, agentProblems } from "../../components/on-host/agent";
import { parseFleetConfig } from "../../components/spec/parse";
import { FleetConfigError } from "../../components/spec/problems";
import { fleetProgram } from "../../components/fleet/program";
import { RegistryMirror, mirrorProblems } from "../../components/on-host/registry-mirror";
import { fleetWarnings } from "../../components/spec/rules";
import { FleetSpec, isTextSetting } from "../../components/spec/settings";
import { FAKE, PROJECT, REPO_ROOT, projectDir, record, recordFailure, stackConfig, PLAN_CLI } from "../harness";

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGcPPr8eruvlD1Y23/XOmHCQJTM6XZmUsuHU6ZfQ4J10 test";
const RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDCWdZPY2BhuIF+PdnClOX3Kh0VjY281ZU+dKJD5wDcNpOHSkN0r2Z6seYCKNrKeC2co8IO2SqivoZ9l5X/qeop76aCQBIs6Lt2FXW2qS/ODO4jdKjBKtODqwBD/QqSNtx+g46YKxs0EtxWK1QCTlPy+861SJkFsuuALWHRIcfyjqnYskZfRxEQcWWCjLzPpV9cF48KrLdUYXGDpUxnH//s9llrMouT1rHS+uhLpZE6Qi+jwCSwtWPGqK0sb5Oq3K1GJXe9/aq8h6nc/Tx6SJDAONuIkK9OB9YN5seySVEgHFEAai+ZuXkspM8P1OMGHl/mV94blUiqaudy/nIjU7ez test";
const ECDSA = [
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLYIL/M+q1I3xKSqbOt9oVjyuS0+9S6Ol7WpUkj0X1FKaXxA73kOibXBv6AQY3QcE/NCUXDWxOKW/KQcGdp3SBc= test",
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBO7lhusyxFMLJHTKZteFBVLkiXO8kPf7CEybu6KbUcoO7+UzvEWCvDdt8/jVWTJ5n0Ftz+M6CbKqb7vTck0IAePuro6TYNC3pbJ3xVQ+OLhv98YzoRA4FteullM83SYbuA==",
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAG0gLbQQ/c8qp+f8G4qYZ4wicBZEOuGGNF5I5Sb11UAzyMaucrVB7Bj+z2qiTJ1ZfLxPI+CulUaSt1siQXTHCshgQCA+jxhXAw4PjSba40eIaYlo0tKSyDy/a5yeeS0O/eGv9T4SKQjHp68OUlK0uRoOiIk9dWJrizQDOeF5J3q6CbJKg== a comment with spaces",
];

/** A key in the SSH wire format: the type as a length-prefixed string, then `rest`. */
function wireKey(type: string, rest: Buffer = Buffer.alloc(32, 7)): string {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(Buffer.byteLength(type));
    return Buffer.concat([len, Buffer.from(type), rest]).toString("base64");
}

/** A private key made for this run (none is committed), and a line of its material to search every output for. */
const PRIVATE_KEY = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const PRIVATE_BODY = PRIVATE_KEY.split("\n")[1];

const UUID = "6d2f1c7e-9b1a-4c3d-8e2f-0a1b2c3d4e5f";
const HOSTS = [
    { name: "arm-robot-1", provider: "existing", plan: "rx170", address: "203.0.113.10" },
    { name: "x86-cloud-1", provider: "hetzner-cloud", plan: "ccx33", location: "fsn1", agent: "github-runner" },
    { name: "arm-metal-1", provider: "equinix-metal", plan: "c3.large.arm64", metro: "da" },
];
const SECRETS = {
    sshPrivateKey: FAKE.sshPrivateKey, actuatedLicense: FAKE.actuatedLicense, actuatedToken: FAKE.actuatedToken,
    githubRunnerToken: FAKE.githubRunnerToken, dockerHubToken: FAKE.dockerHubToken, imageRegistryToken: "fake-image-registry-push-token",
};
const SECRET_KEYS = Object.keys(SECRETS).map(k => `${PROJECT}:${k}`);

/** The settings of a valid fleet with every section, as the stack file would hold them. */
function base(): Record<string, unknown> {
    return {
        github: { org: "example-org" }, adminCidrs: ["198.51.100.0/24"], sshPublicKey: ED25519, equinixProjectId: UUID,
        mirror: { dockerHubUsername: "examplebot" }, hosts: structuredClone(HOSTS), workflow: { image: "docker.io/example-org/app", registryUsername: "example-pusher" },
    };
}

/** Sets `value` at a dotted path (`hosts.0.address`), creating sections on the way. */
function withValue(settings: Record<string, unknown>, at: string, value: unknown): Record<string, unknown> {
    const keys = at.split(".");
    let cur = settings as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) {
        cur[k] ??= {};
        cur = cur[k] as Record<string, unknown>;
    }
    cur[keys[keys.length - 1]] = value;
    return settings;
}

/** `hosts.0.address` as a problem's path: `hosts[0].address`. */
function problemPath(at: string): string {
    return at.replace(/\.(\d+)/g, "[$1]");
}

/** Settings with `value` at `at`, plus what the case needs around it. */
function settingsWith(at: string, value: unknown, more: Record<string, unknown> = {}): Record<string, unknown> {
    const s = base();
    for (const [k, v] of Object.entries(more)) {
        withValue(s, k, v);
    }
    return withValue(s, at, value);
}

/** The fleet's problems for settings (field and fleet checks): what RunnerFleet throws. */
function problemsOf(settings: Record<string, unknown>) {
    return checkFleet(settings as never, new Set(Object.keys(SECRETS))).problems;
}

/** Runs the stack program on settings that must be refused: the error, after checking nothing was registered and no secret shows. */
async function refused(settings: Record<string, unknown>): Promise<FleetConfigError> {
    const { error, resources } = await recordFailure(() => fleetProgram(), { config: stackConfig({ ...settings, ...SECRETS }), secretKeys: SECRET_KEYS });
    expect(error.name, error.message).to.equal("FleetConfigError");
    expect(resources, "nothing is registered").to.have.length(0);
    for (const v of Object.values(FAKE)) {
        expect(error.message, "no secret value in the error").to.not.contain(v);
    }
    for (const p of (error as FleetConfigError).problems) {
        expect(p.message, "a value is shown escaped, on one line").to.not.match(/[\u0000-\u001f\u007f-\u009f]/);
    }
    return error as FleetConfigError;
}

interface FormatCase {
    /** Where the value goes, dotted (`hosts.0.address`). */
    readonly at: string;
    readonly accepted: readonly unknown[];
    readonly refused: readonly unknown[];
    /** Other settings the case needs (dotted path to value). */
    readonly more?: Record<string, unknown>;
}

const CASES: readonly FormatCase[] = [
    {
        at: "hosts.0.address",
        accepted: ["203.0.113.10", "10.0.0.7", "2001:db8::10", "fd00::1", "runner-1.example.com", "RUNNER1.Example.com", "localhost"],
        refused: ["ssh://203.0.113.10", "http://runner.example.com", "root@203.0.113.10", "203.0.113.10:22", "[2001:db8::10]",
            "-oProxyCommand=sh", "two words", "203.0.113.10 ", "256.1.2.3", "203.0.113.010", "203.0.113", "under_score.example.com",
            "-leading.example.com", "trailing-.example.com", `${"a".repeat(64)}.example.com`, `${"abcdefghi.".repeat(26)}com`,
            "fe80::1%eth0", "2001:db8::zz", "runner\n.example.com", ""],
    },
    {
        at: "hosts.0.hostKey",
        accepted: [ED25519, RSA, ...ECDSA, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyHostKeyHostKeyHostKeyHostKeyHostKey"],
        refused: ["not a key", `203.0.113.10 ${ED25519}`, `ssh-rsa ${ED25519.split(" ")[1]}`, "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "ssh-ed25519 !!!",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", `${ED25519}\n${RSA}`, PRIVATE_KEY],
    },
    {
        at: "sshPublicKey",
        accepted: [ED25519, RSA, ...ECDSA, `sk-ssh-ed25519@openssh.com ${wireKey("sk-ssh-ed25519@openssh.com")} yubikey`,
            `sk-ecdsa-sha2-nistp256@openssh.com ${wireKey("sk-ecdsa-sha2-nistp256@openssh.com")}`],
        refused: ["ssh-ed25519", "ssh-ed25519 AAAA AAAA", ` ${ED25519}`, `ssh-ed25519\t${wireKey("ssh-rsa")}`, `ecdsa-sha2-nistp384 ${ECDSA[0].split(" ")[1]}`,
            `from="10.0.0.1" ${ED25519}`, "-----BEGIN SSH2 PUBLIC KEY-----", `${ED25519}\n`, PRIVATE_KEY],
    },
    {
        at: "mirror.dockerHubUsername",
        accepted: ["examplebot", "example-bot", "bot_2024", "abcd", "a".repeat(30)],
        refused: ["bot", "a".repeat(31), "ExampleBot", "me@example.com", "two words", "evil\nname: x", "-bot", "bot-", "bot.name", "bøt1", ""],
    },
    {
        at: "equinixProjectId",
        accepted: [UUID, UUID.toUpperCase()],
        refused: ["p", "my-project", UUID.slice(0, -1), `{${UUID}}`, `${UUID} `, UUID.replace(/-/g, "")],
    },
    {
        at: "hosts.2.hardwareReservationId",
        accepted: [UUID, "next-available"],
        refused: ["resv-1", "next available", "next-available;", ""],
    },
    { at: "hosts.2.tags", accepted: [["team:ci", "owner=platform", "cost center 7"]], refused: [[""], ["a\nb"], [" padded"]] },
    { at: "hosts.2.metro", accepted: ["da", "sv"], refused: ["DA", "d a", "da\n", "d"] },
    { at: "hosts.1.location", accepted: ["fsn1", "hel1"], refused: ["FSN1", "fsn 1", "f"] },
    { at: "hosts.1.plan", accepted: ["ccx33", "CCX33"], refused: ["ccx 33", "ccx33;rm", "-x", ""] },
    {
        at: "endpoints.actuatedInstaller",
        accepted: ["https://get.actuated.com", "https://mirror.example.com:8443/actuated/install.sh"],
        refused: ["http://10.0.0.1/actuated/install.sh", "ftp://get.actuated.com", "https://user:pass@get.actuated.com", "https://get.actuated.com/?v=1",
            "https://get.actuated.com/#x", "https://get actuated.com", "https://get.actuated.com/'$(id)'", "get.actuated.com", "https://"],
    },
    { at: "endpoints.runnerDownloads", accepted: ["https://artifacts.example.com/actions-runner"], refused: ["http://artifacts.example.com/actions-runner"] },
    { at: "endpoints.mirrorDownloads", accepted: ["https://artifacts.example.com/distribution"], refused: ["http://artifacts.example.com/distribution"] },
    { at: "endpoints.githubUrl", accepted: ["https://ghe.example.com"], refused: ["http://ghe.example.com"] },
    { at: "endpoints.githubApi", accepted: ["https://ghe.example.com/api/v3"], refused: ["http://ghe.example.com/api/v3"] },
    { at: "mirror.upstream", accepted: ["https://registry.example.com:5000"], refused: ["http://10.0.0.5:5000", "registry.example.com"] },
    { at: "github.runnerGroup", accepted: ["runner-fleet", "Native builders"], refused: ["", "  ", "a\nb", " padded", "tab\tin"] },
    {
        at: "github.repositories", more: { "github.visibility": "selected" },
        accepted: [["app", "my.repo_1", "x".repeat(100)]],
        refused: [["org/app"], [".."], ["."], ["x".repeat(101)], ["has space"], [""]],
    },
    {
        at: "github.workflows", more: { "github.plan": "enterprise" },
        accepted: [["example-org/app/.github/workflows/build.yml@refs/heads/main"]],
        refused: [["build.yml"], ["example-org/app/.github/workflows/build.yml@refs/heads/main\nx"], ["example-org/app/workflows/build.yml@main"]],
    },
    { at: "workflow.image", accepted: ["quay.io/example-org/app", "registry.example.com:5000/team/app"], refused: ["docker.io/example-org/app:latest", "Docker.io/o/app", "app"] },
    {
        at: "workflow.repositories", accepted: [["app"]], refused: [["org/app"], ["a b"]],
    },
    { at: "workflow.branch", accepted: ["main", "release/1.x", "feature_x"], refused: ["-x", "a..b", "has space", "x.lock", "refs/heads/main", "a:b", "x/", "x.", ".hidden", "a@{1}", ""] },
    { at: "workflow.branches", accepted: [["main", "release/**", "!release/old", "v[0-9]*"]], refused: [["a b"], ["x:y"], ["a..b"], [""]] },
    { at: "workflow.path", accepted: [".github/workflows/image.yaml"], refused: ["workflow.yml", ".github/workflows/../x.yml", ".github/workflows/x.json", "/.github/workflows/x.yml"] },
    { at: "workflow.commitMessage", accepted: ["ci: native builds", "ci: build\n\nWith a body.\tTabbed."], refused: ["", "   ", "bell\u0007", "nul\u0000"] },
    { at: "workflow.context", accepted: [".", "app", "services/app"], refused: ["../x", "/abs", "a b", "$(id)", "${{ github.ref }}"] },
    { at: "workflow.dockerfile", accepted: ["app/Dockerfile"], refused: ["../Dockerfile", "app/Docker file"] },
    { at: "workflow.tags", accepted: [["latest", "v1.2.3", "${{ github.sha }}"]], refused: [["bad tag"], [".x"], ["-x"], ["x".repeat(129)]] },
];

describe("formats of free-form settings", function () {
    this.timeout(60000);

    it("leave top-level text settings text", () => {
        for (const key of ["sshPublicKey", "equinixProjectId"]) {
            expect(isTextSetting(key), key).to.equal(true);
        }
    });

    for (const c of CASES) {
        describe(c.at, () => {
            it(`accepts ${c.accepted.map(v => JSON.stringify(v).slice(0, 40)).join(", ")}`, () => {
                for (const value of c.accepted) {
                    expect(problemsOf(settingsWith(c.at, value, c.more)), JSON.stringify(value)).to.deep.equal([]);
                }
            });

            for (const value of c.refused) {
                it(`refuses ${JSON.stringify(value).slice(0, 60)}, naming the field and the fix, registering nothing`, async () => {
                    const error = await refused(settingsWith(c.at, value, c.more));
                    const at = problemPath(c.at);
                    const hits = error.problems.filter(p => p.path === at || p.path.startsWith(`${at}[`));
                    expect(hits, `${at} in ${error.message}`).to.have.length(1);
                    expect(hits[0].fix.length, "a fix").to.be.greaterThan(10);
                });
            }
        });
    }

    it("accepts the fleet they all come from, and registers it", async () => {
        const { resources } = await record(() => fleetProgram(), { config: stackConfig({ ...base(), ...SECRETS }), secretKeys: SECRET_KEYS });
        expect(resources.length).to.be.greaterThan(10);
    });

    it("shows a weird value escaped, never raw", async () => {
        const error = await refused(settingsWith("mirror.dockerHubUsername", "bot\n  evil: \u001b[31mred\u202e"));
        expect(error.message).to.contain(String.raw`"bot\n  evil: \u001b[31mred\u202e"`);
    });
});

describe("a private key pasted for a public one", () => {
    for (const at of ["sshPublicKey", "hosts.0.hostKey"]) {
        it(`is refused at ${at}, and the key material appears in no message`, async () => {
            const error = await refused(settingsWith(at, PRIVATE_KEY));
            const hit = error.problems.find(p => p.path === problemPath(at));
            expect(hit?.message).to.contain("private key");
            for (const text of [error.message, JSON.stringify(error.problems), JSON.stringify(parseFleetConfig(settingsWith(at, PRIVATE_KEY)).problems)]) {
                expect(text).to.not.contain(PRIVATE_BODY);
                expect(text).to.not.contain("END OPENSSH");
            }
        });
    }

    it("is refused by ExistingHost too, unseen", async () => {
        const { error, resources } = await recordFailure(() => new ExistingHost("r1", {
            address: "203.0.113.10", arch: "arm64", kvm: true, hostKey: PRIVATE_KEY, privateKey: pulumi.secret(FAKE.sshPrivateKey),
        }));
        expect(error.message).to.contain("args.hostKey").and.not.contain(PRIVATE_BODY);
        expect(resources).to.have.length(0);
    });

    it("is not shown when only part of a key line is wrong either", async () => {
        const error = await refused(settingsWith("sshPublicKey", `ssh-rsa ${PRIVATE_BODY}`));
        expect(error.message).to.contain("sshPublicKey:").and.not.contain(PRIVATE_BODY);
    });
});

describe("two hosts on one machine", () => {
    const robot = (name: string, address: string) => ({ name, provider: "existing", plan: "rx170", address });
    for (const [a, b] of [["203.0.113.10", "203.0.113.10"], ["2001:db8::10", "2001:DB8:0:0::10"], ["Runner.example.com", "runner.EXAMPLE.com"]]) {
        it(`are refused: ${a} and ${b}, naming the first holder, registering nothing`, async () => {
            const error = await refused(settingsWith("hosts", [robot("r1", a), HOSTS[1], robot("r2", b)]));
            const hits = error.problems.filter(p => p.path.endsWith(".address"));
            expect(hits.map(p => p.path)).to.deep.equal(["hosts[2].address"]);
            expect(hits[0].message).to.contain("hosts[0]").and.contain('"r1"');
        });
    }

    it("are not two hosts with different addresses", () => {
        expect(problemsOf(settingsWith("hosts", [robot("r1", "203.0.113.10"), robot("r2", "203.0.113.11"), robot("r3", "runner.example.com")]))).to.deep.equal([]);
    });
});

describe("plain http", function () {
    this.timeout(60000);
    const HTTP = {
        actuatedInstaller: "http://10.1.2.3/actuated/install.sh", runnerDownloads: "http://10.1.2.3/actions-runner",
        mirrorDownloads: "http://10.1.2.3/distribution", githubUrl: "http://10.1.2.3", githubApi: "http://10.1.2.3/api",
    };

    it("is refused in every endpoint and the mirror's upstream, with the switch in the fix, registering nothing", async () => {
        const error = await refused(settingsWith("endpoints", HTTP, { "mirror.upstream": "http://10.1.2.3:5000" }));
        const paths = error.problems.map(p => p.path);
        expect(paths).to.have.members([...Object.keys(HTTP).map(k => `endpoints.${k}`), "mirror.upstream"]);
        for (const p of error.problems) {
            expect(p.fix).to.contain("endpoints.allowInsecureHttp: true");
        }
    });

    it("is allowed with endpoints.allowInsecureHttp, and every such URL is warned about as INSECURE", async () => {
        const settings = settingsWith("endpoints", { ...HTTP, allowInsecureHttp: true }, { "mirror.upstream": "http://10.1.2.3:5000" });
        expect(problemsOf(settings)).to.deep.equal([]);
        const warnings = fleetWarnings(parseFleetConfig(settings).spec as FleetSpec);
        expect(warnings).to.have.length(6);
        expect(warnings.every(w => / INSECURE plain http /.test(w))).to.equal(true);
        expect(warnings.find(w => w.startsWith("endpoints.actuatedInstaller:"))).to.contain("root shell");
        // The program logs them as pulumi up would (console.warn under mocks): kept off the test's output.
        const warn = console.warn;
        const logged: string[] = [];
        console.warn = (...args: unknown[]) => { logged.push(args.map(String).join(" ")); };
        try {
            const { resources } = await record(() => fleetProgram(), { config: stackConfig({ ...settings, ...SECRETS }), secretKeys: SECRET_KEYS });
            expect(resources.length).to.be.greaterThan(10);
        } finally {
            console.warn = warn;
        }
        expect(logged.filter(l => l.includes("INSECURE"))).to.have.length(6);
        // Allowed but https: nothing to warn about.
        expect(fleetWarnings(parseFleetConfig(settingsWith("endpoints", { allowInsecureHttp: true })).spec as FleetSpec)).to.deep.equal([]);
    });

    it("is marked INSECURE in the offline plan, one line per http URL", () => {
        const example = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8").replace("config:\n",
            "config:\n  runner-fleet:endpoints:\n    allowInsecureHttp: true\n    actuatedInstaller: http://10.1.2.3/actuated/install.sh\n    githubApi: http://10.1.2.3/api\n");
        const dir = projectDir({ "Pulumi.insecure.yaml": example });
                const r = spawnSync(process.execPath, [...PLAN_CLI, "--stack", "insecure", "--cwd", dir], { encoding: "utf8" });
        expect(r.status, r.stderr).to.equal(0);
        const marks = r.stdout.split("\n").filter(l => l.includes("INSECURE"));
        expect(marks).to.have.length(2);
        expect(marks[0]).to.match(/^WARNING: endpoints\.actuatedInstaller: INSECURE plain http "http:\/\/10\.1\.2\.3\/actuated\/install\.sh"/);
        expect(marks[1]).to.match(/^WARNING: endpoints\.githubApi: INSECURE/);
        const json = JSON.parse(spawnSync(process.execPath, [...PLAN_CLI, "--stack", "insecure", "--cwd", dir, "--json"], { encoding: "utf8" }).stdout);
        expect(json.warnings).to.have.length(2);
    });

    describe("in the components that take endpoints directly", () => {
        const host = () => new ExistingHost("h1", { address: "192.0.2.1", arch: "arm64", kvm: true, privateKey: pulumi.secret(FAKE.sshPrivateKey) });
        const agent = (endpoints: Record<string, unknown>) => ({
            kind: "actuated" as const, labels: ["actuated-arm64"], org: "example-org",
            secrets: { actuatedLicense: FAKE.actuatedLicense, actuatedToken: FAKE.actuatedToken }, endpoints,
        });
        const plain = (endpoints: Record<string, unknown>) => ({
            kind: "github-runner" as const, labels: ["runner-fleet-arm64"], org: "example-org", secrets: {}, endpoints,
        });
        const registered = (resources: readonly { type: string; name: string }[]) => resources.filter(r => r.type !== "runner-fleet:index:ExistingHost" && !r.name.startsWith("h1-ready") && r.name !== "h1-scripts");

        it("RunnerAgent refuses an http endpoint without endpoints.allowInsecureHttp, registering nothing of its own", async () => {
            const { error, resources } = await recordFailure(() => new RunnerAgent("h1-agent", { ...agent({ actuatedInstaller: HTTP.actuatedInstaller }), host: host() }));
            expect(error.message).to.contain("endpoints.actuatedInstaller").and.contain("endpoints.allowInsecureHttp: true");
            expect(registered(resources)).to.deep.equal([]);
            const problems = agentProblems({ ...plain({ runnerDownloads: HTTP.runnerDownloads, githubUrl: HTTP.githubUrl, githubApi: HTTP.githubApi, bogus: "x" }), host: {} as never });
            expect(problems.map(p => p.path)).to.include.members(["endpoints.runnerDownloads", "endpoints.githubUrl", "endpoints.githubApi", "endpoints.bogus"]);
        });

        it("RunnerAgent takes it with endpoints.allowInsecureHttp: true", async () => {
            const { resources } = await record(() => new RunnerAgent("h1-agent", { ...agent({ actuatedInstaller: HTTP.actuatedInstaller, allowInsecureHttp: true }), host: host() }));
            const install = resources.find(r => r.name === "h1-agent-install");
            expect(install).to.not.equal(undefined);
        });

        it("RegistryMirror refuses an http upstream and download URL without allowInsecureHttp, and takes them with it", async () => {
            const args = { mode: "registry" as const, upstream: "http://10.1.2.3:5000", downloads: HTTP.mirrorDownloads };
            const { error, resources } = await recordFailure(() => new RegistryMirror("h1-mirror", { ...args, host: host() }));
            expect(error.message).to.contain("upstream").and.contain("downloads").and.contain("allowInsecureHttp: true");
            expect(registered(resources)).to.deep.equal([]);
            expect(mirrorProblems({ ...args, allowInsecureHttp: true, host: { name: "h1", arch: "arm64" } as never })).to.deep.equal([]);
            const ok = await record(() => new RegistryMirror("h1-mirror", { ...args, allowInsecureHttp: true, host: host() }));
            expect(ok.resources.some(r => r.name === "h1-mirror-configure")).to.equal(true);
        });

        it("RegistryMirror and RunnerAgent check the Docker Hub user as the fleet does", () => {
            expect(mirrorProblems({ mode: "registry", dockerHubUsername: "Bad User", dockerHubToken: "x", host: { name: "h1", arch: "arm64" } as never }).map(p => p.path))
                .to.deep.equal(["dockerHubUsername"]);
            expect(agentProblems({ ...agent({}), dockerHubUsername: "me@example.com", secrets: { ...agent({}).secrets, dockerHubToken: "x" }, host: { name: "h1", arch: "arm64", kvm: true } as never })
                .map(p => p.path)).to.deep.equal(["dockerHubUsername"]);
        });
    });
});
