// The host scripts run for real, with their output directed into a temporary
// root (ROOT=..., RENDER_ONLY=1): what they render, and that a second run
// rewrites nothing.

import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../harness";
import { scriptBundle } from "../../components/remote/remote-script";
import { DEFAULTS } from "../../components/spec/settings";
import { RUNNER_RELEASES, runnerStanding } from "../../components/spec/catalog";

const HOST = path.resolve(REPO_ROOT, "scripts", "host");
const TOKEN = "fake-hub-token-for-tests \"quoted\" \\ back";

function b64(s: string): string {
    return Buffer.from(s, "utf8").toString("base64");
}

function run(script: string, env: Record<string, string>, stdin = "") {
    const r = spawnSync("bash", [path.join(HOST, script)], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, input: stdin, encoding: "utf8",
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function tempRoot(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-root-"));
}

function mode(file: string): string {
    return (fs.statSync(file).mode & 0o777).toString(8);
}

/** Path -> mtime and inode of every file under a root. */
function snapshot(root: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) {
                walk(p);
            } else {
                const s = fs.statSync(p);
                out[path.relative(root, p)] = `${s.ino}:${s.mtimeMs}`;
            }
        }
    };
    walk(root);
    return out;
}

describe("host scripts", () => {
    it("are clean under shellcheck", () => {
        const files = fs.readdirSync(HOST).filter(f => f.endsWith(".sh")).map(f => path.join(HOST, f));
        const r = spawnSync("shellcheck", files, { encoding: "utf8", cwd: path.resolve(HOST, "..", "..") });
        if (r.error) {
            throw new Error(`shellcheck is not installed (npm test's pretest step installs it): ${r.error.message}`);
        }
        expect(`${r.stdout}${r.stderr}`).to.equal("");
        expect(r.status).to.equal(0);
    });

    describe("configure-mirror.sh", () => {
        const env = (root: string, more: Record<string, string> = {}) => ({
            ROOT: root, RENDER_ONLY: "1", MIRROR_MODE: "registry", MIRROR_BIND: "127.0.0.1:5000",
            MIRROR_UPSTREAM: DEFAULTS.mirror.upstream, MIRROR_DOWNLOAD_URL: DEFAULTS.endpoints.mirrorDownloads,
            DOCKERHUB_USERNAME: "example-bot", MIRROR_TTL: "72h", RUNTIME_CONFIG: "1", SETTINGS_HASH: "a".repeat(64),
            MIRROR_VERSION: "3.1.2", MIRROR_SHA256: "b".repeat(64), ...more,
        });
        /** A PATH with stand-ins for the host's container engines: `dockerd`, and `containerd --version` as Debian 12's answers. */
        const engines = (containerdVersion: string | null, docker = true): Record<string, string> => {
            const bin = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-bin-"));
            if (docker) {
                fs.writeFileSync(path.join(bin, "dockerd"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
            }
            if (containerdVersion) {
                fs.writeFileSync(path.join(bin, "containerd"), `#!/bin/sh\necho "containerd github.com/containerd/containerd ${containerdVersion}~ds1 ${containerdVersion}~ds1-1+deb12u3"\n`, { mode: 0o755 });
            }
            return { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
        };
        /** containerd's config.toml as Debian 12's containerd package ships it. */
        const DEBIAN_CONTAINERD = [
            "version = 2", "", "[plugins]", '  [plugins."io.containerd.grpc.v1.cri"]', '    [plugins."io.containerd.grpc.v1.cri".cni]',
            '      bin_dir = "/usr/lib/cni"', '      conf_dir = "/etc/cni/net.d"', '  [plugins."io.containerd.internal.v1.opt"]', '    path = "/var/lib/containerd/opt"', "",
        ].join("\n");
        const withContainerdConfig = (text: string): string => {
            const root = tempRoot();
            fs.mkdirSync(path.join(root, "etc/containerd"), { recursive: true });
            fs.writeFileSync(path.join(root, "etc/containerd/config.toml"), text);
            return root;
        };
        const read = (root: string, file: string) => fs.readFileSync(path.join(root, file), "utf8");

        it("renders a root-only proxy config, a systemd unit and the runtime config", () => {
            const root = tempRoot();
            fs.mkdirSync(path.join(root, "etc/docker"), { recursive: true });
            fs.writeFileSync(path.join(root, "etc/docker/daemon.json"), JSON.stringify({ "log-driver": "json-file", "registry-mirrors": ["https://mirror.example"] }));
            fs.mkdirSync(path.join(root, "etc/containerd"), { recursive: true });
            fs.writeFileSync(path.join(root, "etc/containerd/config.toml"), DEBIAN_CONTAINERD);
            const r = run("configure-mirror.sh", { ...env(root), ...engines("1.6.20") }, `dockerhub-token ${b64(TOKEN)}\n`);
            expect(r.status, r.out).to.equal(0);
            expect(r.out).to.not.contain("fake-hub-token");

            const configFile = path.join(root, "etc/runner-fleet/mirror/config.yml");
            expect(mode(configFile)).to.equal("600");
            const config = YAML.parse(fs.readFileSync(configFile, "utf8"));
            expect(config.http.addr).to.equal("127.0.0.1:5000");
            // Its hit and miss figures: loopback only, the next port.
            expect(config.http.debug).to.deep.equal({ addr: "127.0.0.1:5001", prometheus: { enabled: true, path: "/metrics" } });
            expect(config.proxy).to.deep.equal({ remoteurl: "https://registry-1.docker.io", username: "example-bot", password: TOKEN, ttl: "72h" });
            expect(config.storage.delete.enabled).to.equal(true);
            expect(config.storage.filesystem.rootdirectory).to.equal("/var/lib/runner-fleet/mirror");

            const secretFile = path.join(root, "etc/runner-fleet/secrets/mirror/dockerhub-token");
            expect(mode(secretFile)).to.equal("600");
            expect(fs.readFileSync(secretFile, "utf8")).to.equal(TOKEN);

            const unit = fs.readFileSync(path.join(root, "etc/systemd/system/runner-fleet-mirror.service"), "utf8");
            expect(unit).to.contain("User=runner-fleet-mirror\n");
            expect(unit).to.contain("LoadCredential=config.yml:/etc/runner-fleet/mirror/config.yml");
            expect(unit).to.contain("ExecStart=/opt/runner-fleet/registry-3.1.2/registry serve ${CREDENTIALS_DIRECTORY}/config.yml");
            expect(unit).to.contain("Environment=OTEL_TRACES_EXPORTER=none\n").and.contain("TimeoutStartSec=infinity\n");
            // The upstream first, then the expiries that passed while it was down, then the registry.
            expect(unit).to.match(/\nExecStartPre=\/\S+\/mirror-wait-upstream\.sh https:\/\/registry-1\.docker\.io\nExecStartPre=\/\S+\/mirror-expire\.sh \/var\/lib\/runner-fleet\/mirror\n/);
            expect(unit).to.not.contain("fake-hub-token");

            const hosts = fs.readFileSync(path.join(root, "etc/containerd/certs.d/docker.io/hosts.toml"), "utf8");
            expect(hosts).to.contain('server = "https://registry-1.docker.io"').and.contain('[host."http://127.0.0.1:5000"]');
            // Debian's config kept line for line, with the CRI registry's config_path after it.
            expect(read(root, "etc/containerd/config.toml")).to.equal(
                `${DEBIAN_CONTAINERD}\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n`);
            const daemon = JSON.parse(fs.readFileSync(path.join(root, "etc/docker/daemon.json"), "utf8"));
            expect(daemon).to.deep.equal({ "log-driver": "json-file", "registry-mirrors": ["http://127.0.0.1:5000", "https://mirror.example"] });
            expect(fs.readFileSync(path.join(root, "var/lib/runner-fleet/mirror.hash"), "utf8").trim()).to.equal("a".repeat(64));
        });

        it("moves Docker's mirror entry with the mirror: the address it had before goes, every other entry stays", () => {
            const root = tempRoot();
            fs.mkdirSync(path.join(root, "etc/docker"), { recursive: true });
            fs.writeFileSync(path.join(root, "etc/docker/daemon.json"), JSON.stringify({ "registry-mirrors": ["https://mirror.example"] }));
            const daemon = () => JSON.parse(fs.readFileSync(path.join(root, "etc/docker/daemon.json"), "utf8"))["registry-mirrors"];
            expect(run("configure-mirror.sh", { ...env(root), ...engines(null) }, `dockerhub-token ${b64(TOKEN)}\n`).status).to.equal(0);
            expect(daemon()).to.deep.equal(["http://127.0.0.1:5000", "https://mirror.example"]);
            const moved = run("configure-mirror.sh", { ...env(root, { MIRROR_BIND: "127.0.0.1:5010" }), ...engines(null) }, `dockerhub-token ${b64(TOKEN)}\n`);
            expect(moved.status, moved.out).to.equal(0);
            expect(daemon()).to.deep.equal(["http://127.0.0.1:5010", "https://mirror.example"]);
        });

        it("rewrites nothing on a second run with the same input", () => {
            const root = tempRoot();
            const e = { ...env(root), ...engines("1.6.20") };
            expect(run("configure-mirror.sh", e, `dockerhub-token ${b64(TOKEN)}\n`).status).to.equal(0);
            expect(Object.keys(snapshot(root))).to.include.members(["etc/containerd/config.toml", "etc/docker/daemon.json"]);
            const before = snapshot(root);
            const r = run("configure-mirror.sh", e, `dockerhub-token ${b64(TOKEN)}\n`);
            expect(r.status, r.out).to.equal(0);
            expect(snapshot(root)).to.deep.equal(before);
        });

        it("rewrites the config when the token changes", () => {
            const root = tempRoot();
            run("configure-mirror.sh", env(root), `dockerhub-token ${b64("one")}\n`);
            run("configure-mirror.sh", env(root), `dockerhub-token ${b64("two")}\n`);
            const config = YAML.parse(fs.readFileSync(path.join(root, "etc/runner-fleet/mirror/config.yml"), "utf8"));
            expect(config.proxy.password).to.equal("two");
        });

        it("leaves credentials out for anonymous pulls", () => {
            const root = tempRoot();
            const r = run("configure-mirror.sh", env(root, { DOCKERHUB_USERNAME: "", RUNTIME_CONFIG: "0" }));
            expect(r.status, r.out).to.equal(0);
            const config = YAML.parse(fs.readFileSync(path.join(root, "etc/runner-fleet/mirror/config.yml"), "utf8"));
            expect(config.proxy).to.deep.equal({ remoteurl: "https://registry-1.docker.io", ttl: "72h" });
            expect(fs.existsSync(path.join(root, "etc/docker/daemon.json"))).to.equal(false);
        });

        for (const bind of ["0.0.0.0:5000", "203.0.113.5:5000"]) {
            it(`refuses to listen on ${bind}, writing nothing`, () => {
                const root = tempRoot();
                const r = run("configure-mirror.sh", env(root, { MIRROR_BIND: bind }), `dockerhub-token ${b64(TOKEN)}\n`);
                expect(r.status).to.equal(1);
                expect(r.out).to.contain("not a loopback or private address");
                expect(Object.keys(snapshot(root))).to.deep.equal([]);
            });
        }

        it("writes containerd's config_path in the section its version reads, keeping what is there", () => {
            const certs = 'config_path = "/etc/containerd/certs.d"';
            const cases: [string, string | null, (t: string) => void][] = [
                // No config: containerd 1.x reads a version 2 file, 2.x a version 3 one.
                ["1.7.34", null, t => expect(t).to.match(/\nversion = 2\n\n\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n  config_path = "\/etc\/containerd\/certs\.d"\n$/)],
                ["2.2.7", null, t => expect(t).to.match(/\nversion = 3\n\n\[plugins\."io\.containerd\.cri\.v1\.images"\.registry\]\n  config_path = "\/etc\/containerd\/certs\.d"\n$/)],
                // 2.2's own default lists two folders, which its transfer-service pull does not search: one folder is set.
                ["2.2.7", 'version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "/etc/containerd/certs.d:/etc/docker/certs.d"\n[plugins."io.containerd.cri.v1.images".pinned_images]\n  sandbox = "x"\n',
                    t => expect(t).to.equal(`version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  ${certs}\n[plugins."io.containerd.cri.v1.images".pinned_images]\n  sandbox = "x"\n`)],
            ];
            for (const [version, text, check] of cases) {
                const root = text === null ? tempRoot() : withContainerdConfig(text);
                const r = run("configure-mirror.sh", { ...env(root, { DOCKERHUB_USERNAME: "" }), ...engines(version) });
                expect(r.status, r.out).to.equal(0);
                check(read(root, "etc/containerd/config.toml"));
                expect(read(root, "etc/containerd/certs.d/docker.io/hosts.toml")).to.contain('[host."http://127.0.0.1:5000"]');
            }
        });

        /** Fixtures: what `containerd config default` prints, per version (the binary each came from is named in the file's name). */
        const CONTAINERD_DEFAULTS = fs.readdirSync(path.join(REPO_ROOT, "test", "scripts", "fixtures"))
            .map(f => /^containerd-(\d+\.\d+\.\d+)-config-default\.toml$/.exec(f)).filter((m): m is RegExpExecArray => m !== null)
            .map(m => ({ version: m[1], text: fs.readFileSync(path.join(REPO_ROOT, "test", "scripts", "fixtures", m[0]), "utf8") }));

        it("edits the config `containerd config default` writes, of each major (1.x double-quoted, 2.x single-quoted tables): one line, nothing appended", () => {
            expect(CONTAINERD_DEFAULTS.map(d => d.version.split(".")[0]).sort()).to.include.members(["1", "2"]);
            for (const { version, text } of CONTAINERD_DEFAULTS) {
                const root = withContainerdConfig(text);
                fs.writeFileSync(path.join(root, "before.toml"), text);
                const r = run("configure-mirror.sh", { ...env(root, { DOCKERHUB_USERNAME: "" }), ...engines(version) });
                expect(r.status, r.out).to.equal(0);
                expect(r.out, version).to.not.contain("skipped");
                const after = read(root, "etc/containerd/config.toml");
                const before = text.split("\n"), now = after.split("\n");
                expect(now.length, `${version}: lines`).to.equal(before.length);
                const changed = now.map((l, i) => [before[i], l]).filter(([a, b]) => a !== b);
                expect(changed, version).to.have.length(1);
                expect(changed[0][1].trim()).to.equal('config_path = "/etc/containerd/certs.d"');
                // containerd reads it: TOML that parses to what it did, with only the CRI registry's config_path set.
                const parsed = spawnSync("python3", ["-c", [
                    "import json, sys, tomllib",
                    "before, after = (tomllib.load(open(f, 'rb')) for f in sys.argv[1:3])",
                    "cri = 'io.containerd.cri.v1.images' if 'io.containerd.cri.v1.images' in after['plugins'] else 'io.containerd.grpc.v1.cri'",
                    "path = after['plugins'][cri]['registry'].pop('config_path')",
                    "before['plugins'][cri]['registry'].pop('config_path')",
                    "print(json.dumps([path, before == after]))",
                ].join("\n"), path.join(root, "before.toml"), path.join(root, "etc/containerd/config.toml")], { encoding: "utf8" });
                expect(parsed.status, parsed.stderr).to.equal(0);
                expect(JSON.parse(parsed.stdout), version).to.deep.equal(["/etc/containerd/certs.d", true]);
                // A second run changes nothing.
                const again = run("configure-mirror.sh", { ...env(root, { DOCKERHUB_USERNAME: "" }), ...engines(version) });
                expect(again.status).to.equal(0);
                expect(read(root, "etc/containerd/config.toml")).to.equal(after);
            }
        });

        it("leaves containerd's config alone where no CRI client reads it, and writes no certs.d then", () => {
            const dockerCe = 'disabled_plugins = ["cri"]\n\n#root = "/var/lib/containerd"\n';
            const mirrors = `${DEBIAN_CONTAINERD}[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = ["https://mirror.example"]\n`;
            for (const [text, why] of [[dockerCe, "disables the CRI plugin"], [mirrors, "sets the CRI registry's mirrors or configs"]]) {
                const root = withContainerdConfig(text);
                const r = run("configure-mirror.sh", { ...env(root, { DOCKERHUB_USERNAME: "" }), ...engines("1.7.27") });
                expect(r.status, r.out).to.equal(0);
                expect(r.out).to.contain(why);
                expect(read(root, "etc/containerd/config.toml")).to.equal(text);
                expect(fs.existsSync(path.join(root, "etc/containerd/certs.d/docker.io/hosts.toml"))).to.equal(false);
            }
            // A hosts.toml of the host's own is never taken away.
            const root = withContainerdConfig(dockerCe);
            const own = path.join(root, "etc/containerd/certs.d/docker.io/hosts.toml");
            fs.mkdirSync(path.dirname(own), { recursive: true });
            fs.writeFileSync(own, 'server = "https://registry-1.docker.io"\n');
            expect(run("configure-mirror.sh", { ...env(root, { DOCKERHUB_USERNAME: "" }), ...engines("1.7.27") }).status).to.equal(0);
            expect(fs.readFileSync(own, "utf8")).to.equal('server = "https://registry-1.docker.io"\n');
        });

        it("writes nothing for Docker or containerd on a host without them, and takes back a hosts.toml an earlier version left", () => {
            const root = tempRoot();
            const stale = path.join(root, "etc/containerd/certs.d/docker.io/hosts.toml");
            fs.mkdirSync(path.dirname(stale), { recursive: true });
            fs.writeFileSync(stale, "# Written by runner-fleet: pull Docker Hub images through the host's mirror.\n");
            const r = run("configure-mirror.sh", { ...env(root, { DOCKERHUB_USERNAME: "" }), ...engines(null, false) });
            expect(r.status, r.out).to.equal(0);
            expect(fs.existsSync(stale)).to.equal(false);
            expect(fs.existsSync(path.join(root, "etc/docker/daemon.json"))).to.equal(false);
            expect(fs.existsSync(path.join(root, "etc/containerd/config.toml"))).to.equal(false);
        });

        for (const [key, value, message] of [
            ["MIRROR_SHA256", "", "MIRROR_SHA256 must be the sha256 of the registry archive"],
            ["MIRROR_SHA256", "abc", "MIRROR_SHA256 must be 64 hex digits"],
            ["MIRROR_VERSION", "latest", "MIRROR_VERSION must be a registry release such as 3.1.2, not 'latest'"],
        ]) {
            it(`refuses ${key}=${JSON.stringify(value)}, writing nothing`, () => {
                const root = tempRoot();
                const r = run("configure-mirror.sh", env(root, { [key]: value, DOCKERHUB_USERNAME: "" }));
                expect(r.status).to.equal(1);
                expect(r.out).to.contain(message);
                expect(Object.keys(snapshot(root))).to.deep.equal([]);
            });
        }

        it("refuses a Docker Hub user without a token", () => {
            const r = run("configure-mirror.sh", env(tempRoot()));
            expect(r.status).to.equal(1);
            expect(r.out).to.contain("no dockerhub-token came on stdin");
        });
    });

    describe("common.sh", () => {
        /** A folder of stand-in commands, first on PATH. */
        const fakeBin = (files: Record<string, string>): string => {
            const bin = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-bin-"));
            for (const [name, text] of Object.entries(files)) {
                fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
            }
            return bin;
        };
        const withCommon = (code: string, env: Record<string, string>) => spawnSync("bash", ["--norc", "-c", `set -euo pipefail; . ${path.join(HOST, "common.sh")}; ${code}`], {
            env: { PATH: `${env.BIN ?? ""}:${process.env.PATH ?? "/usr/bin:/bin"}`, ...env }, encoding: "utf8",
        });

        it("finds a library early in ldconfig's output when that output is larger than a pipe's buffer (64 KiB), under pipefail", () => {
            // ldconfig -p prints the cache, one library a line; a server with many packages passes 64 KiB.
            const bin = fakeBin({
                ldconfig: "#!/bin/bash\necho '\tlibicuuc.so.72 (libc6,x86-64) => /lib/x86_64-linux-gnu/libicuuc.so.72'\n" +
                    "for i in $(seq 1 4000); do echo \"\tlibother$i.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libother$i.so.1\"; done\n",
            });
            const r = withCommon("has_lib 'libicuuc\\.so' && echo found; has_lib 'libnothere\\.so' || echo missing", { BIN: bin, RENDER_ONLY: "1" });
            expect(r.stdout, r.stderr).to.equal("found\nmissing\n");
            // The form this replaced fails here: grep -q ends the pipe, ldconfig dies of SIGPIPE, pipefail calls it a miss.
            const early = withCommon("ldconfig -p | grep -q 'libicuuc\\.so' && echo found || echo missed", { BIN: bin, RENDER_ONLY: "1" });
            expect(early.stdout).to.equal("missed\n");
        });

        describe("an apt_install killed half-way", () => {
            const interrupted = async (original: string | undefined) => {
                const root = tempRoot();
                fs.mkdirSync(path.join(root, "usr/sbin"), { recursive: true });
                const policy = path.join(root, "usr/sbin/policy-rc.d");
                if (original !== undefined) {
                    fs.writeFileSync(policy, original, { mode: 0o755 });
                }
                const started = path.join(root, "apt-started");
                // dpkg-query: nothing installed; apt-get: hangs, as one waiting on a mirror does.
                const bin = fakeBin({ "dpkg-query": "#!/bin/sh\nexit 1\n", "apt-get": `#!/bin/sh\ntouch ${started}\nexec sleep 600\n` });
                const env = { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, ROOT: root, RENDER_ONLY: "1" };
                const child = spawn("bash", ["-c", `. ${path.join(HOST, "common.sh")}; apt_install some-package`], { env, detached: true, stdio: "ignore" });
                for (let i = 0; i < 600 && !fs.existsSync(started); i++) {
                    await new Promise(r => setTimeout(r, 100));
                }
                expect(fs.existsSync(started), "the stand-in apt-get ran").to.equal(true);
                const during = fs.readFileSync(policy, "utf8");
                // Another step sourcing common.sh while the install runs leaves the install's policy alone.
                expect(withCommon("policy_rc_repair", env).status).to.equal(0);
                expect(fs.readFileSync(policy, "utf8")).to.equal(during);
                process.kill(-(child.pid as number), "SIGKILL");
                await new Promise(r => child.once("exit", r));
                return { root, policy, during, env };
            };

            it("leaves a policy-rc.d that refuses every service start, which the next run of any step puts back (none before)", async () => {
                const { policy, during, env } = await interrupted(undefined);
                expect(during).to.match(/exit 101/);
                expect(fs.readFileSync(policy, "utf8")).to.equal(during);
                const r = withCommon("policy_rc_repair", env);
                expect(r.status, r.stderr).to.equal(0);
                expect(r.stderr).to.contain("an interrupted package install had left it");
                expect(fs.existsSync(policy)).to.equal(false);
            });

            it("puts back the host's own policy-rc.d that was there before", async () => {
                const own = "#!/bin/sh\n# the host's own policy\nexit 0\n";
                const { policy, env } = await interrupted(own);
                expect(withCommon("policy_rc_repair", env).status).to.equal(0);
                expect(fs.readFileSync(policy, "utf8")).to.equal(own);
                expect(fs.existsSync(`${policy}.runner-fleet`)).to.equal(false);
                // A policy-rc.d of the host's own (no marker) is never touched.
                expect(withCommon("policy_rc_repair", env).stderr).to.not.contain("put back");
                expect(fs.readFileSync(policy, "utf8")).to.equal(own);
            });
        });
    });

    describe("mirror-expire.sh", () => {
        // A cache as distribution 3 lays it out (registry/storage/paths.go) with its TTL state
        // (registry/proxy/scheduler/scheduler.go: Key, ExpiryData, EntryType 0 blob / 1 manifest).
        const hex = (c: string) => c.repeat(64);
        const lay = (storage: string, files: string[]) => {
            for (const f of files) {
                fs.mkdirSync(path.dirname(path.join(storage, f)), { recursive: true });
                fs.writeFileSync(path.join(storage, f), "x");
            }
        };
        const v2 = "docker/registry/v2";
        const goTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1456789Z");
        const entry = (key: string, at: number, type: number) => ({ [key]: { Key: key, ExpiryData: goTime(at), EntryType: type } });

        it("applies the expiries that passed while the mirror was down, as the registry's handlers do, and keeps the rest", () => {
            const storage = tempRoot();
            const shared = hex("a"), own = hex("b"), fresh = hex("c"), manifest = hex("d");
            lay(storage, [
                `${v2}/blobs/sha256/aa/${shared}/data`, `${v2}/repositories/library/ttl/_layers/sha256/${shared}/link`,
                `${v2}/repositories/library/hello/_layers/sha256/${shared}/link`,
                `${v2}/blobs/sha256/cc/${fresh}/data`, `${v2}/repositories/library/ttl/_layers/sha256/${fresh}/link`,
                `${v2}/repositories/library/ttl/_manifests/revisions/sha256/${manifest}/link`,
            ]);
            const past = Date.now() - 30_000, soon = Date.now() + 20_000, later = Date.now() + 3_600_000;
            const state = {
                ...entry(`library/ttl@sha256:${shared}`, past, 0),
                // Its link is there and its blob is not: the registry's Delete stops at the Stat; only the entry goes.
                ...entry(`library/ttl@sha256:${own}`, past, 0),
                ...entry(`library/ttl@sha256:${manifest}`, soon, 1),
                ...entry(`library/ttl@sha256:${fresh}`, later, 0),
                ...entry(`library/hello@sha256:${shared}`, later, 0),
            };
            lay(storage, [`${v2}/repositories/library/ttl/_layers/sha256/${own}/link`]);
            fs.writeFileSync(path.join(storage, "scheduler-state.json"), JSON.stringify(state));

            const r = spawnSync("sh", [path.join(HOST, "mirror-expire.sh"), storage], { encoding: "utf8" });
            expect(r.status, r.stderr).to.equal(0);
            // Due within the margin (60 s) counts: nothing expires beside the first pulls.
            expect(r.stderr).to.contain("expired before serving: 1 blobs, 1 manifests (3 entries due); 2 entries kept");
            const exists = (f: string) => fs.existsSync(path.join(storage, f));
            expect(exists(`${v2}/blobs/sha256/aa/${shared}`)).to.equal(false);
            expect(exists(`${v2}/repositories/library/ttl/_layers/sha256/${shared}/link`)).to.equal(false);
            // Another repository's link stays (the registry's handler leaves it too): its next pull fetches the blob again.
            expect(exists(`${v2}/repositories/library/hello/_layers/sha256/${shared}/link`)).to.equal(true);
            expect(exists(`${v2}/repositories/library/ttl/_manifests/revisions/sha256/${manifest}/link`)).to.equal(false);
            expect(exists(`${v2}/blobs/sha256/cc/${fresh}/data`)).to.equal(true);
            expect(Object.keys(JSON.parse(fs.readFileSync(path.join(storage, "scheduler-state.json"), "utf8"))).sort())
                .to.deep.equal([`library/hello@sha256:${shared}`, `library/ttl@sha256:${fresh}`]);

            // A second start finds nothing due and rewrites nothing.
            const again = spawnSync("sh", [path.join(HOST, "mirror-expire.sh"), storage], { encoding: "utf8" });
            expect([again.status, again.stderr]).to.deep.equal([0, ""]);
        });

        it("leaves an unreadable state to the registry and starts", () => {
            const storage = tempRoot();
            fs.writeFileSync(path.join(storage, "scheduler-state.json"), "{not json");
            const r = spawnSync("sh", [path.join(HOST, "mirror-expire.sh"), storage], { encoding: "utf8" });
            expect(r.status).to.equal(0);
            expect(r.stderr).to.contain("unreadable");
            expect(fs.readFileSync(path.join(storage, "scheduler-state.json"), "utf8")).to.equal("{not json");
        });
    });

    describe("install-github-runner.sh", () => {
        it("renders the runner settings and the service template, and keeps the registration token root-only", () => {
            const root = tempRoot();
            const r = run("install-github-runner.sh", {
                ROOT: root, RENDER_ONLY: "1", RUNNER_FLEET_HOST: "x86-1", GITHUB_ORG: "example-org", RUNNER_GROUP: "native",
                LABELS: "runner-fleet-amd64,gpu", INSTANCES: "2", RUNNER_VERSION: "2.329.0",
                EPHEMERAL: "0", INSTALL_DOCKER: "1", DRAIN_TIMEOUT: "3600", GITHUB_URL: DEFAULTS.endpoints.githubUrl,
                GITHUB_API_URL: DEFAULTS.endpoints.githubApi, RUNNER_DOWNLOAD_URL: DEFAULTS.endpoints.runnerDownloads,
            }, `registration-token ${b64("fake-registration-token-0007")}\n`);
            expect(r.status, r.out).to.equal(0);
            expect(r.out).to.not.contain("fake-registration-token");
            const envFile = fs.readFileSync(path.join(root, "etc/runner-fleet/runner.env"), "utf8");
            expect(envFile).to.contain("GITHUB_ORG=example-org\n").and.contain("RUNNER_GROUP=native\n").and.contain("LABELS=runner-fleet-amd64,gpu\n")
                .and.contain("EPHEMERAL=0\n").and.contain("GITHUB_API_URL=https://api.github.com\n");
            expect(envFile).to.match(/RUNNER_ARCHIVE=\/var\/cache\/runner-fleet\/actions-runner-linux-(x64|arm64)-2\.329\.0\.tar\.gz/);
            expect(envFile).to.not.contain("fake-registration-token");
            const unit = fs.readFileSync(path.join(root, "etc/systemd/system/runner-fleet-runner@.service"), "utf8");
            expect(unit).to.contain("ExecStart=/usr/local/lib/runner-fleet/runner-service.sh %i").and.contain("Restart=always");
            const token = path.join(root, "etc/runner-fleet/secrets/registration/registration-token");
            expect(mode(token)).to.equal("600");
        });

        it("tells the config.sh token through the environment, never the command line", () => {
            const text = fs.readFileSync(path.join(HOST, "runner-service.sh"), "utf8");
            expect(text).to.contain("export ACTIONS_RUNNER_INPUT_TOKEN");
            expect(text).to.not.match(/--token/);
        });
    });

    describe("write-secrets.sh", () => {
        it("writes each secret root-only, reports counts not values, drops secrets no longer sent", () => {
            const root = tempRoot();
            const input = `alpha ${b64("value-one")}\nbeta ${b64("value-two")}\n`;
            const first = run("write-secrets.sh", { ROOT: root, SECRET_SET: "agent" }, input);
            expect(first.status, first.out).to.equal(0);
            expect(first.out).to.contain("2 changed").and.not.contain("value-");
            const dir = path.join(root, "etc/runner-fleet/secrets/agent");
            expect(mode(dir)).to.equal("700");
            expect(mode(path.join(dir, "alpha"))).to.equal("600");
            expect(fs.readFileSync(path.join(dir, "beta"), "utf8")).to.equal("value-two");
            expect(run("write-secrets.sh", { ROOT: root, SECRET_SET: "agent" }, input).out).to.contain("0 changed");
            expect(run("write-secrets.sh", { ROOT: root, SECRET_SET: "agent" }, `alpha ${b64("value-one")}\n`).out).to.contain("1 changed");
            expect(fs.readdirSync(dir)).to.deep.equal(["alpha"]);
            expect(run("write-secrets.sh", { ROOT: root, SECRET_SET: "agent", ACTION: "remove" }).status).to.equal(0);
            expect(fs.existsSync(dir)).to.equal(false);
        });

        it("refuses a secret name that could escape its folder", () => {
            const r = run("write-secrets.sh", { ROOT: tempRoot() }, `../x ${b64("v")}\n`);
            expect(r.status).to.equal(1);
        });
    });

    describe("ready.sh", () => {
        const machine = os.arch() === "arm64" ? "arm64" : "amd64";
        const other = machine === "arm64" ? "amd64" : "arm64";

        it("passes when the machine is the declared arch, installs the scripts of its own folder and records their hash, rewriting nothing on a second run", () => {
            const root = tempRoot();
            const env = { ROOT: root, RUNNER_FLEET_HOST: "h1", EXPECTED_ARCH: machine, SCRIPTS_SHA256: "ab".repeat(32) };
            const r = run("ready.sh", env);
            expect(r.status, r.out).to.equal(0);
            const installed = fs.readdirSync(path.join(root, "usr/local/lib/runner-fleet")).sort();
            expect(installed).to.deep.equal(fs.readdirSync(path.join(REPO_ROOT, "scripts", "host")).sort());
            expect(fs.statSync(path.join(root, "usr/local/lib/runner-fleet/common.sh")).mode & 0o777).to.equal(0o755);
            expect(fs.readFileSync(path.join(root, "etc/runner-fleet/scripts.sha256"), "utf8")).to.equal(`${"ab".repeat(32)}\n`);
            const inode = fs.statSync(path.join(root, "usr/local/lib/runner-fleet/common.sh")).ino;
            expect(run("ready.sh", env).out).to.contain(`0 script(s) installed in ${root}/usr/local/lib/runner-fleet`);
            expect(fs.statSync(path.join(root, "usr/local/lib/runner-fleet/common.sh")).ino).to.equal(inode);
        });

        it("fails naming the host and both arches on a mismatch", () => {
            const r = run("ready.sh", { ROOT: tempRoot(), RUNNER_FLEET_HOST: "h1", EXPECTED_ARCH: other });
            expect(r.status).to.equal(1);
            expect(r.out).to.contain("host h1 is " + machine).and.contain("declares it " + other);
        });
    });
});

describe("metrics.sh's figures (its formatter, given the facts the host gives it)", () => {
    const script = fs.readFileSync(path.join(HOST, "metrics.sh"), "utf8");
    const formatter = script.slice(script.indexOf("cat <<'PY'\n") + "cat <<'PY'\n".length, script.indexOf("\nPY\n"));
    // The catalog's releases, as install-metrics.sh writes them for it.
    const RELEASES = RUNNER_RELEASES.map(r => `${r.version}:${r.date}`).join(" ");
    /** The formatter over `facts` with what earlier runs left in `state`; the textfile it writes. */
    const format = (facts: string[], state: string, kind = "github-runner") => {
        const out = tempRoot();
        const r = spawnSync("python3", ["-c", formatter, "h1", "amd64", kind, RELEASES, state, out], { input: `${facts.join("\n")}\n`, encoding: "utf8" });
        expect(r.status, r.stderr).to.equal(0);
        return fs.readFileSync(path.join(out, "runner_fleet.prom"), "utf8");
    };
    const value = (text: string, series: string) => {
        const line = text.split("\n").find(l => l.startsWith(`${series} `) || l.startsWith(series.replace(/}$/, ",")));
        return line === undefined ? undefined : line.slice(line.lastIndexOf(" ") + 1);
    };
    const at = (t: string) => `2026-12-01 10:${t}Z`;
    const runner = (more: string[] = []) => [
        `now ${Date.parse("2026-12-01T00:00:00Z") / 1000}`, "unit agent runner-fleet-runner@1 1", "runner 1 registered 1", "runner 1 online 1", "runner 1 busy 0",
        "runner 1 service-active 1", "runner 1 version 2.335.0", "runner 1 setup-failures 2", ...more,
    ];

    it("counts jobs by the runner's own lines, times them into the histogram, and counts a job whose listener started again as lost", () => {
        const state = tempRoot();
        const first = format(runner([
            `journal 1 ${at("00:00")}: Listening for Jobs`,
            `journal 1 ${at("00:05")}: Running job: build`, `journal 1 ${at("00:25")}: Job build completed with result: Succeeded`,
            `journal 1 ${at("01:00")}: Running job: test`, `journal 1 ${at("03:00")}: Job test completed with result: Failed`,
            `journal 1 ${at("04:00")}: Running job: long`, `journal 1 ${at("04:30")}: Listening for Jobs`,
            "journal 1 -- cursor: s=abc;i=1",
        ]), state);
        const r1 = 'host="h1",arch="amd64",kind="github-runner",runner="h1-1"';
        expect(value(first, `runner_fleet_jobs_started_total{${r1}}`)).to.equal("3");
        expect(value(first, `runner_fleet_jobs_completed_total{${r1},result="succeeded"}`)).to.equal("1");
        expect(value(first, `runner_fleet_jobs_completed_total{${r1},result="failed"}`)).to.equal("1");
        expect(value(first, `runner_fleet_jobs_completed_total{${r1},result="abandoned"}`)).to.equal("0");
        expect(value(first, `runner_fleet_jobs_lost_total{${r1}}`)).to.equal("1");
        expect(value(first, `runner_fleet_job_duration_seconds_bucket{${r1},le="30"}`)).to.equal("1");
        expect(value(first, `runner_fleet_job_duration_seconds_bucket{${r1},le="60"}`)).to.equal("1");
        expect(value(first, `runner_fleet_job_duration_seconds_bucket{${r1},le="120"}`)).to.equal("2");
        expect(value(first, `runner_fleet_job_duration_seconds_bucket{${r1},le="300"}`)).to.equal("2");
        expect(value(first, `runner_fleet_job_duration_seconds_bucket{${r1},le="+Inf"}`)).to.equal("2");
        expect(value(first, `runner_fleet_job_duration_seconds_sum{${r1}}`)).to.equal("140.0");
        expect(value(first, `runner_fleet_job_setup_failures_total{${r1},check="docker"}`)).to.equal("2");
        expect(fs.readFileSync(path.join(state, "runner-1.cursor"), "utf8")).to.equal("s=abc;i=1");
        // The next run adds to what the first counted; a job open when the service stops is lost too.
        const second = format(runner([`journal 1 ${at("06:00")}: Running job: deploy`, `journal 1 ${at("09:00")}: Job deploy completed with result: Abandoned`,
            `journal 1 ${at("10:00")}: Running job: cut`]).map(l => l === "runner 1 service-active 1" ? "runner 1 service-active 0" : l), state);
        expect(value(second, `runner_fleet_jobs_started_total{${r1}}`)).to.equal("5");
        expect(value(second, `runner_fleet_jobs_completed_total{${r1},result="abandoned"}`)).to.equal("1");
        expect(value(second, `runner_fleet_jobs_lost_total{${r1}}`)).to.equal("2");
        expect(value(second, `runner_fleet_job_duration_seconds_count{${r1}}`)).to.equal("3");
        // No line of the job's own (a step's output in the journal) is taken for the runner's.
        const third = format(runner(["journal 1 Running job: fake", `journal 1 ${at("11:00")}: Job x completed with result: Pwned`]), state);
        expect(value(third, `runner_fleet_jobs_started_total{${r1}}`)).to.equal("5");
    });

    it("counts the days left as the drift check and status do (runnerStanding), +Inf for the newest, and writes no label value it did not check", () => {
        const r1 = 'host="h1",arch="amd64",kind="github-runner",runner="h1-1"';
        const today = new Date("2026-12-01T00:00:00Z");
        for (const version of ["2.329.0", "2.333.0", "2.335.0", "2.335.1"]) {
            const text = format(runner().map(l => l.replace("version 2.335.0", `version ${version}`)), tempRoot());
            expect(value(text, `runner_fleet_runner_support_days_left{${r1}}`), version).to.equal(String(runnerStanding(version, today).daysLeft));
        }
        const old = format(runner(), tempRoot());
        expect(old).to.contain(`runner_fleet_runner_info{${r1},version="2.335.0"} 1`);
        const newest = format(runner().map(l => l.replace("version 2.335.0", `version ${RUNNER_RELEASES[0].version}`)), tempRoot());
        expect(value(newest, `runner_fleet_runner_support_days_left{${r1}}`)).to.equal("+Inf");
        const odd = format(runner().map(l => l.replace("version 2.335.0", 'version 2.335.0"} 1\nevil 1')), tempRoot());
        expect(odd).to.not.contain("evil");
    });

    it("writes an actuated host's microVMs, agent and mirror, and no runner series", () => {
        const text = format(["now 1796119200", "unit agent actuated 1", "microvms 2", "unit mirror registry-mirror 1", "disk /var/lib/actuated 100 200"], tempRoot(), "actuated");
        expect(text).to.contain('runner_fleet_microvms_running{host="h1",arch="amd64",kind="actuated"} 2');
        expect(text).to.contain('runner_fleet_agent_up{host="h1",arch="amd64",kind="actuated",unit="actuated"} 1');
        expect(text).to.contain('runner_fleet_disk_free_bytes{host="h1",arch="amd64",kind="actuated",path="/var/lib/actuated"} 100');
        expect(text).to.not.match(/^runner_fleet_(runner|jobs?)_/m);
    });
});

describe("install-metrics.sh", () => {
    const env = (more: Record<string, string> = {}) => ({
        RENDER_ONLY: "1", ROOT: tempRoot(), RUNNER_FLEET_HOST: "h1", HOST_ARCH: "amd64", AGENT: "github-runner",
        METRICS_BIND: "10.0.0.5:9100", MIRROR_MODE: "registry", MIRROR_BIND: "127.0.0.1:5000", ...more,
    });

    it("renders the exporter's unit on the bind alone, the timer, and the settings with the releases from stdin", () => {
        const e = env();
        const r = run("install-metrics.sh", e, "2.336.0 2026-07-20\n2.335.0 2026-06-08\n");
        expect(r.status, r.out).to.equal(0);
        const unit = fs.readFileSync(path.join(e.ROOT, "etc/systemd/system/runner-fleet-node-exporter.service"), "utf8");
        expect(unit).to.contain("--web.listen-address=10.0.0.5:9100 --collector.textfile.directory=/var/lib/runner-fleet-metrics").and.contain("DynamicUser=yes");
        expect(fs.readFileSync(path.join(e.ROOT, "etc/systemd/system/runner-fleet-metrics.timer"), "utf8")).to.contain("OnUnitActiveSec=15s");
        expect(fs.readFileSync(path.join(e.ROOT, "etc/runner-fleet/metrics.env"), "utf8")).to.contain('RUNNER_RELEASES="2.336.0:2026-07-20 2.335.0:2026-06-08"');
    });

    for (const bind of ["0.0.0.0:9100", "203.0.113.9:9100"]) {
        it(`refuses to listen on ${bind}, writing nothing`, () => {
            const e = env({ METRICS_BIND: bind });
            const r = run("install-metrics.sh", e, "");
            expect(r.status).to.equal(1);
            expect(r.out).to.contain("is not a loopback or private address");
            expect(fs.readdirSync(e.ROOT)).to.deep.equal([]);
        });
    }

    it("refuses a stdin line that is not a release and its date", () => {
        const r = run("install-metrics.sh", env(), "2.336.0 2026-07-20\n$(reboot) now\n");
        expect(r.status).to.equal(1);
        expect(r.out).to.contain("one 'VERSION YYYY-MM-DD' line per actions/runner release");
    });
});

describe("what each install ships", () => {
    it("ships every script a command runs: the runner's supervisor and job clean-up, actuated's in-place step", () => {
        const names = (s: string) => scriptBundle(s).map(f => f.name);
        expect(names("install-github-runner.sh")).to.include.members(["common.sh", "runner-service.sh", "job-cleanup.sh"]);
        expect(names("install-actuated.sh")).to.include.members(["common.sh", "configure-actuated.sh"]);
    });
});
