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
import { RegistryMirror, RunnerAgent, RunnerFleet } from "../components";
import { hostSources } from "../components/spec/host-sources";
import { hostPrice, monthlyTotals } from "../components/spec/resolve";
import type { RunsOn } from "../components/github/routing";
import type { ArchRunners } from "../components/spec/resolve";
import { EntryPoint, pulumiEntryPoint } from "./lib/entry-point";
import { MockRuntime, RecordedResource, valueOf } from "../components/testing/mock-runtime";

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

export interface PlanResource {
    readonly type: string;
    readonly name: string;
}

/** One host, whatever composed it: a RunnerFleet's host, or a host component used directly. */
export interface PlanHostGroup {
    /** The host's name (its hostname). */
    readonly host: string;
    /** The RunnerFleet it belongs to (the component's name), or null for a host the program made itself. */
    readonly fleet: string | null;
    /** The host component's resource name. */
    readonly component: string;
    readonly provider: string;
    readonly arch: string;
    readonly plan: string | null;
    /** The agent on it (a RunnerAgent below the host), or null without one. */
    readonly agent: string | null;
    readonly labels: readonly string[];
    readonly monthlyPrice: number | null;
    readonly currency: string | null;
    readonly exposed: string | null;
    readonly resources: readonly PlanResource[];
}

/** A RunnerFleet: its hosts, what it creates once, and its cost. */
export interface PlanFleet {
    readonly fleet: string;
    readonly hosts: readonly string[];
    readonly resources: readonly PlanResource[];
    readonly estimatedMonthlyCost: Record<string, number>;
}

export interface Plan {
    readonly stack: string;
    readonly project: string;
    readonly fleets: readonly PlanFleet[];
    readonly hosts: readonly PlanHostGroup[];
    /** Resources below no host: each fleet's own and, last, the program's outside any fleet. */
    readonly fleetWide: readonly PlanResource[];
    /** Resources the program made outside any fleet and any host. */
    readonly outside: readonly PlanResource[];
    readonly labelsByArch: Record<string, ArchRunners>;
    readonly runsOn: Record<string, RunsOn>;
    /** Per currency, over every host with a known price. */
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

/** The host components' type tokens, by the registered host sources' declarations, and the source each stands for. */
function hostTypes(): Record<string, string> {
    return Object.fromEntries(hostSources().map(s => [s.typeToken, s.id]));
}

/**
 * Groups recorded resources by the components they descend from: each host
 * component (whatever made it: a RunnerFleet, or the program directly) holds
 * everything below it; what is below a RunnerFleet but no host is that
 * fleet's own; the rest is outside any fleet. Host facts come from what the
 * host and agent components registered, prices from the fleet (which knows a
 * host's own monthlyPrice) or else the catalog.
 */
export function groupPlan(
    project: string, stack: string, resources: readonly RecordedResource[], outputs: ReadonlyMap<string, Record<string, unknown>>,
): Pick<Plan, "stack" | "project" | "fleets" | "hosts" | "fleetWide" | "outside" | "resourceCount" | "estimatedMonthlyCost"> {
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const nearest = (r: RecordedResource, match: (x: RecordedResource) => boolean): RecordedResource | undefined => {
        for (let cur: RecordedResource | undefined = r; cur; cur = byUrn.get(cur.parent)) {
            if (match(cur)) {
                return cur;
            }
        }
        return undefined;
    };
    const HOST_TYPES = hostTypes();
    const hostComponents = resources.filter(r => r.type in HOST_TYPES);
    // A RunnerAgent or RegistryMirror the program made beside its host (not as its child) names the host it runs on.
    const byHostname = new Map(hostComponents.map(h => [String(outputs.get(h.urn)?.hostname ?? h.name), h]));
    const onHost = (r: RecordedResource): RecordedResource | undefined =>
        r.type === RunnerAgent.TYPE || r.type === RegistryMirror.TYPE ? byHostname.get(String(outputs.get(r.urn)?.host ?? "")) : undefined;
    const hostOf = (r: RecordedResource): RecordedResource | undefined => {
        for (let cur: RecordedResource | undefined = r; cur; cur = byUrn.get(cur.parent)) {
            if (cur.type in HOST_TYPES) {
                return cur;
            }
            const named = onHost(cur);
            if (named) {
                return named;
            }
        }
        return undefined;
    };
    const fleets = resources.filter(r => r.type === RunnerFleet.TYPE);
    const agents = resources.filter(r => r.type === RunnerAgent.TYPE);
    const items = new Map<string, PlanResource[]>(hostComponents.map(h => [h.urn, []]));
    const fleetOwn = new Map<string, PlanResource[]>(fleets.map(f => [f.urn, []]));
    const outside: PlanResource[] = [];
    for (const r of resources) {
        const item = { type: r.type, name: r.name };
        const host = hostOf(r);
        if (host) {
            items.get(host.urn)!.push(item);
            continue;
        }
        const fleet = nearest(r, x => x.type === RunnerFleet.TYPE);
        (fleet ? fleetOwn.get(fleet.urn)! : outside).push(item);
    }
    const hosts: PlanHostGroup[] = hostComponents.map(h => {
        const o = outputs.get(h.urn) ?? {};
        const hostname = String(o.hostname ?? h.name);
        const fleet = nearest(h, x => x.type === RunnerFleet.TYPE);
        const fromFleet = fleet ? ((outputs.get(fleet.urn)?.hosts ?? {}) as Record<string, Record<string, unknown>>)[hostname] : undefined;
        const agent = agents.find(a => hostOf(a)?.urn === h.urn);
        const agentOut = agent ? outputs.get(agent.urn) ?? {} : {};
        const provider = String(o.provider ?? HOST_TYPES[h.type]);
        const plan = typeof o.plan === "string" ? o.plan : null;
        const price = fromFleet
            ? { monthlyPrice: fromFleet.monthlyPrice as number | null, currency: fromFleet.currency as string | null }
            : hostPrice(provider, plan ?? undefined);
        return {
            host: hostname, fleet: fleet?.name ?? null, component: h.name, provider, arch: String(o.arch ?? ""), plan,
            agent: agent ? String(agentOut.kind ?? "") || null : null,
            labels: (agentOut.labels as string[] | undefined) ?? [],
            monthlyPrice: price.monthlyPrice ?? null,
            currency: price.currency ?? null,
            exposed: (fromFleet?.exposed as string | null | undefined) ?? null,
            resources: items.get(h.urn) ?? [],
        };
    });
    const total = monthlyTotals;
    const planFleets: PlanFleet[] = fleets.map(f => {
        const own = hosts.filter(h => h.fleet === f.name);
        return { fleet: f.name, hosts: own.map(h => h.host), resources: fleetOwn.get(f.urn) ?? [], estimatedMonthlyCost: total(own) };
    });
    return {
        stack, project, fleets: planFleets, hosts,
        fleetWide: [...planFleets.flatMap(f => f.resources), ...outside], outside,
        resourceCount: resources.length, estimatedMonthlyCost: total(hosts),
    };
}

function costText(cost: Record<string, number>): string {
    const totals = Object.entries(cost).map(([c, n]) => `${n.toFixed(2)} ${c}`);
    return totals.length ? totals.join(" + ") : "unknown";
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
    const hostLines = (h: PlanHostGroup, indent: string) => {
        out.push("");
        out.push(`${indent}Host ${h.host}: ${h.provider}${h.plan ? ` ${h.plan}` : ""}, ${h.arch}, ${h.agent ? `agent ${h.agent}` : "no agent"}, ${money(h.monthlyPrice, h.currency)}`);
        if (h.labels.length > 0) {
            out.push(`${indent}  labels: ${h.labels.join(", ")}`);
        }
        if (h.exposed) {
            out.push(`${indent}  EXPOSED: ${h.exposed}`);
        }
        for (const r of h.resources) {
            out.push(`${indent}  + ${r.type}  ${r.name}`);
        }
    };
    for (const f of plan.fleets) {
        out.push("");
        out.push(`Fleet ${f.fleet}: ${f.hosts.length} host(s), ${costText(f.estimatedMonthlyCost)} per month`);
        for (const h of plan.hosts.filter(x => x.fleet === f.fleet)) {
            hostLines(h, "  ");
        }
        if (f.resources.length > 0) {
            out.push("");
            out.push(`  Fleet-wide (${f.fleet}):`);
            for (const r of f.resources) {
                out.push(`    + ${r.type}  ${r.name}`);
            }
        }
    }
    for (const h of plan.hosts.filter(x => x.fleet === null)) {
        hostLines(h, "");
    }
    if (plan.outside.length > 0) {
        out.push("");
        out.push("Outside any fleet or host:");
        for (const r of plan.outside) {
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
        out.push(`  ${`${h.fleet ? `${h.fleet}/` : ""}${h.host}`.padEnd(32)} ${money(h.monthlyPrice, h.currency)}`);
    }
    for (const f of plan.fleets) {
        out.push(`  ${`fleet ${f.fleet}`.padEnd(32)} ${costText(f.estimatedMonthlyCost)} per month`);
    }
    out.push(`  ${"total".padEnd(32)} ${costText(plan.estimatedMonthlyCost)} per month`);
    out.push("");
    out.push(`${plan.resourceCount} resources would be created.`);
    return out.join("\n");
}

