// Steps that run where `pulumi up` runs, not on a host (command.local): what
// needs the operator's credentials or the operator's view of the network.
// Their scripts live in scripts/operator/ and are sent inline (`node -e`), so
// the command text is the same on every machine that runs pulumi.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { RunnerHost } from "../hosts/host";
import { packageText } from "../remote/package-files";
import { sha256, shellQuote } from "../remote/remote-script";

/** The port actuated's control plane reaches an agent on (docs.actuated.com/install-agent). */
export const ACTUATED_AGENT_PORT = 443;

/** A script of scripts/operator/, as text. */
export function operatorScript(name: string): string {
    return packageText("scripts", "operator", name);
}

/**
 * The command text that runs an operator script with node: it loads the
 * script by the package's name (its `./operator/*` export), resolved from
 * where pulumi runs the program, as the script's own dependencies (Octokit)
 * are. The text is the same on every machine and carries none of the
 * script: the script's hash goes into the step's triggers.
 */
export function operatorCommandText(name: string): string {
    return `node -e ${shellQuote(operatorLoader(name))}`;
}

/** The JavaScript that loads an operator script of the installed package. */
export function operatorLoader(name: string): string {
    operatorScript(name);
    return `require("runner-fleet/operator/${name}")`;
}

/** The hash of an operator script, for triggers. */
export function operatorScriptHash(name: string): string {
    return sha256(operatorScript(name));
}

/**
 * A step where pulumi runs (not on the host): does the agent's port answer on
 * the host's public address? Re-runs when the address or the probe changes.
 */
export function agentPortProbe(name: string, host: RunnerHost, opts: pulumi.CustomResourceOptions): command.local.Command {
    return new command.local.Command(name, {
        create: operatorCommandText("probe-port.js"),
        environment: { HOST_NAME: host.name, ADDRESS: host.publicIp, PORT: String(ACTUATED_AGENT_PORT) },
        triggers: [host.publicIp, operatorScriptHash("probe-port.js")],
    }, opts);
}

export interface RunnerRegistrationArgs {
    readonly host: RunnerHost;
    readonly org: string;
    readonly githubApi: string;
    readonly instances: number;
    /** The operator's token; GITHUB_TOKEN where pulumi runs when unset. Kept secret. */
    readonly operatorToken?: pulumi.Input<string>;
    /** The host install's settings hash: a new registration token is minted exactly when the install runs again. */
    readonly installHash: string;
    /** What else re-runs the install, and so mints a token (the registration watch's generation). */
    readonly triggers?: readonly pulumi.Input<unknown>[];
}

/**
 * The organization side of a plain runner host's registrations, with the
 * operator's token, where pulumi runs:
 *   <name>-runners  removes every registration of the host on destroy or host
 *                   replacement (created first, deleted last);
 *   <name>-token    mints a registration token when, and only when, the
 *                   install runs (same triggers), and removes registrations of
 *                   instances the host no longer runs. Its stdout (secret) is
 *                   the install's stdin.
 */
export function runnerRegistration(name: string, args: RunnerRegistrationArgs, opts: pulumi.CustomResourceOptions & { dependsOn?: pulumi.Resource[] }): {
    readonly runners: command.local.Command; readonly token: command.local.Command;
} {
    const operatorToken: Record<string, pulumi.Input<string>> = args.operatorToken === undefined ? {} : { RUNNER_FLEET_GITHUB_TOKEN: pulumi.secret(args.operatorToken) };
    const env = (action: string): Record<string, pulumi.Input<string>> => ({
        ACTION: action, HOST_NAME: args.host.name, GITHUB_ORG: args.org, GITHUB_API_URL: args.githubApi,
        INSTANCES: String(args.instances),
        ...operatorToken,
    });
    const script = operatorCommandText("github-runners.js");
    const hash = operatorScriptHash("github-runners.js");
    const runners = new command.local.Command(`${name}-runners`, {
        create: "true",
        delete: script,
        environment: env("remove"),
        triggers: [args.host.hostId, args.org, args.githubApi],
        logging: "stderr",
    }, {
        ...opts,
        deleteBeforeReplace: true,
    });
    const token = new command.local.Command(`${name}-token`, {
        create: script,
        environment: env("mint"),
        triggers: [args.installHash, args.host.hostId, hash, ...(args.triggers ?? [])],
        logging: "none",
    }, {
        ...opts,
        dependsOn: [...(opts.dependsOn ?? []), runners],
        additionalSecretOutputs: ["stdout", "stderr"],
        // A rotated operator token mints nothing by itself; the next install does.
        ignoreChanges: ["environment"],
    });
    return { runners, token };
}
