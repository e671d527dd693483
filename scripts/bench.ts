// Benchmark of the offline plan: evaluates the program under mocks for fleets
// of 10, 100 and 500 hosts (a mix of all three host sources and both agents,
// with the organization wiring and the workflow) and prints, per size, the
// wall time and the peak memory. Each size runs in its own process, so its
// peak memory is its own.
//
//   npm run bench [-- 10 100 500]

import { spawnSync } from "child_process";
import { Command, CommanderError } from "commander";
import { wholeNumber } from "./cli";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { packageRoot } from "../components/remote/package-files";

/** A stack directory with a fleet of n hosts; secrets as placeholders. */
export function benchStack(n: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runner-fleet-bench-${n}-`));
    const root = packageRoot();
    fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const hosts = Array.from({ length: n }, (_, i) => [
        { name: `metal-${i}`, provider: "equinix-metal", metro: "da" },
        { name: `cloud-${i}`, provider: "hetzner-cloud", plan: "ccx33", location: "fsn1", agent: "github-runner" },
        { name: `robot-${i}`, provider: "existing", plan: "rx170", address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    ][i % 3]);
    const secure = { secure: "v1:placeholder:placeholder" };
    const config = {
        "runner-fleet:github": { org: "bench-org" },
        "runner-fleet:mirror": { dockerHubUsername: "bench-bot" },
        "runner-fleet:equinixProjectId": "00000000-0000-4000-8000-000000000000",
        "runner-fleet:adminCidrs": ["198.51.100.0/24"],
        "runner-fleet:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBench bench",
        "runner-fleet:hosts": hosts,
        "runner-fleet:workflow": { image: "docker.io/bench-org/app", registryUsername: "bench-pusher", repositories: ["app"] },
        "runner-fleet:sshPrivateKey": secure,
        "runner-fleet:actuatedLicense": secure,
        "runner-fleet:actuatedToken": secure,
        "runner-fleet:dockerHubToken": secure,
        "runner-fleet:githubRunnerToken": secure,
        "runner-fleet:imageRegistryToken": secure,
    };
    fs.writeFileSync(path.join(dir, "Pulumi.bench.yaml"), YAML.stringify({ config }));
    return dir;
}

interface Result {
    hosts: number;
    resources: number;
    planMs: number;
    processMs: number;
    peakRssMb: number;
}

async function one(n: number): Promise<void> {
    const dir = benchStack(n);
    const started = process.hrtime.bigint();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { planStack } = require("./plan") as typeof import("./plan");
    // The compiled program, so the figures measure the fleet, not ts-node.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { fleetProgram } = require("../components/fleet/program") as typeof import("../components/fleet/program");
    const plan = await planStack(dir, "bench", fleetProgram);
    const planMs = Number(process.hrtime.bigint() - started) / 1e6;
    const result: Omit<Result, "processMs"> = {
        hosts: n, resources: plan.resourceCount, planMs: Math.round(planMs),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`${JSON.stringify(result)}\n`);
}

function main(): void {
    const program = new Command("bench")
        .description("Times the offline plan for fleets of the given sizes, each in its own process (wall time and peak memory).")
        .argument("[hosts...]", "fleet sizes (whole numbers of hosts)", (v: string, all: number[] = []) => [...all, wholeNumber("hosts")(v)])
        .option("--json", "the rows as JSON")
        .showHelpAfterError()
        .exitOverride();
    try {
        program.parse(process.argv.slice(2), { from: "user" });
    } catch (e) {
        process.exit(e instanceof CommanderError && e.code === "commander.helpDisplayed" ? 0 : 2);
    }
    const sizes = (program.processedArgs[0] as number[] | undefined) ?? [];
    const json = Boolean(program.opts().json);
    const wanted = sizes.length ? sizes : [10, 100, 500];
    const rows: Result[] = [];
    for (const n of wanted) {
        const t0 = Date.now();
        const r = spawnSync(process.execPath, [__filename, "--one", String(n)], { encoding: "utf8", maxBuffer: 1 << 26 });
        if (r.status !== 0) {
            process.stderr.write(r.stderr);
            process.exit(1);
        }
        rows.push({ ...JSON.parse(r.stdout.trim().split("\n").pop() as string), processMs: Date.now() - t0 });
    }
    if (json) {
        console.log(JSON.stringify({ node: process.version, cores: os.cpus().length, rows }, null, 2));
        return;
    }
    console.log(`offline plan benchmark (node ${process.version}, ${os.cpus().length} cores)`);
    console.log("hosts  resources  plan wall (ms)  process wall (ms)  peak RSS (MiB)");
    for (const r of rows) {
        console.log(`${String(r.hosts).padStart(5)}  ${String(r.resources).padStart(9)}  ${String(r.planMs).padStart(14)}  ${String(r.processMs).padStart(17)}  ${String(r.peakRssMb).padStart(14)}`);
    }
}

if (require.main === module) {
    if (process.argv[2] === "--one") {
        one(Number(process.argv[3])).catch(e => {
            console.error(e);
            process.exit(1);
        });
    } else {
        main();
    }
}
