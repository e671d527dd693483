#!/usr/bin/env node
// runner-fleet: the package's command, for a platform repository that uses
// the components (npx runner-fleet ...) and for this one (npm run plan, drift).
//
//   runner-fleet plan --stack NAME [--cwd DIR] [--json] [--workflow FILE]
//   runner-fleet drift [--stack NAME ...] [--json | --markdown] [--concurrency N] [--host-timeout SECONDS] [--cwd DIR]
//   runner-fleet status --stack NAME [--json | --markdown] [--org ORG] [--github-api URL] [--host-timeout SECONDS] [--cwd DIR]
//
// Arguments are parsed by commander; --help on the command and on each
// subcommand exits 0, an unknown flag or a missing value exits 2 with the usage.

import * as fs from "fs";
import * as path from "path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { packageFile } from "../components/remote/package-files";
import { DEFAULTS } from "../components/spec/settings";
import { EXIT, driftCheck, formatMarkdown, formatTable } from "./lib/drift";
import { OpenSshRunner, PulumiStackSource } from "./lib/drift-io";
import { EntryPointError } from "./lib/entry-point";
import { fleetStatus, formatStatusMarkdown, formatStatusTable, statusExitCode } from "./lib/status";
import { NotAProgramError, UsageError, formatPlan, planStack } from "./plan";

/** A commander parser for a whole number of at least 1, naming the flag or argument when it is not. */
export function wholeNumber(flag: string) {
    return (v: string): number => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) {
            throw new InvalidArgumentError(`${flag} takes a whole number of at least 1`);
        }
        return n;
    };
}

function version(): string {
    return String(JSON.parse(fs.readFileSync(packageFile("package.json"), "utf8")).version ?? "");
}

/** What each subcommand's action hands back: its exit status. */
type Run = (code: number) => void;

async function plan(o: { stack: string; cwd: string; json?: boolean; workflow?: string }): Promise<number> {
    try {
        const p = await planStack(path.resolve(o.cwd), o.stack);
        console.log(o.json ? JSON.stringify(p, null, 2) : formatPlan(p));
        if (o.workflow) {
            if (!p.workflowYaml) {
                console.error(`stack ${o.stack} has no runner-fleet:workflow to write`);
                return 2;
            }
            fs.writeFileSync(o.workflow, p.workflowYaml);
        }
        return 0;
    } catch (e) {
        const err = e as Error;
        if (err.name === "FleetConfigError") {
            console.error(err.message);
            return 1;
        }
        const plain = err instanceof UsageError || err instanceof EntryPointError || err instanceof NotAProgramError;
        console.error(plain ? err.message : `plan failed: ${err.stack ?? err.message}`);
        return 2;
    }
}

async function drift(o: { stack: string[]; json?: boolean; markdown?: boolean; concurrency: number; hostTimeout: number; cwd: string }): Promise<number> {
    const report = await driftCheck(new PulumiStackSource(path.resolve(o.cwd)), new OpenSshRunner(), {
        stacks: o.stack, concurrency: o.concurrency, hostTimeoutMs: o.hostTimeout * 1000,
    });
    console.log(o.json ? JSON.stringify(report, null, 2) : o.markdown ? formatMarkdown(report) : formatTable(report));
    return report.exitCode;
}

async function status(o: { stack: string; json?: boolean; markdown?: boolean; org?: string; githubApi: string; hostTimeout: number; cwd: string }): Promise<number> {
    const source = new PulumiStackSource(path.resolve(o.cwd));
    let targets;
    try {
        targets = await source.hosts(o.stack);
    } catch (e) {
        console.error(`cannot read stack ${o.stack}: ${(e as Error).message.split("\n")[0]}`);
        return 2;
    }
    const org = o.org ?? await source.org(o.stack).catch(() => undefined);
    const token = process.env.GITHUB_TOKEN ?? "";
    const gh = org && token ? { api: o.githubApi, org, token } : undefined;
    const report = await fleetStatus(o.stack, targets, new OpenSshRunner(), gh, { hostTimeoutMs: o.hostTimeout * 1000 });
    const withNote = gh ? report : { ...report, error: `runner states not read: ${org ? "" : "no organization (set --org or runner-fleet:github.org), "}${token ? "" : "no GITHUB_TOKEN"}`.replace(/, $/, "") };
    console.log(o.json ? JSON.stringify(withNote, null, 2) : o.markdown ? formatStatusMarkdown(withNote) : formatStatusTable(withNote));
    return statusExitCode(withNote);
}

/** The command, its subcommands and their help. */
export function cliProgram(done: Run): Command {
    const program = new Command("runner-fleet")
        .description("Offline plan, drift check and live status of runner-fleet stacks (native Arm64 and x86 CI runners on bare metal).")
        .version(version(), "-V, --version")
        .showHelpAfterError()
        .addHelpText("after", "\nExit status: 0 success; 1 config problems (plan) or drift (drift); 2 usage errors or a check that could not run.")
        .exitOverride();
    // One definition each, a new Option per subcommand.
    const cwd = () => new Option("--cwd <dir>", "the Pulumi project folder").default(process.cwd(), "the current folder");
    const hostTimeout = () => new Option("--host-timeout <seconds>", "time one host's check may take").argParser(wholeNumber("--host-timeout")).default(60);

    program.command("plan")
        .description("What a stack would create, with no credentials and no Pulumi CLI: evaluates the project's own program (Pulumi.yaml main, or package.json, TypeScript included) under mocks with Pulumi.<stack>.yaml, grouped by fleet and host, with the cost per host and per fleet.")
        .requiredOption("-s, --stack <name>", "the stack whose Pulumi.<name>.yaml to read")
        .addOption(cwd())
        .option("--json", "the plan as JSON")
        .option("--workflow <file>", "also write the rendered build workflow to FILE")
        .addHelpText("after", "\nExit status: 0 planned; 1 the config has problems (each is listed with its fix); 2 usage or another error.")
        .exitOverride()
        .action(async o => done(await plan(o)));

    program.command("drift")
        .description("Does the cloud still match each stack (refresh preview), and does each host still run what the stack installed (check.sh over SSH)? Changes nothing. Needs the Pulumi CLI and the stack's credentials.")
        .addOption(new Option("-s, --stack <name...>", "stacks to check (repeatable); all of the project's when none").default([]))
        .option("--json", "the report as JSON")
        .option("--markdown", "the report as Markdown, for $GITHUB_STEP_SUMMARY")
        .addOption(new Option("--concurrency <n>", "stacks and hosts checked at once").argParser(wholeNumber("--concurrency")).default(4))
        .addOption(hostTimeout())
        .addOption(cwd())
        .addHelpText("after", "\nExit status: 0 no drift; 1 drift found; 2 errors (an unknown stack, a project without stacks, missing credentials, an unreachable host).")
        .exitOverride()
        .action(async o => done(await drift(o)));

    program.command("status")
        .description("The fleet's live view per host: its runners online, busy or offline (GitHub API, with GITHUB_TOKEN), each runner's installed version against the newest release known and the days left before GitHub stops sending it jobs, the agent's services, and the mirror's hit ratio since it started. Reads only.")
        .requiredOption("-s, --stack <name>", "the stack whose hosts to read (its drift output)")
        .option("--json", "the status as JSON")
        .option("--markdown", "the status as Markdown, for $GITHUB_STEP_SUMMARY")
        .option("--org <org>", "the GitHub organization (default: the stack's runner-fleet:github.org)")
        .addOption(new Option("--github-api <url>", "GitHub's REST API").default(DEFAULTS.endpoints.githubApi))
        .addOption(hostTimeout())
        .addOption(cwd())
        .addHelpText("after", "\nExit status: 0 every host answered; 2 a host or the runner list could not be read.")
        .exitOverride()
        .action(async o => done(await status(o)));
    return program;
}

/** Runs the command with these arguments (without node and the script); resolves to the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
    let code = 0;
    const program = cliProgram(c => { code = c; });
    try {
        await program.parseAsync([...argv], { from: "user" });
        return code;
    } catch (e) {
        if (e instanceof CommanderError) {
            // --help and --version exit 0; a usage error (commander already printed it and the usage) exits 2.
            return e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : EXIT.error;
        }
        throw e;
    }
}

if (require.main === module) {
    runCli(process.argv.slice(2)).then(code => process.exit(code), e => {
        console.error(`runner-fleet failed: ${(e as Error).stack ?? (e as Error).message}`);
        process.exit(2);
    });
}
