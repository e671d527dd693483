// A command that runs one of scripts/host/ on a host: the shared shape of
// every bootstrap step (triggers, secrets on stdin, delete side).

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { RunnerHost } from "../hosts/host";
import { ScriptEnv, renderRemoteCommand, scriptHash } from "../remote/remote-script";

/**
 * One "name base64" line per secret: the stdin contract of write-secrets.sh.
 * The same names over the same Outputs give the same Output: a fleet hands
 * every host the same secrets, and each Output costs the SDK dozens of
 * promises and closures until it resolves (a fleet of hundreds of hosts).
 */
export function secretLines(values: Record<string, pulumi.Input<string> | undefined>): pulumi.Output<string> {
    const names = Object.keys(values).filter(k => values[k] !== undefined).sort();
    if (names.length === 0) {
        return pulumi.secret("");
    }
    const inputs = names.map(n => values[n] as pulumi.Input<string>);
    // Only Outputs and promises are remembered, by identity, and only while the first of them lives.
    const anchor = inputs[0];
    const remembered = inputs.every(v => typeof v === "object" && v !== null);
    const key = remembered ? names.map((n, i) => `${n}#${identityOf(inputs[i] as object)}`).join(" ") : "";
    const known = remembered ? linesOf.get(anchor as object)?.get(key) : undefined;
    if (known) {
        return known;
    }
    const lines = pulumi.secret(pulumi.all(inputs).apply(vals =>
        names.map((n, i) => `${n} ${Buffer.from(vals[i], "utf8").toString("base64")}\n`).join("")));
    if (remembered) {
        const byKey = linesOf.get(anchor as object) ?? new Map<string, pulumi.Output<string>>();
        byKey.set(key, lines);
        linesOf.set(anchor as object, byKey);
    }
    return lines;
}

/** secretLines' results, by their first input; the key names every input by identityOf. */
const linesOf = new WeakMap<object, Map<string, pulumi.Output<string>>>();
const identities = new WeakMap<object, number>();
let nextIdentity = 0;

function identityOf(o: object): number {
    const known = identities.get(o);
    if (known !== undefined) {
        return known;
    }
    identities.set(o, ++nextIdentity);
    return nextIdentity;
}

/** A host command that runs a script of scripts/host/; with `secret` (stdin may carry secrets) it logs nothing and its outputs are secret. */
export function hostScriptCommand(name: string, args: {
    readonly host: RunnerHost;
    readonly script: string;
    readonly env: ScriptEnv;
    /** What `pulumi destroy` (or a replacement) runs first; none for a step whose removal belongs to another. */
    readonly deleteScript?: string;
    readonly deleteEnv?: ScriptEnv;
    readonly stdin?: pulumi.Input<string>;
    /** stdin changes that should not re-run the command (a token that is new on every run). */
    readonly ignoreStdin?: boolean;
    /** What else re-runs the command when it changes (beside the script's hash and the host). */
    readonly triggers?: readonly pulumi.Input<unknown>[];
    readonly secret: boolean;
}, opts: pulumi.CustomResourceOptions): { command: command.remote.Command; hash: string } {
    const hash = scriptHash(args.script, args.env);
    const env = { ...args.env, SETTINGS_HASH: hash };
    const create = renderRemoteCommand(args.script, env);
    const cmd = new command.remote.Command(name, {
        connection: args.host.connection,
        // An update (new settings or scripts) runs `create` again (pulumi-command remote Command.Update).
        create,
        delete: args.deleteScript ? renderRemoteCommand(args.deleteScript, args.deleteEnv ?? {}) : undefined,
        stdin: args.stdin,
        triggers: [hash, args.host.hostId, ...(args.triggers ?? [])],
        logging: args.secret ? "none" : "stdoutAndStderr",
    }, {
        ...opts,
        // The old install is removed before the new one goes on the same host.
        deleteBeforeReplace: true,
        additionalSecretOutputs: args.secret ? ["stdout", "stderr"] : [],
        ignoreChanges: args.ignoreStdin ? ["stdin"] : [],
    });
    return { command: cmd, hash };
}

