// How a script from scripts/host/ reaches a host: the command text that
// installs it under /usr/local/lib/runner-fleet and runs it with plain
// settings as environment, and the hash that makes a command re-run only when
// the script or those settings change. Pure; no resources.

import { createHash } from "crypto";
import { packageText } from "./package-files";

/** Where scripts live on a host; run them from there by hand to debug. */
export const HOST_SCRIPT_DIR = "/usr/local/lib/runner-fleet";

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
    return out;
}

/**
 * The command text that installs a script (and the scripts it uses) on the
 * host and runs it as root with `env` as its environment. Whatever the
 * command's stdin carries (the secrets) reaches the script's stdin; nothing
 * secret belongs in `env`.
 */
export function renderRemoteCommand(name: string, env: ScriptEnv, source: ScriptSource = hostScript): string {
    return renderCommand(name, env, source, false);
}

/**
 * Like renderRemoteCommand, but the scripts go to a temporary folder that is
 * removed afterwards, and the script's exit status is the command's: for
 * checks that must leave the host as they found it.
 */
export function renderTransientCommand(name: string, env: ScriptEnv, source: ScriptSource = hostScript): string {
    return renderCommand(name, env, source, true);
}

function renderCommand(name: string, env: ScriptEnv, source: ScriptSource, transient: boolean): string {
    for (const key of Object.keys(env)) {
        if (!ENV_NAME.test(key)) {
            throw new Error(`runner-fleet: environment name ${key} for ${name} is not an upper-case shell name`);
        }
    }
    const lines = [
        "set -e",
        `as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }`,
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
    const assignments = Object.keys(env).sort().map(k => `${k}=${shellQuote(env[k])}`).join(" ");
    const run = `as_root env ${assignments} "$d/${name}"`.replace(/ +/g, " ");
    lines.push(...(transient ? ["set +e", run, "exit $?"] : [run]));
    return lines.join("\n");
}

/** sha256 of every file a script ships, by its path on the host: what the drift check compares. */
export function bundleFileHashes(name: string, source: ScriptSource = hostScript): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of scriptBundle(name, source)) {
        out[`${HOST_SCRIPT_DIR}/${f.name}`] = sha256(f.text);
    }
    return out;
}

/** sha256 of some text, hex. */
export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/**
 * The trigger of a command: a hash of the scripts it ships and its plain
 * settings. The host id goes beside it in the triggers list, so a replaced
 * server runs it again.
 */
export function scriptHash(name: string, env: ScriptEnv, source: ScriptSource = hostScript): string {
    const files = scriptBundle(name, source).map(f => `${f.name} ${sha256(f.text)}`).join("\n");
    const settings = Object.keys(env).sort().map(k => `${k}=${env[k]}`).join("\n");
    return sha256(`${files}\n--\n${settings}`);
}
