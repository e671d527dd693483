// The registration watch of plain runner hosts: at every `pulumi preview`
// and `pulumi up`, where pulumi runs and with the operator's token, it asks
// GitHub whether the organization still holds a registration for each
// runner (HOST-1..HOST-N) of the hosts it covers. GitHub deletes a
// registration that was offline for 14 days, and an admin can delete one
// (docs.github.com, "About self-hosted runners"); the host then stops that
// runner (runner-service.sh) and nothing on it can register again. When a
// name is missing, that host's generation goes up, and with it the triggers
// of the host's token and install steps: the `up` that sees it registers the
// runner again, and a preview shows it, for that host only. When every name
// is there nothing changes, so a repeat `up` runs no command.
//
// One watch covers a fleet's plain hosts (Fleet makes it; one request for
// the organization's runner list whatever the hosts' number, and one entry
// in the state); a RunnerAgent made alone makes its own for its host.
//
// A dynamic resource whose `check` is the question to GitHub: check runs at
// every preview and up and returns the inputs with each host's generation,
// so the engine's own comparison of the inputs is the diff and a preview
// knows each host's generation. Its provider runs the operator script
// scripts/operator/registration-watch.js with node, which asks through
// github-runners.js (ACTION=missing: the same client, rate-limit handling and
// token rules as the token step); the token reaches them on stdin, never in
// an environment or a command line, and is a secret in the state.

import * as pulumi from "@pulumi/pulumi";
import { operatorLoader } from "./operator-command";

export interface RegistrationWatchArgs {
    /** The hosts whose runners (HOST-1..HOST-instances) the watch asks GitHub about. */
    readonly hosts: readonly string[];
    readonly org: string;
    readonly githubApi: string;
    /** The runners each host runs. */
    readonly instances: number;
    /** The operator's token; GITHUB_TOKEN where pulumi runs when unset. */
    readonly operatorToken?: pulumi.Input<string>;
}

/**
 * The watch's provider. It is serialized, with its closure, into the watch's
 * state (inputs and outputs), so it holds only this: one function, the
 * dynamic provider's check, create and update, that hands its arguments (as
 * JSON on stdin, the token among them) to the operator script
 * registration-watch.js of the installed package, run with node where the
 * engine runs the provider, and answers what it printed; the script tells
 * them apart by their number, asks GitHub and says what failed.
 * `script` is the JavaScript that loads it (operatorLoader), not its text.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- the provider runs where it is deserialized, and loads what it needs there */
export function watchProvider(script: string): pulumi.dynamic.ResourceProvider {
    const call = (...args: unknown[]) => new Promise<string>((resolve, reject) => {
        (require("child_process") as typeof import("child_process")).execFile(process.execPath, ["-e", script], (e, out, err) =>
            e ? reject(new Error(String(err).trim() || e.message)) : resolve(String(out))).stdin?.end(JSON.stringify(args));
    }).then(JSON.parse);
    return { check: call, create: call, update: call };
}
/* eslint-enable @typescript-eslint/no-require-imports */

let provider: pulumi.dynamic.ResourceProvider | undefined;

export class RegistrationWatch extends pulumi.dynamic.Resource {
    /** Per host: goes up each time GitHub was found without one of the host's registrations, a trigger of its token and install steps. */
    declare public readonly generations: pulumi.Output<Record<string, number>>;
    /** Per host: the names GitHub did not hold when its generation last went up. */
    declare public readonly missing: pulumi.Output<Record<string, string[]>>;
    /** The hosts it covers, and the runners each runs. */
    public readonly covers: { readonly hosts: readonly string[]; readonly instances: number };

    constructor(name: string, args: RegistrationWatchArgs, opts?: pulumi.CustomResourceOptions) {
        provider = provider ?? watchProvider(operatorLoader("registration-watch.js"));
        const hosts = [...new Set(args.hosts)].sort();
        super(provider, name, {
            hosts,
            org: args.org,
            githubApi: args.githubApi,
            instances: args.instances,
            token: args.operatorToken === undefined ? undefined : pulumi.secret(args.operatorToken),
            // Check fills them in, at every preview and up.
            generations: undefined,
            missing: undefined,
        }, { ...opts, additionalSecretOutputs: ["token"] });
        this.covers = { hosts, instances: args.instances };
    }

    /** A host's generation (0 until GitHub was found without one of its registrations). */
    generationOf(host: string): pulumi.Output<number> {
        if (!this.covers.hosts.includes(host)) {
            throw new Error(`runner-fleet: the registration watch covers ${this.covers.hosts.join(", ") || "no host"}, not ${host}`);
        }
        return this.generations.apply(g => g?.[host] ?? 0);
    }
}
