// A command that runs one of scripts/host/ on a host: the shared shape of
// every bootstrap step (triggers, secrets on stdin, delete side).

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { RunnerHost } from "../hosts/host";
import { ScriptEnv, renderRemoteCommand, scriptHash } from "../remote/remote-script";

/** One "name base64" line per secret: the stdin contract of write-secrets.sh. */
export function secretLines(values: Record<string, pulumi.Input<string> | undefined>): pulumi.Output<string> {
    const names = Object.keys(values).filter(k => values[k] !== undefined).sort();
    return pulumi.secret(pulumi.all(names.map(n => values[n] as pulumi.Input<string>)).apply(vals =>
        names.map((n, i) => `${n} ${Buffer.from(vals[i], "utf8").toString("base64")}\n`).join("")));
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

