// What every validator returns and every component throws: a problem names
// the field, says what is wrong and how to fix it; the error lists them all.
// Validators check their own arguments under their own paths; whoever
// composes them puts its prefix in front (`within`).

import * as pulumi from "@pulumi/pulumi";

/** One thing wrong with the input: where, what, and how to fix it. */
export interface Problem {
    /** The field, such as `hosts[2].agent`; empty for the input as a whole. */
    readonly path: string;
    readonly message: string;
    readonly fix: string;
}

/** Thrown when a component's input is invalid; lists every problem. Thrown before any resource is registered. */
export class FleetConfigError extends Error {
    constructor(public readonly problems: readonly Problem[], what = "the fleet config") {
        super(formatProblems(problems, what));
        this.name = "FleetConfigError";
    }
}

export function formatProblems(problems: readonly Problem[], what = "the fleet config"): string {
    const n = problems.length;
    const lines = problems.map(p => `  - ${p.path || "(the whole input)"}: ${p.message}. Fix: ${p.fix}`);
    return `${what} has ${n} problem${n === 1 ? "" : "s"}; nothing was created:\n${lines.join("\n")}`;
}

/** Joins a prefix and a field path: `hosts[2]` + `agent`, `hosts` + `[2]`. */
export function joinPath(prefix: string, path: string): string {
    if (prefix === "") {
        return path;
    }
    if (path === "") {
        return prefix;
    }
    return path.startsWith("[") ? `${prefix}${path}` : `${prefix}.${path}`;
}

/** Problems of a part, with the part's place in front of each path. */
export function within(prefix: string, problems: readonly Problem[]): Problem[] {
    return problems.map(p => ({ ...p, path: joinPath(prefix, p.path) }));
}

/** Collects problems; `add` keeps call sites short. */
export class Problems {
    public readonly list: Problem[] = [];

    add(path: string, message: string, fix: string): void {
        this.list.push({ path, message, fix });
    }

    addAll(problems: readonly Problem[]): void {
        this.list.push(...problems);
    }
}

/** Throws one FleetConfigError when there is any problem. */
export function throwIfAny(problems: readonly Problem[], what: string): void {
    if (problems.length > 0) {
        throw new FleetConfigError(problems, what);
    }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length];
}

/** The known word nearest to `word` (case-insensitive edit distance). */
export function nearest(word: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestD = Infinity;
    for (const k of known) {
        const d = distance(word.toLowerCase(), k.toLowerCase());
        if (d < bestD) {
            best = k;
            bestD = d;
        }
    }
    return best;
}

/** How a value reads in a message: `a list`, `number 3`, `string "x"`. */
export function describe(v: unknown): string {
    if (Array.isArray(v)) {
        return "a list";
    }
    if (v === null) {
        return "null";
    }
    return typeof v === "object" ? "a mapping" : `${typeof v} ${JSON.stringify(v)}`;
}

/** An `after` arg's entries that are not resources (what the step must follow). */
export function afterProblems(after: readonly unknown[] | undefined): Problem[] {
    return (after ?? []).flatMap((r, i) => pulumi.Resource.isInstance(r) ? [] : [{
        path: `after[${i}]`, message: "is not a resource", fix: "pass resources (resource references from other languages), such as the runner group or the agent's install",
    }]);
}
