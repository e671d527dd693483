// registration-watch.js: the registration watch's provider methods, run where
// `pulumi` runs (the dynamic provider's process starts it with node), never
// on a host. The watch (components/on-host/registration-watch.ts) keeps only
// a few lines that start this script in its state; what it does lives here.
//
// stdin: one JSON array, [method, ...arguments] as the engine called the
// provider: ["create", inputs] or ["diff" | "update", olds, news]. The
// inputs are { host, org, githubApi, instances, token?, generation?,
// missing? }; the operator's token comes in them, so on stdin, never in an
// environment or a command line. stdout: the method's answer as JSON.
//
//   create  asks nothing (the install that comes with the watch registers
//           every runner): generation 0, nothing missing
//   diff    changes with the host's settings without asking; else asks
//           GitHub (github-runners.js ACTION=missing, the token on its stdin)
//           and changes when it holds no registration for a runner HOST-N
//   update  asks again and counts the generation up by one when a runner is
//           missing: the host's token and install steps take the generation
//           in their triggers, so the up that sees it registers again
//
// A failure (GitHub refused the token, no token, GitHub unreachable) exits 1
// with the host, the reason and what to do on stderr, never the token.
"use strict";
const { execFile } = require("child_process");
const path = require("path");

function fail(message) {
    process.stderr.write(`${message}\n`);
    process.exit(1);
}

/** The names HOST-1..HOST-N the organization holds no registration for. */
function missing(s) {
    return new Promise((resolve, reject) => {
        const child = execFile(process.execPath, [path.join(__dirname, "github-runners.js")], {
            env: {
                ...process.env, ACTION: "missing", HOST_NAME: s.host, GITHUB_ORG: s.org, GITHUB_API_URL: s.githubApi,
                INSTANCES: String(s.instances), RUNNER_FLEET_TOKEN_STDIN: "1",
            },
        }, (err, out, errOut) => {
            let names;
            try {
                names = err ? undefined : JSON.parse(String(out));
            } catch {
                names = undefined;
            }
            return Array.isArray(names) ? resolve(names) : reject(new Error(`runner-fleet: could not ask GitHub which runners of host ${s.host} it still holds: ` +
                `${String(errOut).trim() || (err && err.message) || `an answer that is not JSON: ${String(out).slice(0, 200)}`}`));
        });
        child.stdin.end(s.token || "");
    });
}

const SETTINGS = ["host", "org", "githubApi", "instances"];

const methods = {
    create: async i => ({ id: `${i.host}-registrations`, outs: { ...i, generation: 0, missing: [] } }),
    diff: async (o, n) => ({ changes: SETTINGS.some(k => o[k] !== n[k]) || (await missing(n)).length > 0 }),
    update: async (o, n) => {
        const names = await missing(n);
        return { outs: { ...n, generation: (o.generation || 0) + (names.length > 0 ? 1 : 0), missing: names } };
    },
};

async function main() {
    const [method, ...args] = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (!Object.prototype.hasOwnProperty.call(methods, method)) {
        fail(`runner-fleet: the registration watch has no method "${method}" (create, diff or update)`);
    }
    process.stdout.write(`${JSON.stringify(await methods[method](...args))}\n`);
}

main().catch(e => fail(e.message));
