// Offline plan, running: what a stack would create, with no credentials and no Pulumi
// CLI. Evaluates the program `pulumi up` would run (the entry point the
// Pulumi Node.js language host resolves from Pulumi.yaml and package.json,
// TypeScript included) for Pulumi.<stack>.yaml under the SDK's mock runtime
// and prints, per host, every resource, the runner labels per arch and the
// estimated monthly cost. Secret config values are replaced by placeholders
// before the program sees them, so nothing secret can be printed. An entry
// point that registers no resource is not a program, and is refused.
//
//   npm run plan -- --stack example [--cwd DIR] [--json]
//
// Exit status: 0 planned, 1 the config has problems (all are listed), 2 usage
// or another error.

import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { RunnerFleet } from "../../components";
import type { RunsOn } from "../../components/github/routing";
import type { ArchRunners } from "../../components/spec/resolve";
import { MockRuntime, valueOf } from "../../components/testing/mock-runtime";
import { EntryPoint, pulumiEntryPoint } from "../lib/entry-point";
import { groupPlan } from "./group";
import { Plan } from "./model";
import { readStackConfig } from "./stack";

interface ProgramOutputs {
    hosts?: unknown;
    labelsByArch?: unknown;
    runsOn?: unknown;
    estimatedMonthlyCost?: unknown;
    workflowYaml?: unknown;
}

/**
 * Loads the entry point as the language host does: TypeScript through
 * ts-node (the project's own, else this package's), transpile only; the
 * module's export is the outputs, or a function returning them.
 */
function loadProgram(dir: string, entry: EntryPoint): () => Promise<ProgramOutputs> {
    if (/\.[cm]?ts$/.test(entry.file)) {
        const tsconfig = path.join(dir, "tsconfig.json");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const tsNode = require(require.resolve("ts-node", { paths: [dir, __dirname] })) as typeof import("ts-node");
        tsNode.register({ transpileOnly: true, ...(fs.existsSync(tsconfig) ? { project: tsconfig } : { skipProject: true }) });
    }
    return async () => {
        // Required only now: the program reads config when it runs.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const exported = require(entry.file) as unknown;
        const value = typeof exported === "function" ? (exported as () => unknown)() : exported;
        return ((await value) ?? {}) as ProgramOutputs;
    };
}

/** The SDK's promise bookkeeping (runtime/debuggable.js), the module its resources call it through. */
export function sdkDebuggable(): { debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> } {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@pulumi/pulumi/runtime/debuggable");
}

/** The entry point registers no resource: it is not a Pulumi program (a library entry, say). */
export class NotAProgramError extends Error {
    constructor(public readonly entry: EntryPoint) {
        super(`pulumi up would run ${entry.relative} (from ${entry.via}), which registers no resource: it is not a Pulumi program. ` +
            "Fix: set main in Pulumi.yaml to the program's file, such as main: index.ts");
        this.name = "NotAProgramError";
    }
}

/**
 * Evaluates the program under mocks for one stack. Throws what the program
 * throws (a FleetConfigError for bad config). Call once per process: the
 * program module is evaluated on first import only. `program` replaces the
 * project's entry point (the benchmark passes the compiled program).
 */
export async function planStack(dir: string, stack: string, program?: () => ProgramOutputs): Promise<Plan> {
    const cfg = readStackConfig(dir, stack);
    const entry = program ? undefined : pulumiEntryPoint(dir);
    const run = program ? async () => program() : loadProgram(dir, entry as EntryPoint);
    const runtime = new MockRuntime({ project: cfg.project, stack, config: cfg.config, secretKeys: cfg.secretKeys }).install();
    // With no engine to send them to, the SDK prints the program's log warnings with console.warn.
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = args.map(String).join(" ");
        const m = /^warning: \[runtime\] ([\s\S]*)$/.exec(text);
        if (m) {
            warnings.push(m[1]);
        } else {
            warn(...args);
        }
    };
    // The SDK wraps every promise it makes for a resource (four per property: its value, known, secret and
    // dependencies) in runtime/debuggable.js debuggablePromise, for its report of promises left unresolved at
    // exit: a stack trace, a context string, a place in a set and two more promises each, kept until the
    // value arrives. The plan never prints that report (its own settle step waits for every registration),
    // and for 500 hosts the wrapping was a sixth of the plan's memory (npm run bench). The promise itself
    // is handed back unchanged.
    const debuggable = sdkDebuggable();
    const debuggablePromise = debuggable.debuggablePromise;
    debuggable.debuggablePromise = p => p;
    // The SDK also records, for every resource, every frame of the stack its constructor was called from
    // (resource.js Resource.stackTrace: the engine's source positions), parsed and marshalled frame by
    // frame, and pulumi.output preallocates an Error (with its stack) per object or array it walks: with
    // the stack depth at 0 and the constructor's frames not recorded, a sixth of the plan's time and a
    // tenth of its memory went for 500 hosts. The plan shows no source position.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const resourceClass = pulumi.Resource as unknown as { stackTrace: (skip?: number) => unknown[] };
    const stackTraceOf = resourceClass.stackTrace;
    resourceClass.stackTrace = () => [];
    let outputs: ProgramOutputs;
    try {
        outputs = await run();
        await runtime.settle();
    } finally {
        console.warn = warn;
        Error.stackTraceLimit = stackTraceLimit;
        resourceClass.stackTrace = stackTraceOf;
        debuggable.debuggablePromise = debuggablePromise;
    }
    if (entry && runtime.recording().resources.length === 0) {
        throw new NotAProgramError(entry);
    }
    await Promise.all([outputs.hosts, outputs.labelsByArch, outputs.runsOn, outputs.estimatedMonthlyCost, outputs.workflowYaml].map(o => valueOf(o as never)));
    await runtime.settle();
    const recording = runtime.recording();
    const grouped = groupPlan(cfg.project, stack, recording.resources, recording.componentOutputs);
    // What the fleets say of themselves; a program that exports them says the same.
    const fleetOutputs = recording.resources.filter(r => r.type === RunnerFleet.TYPE).map(r => recording.componentOutputs.get(r.urn) ?? {});
    const merge = <T>(key: string) => Object.assign({}, ...fleetOutputs.map(o => (o[key] ?? {}) as Record<string, T>)) as Record<string, T>;
    const workflows = fleetOutputs.map(o => o.workflowYaml).filter((w): w is string => typeof w === "string");
    return {
        ...grouped,
        labelsByArch: merge<ArchRunners>("labelsByArch"), runsOn: merge<RunsOn>("runsOn"),
        workflowYaml: workflows[0],
        entryPoint: entry ? { file: entry.relative, via: entry.via } : { file: "(given by the caller)", via: "planStack" },
        warnings,
    };
}

