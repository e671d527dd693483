// registration-watch.js: the registration watch's provider methods, run where
// `pulumi` runs (the dynamic provider's process starts it with node), never
// on a host. The watch (components/on-host/registration-watch.ts) keeps only
// a few lines that start this script in its state; what it does lives here.
//
// stdin: one JSON array, the arguments the engine called the provider with:
// [inputs] for create, [olds, news] for check, [id, olds, news] for update. The inputs are { hosts, org,
// githubApi, instances, token?, generations?, missing? }, `hosts` the names
// of the hosts the watch covers (a fleet's plain hosts, or one agent's); the
// operator's token comes in them, so on stdin, never in an environment or a
// command line. stdout: the method's answer as JSON.
//
//   check   runs at every preview and up, before anything else of the
//           watch: asks GitHub once for every host it already covered
//           (github-runners.js ACTION=missing, the token on its stdin) and
//           returns the inputs with each host's generation, one up for a host
//           GitHub holds no registration of a runner HOST-N for; a host new
//           to the watch starts at 0 unasked (its install registers it), and
//           with a new org, API or instance count nothing is asked (the
//           install re-runs with them anyway). The engine compares these
//           inputs itself: nothing missing, no change, and a preview shows
//           exactly which host's token and install steps re-run.
//   create  keeps what check returned
//   update  the same: the new inputs are the outputs (without an update the
//           dynamic provider server keeps none but __provider,
//           @pulumi/pulumi cmd/dynamic-provider resultIncludingProvider, and
//           the hosts' triggers would lose their generation)
//
// No diff (the engine's own comparison of the inputs), no delete (nothing
// outside the state).
//
// A failure (GitHub refused the token, no token, GitHub unreachable) exits 1
// with the hosts, the reason and what to do on stderr, never the token.
"use strict";
const { execFile } = require("child_process");
const path = require("path");

function fail(message) {
    process.stderr.write(`${message}\n`);
    process.exit(1);
}

/** By host of `of`, the names HOST-1..HOST-N the organization holds no registration for. */
function missing(s, of) {
    return new Promise((resolve, reject) => {
        const child = execFile(process.execPath, [path.join(__dirname, "github-runners.js")], {
            env: {
                ...process.env, ACTION: "missing", HOST_NAME: of.join(","), GITHUB_ORG: s.org, GITHUB_API_URL: s.githubApi,
                INSTANCES: String(s.instances), RUNNER_FLEET_TOKEN_STDIN: "1",
            },
        }, (err, out, errOut) => {
            let byHost;
            try {
                byHost = err ? undefined : JSON.parse(String(out));
            } catch {
                byHost = undefined;
            }
            return byHost && typeof byHost === "object" && of.every(h => Array.isArray(byHost[h])) ? resolve(byHost) : reject(new Error(`runner-fleet: could not ask GitHub which runners of host ${of.join(", ")} it still holds: ` +
                `${String(errOut).trim() || (err && err.message) || `an answer that is not JSON: ${String(out).slice(0, 200)}`}`));
        });
        child.stdin.end(s.token || "");
    });
}

const SETTINGS = ["org", "githubApi", "instances"];

/** The inputs with each host's generation and the names found missing. */
async function check(olds, news) {
    const before = olds && olds.generations ? olds.generations : {};
    const known = SETTINGS.every(k => olds && olds[k] === news[k]) ? news.hosts.filter(h => h in before) : [];
    const found = known.length > 0 ? await missing(news, known) : {};
    const generations = {};
    const gone = {};
    for (const h of news.hosts) {
        const of = found[h] || [];
        generations[h] = (before[h] || 0) + (of.length > 0 ? 1 : 0);
        gone[h] = of.length > 0 ? of : (olds && olds.missing && olds.missing[h]) || [];
    }
    return { inputs: { ...news, generations, missing: gone } };
}

const methods = {
    1: async i => ({ id: `${i.org}-registrations`, outs: i }),
    2: check,
    3: async (id, olds, news) => ({ outs: news }),
};

async function main() {
    const args = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const method = methods[args.length];
    if (!method) {
        fail(`runner-fleet: the registration watch was called with ${args.length} arguments: it is a dynamic provider's create (1), check (2) and update (3)`);
    }
    process.stdout.write(`${JSON.stringify(await method(...args))}\n`);
}

main().catch(e => fail(e.message));
