// What a workflow DOES for a given event, worked out with GitHub's own
// libraries: @actions/workflow-parser parses and validates the file as GitHub
// does (and normalizes every `if:`, e.g. adding the implicit `success() &&`),
// @actions/expressions evaluates `if:`, `runs-on` and `${{ }}` in inputs
// against contexts built for the event. Both are ESM; the parser imports its
// JSON schema without import attributes, so a loader hook adds them
// (test/json-imports.mjs).

import { register } from "node:module";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import * as YAML from "yaml";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Esm = any;

let loading: Promise<{ wp: Esm; ex: Esm }> | undefined;

/** GitHub's parser and evaluator, loaded once. */
export function githubLibraries(): Promise<{ wp: Esm; ex: Esm }> {
    if (!loading) {
        register(pathToFileURL(path.resolve(__dirname, "..", "..", "test", "json-imports.mjs")));
        // A real dynamic import (TypeScript's CommonJS output would turn import() into require()).
        const esm = new Function("s", "return import(s)") as (s: string) => Promise<Esm>;
        loading = Promise.all([esm("@actions/workflow-parser"), esm("@actions/expressions")]).then(([wp, ex]) => ({ wp, ex }));
    }
    return loading;
}

export interface Parsed {
    /** What GitHub's parser reports: schema and expression errors. */
    readonly errors: string[];
    /** The parser's model (WorkflowTemplate): jobs, steps, normalized `if:` expressions. */
    readonly template: Esm;
}

/** Parses a workflow as GitHub does. */
export async function parseAsGithub(name: string, content: string): Promise<Parsed> {
    const { wp } = await githubLibraries();
    const result = wp.parseWorkflow({ name, content }, new wp.NoOperationTraceWriter());
    const errors: string[] = result.context.errors.getErrors().map((e: { message: string }) => e.message);
    const template = result.value ? await wp.convertWorkflowTemplate(result.context, result.value) : undefined;
    for (const e of template?.errors ?? []) {
        errors.push(e.Message);
    }
    return { errors, template };
}

/** An event as a workflow run sees it: the github context (the payload under `event`), secrets and vars. */
export interface EventContext {
    readonly github: Record<string, unknown>;
    readonly secrets?: Record<string, string>;
    readonly vars?: Record<string, string>;
}

export interface StepRun {
    readonly name: string;
    readonly uses?: string;
    readonly ran: boolean;
    /** `with:`, every `${{ }}` evaluated (steps that did not run: as written). */
    readonly with: Record<string, unknown>;
}

export interface JobRun {
    readonly id: string;
    readonly ran: boolean;
    readonly matrix?: Record<string, unknown>;
    /** runs-on, evaluated. */
    readonly runsOn?: unknown;
    /** The job's permissions for GITHUB_TOKEN, as written. */
    readonly permissions?: Record<string, string>;
    readonly steps: readonly StepRun[];
}

// Status functions, as a run where everything so far succeeded has them.
const STATUS = [["success", true], ["always", true], ["failure", false], ["cancelled", false]] as const;

class Evaluation {
    private readonly contexts: Record<string, unknown>;

    constructor(private readonly ex: Esm, contexts: Record<string, unknown>) {
        this.contexts = contexts;
    }

    with(more: Record<string, unknown>): Evaluation {
        return new Evaluation(this.ex, { ...this.contexts, ...more });
    }

    /** Evaluates one expression (without ${{ }}) to plain JSON values. */
    value(expr: string): unknown {
        const ex = this.ex;
        const lexed = new ex.Lexer(expr).lex();
        const functions = STATUS.map(([name]) => ({ name, minArgs: 0, maxArgs: 0 }));
        const tree = new ex.Parser(lexed.tokens, Object.keys(this.contexts), functions).parse();
        const context = JSON.parse(JSON.stringify(this.contexts), ex.data.reviver);
        const impl = new Map(STATUS.map(([name, v]) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new ex.data.BooleanData(v) }]));
        const result = new ex.Evaluator(tree, context, impl).evaluate();
        return JSON.parse(JSON.stringify(result, ex.data.replacer) ?? "null");
    }

    truthy(expr: string): boolean {
        const v = this.value(expr);
        return !(v === null || v === false || v === 0 || v === "" || (typeof v === "number" && Number.isNaN(v)));
    }

    /** A value as GitHub substitutes it: a lone ${{ }} keeps its type; within text, each is its string form. */
    interpolate(v: unknown): unknown {
        if (typeof v !== "string" || !v.includes("${{")) {
            return v;
        }
        const whole = /^\$\{\{([\s\S]*?)\}\}$/.exec(v.trim());
        if (whole && !whole[1].includes("}}")) {
            // A lone expression keeps its type (runs-on takes an array); null becomes the empty string.
            return this.value(whole[1]) ?? "";
        }
        return v.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => {
            const r = this.value(e);
            return r === null ? "" : typeof r === "object" ? JSON.stringify(r) : String(r);
        });
    }
}

/**
 * Which jobs and steps of a workflow run for an event, where, and with what
 * inputs. Needs are honoured (a job whose needs did not run does not run);
 * step outputs are empty; a matrix is expanded from `include`.
 */
export async function simulate(name: string, content: string, event: EventContext): Promise<JobRun[]> {
    const { ex } = await githubLibraries();
    const parsed = await parseAsGithub(name, content);
    if (parsed.errors.length > 0) {
        throw new Error(`GitHub's parser refuses ${name}: ${parsed.errors.join("; ")}`);
    }
    const doc = YAML.parse(content);
    const base = new Evaluation(ex, {
        github: event.github, secrets: event.secrets ?? {}, vars: event.vars ?? {}, env: doc.env ?? {},
        runner: { os: "Linux", arch: "X64", temp: "/home/runner/work/_temp" }, inputs: {}, needs: {}, steps: {}, matrix: {}, strategy: {}, job: {},
    });
    const ran = new Map<string, boolean>();
    const out: JobRun[] = [];
    for (const job of parsed.template.jobs) {
        const id: string = job.id.value;
        const raw = doc.jobs[id];
        const needs: string[] = (job.needs ?? []).map((n: { value: string }) => n.value);
        const needsRan = needs.every(n => ran.get(n));
        const matrices: Record<string, unknown>[] = raw.strategy?.matrix?.include ?? [{}];
        let any = false;
        for (const matrix of matrices) {
            const ev = base.with({ matrix, env: { ...(doc.env ?? {}), ...(raw.env ?? {}) } });
            const jobRuns = needsRan && ev.truthy(job.if.expression);
            any ||= jobRuns;
            const steps: StepRun[] = job.steps.map((step: Esm, i: number) => {
                const rawStep = raw.steps[i];
                const stepRuns = jobRuns && ev.truthy(step.if.expression);
                const withInputs: Record<string, unknown> = {};
                for (const [k, v] of Object.entries(rawStep.with ?? {})) {
                    withInputs[k] = stepRuns ? ev.interpolate(v) : v;
                }
                return { name: rawStep.name ?? rawStep.uses ?? `step ${i}`, uses: rawStep.uses, ran: stepRuns, with: withInputs };
            });
            out.push({
                id, ran: jobRuns, ...(raw.strategy ? { matrix } : {}),
                runsOn: jobRuns ? ev.interpolate(raw["runs-on"]) : undefined, permissions: raw.permissions, steps,
            });
        }
        ran.set(id, any);
    }
    return out;
}
