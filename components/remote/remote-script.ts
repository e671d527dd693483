// How a script from scripts/host/ reaches a host. The folder travels once per
// content change (the host's `<host>-scripts` copy, into HOST_SCRIPT_STAGE);
// the ready step checks it against the folder's hash and installs it under
// /usr/local/lib/runner-fleet; every other command carries only the name of
// the script it runs and its plain settings as environment, and its trigger
// the hash that makes it re-run only when the script or those settings
// change. Pure; no resources.

import { createHash } from "crypto";
import { readdirSync } from "fs";
import { packageFile, packageText } from "./package-files";

/** Where scripts live on a host; run them from there by hand to debug. */
export const HOST_SCRIPT_DIR = "/usr/local/lib/runner-fleet";

/**
 * Where the host's scripts copy puts the folder scripts/host/, relative to
 * the SSH login user's home (SFTP resolves a relative path there): the copy
 * lands in `<stage>/host/`. Only that user (and root) can write there; the
 * ready step installs from it only what matches the stack's hash.
 */
export const HOST_SCRIPT_STAGE = ".cache/runner-fleet";

/** The folder of host scripts in the package: what the scripts copy sends. */
export function hostScriptFolder(): string {
    return packageFile("scripts", "host");
}

/** Every file of scripts/host/ (what the copy sends), sorted as `LC_ALL=C` sorts a glob. */
export function hostScriptFiles(): { name: string; text: string }[] {
    folder = folder ?? readdirSync(hostScriptFolder()).sort().map(name => ({ name, text: hostScript(name) }));
    return folder;
}

let folder: { name: string; text: string }[] | undefined;

/**
 * The hash of the whole folder as the ready step computes it on the host:
 * sha256 of what `sha256sum -- *` prints for it (`<sha256>  <name>` lines).
 */
export function hostScriptsHash(files?: readonly { name: string; text: string }[]): string {
    if (files === undefined) {
        // The package's folder, hashed once: every host's ready step carries it.
        folderHash = folderHash ?? hostScriptsHash(hostScriptFiles());
        return folderHash;
    }
    return sha256(files.map(f => `${fileSha(f.text)}  ${f.name}\n`).join(""));
}

let folderHash: string | undefined;

/** The text of a host script, shipped in scripts/host/. */
export function hostScript(name: string): string {
    return packageText("scripts", "host", name);
}

/** Plain (never secret) settings handed to a script as environment variables. */
export type ScriptEnv = Readonly<Record<string, string>>;

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'"'"'`)}'`;
}

const MARKER = "__RUNNER_FLEET_SCRIPT_END__";

/** Reads a host script's text by file name; tests pass their own. */
export type ScriptSource = (name: string) => string;

const SOURCED = /\$\(dirname "\$0"\)\/([a-z0-9-]+\.sh)/g;

/**
 * A script and every script it runs or sources from its own folder
 * (`$(dirname "$0")/x.sh`), main script first: what has to be on the host.
 */
export function scriptBundle(name: string, source: ScriptSource = hostScript): { name: string; text: string }[] {
    // The package's own scripts do not change while a program runs: their bundles are read once.
    const cached = source === hostScript ? bundles.get(name) : undefined;
    if (cached) {
        return cached;
    }
    const out: { name: string; text: string }[] = [];
    const visit = (n: string) => {
        if (out.some(f => f.name === n)) {
            return;
        }
        const text = source(n);
        out.push({ name: n, text });
        for (const m of text.matchAll(SOURCED)) {
            visit(m[1]);
        }
    };
    visit(name);
    if (source === hostScript) {
        bundles.set(name, out);
    }
    return out;
}

const bundles = new Map<string, { name: string; text: string }[]>();

/**
 * The command text that runs an installed script (the ready step installed
 * it, with the rest of scripts/host/) as root with `env` as its environment.
 * It carries the script's name and settings, not its text; the trigger
 * (scriptHash) carries the hash of what it runs. Whatever the command's stdin
 * carries (the secrets) reaches the script's stdin; nothing secret belongs
 * in `env`.
 */
export function renderRemoteCommand(name: string, env: ScriptEnv, source: ScriptSource = hostScript): string {
    checkEnv(name, env);
    // Read, so that a script missing from the package fails here, naming it, not on the host.
    scriptBundle(name, source);
    // Short, because every step keeps it twice in the state (inputs and outputs), create and delete alike.
    return `${ROOT_OR_SUDO}; exec $r env ${assignmentsOf(env)} ${HOST_SCRIPT_DIR}/${name}`.replace(/ +/g, " ");
}

/**
 * The ready step's command text: the staged copy of scripts/host/ is read by
 * the login user into a folder of root's own, checked there against the
 * folder's hash (hostScriptsHash), and only then is its ready.sh run as root,
 * which checks the host and installs the scripts. A staged file a job (or
 * anyone) changed stops the step before root runs anything of it.
 */
export function renderReadyCommand(env: ScriptEnv, bundleHash: string = hostScriptsHash()): string {
    checkEnv("ready.sh", env);
    return [
        "set -e",
        ROOT_OR_SUDO,
        `h=${bundleHash} s="$HOME/${HOST_SCRIPT_STAGE}/host" d="$($r mktemp -d /tmp/runner-fleet.XXXXXXXX)"`,
        `trap '$r rm -rf "$d"' EXIT`,
        // A missing or partial copy fails at the hash below, which says what to do.
        `(cd "$s" 2>/dev/null && tar -cf - -- *) | $r tar -C "$d" --no-same-owner --no-same-permissions -xf - 2>/dev/null || true`,
        `if [ "$($r env LC_ALL=C sh -c 'cd "$1" && sha256sum -- *' sh "$d" | sha256sum | cut -c1-64)" != $h ]; then`,
        `  echo "runner-fleet: the scripts in $s are not the ones this stack sent (sha256 $h); its <host>-scripts step copies them" >&2; exit 1`,
        "fi",
        `$r chmod 0755 "$d/ready.sh"`,
        `$r env ${assignmentsOf(env)} SCRIPTS_SHA256=$h "$d/ready.sh"`.replace(/ +/g, " "),
    ].join("\n");
}

/**
 * The ready step's delete side, when the host leaves the fleet (destroy, or
 * a new machine in its place: then on the old one), after every step that
 * ran on it: the installed scripts and the staged copy go.
 */
export function renderReadyDelete(): string {
    return [
        "set -e", ROOT_OR_SUDO, `rm -rf "$HOME/${HOST_SCRIPT_STAGE}"`,
        `$r rm -rf ${HOST_SCRIPT_DIR} /etc/runner-fleet/scripts.sha256`, "$r rmdir /etc/runner-fleet 2>/dev/null || true",
    ].join("\n");
}

/**
 * The command text that carries a script's text itself (and the scripts it
 * uses) to a folder removed afterwards; the script's exit status is the
 * command's. For what runs outside the state (the drift check) and must
 * leave the host as it found it.
 */
export function renderTransientCommand(name: string, env: ScriptEnv, source: ScriptSource = hostScript): string {
    return renderInlineCommand(name, env, source, true);
}

/**
 * A script's text inside the command: installed under HOST_SCRIPT_DIR, as
 * every step did before the scripts copy (tests of an upgrade render the
 * previous version so), or with `transient` in a temporary folder.
 */
export function renderInlineCommand(name: string, env: ScriptEnv, source: ScriptSource = hostScript, transient = false): string {
    checkEnv(name, env);
    const lines = [
        "set -e",
        AS_ROOT,
        ...(transient
            ? [`d="$(mktemp -d /tmp/runner-fleet.XXXXXXXX)"`, `trap 'as_root rm -rf "$d"' EXIT`]
            : [`d=${HOST_SCRIPT_DIR}`, `as_root mkdir -p "$d"`]),
    ];
    for (const file of scriptBundle(name, source)) {
        if (file.text.includes(MARKER)) {
            throw new Error(`runner-fleet: host script ${file.name} contains the marker ${MARKER}`);
        }
        lines.push(
            `as_root tee "$d/${file.name}.new" >/dev/null <<'${MARKER}'`,
            file.text.endsWith("\n") ? file.text.slice(0, -1) : file.text,
            MARKER,
            // An unchanged script is left as it is: a repeat run rewrites nothing.
            `if as_root cmp -s "$d/${file.name}.new" "$d/${file.name}"; then as_root rm -f "$d/${file.name}.new"; ` +
            `else as_root chmod 0755 "$d/${file.name}.new" && as_root mv -f "$d/${file.name}.new" "$d/${file.name}"; fi`,
        );
    }
    const run = runLine(name, env);
    lines.push(...(transient ? ["set +e", run, "exit $?"] : [run]));
    return lines.join("\n");
}

const AS_ROOT = `as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }`;

/** Sets $r to what runs a command as root: nothing for a root login, else sudo -n (password-less sudo, the host contract). */
const ROOT_OR_SUDO = `r=; [ "$(id -u)" = 0 ] || r='sudo -n'`;

function checkEnv(name: string, env: ScriptEnv): void {
    for (const key of Object.keys(env)) {
        if (!ENV_NAME.test(key)) {
            throw new Error(`runner-fleet: environment name ${key} for ${name} is not an upper-case shell name`);
        }
    }
}

/** `K='v'` for each setting, by name. */
function assignmentsOf(env: ScriptEnv): string {
    return Object.keys(env).sort().map(k => `${k}=${shellQuote(env[k])}`).join(" ");
}

/** The line that runs a script of the folder $d as root with its settings. */
function runLine(name: string, env: ScriptEnv): string {
    return `as_root env ${assignmentsOf(env)} "$d/${name}"`.replace(/ +/g, " ");
}

/** sha256 of every file a script ships, by its path on the host: what the drift check compares. */
export function bundleFileHashes(name: string, source: ScriptSource = hostScript): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of scriptBundle(name, source)) {
        out[`${HOST_SCRIPT_DIR}/${f.name}`] = fileSha(f.text);
    }
    return out;
}

/** sha256 of some text, hex. */
export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** sha256 of a script's text, each text hashed once: every step of every host hashes the same few files. */
function fileSha(text: string): string {
    let h = fileHashes.get(text);
    if (h === undefined) {
        h = sha256(text);
        fileHashes.set(text, h);
    }
    return h;
}

const fileHashes = new Map<string, string>();

/**
 * The trigger of a command: a hash of the scripts it ships and its plain
 * settings. The host id goes beside it in the triggers list, so a replaced
 * server runs it again.
 */
export function scriptHash(name: string, env: ScriptEnv, source: ScriptSource = hostScript): string {
    const files = scriptBundle(name, source).map(f => `${f.name} ${fileSha(f.text)}`).join("\n");
    const settings = Object.keys(env).sort().map(k => `${k}=${env[k]}`).join("\n");
    return sha256(`${files}\n--\n${settings}`);
}
