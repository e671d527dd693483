// The registration watch of a plain runner host: at every `pulumi preview`
// and `pulumi up`, where pulumi runs and with the operator's token, it asks
// GitHub whether the organization still holds a registration for each of the
// host's runners (HOST-1..HOST-N). GitHub deletes a registration that was
// offline for 14 days, and an admin can delete one (docs.github.com, "About
// self-hosted runners"); the host then stops that runner (runner-service.sh)
// and nothing on it can register again. When a name is missing, the watch's
// `generation` goes up, and with it the triggers of the host's token and
// install steps: the `up` that sees it registers the runner again, and a
// preview shows it. When every name is there nothing changes, so a repeat
// `up` runs no command.
//
// A dynamic resource: its diff is the question to GitHub. Its provider runs
// the operator script scripts/operator/registration-watch.js with node, which
// asks through github-runners.js (ACTION=missing: the same client, rate-limit
// handling and token rules as the token step); the token reaches them on
// stdin, never in an environment or a command line, and is a secret in the
// state.

import * as pulumi from "@pulumi/pulumi";
import { RunnerHost } from "../hosts/host";
import { operatorLoader } from "./operator-command";

export interface RegistrationWatchArgs {
    readonly host: RunnerHost;
    readonly org: string;
    readonly githubApi: string;
    readonly instances: number;
    /** The operator's token; GITHUB_TOKEN where pulumi runs when unset. */
    readonly operatorToken?: pulumi.Input<string>;
}

/** What the watch keeps in the state, and hands its provider. */
interface WatchState {
    readonly host: string;
    readonly org: string;
    readonly githubApi: string;
    readonly instances: number;
    readonly token?: string;
    /** Goes up by one each time GitHub was found without one of the host's registrations. */
    readonly generation: number;
    /** The names GitHub did not hold when the generation last went up. */
    readonly missing?: readonly string[];
}

/**
 * The watch's provider. It is serialized, with its closure, into every
 * watch's state (inputs and outputs), so it holds only this: each method
 * hands its arguments, as JSON on stdin (the token among them), to the
 * operator script registration-watch.js of the installed package, run with
 * node where the engine runs the provider, and answers what it printed; the
 * script asks GitHub and says what failed. `script` is the JavaScript that
 * loads it (operatorLoader), not its text.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- the provider runs where it is deserialized, and loads what it needs there */
export function watchProvider(script: string): pulumi.dynamic.ResourceProvider {
    const run = (call: unknown[]) => new Promise<string>((resolve, reject) => {
        (require("child_process") as typeof import("child_process")).execFile(process.execPath, ["-e", script], (e, out, err) =>
            e ? reject(new Error(String(err).trim() || e.message)) : resolve(String(out))).stdin?.end(JSON.stringify(call));
    }).then(JSON.parse);
    return {
        create: (i: WatchState) => run(["create", i]),
        diff: (_: string, o: WatchState, n: WatchState) => run(["diff", o, n]),
        update: (_: string, o: WatchState, n: WatchState) => run(["update", o, n]),
    };
}
/* eslint-enable @typescript-eslint/no-require-imports */

let provider: pulumi.dynamic.ResourceProvider | undefined;

export class RegistrationWatch extends pulumi.dynamic.Resource {
    /** Goes up each time GitHub was found without one of the host's registrations: a trigger of the token and install steps. */
    declare public readonly generation: pulumi.Output<number>;
    /** The names GitHub did not hold when the generation last went up. */
    declare public readonly missing: pulumi.Output<string[]>;

    constructor(name: string, args: RegistrationWatchArgs, opts?: pulumi.CustomResourceOptions) {
        provider = provider ?? watchProvider(operatorLoader("registration-watch.js"));
        super(provider, name, {
            host: args.host.name,
            org: args.org,
            githubApi: args.githubApi,
            instances: args.instances,
            token: args.operatorToken === undefined ? undefined : pulumi.secret(args.operatorToken),
            // Outputs only: a preview of an update (the engine shows a dynamic resource's inputs as its
            // outputs then) leaves them unknown, so the preview shows the token and install steps re-run.
            generation: undefined,
            missing: undefined,
        }, { ...opts, additionalSecretOutputs: ["token"] });
    }
}
