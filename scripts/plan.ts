// Offline plan: what a stack would create, with no credentials and no Pulumi
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
import * as YAML from "yaml";
import type { FleetHostOutput } from "../components/fleet";
import type { RunsOn } from "../components/routing";
import type { ArchRunners } from "../components/summary";
import { EntryPoint, EntryPointError, pulumiEntryPoint } from "./lib/entry-point";
import { MockRuntime, RecordedResource, valueOf } from "./lib/mock-runtime";

export interface StackConfig {
    readonly project: string;
    /** Full keys (`project:key`) to the strings the engine would hand over. */
    readonly config: Record<string, string>;
    /** Keys whose values were secret; their values here are placeholders. */
    readonly secretKeys: string[];
}

/** A placeholder that stands in for a secret value in the plan. */
export function secretPlaceholder(key: string): string {
    return `[secret ${key}]`;
}

/** Reads Pulumi.yaml and Pulumi.<stack>.yaml, replacing every secure value by a placeholder. */
export function readStackConfig(dir: string, stack: string): StackConfig {
    const projectFile = path.join(dir, "Pulumi.yaml");
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(projectFile)) {
        throw new UsageError(`no Pulumi.yaml in ${dir}`);
    }
    if (!fs.existsSync(stackFile)) {
        const stacks = fs.readdirSync(dir).filter(f => /^Pulumi\..+\.yaml$/.test(f)).map(f => f.slice(7, -5));
        throw new UsageError(`no stack file Pulumi.${stack}.yaml in ${dir}${stacks.length ? `; stacks here: ${stacks.join(", ")}` : ""}`);
    }
    const project = String((YAML.parse(fs.readFileSync(projectFile, "utf8")) ?? {}).name ?? "");
    const doc = YAML.parse(fs.readFileSync(stackFile, "utf8")) ?? {};
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries<unknown>(doc.config ?? {})) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        let secret = false;
        const scrub = (v: unknown): unknown => {
            if (isSecure(v)) {
                secret = true;
                return secretPlaceholder(key);
            }
            if (Array.isArray(v)) {
                return v.map(scrub);
            }
            if (typeof v === "object" && v !== null) {
                return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x)]));
            }
            return v;
        };
        const clean = scrub(value);
        config[key] = typeof clean === "string" ? clean : JSON.stringify(clean);
        if (secret) {
            secretKeys.push(key);
        }
    }
    return { project, config, secretKeys };
}

function isSecure(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

export class UsageError extends Error {}

export interface PlanHostGroup extends Omit<FleetHostOutput, "address"> {
    readonly host: string;
    readonly resources: readonly { type: string; name: string }[];
}

export interface Plan {
    readonly stack: string;
    readonly project: string;
    readonly hosts: readonly PlanHostGroup[];
    readonly fleetWide: readonly { type: string; name: string }[];
    readonly labelsByArch: Record<string, ArchRunners>;
    readonly runsOn: Record<string, RunsOn>;
    readonly estimatedMonthlyCost: Record<string, number>;
    /** The rendered build workflow, when the stack has one. */
    readonly workflowYaml?: string;
    readonly resourceCount: number;
    /** The file `pulumi up` runs, relative to the project folder, and how Pulumi finds it. */
    readonly entryPoint: { readonly file: string; readonly via: string };
    /** What the program logged as warnings (pulumi.log.warn), as `pulumi up` would print them. */
    readonly warnings: readonly string[];
}

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
    let outputs: ProgramOutputs;
    try {
        outputs = await run();
        await runtime.settle();
    } finally {
        console.warn = warn;
    }
    if (entry && runtime.recording().resources.length === 0) {
        throw new NotAProgramError(entry);
    }
    const [hosts, labelsByArch, runsOn, cost, workflowYaml] = await Promise.all([
        valueOf(outputs.hosts as never) as Promise<Record<string, Omit<PlanHostGroup, "host" | "resources">>>,
        valueOf(outputs.labelsByArch as never) as Promise<Record<string, ArchRunners>>,
        valueOf(outputs.runsOn as never) as Promise<Record<string, RunsOn>>,
        valueOf(outputs.estimatedMonthlyCost as never) as Promise<Record<string, number>>,
        valueOf(outputs.workflowYaml as never) as Promise<string | undefined>,
    ]);
    await runtime.settle();
    const { resources } = runtime.recording();
    return {
        ...groupPlan(cfg.project, stack, resources, hosts ?? {}),
        labelsByArch: labelsByArch ?? {}, runsOn: runsOn ?? {}, estimatedMonthlyCost: cost ?? {}, workflowYaml,
        entryPoint: entry ? { file: entry.relative, via: entry.via } : { file: "(given by the caller)", via: "planStack" },
        warnings,
    };
}

/** Groups recorded resources under the host whose component they descend from. */
export function groupPlan(
    project: string, stack: string, resources: readonly RecordedResource[],
    hosts: Record<string, Omit<PlanHostGroup, "host" | "resources">>,
): Pick<Plan, "stack" | "project" | "hosts" | "fleetWide" | "resourceCount"> {
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const fleet = resources.find(r => r.type === "runner-fleet:index:RunnerFleet");
    const hostOf = (r: RecordedResource): string | undefined => {
        let cur: RecordedResource | undefined = r;
        while (cur) {
            if (fleet && cur.parent === fleet.urn) {
                const prefix = `${fleet.name}-`;
                const hostName = cur.name.startsWith(prefix) ? cur.name.slice(prefix.length) : cur.name;
                return hostName in hosts ? hostName : undefined;
            }
            cur = byUrn.get(cur.parent);
        }
        return undefined;
    };
    const groups = new Map<string, { type: string; name: string }[]>(Object.keys(hosts).map(h => [h, []]));
    const fleetWide: { type: string; name: string }[] = [];
    for (const r of resources) {
        const h = hostOf(r);
        (h ? groups.get(h)! : fleetWide).push({ type: r.type, name: r.name });
    }
    return {
        stack, project,
        hosts: Object.entries(hosts).map(([host, h]) => ({ host, ...h, resources: groups.get(host) ?? [] })),
        fleetWide, resourceCount: resources.length,
    };
}

function money(n: number | null, currency: string | null): string {
    return n === null ? "price unknown" : `${n.toFixed(2)} ${currency ?? ""}/month`.replace(" /", "/");
}

/** The plan as people read it. */
export function formatPlan(plan: Plan): string {
    const out: string[] = [];
    out.push(`Offline plan for stack "${plan.stack}" of ${plan.project}: no credentials used, nothing created.`);
    out.push(`Program: ${plan.entryPoint.file} (what pulumi up runs, from ${plan.entryPoint.via}).`);
    out.push("Secret config values are shown as placeholders; values only a provider knows are fake.");
    for (const w of plan.warnings) {
        out.push(`WARNING: ${w}`);
    }
    for (const h of plan.hosts) {
        out.push("");
        out.push(`Host ${h.host}: ${h.provider}, ${h.arch}, agent ${h.agent}, ${money(h.monthlyPrice, h.currency)}`);
        out.push(`  labels: ${h.labels.join(", ")}`);
        if (h.exposed) {
            out.push(`  EXPOSED: ${h.exposed}`);
        }
        for (const r of h.resources) {
            out.push(`  + ${r.type}  ${r.name}`);
        }
    }
    if (plan.fleetWide.length > 0) {
        out.push("");
        out.push("Fleet-wide:");
        for (const r of plan.fleetWide) {
            out.push(`  + ${r.type}  ${r.name}`);
        }
    }
    out.push("");
    out.push("Runner labels per architecture and kind (what runs-on names):");
    for (const [arch, runners] of Object.entries(plan.labelsByArch)) {
        for (const kind of ["actuated", "github-runner"] as const) {
            const labels = runners[kind];
            if (labels) {
                const what = kind === "actuated" ? "actuated microVM, fresh per job (isolated)" : "plain runner on a shared host (trusted repositories only)";
                out.push(`  ${arch} ${kind}: ${labels.join(", ")}  -- ${what}${runners.preferred === kind ? "; preferred" : ""}`);
            }
        }
        const snippet = plan.runsOn[arch];
        if (snippet) {
            out.push(`    ${snippet.plain}`);
            out.push(`    routed (hosted runners for forks' work; not a security boundary): ${snippet.routed}`);
        }
    }
    if (plan.workflowYaml) {
        const files = plan.fleetWide.filter(r => r.type === "github:index/repositoryFile:RepositoryFile").map(r => r.name);
        const jobs = Object.keys((YAML.parse(plan.workflowYaml) ?? {}).jobs ?? {});
        out.push("");
        out.push(`Build workflow: jobs ${jobs.join(", ")}, ${plan.workflowYaml.split("\n").length} lines; ${files.length ? `committed by ${files.join(", ")}` : "rendered only (no repositories named)"}.`);
        out.push("  (write it out with --workflow FILE)");
    }
    out.push("");
    out.push("Estimated monthly cost:");
    for (const h of plan.hosts) {
        out.push(`  ${h.host.padEnd(24)} ${money(h.monthlyPrice, h.currency)}`);
    }
    const totals = Object.entries(plan.estimatedMonthlyCost).map(([c, n]) => `${n.toFixed(2)} ${c}`);
    out.push(`  ${"fleet".padEnd(24)} ${totals.length ? totals.join(" + ") : "unknown"} per month`);
    out.push("");
    out.push(`${plan.resourceCount} resources would be created.`);
    return out.join("\n");
}

const USAGE = "usage: npm run plan -- --stack <name> [--cwd DIR] [--json] [--workflow FILE]";

function parseArgs(argv: string[]): { stack: string; cwd: string; json: boolean; workflow?: string } {
    let stack: string | undefined;
    let cwd = process.cwd();
    let json = false;
    let workflow: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--stack" || a === "-s") {
            stack = argv[++i];
        } else if (a.startsWith("--stack=")) {
            stack = a.slice(8);
        } else if (a === "--cwd") {
            cwd = argv[++i];
        } else if (a === "--json") {
            json = true;
        } else if (a === "--workflow") {
            workflow = argv[++i];
        } else if (a === "--help" || a === "-h") {
            throw new UsageError(USAGE);
        } else {
            throw new UsageError(`unknown argument ${a}; ${USAGE}`);
        }
    }
    if (!stack) {
        throw new UsageError(`which stack? ${USAGE}`);
    }
    return { stack, cwd, json, workflow };
}

async function main(): Promise<number> {
    let args: ReturnType<typeof parseArgs>;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error((e as Error).message);
        return 2;
    }
    try {
        const plan = await planStack(args.cwd, args.stack);
        console.log(args.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
        if (args.workflow) {
            if (!plan.workflowYaml) {
                console.error(`stack ${args.stack} has no runner-fleet:workflow to write`);
                return 2;
            }
            fs.writeFileSync(args.workflow, plan.workflowYaml);
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

if (require.main === module) {
    main().then(code => process.exit(code), () => process.exit(2));
}
