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
// A dynamic resource: its diff is the question to GitHub. The asking is the
// operator script (scripts/operator/github-runners.js, ACTION=missing: the
// same client, rate-limit handling and token rules as the token step), run
// with node; the token reaches it on stdin, never in its environment or
// command line, and is a secret in the state.

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
 * The watch's provider; `script` is the JavaScript that loads the operator
 * script (operatorLoader), not its text. The provider is serialized, with
 * its closure and its comments, into every watch's state (inputs and
 * outputs), so its functions are short and say nothing inside: `ask` runs
 * the operator script's ACTION=missing (the names GitHub holds no
 * registration for; it fails naming the host, the reason and the
 * permission) with the token on stdin and `child_process` loaded where it
 * runs, the engine's provider process; create asks nothing (the install that
 * comes with it registers every runner); diff changes with the settings
 * without asking, else when a name is missing; update counts a generation up
 * when one is.
 */
export function watchProvider(script: string): pulumi.dynamic.ResourceProvider {
    const ask = (s: WatchState) => new Promise<string[]>((resolve, reject) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const child = (require("child_process") as typeof import("child_process")).execFile(process.execPath, ["-e", script], {
            env: {
                ...process.env, ACTION: "missing", HOST_NAME: s.host, GITHUB_ORG: s.org, GITHUB_API_URL: s.githubApi,
                INSTANCES: String(s.instances), RUNNER_FLEET_TOKEN_STDIN: "1",
            },
        }, (err, out, errOut) => {
            let missing: string[] | undefined;
            try {
                missing = err ? undefined : JSON.parse(String(out)) as string[];
            } catch {
                missing = undefined;
            }
            return missing ? resolve(missing) : reject(new Error(`runner-fleet: could not ask GitHub which runners of host ${s.host} it still holds: ` +
                `${String(errOut).trim() || err?.message || `an answer that is not JSON: ${String(out).slice(0, 200)}`}`));
        });
        child.stdin?.end(s.token ?? "");
    });
    return {
        create: async (i: WatchState) => ({ id: `${i.host}-registrations`, outs: { ...i, generation: 0, missing: [] } }),
        diff: async (_id: string, o: WatchState, n: WatchState) => ({
            changes: o.host !== n.host || o.org !== n.org || o.githubApi !== n.githubApi || o.instances !== n.instances || (await ask(n)).length > 0,
        }),
        update: async (_id: string, o: WatchState, n: WatchState) => {
            const missing = await ask(n);
            return { outs: { ...n, generation: (o.generation ?? 0) + (missing.length > 0 ? 1 : 0), missing } };
        },
    };
}

let provider: pulumi.dynamic.ResourceProvider | undefined;

export class RegistrationWatch extends pulumi.dynamic.Resource {
    /** Goes up each time GitHub was found without one of the host's registrations: a trigger of the token and install steps. */
    declare public readonly generation: pulumi.Output<number>;
    /** The names GitHub did not hold when the generation last went up. */
    declare public readonly missing: pulumi.Output<string[]>;

    constructor(name: string, args: RegistrationWatchArgs, opts?: pulumi.CustomResourceOptions) {
        provider = provider ?? watchProvider(operatorLoader("github-runners.js"));
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
