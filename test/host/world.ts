// A stand-in for the outside world, on the test bridge only (10.213.0.1):
//  - an HTTP server with a fake GitHub API (runner registration, removal and
//    token requests, recorded) and the artifacts the scripts download: a fake
//    actions/runner release per arch and a fake actuated installer, with the
//    same install contract as the real ones;
//  - an upstream registry standing in for Docker Hub: Debian's docker-registry
//    (CNCF distribution) with htpasswd auth, holding a small image built here,
//    behind a front that speaks Docker Hub's token scheme (a Bearer challenge,
//    a token endpoint that takes the Docker Hub user and password) and counts
//    the blob requests it serves. The front is needed because distribution
//    2.8's proxy mode authenticates upstream with tokens only, as Docker Hub
//    wants, never with Basic credentials.

import { ChildProcess, execFileSync, spawn } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { agentBundle, fakeArkade, fakeArkadeGet, fakeGetSh } from "./fake-actuated";
import { compareVersions } from "../../components/spec/catalog";

export const WORLD_IP = "10.213.0.1";
export const HTTP_PORT = 8080;
export const REGISTRY_PORT = 5001;
export const COUNTING_PORT = 5002;
/** The images the upstream serves, each with tag 1: one per kind of measurement, so each starts uncached. */
export const UPSTREAM_IMAGES = ["library/hello", "library/compare", "library/clients", "library/ttl"] as const;

export interface RunnerRecord {
    id: number;
    name: string;
    labels: string[];
    group: string;
    ephemeral: boolean;
    org: string;
}

export interface WorldEvent {
    readonly kind: string;
    readonly detail: Record<string, unknown>;
}

/** Tokens as the test hands them out; distinctive so leaks can be searched for. */
export interface WorldSecrets {
    readonly adminToken: string;
    readonly actuatedToken: string;
    readonly registryUser: string;
    readonly registryPassword: string;
}

function sha256(b: Buffer | string): string {
    return createHash("sha256").update(b).digest("hex");
}

/** The oldest actions/runner release GitHub registers (the fleet's catalog refuses older ones too). */
const MIN_RUNNER_VERSION = "2.329.0";

// ---------------------------------------------------------------------------
// The fake actions/runner release. Each behaviour follows actions/runner
// (AR, src/Misc/layoutroot and src/Runner.Listener at v2.336.0) where
// runner-fleet depends on it:
//  - config.sh refuses root unless RUNNER_ALLOW_RUNASROOT is set ("Must not
//    run with sudo"; AR config.sh);
//  - config.sh fails without ICU ("Libicu's dependencies is missing for
//    Dotnet Core 6.0"; AR config.sh checks ldconfig for libicu);
//  - inputs come from ACTIONS_RUNNER_INPUT_<NAME> (AR CommandSettings.cs);
//    an existing name without --replace fails ("A runner exists with the same
//    name"), with --replace the runner keeps its id; --ephemeral: one job,
//    then the registration is gone; an unknown --runnergroup fails ("Could
//    not find any self-hosted runner group named ..."), and so does
//    --no-default-labels without --labels (AR ConfigurationManager.cs); the
//    release's version goes with the registration, and GitHub refuses one
//    below its minimum (2.329.0: the github.blog changelog on self-hosted
//    runner minimum version enforcement, "to configure or re-register a
//    runner, it must be on version 2.329.0 or later"; a server rule, not in
//    AR's source, so its wording here is the suite's own);
//  - run.sh loops over run-helper.sh (copied from its template each time
//    round) while the helper returns 2, and otherwise exits 0; the helper runs
//    bin/Runner.Listener and turns its return codes into 2 (retry after 5 s;
//    3/4, an update: once update.finished appears, at most ~30 s) or 0 (AR
//    src/Misc/layoutroot/run.sh, run-helper.sh.template; Constants.cs
//    ReturnCode);
//  - the listener loads .env into its environment, and so the jobs' (AR
//    Program.cs LoadAndSetEnv); it runs a job in a child Runner.Worker from its
//    own folder as the OS resolves it (AR HostContext.cs GetDirectory(Bin) from
//    the entry assembly's location; JobDispatcher.cs "spawnclient"), whose last
//    step is ACTIONS_RUNNER_HOOK_JOB_COMPLETED (AR JobExtension.cs), and on SIGINT or
//    SIGTERM shuts the job down, reports it and exits 0 (AR Runner.cs,
//    JobDispatcher.cs: "completed with result: Canceled"; the worker marks
//    the job failed with a shutdown annotation);
//  - self-update (AR SelfUpdaterV2.cs, update.sh.template): told of a newer
//    release while idle, the listener unpacks it into _work/_update, copies
//    its bin to bin.<new> and the root files over the old ones, removes
//    bin.* other than the current and the new, writes _work/_update.sh from
//    bin.<new>/update.sh.template, starts it and returns 3; the script waits
//    for the listener to end, moves bin to bin.<old> (or removes the link),
//    links bin to bin.<new> and touches update.finished;
//  - a registration GitHub deleted: from 2.336.0 the listener says "The
//    runner no longer exists on the server. Cleaning up local configuration.",
//    removes .runner and .credentials and returns 0 (AR Runner.cs); before,
//    its session is refused ("Failed to create a session. The runner
//    registration has been deleted from the server, please re-configure.",
//    MessageListener.cs) and it returns 1, keeping them (a release before
//    2.336.0 that loses it while running first returns 2 from the generic
//    catch in Program.cs and run-helper restarts it 5 s later into that same
//    refusal; the stand-in goes to the refusal at once); either way the line
//    goes to the terminal and to _diag/Runner_*.log.
// The stand-in reports to the world what it does (registration, jobs, the
// signals it got) so the suite can see it; a listener that is SIGKILLed
// reports nothing, as GitHub then only learns of it when the job times out.
// One guard is the suite's own, not the runner's: --token on the command
// line is refused (the fleet must pass it through the environment).

const FAKE_CONFIG_SH = `#!/usr/bin/env bash
# Fake actions/runner config.sh for the runner-fleet host suite.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ] && [ -z "\${RUNNER_ALLOW_RUNASROOT:-}" ]; then echo "Must not run with sudo" >&2; exit 1; fi
# As actions/runner's config.sh looks for ICU (src/Misc/layoutroot/config.sh): grep reads all of
# ldconfig's output (no -q, which would end the pipe early and fail it under pipefail).
if ! ldconfig -NXv 2>/dev/null | grep libicu >/dev/null 2>&1; then
  echo "Libicu's dependencies is missing for Dotnet Core 6.0" >&2; exit 1
fi
url="" name="" labels="" group="Default" ephemeral=false replace=false nodefault=false
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="$2"; shift ;;
    --name) name="$2"; shift ;;
    --labels) labels="$2"; shift ;;
    --runnergroup) group="$2"; shift ;;
    --work) shift ;;
    --ephemeral) ephemeral=true ;;
    --replace) replace=true ;;
    --no-default-labels) nodefault=true ;;
    --unattended|--disableupdate) ;;
    --token) echo "token on the command line (the suite's guard)" >&2; exit 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$nodefault" = true ] && [ -z "$labels" ]; then
  echo "Disabling default labels via --no-default-labels without specifying --labels is not supported" >&2; exit 1
fi
token="\${ACTIONS_RUNNER_INPUT_TOKEN:?no token}"
unset ACTIONS_RUNNER_INPUT_TOKEN
base="\${url%/*}"; org="\${url##*/}"
hdr="$(mktemp)"; chmod 600 "$hdr"
printf 'Authorization: RemoteAuth %s\\n' "$token" > "$hdr"
body="$(python3 -c 'import json,sys; print(json.dumps({"name":sys.argv[1],"labels":sys.argv[2].split(","),"group":sys.argv[3],"ephemeral":sys.argv[4]=="true","org":sys.argv[5],"replace":sys.argv[6]=="true","version":sys.argv[7]}))' "$name" "$labels" "$group" "$ephemeral" "$org" "$replace" "$(cat "$(dirname "$(readlink -f bin/Runner.Listener)")/.version")")"
if ! curl -sS -o .runner.tmp -w '%{http_code}' -H @"$hdr" -H 'Content-Type: application/json' -d "$body" "$base/_fake/runners/register" > .status; then
  rm -f "$hdr"; echo "could not reach GitHub" >&2; exit 1
fi
rm -f "$hdr"
if [ "$(cat .status)" = 404 ]; then printf 'Could not find any self-hosted runner group named "%s".\\n' "$group" >&2; rm -f .status .runner.tmp; exit 1; fi
if [ "$(cat .status)" != 200 ]; then echo "Http response code: $(cat .status) $(cat .runner.tmp)" >&2; rm -f .status .runner.tmp; exit 1; fi
rm -f .status
mv .runner.tmp .runner
printf '{"base":"%s","name":"%s","ephemeral":%s}\\n' "$base" "$name" "$ephemeral" > .credentials
echo "runner $name registered"
`;

const FAKE_RUN_SH = `#!/usr/bin/env bash
# Fake actions/runner run.sh: run-helper.sh again while it returns 2.
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ] && [ -z "\${RUNNER_ALLOW_RUNASROOT:-}" ]; then echo "Must not run interactively with sudo" >&2; exit 1; fi
while :; do
  cp -f run-helper.sh.template run-helper.sh
  ./run-helper.sh "$@"; rc=$?
  [ "$rc" = 2 ] || exit 0
done
`;

const FAKE_RUN_HELPER = `#!/usr/bin/env bash
# Fake actions/runner run-helper.sh.template: the listener, its return code read.
DIR="$(cd "$(dirname "$0")" && pwd)"
"$DIR"/bin/Runner.Listener run "$@"; rc=$?
case "$rc" in
  2) sleep 5; exit 2 ;;
  3|4) for _ in $(seq 1 30); do [ -e "$DIR/update.finished" ] && break; sleep 1; done; rm -f "$DIR/update.finished"; exit 2 ;;
  *) exit 0 ;;
esac
`;

const FAKE_UPDATE_SH = `#!/usr/bin/env bash
# Fake bin/update.sh.template (AR src/Misc/layoutbin/update.sh.template).
runnerpid=_PROCESS_ID_
rootfolder="_ROOT_FOLDER_"
existrunnerversion=_EXIST_RUNNER_VERSION_
downloadrunnerversion=_DOWNLOAD_RUNNER_VERSION_
while [ -e "/proc/$runnerpid" ]; do sleep 2; done
sleep 1
cd "$rootfolder" || exit 1
if [ -L bin ]; then rm bin; else mv -f bin "bin.$existrunnerversion"; fi
ln -s "$rootfolder/bin.$downloadrunnerversion" "$rootfolder/bin"
touch update.finished
`;

const FAKE_LISTENER = `#!/usr/bin/env bash
# Fake bin/Runner.Listener: reports to the service, runs a job in a child
# Runner.Worker, updates itself when told, shuts a running job down on SIGINT
# or SIGTERM. --version prints the release and exits (AR Program.cs).
bindir="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
if [ "\${1:-}" = --version ]; then cat "$bindir/.version"; exit 0; fi
root="$(dirname "$bindir")"
cd "$root"
# .env's lines become the runner's environment, the jobs' and the hooks' (AR Program.cs LoadAndSetEnv),
# first: nothing in it changes what the listener itself works with.
if [ -f .env ]; then
  while IFS= read -r line; do case "$line" in [A-Za-z_]*=*) export "\${line%%=*}=\${line#*=}" 2>/dev/null ;; esac; done < .env
fi
version="$(cat "$bindir/.version")"
# A log of its own for every start, as the real listener keeps in _diag (Runner_<time>-utc.log).
mkdir -p _diag
diag="_diag/Runner_$(date -u +%Y%m%d-%H%M%S)-$$-utc.log"
echo "[$(date -u +%FT%TZ) INFO Runner] Runner.Listener $version started" >> "$diag"
base="$(python3 -c 'import json; print(json.load(open(".credentials"))["base"])')"
name="$(python3 -c 'import json; print(json.load(open(".credentials"))["name"])')"
ephemeral="$(python3 -c 'import json; print(str(json.load(open(".credentials"))["ephemeral"]).lower())')"
export FAKE_BASE="$base" GITHUB_WORKSPACE="$root/_work/app/app" RUNNER_TEMP="$root/_work/_temp"
worker=""
acquired=""
report() { curl -fsS -X POST "$base/_fake/runners/$name/$1" >/dev/null 2>&1 || true; }
# What the listener writes to its terminal (AR Terminal.WriteLine, "{DateTime.UtcNow:u}: ..."): Runner.cs
# "Listening for Jobs" once connected; JobDispatcher.cs "Running job: <name>" and "Job <name> completed
# with result: <result>" (Canceled when the runner's shutdown cancels it).
term() { echo "$(date -u '+%F %TZ'): $*"; }
shutdown() {
  report "signal?sig=$1"
  if [ -n "$worker" ] && kill -0 "$worker" 2>/dev/null; then
    # The real listener tells the worker over its IPC channel (RunnerShutdown); here, SIGTERM.
    kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null
    term "Job build-\${job:-0} completed with result: Canceled"
    report "report?result=Failed&reason=shutdown&job=\${job:-0}"
  elif [ -n "$acquired" ]; then
    # Acquired, its worker not started yet: the job is the runner's, and it ends canceled.
    term "Job build-$acquired completed with result: Canceled"
    report "report?result=Failed&reason=shutdown&job=$acquired"
  fi
  exit 0
}
trap 'shutdown INT' INT
trap 'shutdown TERM' TERM
term "Listening for Jobs"
self_update() {
  local target="$1" url="$2" old
  rm -rf _work/_update && mkdir -p _work/_update
  curl -fsSL "$url" | tar -xz -C _work/_update || return 1
  rm -rf "bin.$target" && cp -a _work/_update/bin "bin.$target"
  for f in run.sh run-helper.sh.template config.sh; do cp -f "_work/_update/$f" "$f"; done
  for old in bin.*; do case "$old" in "bin.$version" | "bin.$target") ;; *) rm -rf "$old" ;; esac; done
  sed -e "s|_PROCESS_ID_|$$|; s|_ROOT_FOLDER_|$root|; s|_EXIST_RUNNER_VERSION_|$version|; s|_DOWNLOAD_RUNNER_VERSION_|$target|" \
    "bin.$target/update.sh.template" > _work/_update.sh
  rm -f update.finished
  report "updating?from=$version&to=$target"
  bash _work/_update.sh >/dev/null 2>&1 &
}
while true; do
  code="$(curl -sS -o .heartbeat -w '%{http_code}' -X POST "$base/_fake/runners/$name/heartbeat?user=$(id -un)&pid=$$&arch=$(cat .fake-arch)&version=$version" 2>/dev/null || true)"
  answer="$(cat .heartbeat 2>/dev/null || true)"; rm -f .heartbeat
  if [ "$code" = 404 ]; then
    if [ "$(printf '%s\n' "$version" 2.336.0 | sort -V | head -n 1)" = 2.336.0 ]; then
      echo "The runner no longer exists on the server. Cleaning up local configuration." | tee -a "$diag"
      rm -f .runner .credentials
      exit 0
    fi
    # Before 2.336.0: the session is refused and the listener returns 1, keeping its configuration.
    echo "Failed to create a session. The runner registration has been deleted from the server, please re-configure. Runner registrations are automatically deleted for runners that have not connected to the service recently." | tee -a "$diag"
    exit 1
  fi
  case "$answer" in
    job:*)
      IFS=: read -r seconds kind job <<< "\${answer#job:}"
      # Taken by another runner, or no longer queued: back to listening.
      curl -fsS -X POST "$base/_fake/runners/$name/acquire?job=$job" >/dev/null 2>&1 || { sleep 1 & wait $!; continue; }
      acquired="$job"
      mkdir -p "$GITHUB_WORKSPACE" "$RUNNER_TEMP" && echo "left by the job" > "$GITHUB_WORKSPACE/output.txt"
      term "Running job: build-$job"
      "$bindir/Runner.Worker" spawnclient "$seconds" "$kind" "$job" &
      worker=$!
      wait "$worker"; rc=$?
      while kill -0 "$worker" 2>/dev/null; do wait "$worker"; rc=$?; done
      worker="" acquired=""
      term "Job build-$job completed with result: $([ "$rc" = 0 ] && echo Succeeded || echo Failed)"
      report "report?result=$([ "$rc" = 0 ] && echo Succeeded || echo Failed)&job=$job"
      if [ "$ephemeral" = true ]; then rm -f .runner .credentials; exit 0; fi ;;
    update:*)
      target="\${answer#update:}"
      if self_update "\${target%% *}" "\${target#* }"; then exit 3; fi ;;
  esac
  sleep 1 & wait $!
done
`;

/**
 * The fake worker: the job, as long as the world said. A container job does what a job with Docker
 * steps does to the host: it runs a container through the runner's Docker (DOCKER_HOST, from .env)
 * that lasts the job, has a container write to the workspace as a user other than its root (as
 * actions/checkout in a container job leaves files the runner cannot remove: actions/runner#434),
 * logs in (~/.docker/config.json) and sets ~/.gitconfig. It tells the world what it found left by
 * earlier jobs in its home and workspace, and fails if its container was gone before it ended.
 */
const FAKE_WORKER = `#!/usr/bin/env bash
# Fake bin/Runner.Worker: spawnclient SECONDS KIND JOB.
trap 'exit 130' TERM
seconds="\${2:-1}" kind="\${3:-plain}" job="\${4:-0}"
note() { curl -fsS -X POST "$FAKE_BASE/_fake/jobs/$job?$1" >/dev/null 2>&1 || true; }
if [ "$kind" = container ]; then
  left="$( { cd "$HOME" && ls -A | grep -v -x -F -f <(ls -A /etc/skel); cd "$GITHUB_WORKSPACE" && ls -A | grep -v -x output.txt; } 2>/dev/null | tr '\n' ' ')"
  note "started=1&user=$(id -un)&leftovers=$(printf %s "$left" | sed 's/ /%20/g')"
  if ! out="$(docker run -d --name "job-$job" library/busybox:1 sleep "$((seconds + 120))" 2>&1)"; then
    note "error=$(printf %s "$out" | grep -m 1 -i error | head -c 300 | sed 's/[^A-Za-z0-9._:/-]/_/g')&at=$(date -u +%T)"; exit 1
  fi
  docker run --rm -v "$GITHUB_WORKSPACE:/w" library/busybox:1 sh -c 'mkdir -p /w/out && echo data > /w/out/f && chown -R 1000:1000 /w/out && chmod 700 /w/out' >/dev/null 2>&1
  mkdir -p "$HOME/.docker" && printf '{"auths":{"example.com":{"auth":"am9iOnNlY3JldA=="}}}\n' > "$HOME/.docker/config.json"
  printf '[user]\n\tname = job %s\n' "$job" > "$HOME/.gitconfig"
fi
# The job-started hook is the job's first step (AR JobExtension.cs, "Set up job").
if [ -n "\${ACTIONS_RUNNER_HOOK_JOB_STARTED:-}" ]; then "$ACTIONS_RUNNER_HOOK_JOB_STARTED" >/dev/null 2>&1 || true; fi
sleep "$seconds" & wait $!
rc=0
# A job whose own steps fail.
[ "$kind" != failing ] || rc=1
if [ "$kind" = container ]; then
  running="$(docker inspect -f '{{.State.Running}}' "job-$job" 2>/dev/null || echo gone)"
  note "container=$running"
  [ "$running" = true ] || rc=1
fi
# The job-completed hook is the job's last step, run by the worker (AR JobExtension.cs, "Set up job" /
# "Complete job" hooks): the job is still running while it runs.
if [ -n "\${ACTIONS_RUNNER_HOOK_JOB_COMPLETED:-}" ]; then "$ACTIONS_RUNNER_HOOK_JOB_COMPLETED" >/dev/null 2>&1 || true; fi
exit "$rc"
`;

function runnerTarball(dir: string, arch: "x64" | "arm64", version: string): Buffer {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), `fake-runner-${arch}-`));
    fs.writeFileSync(path.join(src, "config.sh"), FAKE_CONFIG_SH, { mode: 0o755 });
    fs.writeFileSync(path.join(src, "run.sh"), FAKE_RUN_SH, { mode: 0o755 });
    fs.writeFileSync(path.join(src, "run-helper.sh.template"), FAKE_RUN_HELPER, { mode: 0o755 });
    fs.mkdirSync(path.join(src, "bin"));
    fs.writeFileSync(path.join(src, "bin", "Runner.Listener"), FAKE_LISTENER, { mode: 0o755 });
    fs.writeFileSync(path.join(src, "bin", "Runner.Worker"), FAKE_WORKER, { mode: 0o755 });
    fs.writeFileSync(path.join(src, "bin", ".version"), `${version}\n`);
    fs.writeFileSync(path.join(src, "bin", "update.sh.template"), FAKE_UPDATE_SH, { mode: 0o755 });
    fs.writeFileSync(path.join(src, ".fake-arch"), `${arch}\n`);
    const out = path.join(dir, `runner-${arch}-${version}.tar.gz`);
    execFileSync("tar", ["-czf", out, "-C", src, "."]);
    fs.rmSync(src, { recursive: true, force: true });
    return fs.readFileSync(out);
}

// ---------------------------------------------------------------------------
// The image the upstream registry serves: two layers built here.

function tarOf(files: Record<string, string>): Buffer {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-layer-"));
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
    }
    const tar = execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-cf", "-", "-C", dir, "."]);
    fs.rmSync(dir, { recursive: true, force: true });
    return tar;
}

/**
 * Writes an OCI image layout with a small two-layer image and returns its path. Layer 1 is the same in
 * every image (a fixed file, tar and gzip made reproducible), as a base layer is shared on Docker Hub: one
 * repository's expiry deletes it for all (registry/proxy/proxyregistry.go OnBlobExpire removes the blob
 * itself). Layer 2 is the image's own random data.
 */
export function buildImageLayout(dir: string, name = "image", own?: { layer: Buffer; cmd: string[] }): { layout: string; blobs: string[] } {
    const layout = path.join(dir, name);
    const blobsDir = path.join(layout, "blobs", "sha256");
    fs.mkdirSync(blobsDir, { recursive: true });
    const put = (b: Buffer) => {
        const d = sha256(b);
        fs.writeFileSync(path.join(blobsDir, d), b);
        return { digest: `sha256:${d}`, size: b.length };
    };
    const layers = [
        tarOf({ "etc/hello.txt": "hello from the runner-fleet host suite\n" }),
        own?.layer ?? tarOf({ "usr/share/hello/data.bin": randomBytes(256 * 1024).toString("base64") }),
    ];
    const gz = layers.map(t => execFileSync("gzip", ["-n", "-c"], { input: t }));
    const layerDescs = gz.map(b => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...put(b) }));
    const config = Buffer.from(JSON.stringify({
        architecture: "amd64", os: "linux",
        config: { Cmd: own?.cmd ?? ["cat", "/etc/hello.txt"], Env: ["PATH=/bin"] },
        rootfs: { type: "layers", diff_ids: layers.map(t => `sha256:${sha256(t)}`) },
    }));
    const configDesc = { mediaType: "application/vnd.oci.image.config.v1+json", ...put(config) };
    const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configDesc, layers: layerDescs,
    }));
    const manifestDesc = put(manifest);
    fs.writeFileSync(path.join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    fs.writeFileSync(path.join(layout, "index.json"), JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifestDesc, annotations: { "org.opencontainers.image.ref.name": "1" } }],
    }));
    return { layout, blobs: [configDesc.digest, ...layerDescs.map(l => l.digest)] };
}

/** A layer with Debian's static busybox as /bin/busybox and the applets the suite's jobs use. */
function busyboxLayer(deb: string): Buffer {
    const x = fs.mkdtempSync(path.join(os.tmpdir(), "busybox-deb-"));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "busybox-layer-"));
    execFileSync("dpkg-deb", ["-x", deb, x]);
    fs.mkdirSync(path.join(root, "bin"));
    fs.copyFileSync(path.join(x, "bin", "busybox"), path.join(root, "bin", "busybox"));
    fs.chmodSync(path.join(root, "bin", "busybox"), 0o755);
    for (const applet of ["sh", "sleep", "mkdir", "chown", "chmod", "cat", "ls", "rm", "id", "wget"]) {
        fs.symlinkSync("busybox", path.join(root, "bin", applet));
    }
    const tar = execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-cf", "-", "-C", root, "."], { maxBuffer: 64 << 20 });
    fs.rmSync(x, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
    return tar;
}

// ---------------------------------------------------------------------------

export class World {
    public readonly base = `http://${WORLD_IP}:${HTTP_PORT}`;
    public readonly upstream = `http://${WORLD_IP}:${COUNTING_PORT}`;
    public readonly events: WorldEvent[] = [];
    public readonly requests: string[] = [];
    public readonly runners = new Map<string, RunnerRecord>();
    public readonly heartbeats = new Map<string, { user: string; arch: string; at: number; licence?: string; id?: string }>();
    /** Upstream blob requests served with a Docker Hub login (not anonymously), by digest. */
    public readonly authenticatedBlobCounts = new Map<string, number>();
    /** Local apt repositories on the bridge, by arch: folders with Packages and the .debs (testhost.sh apt-repo). */
    public aptRepos: Record<string, string> = {};
    /** Upstream blob requests served, by digest. */
    public readonly blobCounts = new Map<string, number>();
    /** Upstream manifest GETs served, by reference (tag or digest). */
    public readonly manifestCounts = new Map<string, number>();
    /** While true the upstream drops every connection. */
    public upstreamDown = false;
    /** Release archives of the mirror's registry, by file name: served as GitHub releases serves them. */
    public registryArchives: Record<string, string> = {};
    /** Files served under /tools/, by name (test-only tools such as crictl). */
    public tools: Record<string, string> = {};
    public imageBlobs: string[] = [];
    /** Every image the upstream serves (library/hello:1 and the others), by repository: config, layer 1, layer 2. */
    public readonly images: Record<string, string[]> = {};
    private jobsFor = new Map<string, { seconds: number; kind: string; id: number }>();
    private nextJob = 1;
    /** What container jobs told of themselves, by job id (started, user, leftovers, container, error). */
    public readonly jobNotes = new Map<number, Record<string, string>>();
    /** Jobs handed out: id, runner, kind, and when (the world's clock). */
    public readonly jobsGiven: { id: number; name: string; kind: string; at: number }[] = [];
    /** How far the world's clock is ahead of the machine's: advance() moves it, as days pass on a real fleet. */
    private clockOffsetMs = 0
    /** How long a registration or removal token lasts: an hour at GitHub (docs.github.com, self-hosted runners REST API). */
    public tokenLifetimeMs = 3600_000;
    /** Every API request: who sent it (the test world sees the host's address) and with which credential. */
    public readonly apiLog: { method: string; path: string; from: string; auth: "operator" | "registration" | "other" | "none" }[] = [];
    /** Jobs the fake runners reported, in order. */
    public readonly jobReports: { name: string; result: string; reason: string; job?: number; at?: number }[] = [];
    /** Signals the fake listeners got. */
    public readonly signals: { name: string; sig: string }[] = [];
    /** Docker Hub tokens handed out, and whether a login got them (Docker Hub hands out anonymous ones too). */
    private hubTokens = new Map<string, "user" | "anonymous">();
    private bundle?: Buffer;
    /** Registration tokens handed out, with when they expire. */
    public readonly issued = new Map<string, number>();
    private nextId = 1;
    private servers: http.Server[] = [];
    private busy = new Set<string>();

    /** Whether a runner reported in the last 5 s. */
    online(name: string): boolean {
        return this.now() - (this.heartbeats.get(name)?.at ?? 0) < 5000;
    }
    private registry?: ChildProcess;
    private readonly dir: string;
    /** Fake runner releases built on demand, by arch and version. */
    private readonly tarballs = new Map<string, Buffer>();

    constructor(public readonly secrets: WorldSecrets) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-world-"));

    }

    /**
     * A newer actions/runner release GitHub offers: an idle, registered runner
     * of an older version is told to update to it at its next heartbeat (a
     * RunnerRefresh message, with where to download it).
     */
    public updateTo?: string;
    /** The organization's runner groups (an unknown --runnergroup is refused). */
    public readonly runnerGroups = new Set(["Default", "native", "runner-fleet"]);
    /** The version each runner last reported. */
    public readonly versions = new Map<string, string>();

    /**
     * Deletes a runner's registration as GitHub does for one offline for 14 days, or an admin in the
     * organization's settings (docs.github.com, "About self-hosted runners"): its listener's next
     * request is refused as "runner not found".
     */
    deleteRunner(name: string): void {
        this.runners.delete(name);
        this.events.push({ kind: "deleted-by-github", detail: { name } });
    }

    /** Hands the runner named `name` a job that lasts `seconds` (a container job with kind "container", one whose steps fail with "failing"); returns its id. */
    giveJob(name: string, seconds = 1, kind: "plain" | "container" | "failing" = "plain"): number {
        const id = this.nextJob++;
        this.jobsFor.set(name, { seconds, kind, id });
        return id;
    }

    /** Jobs waiting for the actuated agent, by how many seconds each lasts. */
    private readonly actuatedJobs: number[] = [];

    /** Hands the actuated agent a job lasting `seconds`: it runs it in a microVM of its own. */
    giveActuatedJob(seconds: number): void {
        this.actuatedJobs.push(seconds);
    }

    /** Whether the runner named `name` runs a job it was handed. */
    isBusy(name: string): boolean {
        return this.busy.has(name);
    }

    /** Whether a job is waiting for the runner named `name`. */
    jobWaiting(name: string): boolean {
        return this.jobsFor.has(name);
    }

    /** The world's time: the machine's, plus what advance() added. */
    now(): number {
        return Date.now() + this.clockOffsetMs;
    }

    /**
     * Moves the world's clock forward, as days pass on a real fleet, and then removes what GitHub removes
     * by then: a self-hosted runner that has not connected for more than 14 days, an ephemeral one after
     * one day (docs.github.com, "About self-hosted runners": "automatically removed from GitHub if it has
     * not connected to GitHub Actions for more than 14 days"; "more than 1 day" for ephemeral runners).
     */
    advance(ms: number): void {
        // A runner that reports now kept reporting while the days passed.
        const connected = [...this.runners.keys()].filter(name => this.online(name));
        this.clockOffsetMs += ms;
        for (const name of connected) {
            this.lastContact.set(name, this.now());
        }
        this.removeStale();
    }

    private readonly lastContact = new Map<string, number>();

    private removeStale(): void {
        const day = 24 * 3600_000;
        for (const [name, r] of [...this.runners]) {
            const last = this.lastContact.get(name) ?? this.now();
            if (this.now() - last > (r.ephemeral ? 1 : 14) * day) {
                this.runners.delete(name);
                this.events.push({ kind: "deleted-by-github", detail: { name, why: "offline" } });
            }
        }
    }

    count(kind: string): number {
        return this.events.filter(e => e.kind === kind).length;
    }

    /**
     * Docker Hub where Docker itself goes when no mirror answers (moby registry/service.go: the
     * mirrors, then https://registry-1.docker.io): the same front on 443, with a certificate for that
     * name from a CA of the world's own. A host that trusts the CA and resolves the name to the bridge
     * (hubHostSetup) falls back as a real one does, for example while its mirror restarts.
     */
    public hubCa = "";

    /** What a test host runs to reach the world's Docker Hub as registry-1.docker.io (as root). */
    hubHostSetup(): string {
        return [
            `printf '%s\n' '${WORLD_IP} registry-1.docker.io' >> /etc/hosts`,
            "mkdir -p /usr/local/share/ca-certificates",
            `printf '%s' '${this.hubCa}' > /usr/local/share/ca-certificates/runner-fleet-world.crt`,
            "update-ca-certificates >/dev/null 2>&1",
        ].join("\n");
    }

    private async startHub(): Promise<void> {
        const d = fs.mkdtempSync(path.join(this.dir, "hub-"));
        const run = (...args: string[]) => execFileSync("openssl", args, { cwd: d, stdio: ["ignore", "ignore", "pipe"] });
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=runner-fleet world CA", "-keyout", "ca.key", "-out", "ca.crt");
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=registry-1.docker.io", "-keyout", "hub.key", "-out", "hub.csr");
        fs.writeFileSync(path.join(d, "ext"), "subjectAltName=DNS:registry-1.docker.io\n");
        run("x509", "-req", "-in", "hub.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", "hub.crt");
        this.hubCa = fs.readFileSync(path.join(d, "ca.crt"), "utf8");
        const server = https.createServer({ key: fs.readFileSync(path.join(d, "hub.key")), cert: fs.readFileSync(path.join(d, "hub.crt")) }, (req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", c => chunks.push(c));
            req.on("end", () => this.proxy(req, res, Buffer.concat(chunks)));
        });
        server.on("connection", socket => {
            if (this.upstreamDown) {
                socket.destroy();
            }
        });
        this.servers.push(server);
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(443, WORLD_IP, () => resolve());
        });
    }

    async start(): Promise<void> {
        await this.listen(HTTP_PORT, (req, res, body) => this.handle(req, res, body));
        await this.startHub();
        await this.startRegistry();
        const front = await this.listen(COUNTING_PORT, (req, res, body) => this.proxy(req, res, body));
        // An upstream that is down: every connection dropped before a byte of HTTP, as a host
        // without a route sees it (curl and Go's http.Get fail; no status comes back).
        front.on("connection", socket => {
            if (this.upstreamDown) {
                socket.destroy();
            }
        });
        for (const repo of UPSTREAM_IMAGES) {
            this.images[repo] = this.pushImage(repo);
        }
        this.imageBlobs = this.images["library/hello"];
        // library/busybox:1, which the suite's container jobs run, from the bridge's apt repository.
        const pool = this.aptRepos.amd64 && path.join(this.aptRepos.amd64, "pool", "main", "b", "busybox");
        const deb = pool && fs.existsSync(pool) ? fs.readdirSync(pool).find(f => f.startsWith("busybox-static_")) : undefined;
        if (pool && deb) {
            this.images["library/busybox"] = this.pushImage("library/busybox", { layer: busyboxLayer(path.join(pool, deb)), cmd: ["sh"] });
        }
    }

    async stop(): Promise<void> {
        await Promise.all(this.servers.map(s => new Promise(r => s.close(r))));
        this.registry?.kill("SIGTERM");
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private listen(port: number, handler: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<http.Server> {
        const server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", c => chunks.push(c));
            req.on("end", () => {
                try {
                    handler(req, res, Buffer.concat(chunks));
                } catch (e) {
                    res.statusCode = 500;
                    res.end(String(e));
                }
            });
        });
        this.servers.push(server);
        return new Promise((resolve, reject) => {
            server.once("error", reject);
            server.listen(port, WORLD_IP, () => resolve(server));
        });
    }

    private json(res: http.ServerResponse, status: number, v: unknown): void {
        res.statusCode = status;
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify(v));
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
        const url = new URL(req.url ?? "/", this.base);
        const p = url.pathname;
        this.requests.push(`${req.method} ${p}`);
        const auth = String(req.headers.authorization ?? "");
        let m: RegExpExecArray | null;

        // Artifacts.
        if (req.method === "GET" && (m = /^\/actions-runner\/v[\d.]+\/actions-runner-linux-(x64|arm64)-([\d.]+)\.tar\.gz$/.exec(p))) {
            this.events.push({ kind: "download", detail: { arch: m[1], version: m[2] } });
            const key = `${m[1]}-${m[2]}`;
            if (!this.tarballs.has(key)) {
                this.tarballs.set(key, runnerTarball(this.dir, m[1] as "x64" | "arm64", m[2]));
            }
            res.end(this.tarballs.get(key));
            return;
        }
        // distribution's release assets: https://github.com/distribution/distribution/releases/download/v<v>/registry_<v>_linux_<arch>.tar.gz
        if (req.method === "GET" && (m = /^\/distribution\/v([\d.]+)\/(registry_\1_linux_(amd64|arm64)\.tar\.gz)$/.exec(p))) {
            const file = this.registryArchives[m[2]];
            this.events.push({ kind: "registry-download", detail: { version: m[1], arch: m[3] } });
            if (!file) {
                res.statusCode = 404;
                res.end("Not Found");
                return;
            }
            res.end(fs.readFileSync(file));
            return;
        }
        if (req.method === "GET" && (m = /^\/tools\/([a-z]+)$/.exec(p)) && this.tools[m[1]]) {
            res.end(fs.readFileSync(this.tools[m[1]]));
            return;
        }
        if (req.method === "GET" && p === "/actuated/install.sh") {
            res.end(fakeGetSh(this.base));
            return;
        }
        if (req.method === "GET" && p === "/actuated/bundle.tar.gz") {
            this.bundle ??= agentBundle(this.dir, this.base);
            res.end(this.bundle);
            return;
        }
        if (req.method === "GET" && p === "/arkade/get.sh") {
            res.end(fakeArkadeGet(this.base));
            return;
        }
        if (req.method === "GET" && p === "/arkade/arkade") {
            res.end(fakeArkade(this.base, this.upstream));
            return;
        }
        if (req.method === "GET" && (m = /^\/apt\/(amd64|arm64)\/(Packages|pool\/[A-Za-z0-9._%+~/-]+\.deb)$/.exec(p)) && this.aptRepos[m[1]]) {
            // apt asks for sudo_1.9.13p3-1+deb12u4 as ...-1%2bdeb12u4.
            const rel = decodeURIComponent(m[2]);
            if (rel.includes("..")) {
                return this.json(res, 400, { message: "no" });
            }
            const file = path.join(this.aptRepos[m[1]], rel);
            if (!fs.existsSync(file)) {
                return this.json(res, 404, { message: "no such package file" });
            }
            this.events.push({ kind: "apt", detail: { arch: m[1], file: rel } });
            res.end(fs.readFileSync(file));
            return;
        }

        // The fake GitHub API (GITHUB_API_URL = base + /api).
        const admin = auth === `Bearer ${this.secrets.adminToken}`;
        if (p.startsWith("/api/") || p === "/_fake/runners/register") {
            const kind = admin ? "operator" : auth.startsWith("RemoteAuth ") ? "registration" : auth ? "other" : "none";
            this.apiLog.push({ method: req.method ?? "", path: p, from: req.socket.remoteAddress ?? "", auth: kind });
        }
        if ((m = /^\/api\/orgs\/([^/]+)\/actions\/runners\/(registration|remove)-token$/.exec(p)) && req.method === "POST") {
            if (!admin) {
                return this.json(res, 401, { message: "Bad credentials" });
            }
            const t = `fake-${m[2]}-${randomBytes(8).toString("hex")}`;
            const expires = this.now() + this.tokenLifetimeMs;
            this.issued.set(t, expires);
            this.events.push({ kind: "token", detail: { via: "api", type: m[2] } });
            return this.json(res, 201, { token: t, expires_at: new Date(expires).toISOString() });
        }
        if ((m = /^\/api\/orgs\/([^/]+)\/actions\/runners$/.exec(p)) && req.method === "GET") {
            if (!admin) {
                return this.json(res, 401, { message: "Bad credentials" });
            }
            // `name` keeps the runner of exactly that name, and total_count counts the filtered list, as GitHub
            // answers (docs.github.com/en/rest/actions/self-hosted-runners, "List self-hosted runners for an
            // organization", query parameter `name`, "The name of a self-hosted runner"; the same parameter in
            // GitHub's OpenAPI description, @octokit/openapi-types "actions/list-self-hosted-runners-for-org").
            const name = url.searchParams.get("name");
            const list = [...this.runners.values()].filter(r => r.org === m![1] && (!name || r.name === name));
            const runners = list.map(r => ({ id: r.id, name: r.name, status: this.online(r.name) ? "online" : "offline", busy: this.busy.has(r.name), labels: r.labels.map(l => ({ id: 0, name: l, type: "custom" })) }));
            // Paginated as GitHub's REST API is: per_page (default 30, at most 100) and page from 1
            // (docs.github.com/en/rest/actions/self-hosted-runners, "List self-hosted runners for an organization").
            const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30) || 30);
            const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
            return this.json(res, 200, { total_count: runners.length, runners: runners.slice((page - 1) * perPage, page * perPage) });
        }
        if ((m = /^\/api\/orgs\/([^/]+)\/actions\/runners\/(\d+)$/.exec(p)) && req.method === "DELETE") {
            if (!admin) {
                return this.json(res, 401, { message: "Bad credentials" });
            }
            const id = Number(m[2]);
            const r = [...this.runners.values()].find(x => x.id === id);
            if (!r) {
                return this.json(res, 404, { message: "Not Found" });
            }
            if (this.busy.has(r.name)) {
                return this.json(res, 422, { message: `Runner ${r.name} is still running a job` });
            }
            this.runners.delete(r.name);
            this.events.push({ kind: "remove", detail: { name: r.name } });
            res.statusCode = 204;
            res.end();
            return;
        }

        // What the fake runner and agent report.
        if (p === "/_fake/runners/register" && req.method === "POST") {
            const token = auth.replace(/^RemoteAuth /, "");
            const expires = this.issued.get(token);
            if (expires === undefined) {
                return this.json(res, 401, { message: "invalid registration token" });
            }
            if (this.now() > expires) {
                this.events.push({ kind: "expired-token", detail: {} });
                return this.json(res, 401, { message: "registration token expired" });
            }
            const b = JSON.parse(body.toString()) as Omit<RunnerRecord, "id"> & { replace?: boolean; version?: string };
            if (!this.runnerGroups.has(b.group)) {
                return this.json(res, 404, { message: `runner group ${b.group} not found` });
            }
            if (b.version && compareVersions(b.version, MIN_RUNNER_VERSION) < 0) {
                return this.json(res, 400, { message: `Runner version v${b.version} is deprecated: GitHub accepts ${MIN_RUNNER_VERSION} or newer` });
            }
            if (this.runners.has(b.name) && !b.replace) {
                return this.json(res, 400, { message: `A runner exists with the same name ${b.name}.` });
            }
            // --replace keeps the runner's id (AR ConfigurationManager.cs, ReplaceAgentAsync with the existing id).
            const record = { ...b, id: this.runners.get(b.name)?.id ?? this.nextId++ };
            this.runners.set(b.name, record);
            this.lastContact.set(b.name, this.now());
            this.events.push({ kind: "register", detail: { name: b.name } });
            return this.json(res, 200, { agentId: record.id, agentName: b.name, poolName: b.group });
        }
        if ((m = /^\/_fake\/runners\/([^/]+)\/heartbeat$/.exec(p))) {
            // A registration GitHub deleted (an admin, or 14 days offline): the listener's session is refused.
            this.removeStale();
            if (!this.runners.has(m[1])) {
                return this.json(res, 404, { message: "Runner not found" });
            }
            this.heartbeats.set(m[1], { user: url.searchParams.get("user") ?? "", arch: url.searchParams.get("arch") ?? "", at: this.now() });
            this.lastContact.set(m[1], this.now());
            const version = url.searchParams.get("version") ?? "";
            this.versions.set(m[1], version);
            const arch = url.searchParams.get("arch") ?? "x64";
            if (this.updateTo && compareVersions(version, this.updateTo) < 0 && !this.busy.has(m[1])) {
                this.events.push({ kind: "update-offered", detail: { name: m[1], from: version, to: this.updateTo } });
                res.end(`update:${this.updateTo} ${this.base}/actions-runner/v${this.updateTo}/actions-runner-linux-${arch}-${this.updateTo}.tar.gz`);
                return;
            }
            // A job stays queued until the runner acquires it: actions/runner's listener takes a job request
            // message, then acquires the job (src/Runner.Listener/Runner.cs, runServer.GetJobMessageAsync) before
            // JobDispatcher starts a worker; a listener stopped in between never acquired it, and the job is offered again.
            const job = this.jobsFor.get(m[1]);
            if (job !== undefined && this.runners.has(m[1])) {
                res.end(`job:${job.seconds}:${job.kind}:${job.id}`);
                return;
            }
            res.end("idle");
            return;
        }
        if ((m = /^\/_fake\/runners\/([^/]+)\/acquire$/.exec(p)) && req.method === "POST") {
            // The run service's POST acquirejob (src/Sdk/RSWebApi/RunServiceHttpClient.cs): 409 for a job already
            // acquired, 404 for one not (or no longer) queued for this runner; the listener retries neither
            // (src/Runner.Common/RunServer.cs) and goes back to listening.
            const id = Number(url.searchParams.get("job"));
            const job = this.jobsFor.get(m[1]);
            if (job === undefined || job.id !== id || !this.runners.has(m[1])) {
                return this.jobsGiven.some(j => j.id === id)
                    ? this.json(res, 409, { message: `job ${id} already acquired` })
                    : this.json(res, 404, { message: `job ${id} not found` });
            }
            this.jobsFor.delete(m[1]);
            this.busy.add(m[1]);
            this.events.push({ kind: "job", detail: { name: m[1], id: job.id } });
            this.jobsGiven.push({ id: job.id, name: m[1], kind: job.kind, at: this.now() });
            res.end("ok");
            return;
        }
        if ((m = /^\/_fake\/runners\/([^/]+)\/(report|signal|updating)$/.exec(p))) {
            if (m[2] === "updating") {
                this.events.push({ kind: "self-update", detail: { name: m[1], from: url.searchParams.get("from") ?? "", to: url.searchParams.get("to") ?? "" } });
            } else if (m[2] === "signal") {
                this.signals.push({ name: m[1], sig: url.searchParams.get("sig") ?? "" });
            } else {
                this.busy.delete(m[1]);
                this.jobReports.push({ name: m[1], result: url.searchParams.get("result") ?? "", reason: url.searchParams.get("reason") ?? "", job: Number(url.searchParams.get("job") ?? 0), at: this.now() });
                // Like GitHub, an ephemeral runner's registration ends with its job.
                if (this.runners.get(m[1])?.ephemeral) {
                    this.runners.delete(m[1]);
                }
            }
            res.end("ok");
            return;
        }
        if ((m = /^\/_fake\/jobs\/(\d+)$/.exec(p)) && req.method === "POST") {
            const id = Number(m[1]);
            this.jobNotes.set(id, { ...(this.jobNotes.get(id) ?? {}), ...Object.fromEntries(url.searchParams) });
            res.end("ok");
            return;
        }
        if (p === "/_fake/actuated/enroll") {
            if (auth !== `Bearer ${this.secrets.actuatedToken}`) {
                return this.json(res, 401, { message: "bad actuated token" });
            }
            // Every enrolment is a new agent (get.sh enrolls on every run).
            const id = `agent-${this.nextId++}`;
            this.events.push({ kind: "enroll", detail: { ...Object.fromEntries(url.searchParams), id } });
            res.end(id);
            return;
        }
        if (p === "/_fake/actuated/format") {
            this.events.push({ kind: "format", detail: Object.fromEntries(url.searchParams) });
            res.end("ok");
            return;
        }
        if (p === "/_fake/actuated/heartbeat") {
            this.heartbeats.set("actuated", {
                user: url.searchParams.get("user") ?? "", arch: url.searchParams.get("arch") ?? "", at: Date.now(),
                licence: url.searchParams.get("licence") ?? "", id: url.searchParams.get("id") ?? "",
            });
            // actuated's control plane hands the agent a job; the agent boots one microVM for it.
            const job = this.actuatedJobs.shift();
            res.end(job === undefined ? "ok" : `job:${job}`);
            return;
        }
        this.json(res, 404, { message: `no fake for ${req.method} ${p}` });
    }

    /** Docker Hub's front: token auth outside, htpasswd to the registry inside; counts the blobs it serves. */
    private proxy(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
        const url = new URL(req.url ?? "/", this.upstream);
        const basic = `Basic ${Buffer.from(`${this.secrets.registryUser}:${this.secrets.registryPassword}`).toString("base64")}`;
        if (url.pathname === "/token") {
            // Like auth.docker.io: a login gets a user's token, wrong credentials a 401,
            // and no credentials an anonymous token for public images, with a lower rate limit
            // (distribution.github.io/distribution/spec/auth/token/; docs.docker.com/docker-hub/usage/).
            const given = req.headers.authorization;
            if (given !== undefined && given !== basic) {
                return this.json(res, 401, { details: "incorrect username or password" });
            }
            const token = `fake-hub-token-${randomBytes(12).toString("hex")}`;
            this.hubTokens.set(token, given === basic ? "user" : "anonymous");
            return this.json(res, 200, { token, access_token: token, expires_in: 300 });
        }
        const bearer = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
        if (!this.hubTokens.has(bearer)) {
            const repo = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(url.pathname)?.[1];
            res.setHeader("Docker-Distribution-Api-Version", "registry/2.0");
            res.setHeader("WWW-Authenticate", `Bearer realm="${this.upstream}/token",service="fake-hub"${repo ? `,scope="repository:${repo}:pull"` : ""}`);
            return this.json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] });
        }
        const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
        const manifest = /\/manifests\/([^/]+)$/.exec(url.pathname);
        if (manifest && req.method === "GET") {
            this.manifestCounts.set(manifest[1], (this.manifestCounts.get(manifest[1]) ?? 0) + 1);
        }
        if (m && req.method === "GET") {
            this.blobCounts.set(m[1], (this.blobCounts.get(m[1]) ?? 0) + 1);
            if (this.hubTokens.get(bearer) === "user") {
                this.authenticatedBlobCounts.set(m[1], (this.authenticatedBlobCounts.get(m[1]) ?? 0) + 1);
            }
        }
        const upstream = http.request({
            host: WORLD_IP, port: REGISTRY_PORT, method: req.method, path: req.url,
            headers: { ...req.headers, authorization: basic, host: `${WORLD_IP}:${REGISTRY_PORT}` },
        }, up => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
        });
        upstream.on("error", e => {
            res.statusCode = 502;
            res.end(String(e));
        });
        upstream.end(body);
    }

    private async startRegistry(): Promise<void> {
        const htpasswd = path.join(this.dir, "htpasswd");
        execFileSync("htpasswd", ["-Bbc", htpasswd, this.secrets.registryUser, this.secrets.registryPassword], { stdio: "ignore" });
        const config = path.join(this.dir, "registry.yml");
        fs.writeFileSync(config, [
            "version: 0.1",
            "log: { level: warn }",
            `storage: { filesystem: { rootdirectory: ${path.join(this.dir, "registry")} }, delete: { enabled: true } }`,
            `http: { addr: "${WORLD_IP}:${REGISTRY_PORT}" }`,
            `auth: { htpasswd: { realm: upstream, path: ${htpasswd} } }`,
        ].join("\n"));
        this.registry = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        this.registry.stderr?.on("data", d => { err += d; });
        for (let i = 0; i < 50; i++) {
            const ok = await new Promise<boolean>(resolve => {
                http.get({ host: WORLD_IP, port: REGISTRY_PORT, path: "/v2/" }, r => {
                    r.resume();
                    resolve(r.statusCode === 401);
                }).on("error", () => resolve(false));
            });
            if (ok) {
                return;
            }
            await new Promise(r => setTimeout(r, 100));
        }
        throw new Error(`the upstream registry did not start: ${err}`);
    }

    /** How many upstream blob fetches each of an image's blobs had since `before` (a copy of blobCounts). */
    blobDelta(repo: string, before: ReadonlyMap<string, number>): number[] {
        return this.images[repo].map(b => (this.blobCounts.get(b) ?? 0) - (before.get(b) ?? 0));
    }

    private pushImage(repo: string, own?: { layer: Buffer; cmd: string[] }): string[] {
        const { layout, blobs } = buildImageLayout(this.dir, repo.replace(/\W/g, "-"), own);
        const credsFile = path.join(this.dir, "auth.json");
        const auth = Buffer.from(`${this.secrets.registryUser}:${this.secrets.registryPassword}`).toString("base64");
        fs.writeFileSync(credsFile, JSON.stringify({ auths: { [`${WORLD_IP}:${REGISTRY_PORT}`]: { auth } } }), { mode: 0o600 });
        // As Docker Hub serves most images: Docker's schema 2 manifest.
        execFileSync("skopeo", ["copy", "--quiet", "--format", "v2s2", "--dest-tls-verify=false", "--dest-authfile", credsFile,
            `oci:${layout}:1`, `docker://${WORLD_IP}:${REGISTRY_PORT}/${repo}:1`], { stdio: ["ignore", "ignore", "pipe"] });
        return blobs;
    }
}
