// Drift check across stacks: does the cloud still match each stack, and does
// each host still run what the stack installed? Changes nothing.
//
//   npm run drift -- [--stack NAME ...] [--json | --markdown] [--concurrency N] [--host-timeout SECONDS] [--cwd DIR]
//
// With no --stack, every stack of the project. Exit status: 0 no drift,
// 1 drift found, 2 errors (unknown stack, missing credentials, unreachable
// host); a failing stack or host never hides the others.

import { DriftOptions, EXIT, driftCheck, formatMarkdown, formatTable } from "./lib/drift";
import { OpenSshRunner, PulumiStackSource } from "./lib/drift-io";

const USAGE = "usage: npm run drift -- [--stack NAME ...] [--json | --markdown] [--concurrency N] [--host-timeout SECONDS] [--cwd DIR]";

export function parseDriftArgs(argv: string[]): DriftOptions & { format: "table" | "json" | "markdown"; cwd: string } {
    const stacks: string[] = [];
    let format: "table" | "json" | "markdown" = "table";
    let concurrency = 4;
    let hostTimeoutMs = 60_000;
    let cwd = process.cwd();
    const number = (flag: string, v: string | undefined): number => {
        const n = Number(v);
        if (!v || !Number.isInteger(n) || n < 1) {
            throw new Error(`${flag} takes a whole number of at least 1; ${USAGE}`);
        }
        return n;
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--stack" || a === "-s") {
            const v = argv[++i];
            if (!v) {
                throw new Error(`--stack takes a stack name; ${USAGE}`);
            }
            stacks.push(v);
        } else if (a === "--json") {
            format = "json";
        } else if (a === "--markdown") {
            format = "markdown";
        } else if (a === "--concurrency") {
            concurrency = number(a, argv[++i]);
        } else if (a === "--host-timeout") {
            hostTimeoutMs = number(a, argv[++i]) * 1000;
        } else if (a === "--cwd") {
            cwd = argv[++i];
        } else {
            throw new Error(`unknown argument ${a}; ${USAGE}`);
        }
    }
    return { stacks, format, concurrency, hostTimeoutMs, cwd };
}

async function main(): Promise<number> {
    let o: ReturnType<typeof parseDriftArgs>;
    try {
        o = parseDriftArgs(process.argv.slice(2));
    } catch (e) {
        console.error((e as Error).message);
        return EXIT.error;
    }
    const report = await driftCheck(new PulumiStackSource(o.cwd), new OpenSshRunner(), o);
    console.log(o.format === "json" ? JSON.stringify(report, null, 2) : o.format === "markdown" ? formatMarkdown(report) : formatTable(report));
    return report.exitCode;
}

if (require.main === module) {
    main().then(code => process.exit(code), e => {
        console.error(`drift check failed: ${(e as Error).message}`);
        process.exit(EXIT.error);
    });
}
