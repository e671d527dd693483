// Parsing: raw settings (as the stack config or a caller hands them over)
// into a FleetSpec with defaults, through the declarations in settings.ts.
// Every problem at once: a value of the wrong type is reported and then left
// out (so its default applies), and parsing goes on, so that the checks that
// need several settings (rules.ts) still see the rest.

import { z } from "zod";
import { FleetSpec, SettingMeta, fleetSchema } from "./settings";
import { Problem, describe, joinPath, nearest } from "./problems";

/** A parsed fleet: the spec (undefined when a problem left nothing to check further) and the problems found. */
export class ParsedFleetConfig {
    constructor(
        /** With defaults filled in; values that had a problem are left out. */
        public readonly spec: FleetSpec | undefined,
        public readonly problems: readonly Problem[],
    ) {}

    /** The same, with problems found elsewhere (the stack config's own) put first. */
    withProblems(before: readonly Problem[]): ParsedFleetConfig {
        return new ParsedFleetConfig(this.spec, [...before, ...this.problems]);
    }
}

type Key = PropertyKey;

/** The pieces of zod's schema definitions the walk below reads. */
interface Def {
    readonly type: string;
    readonly innerType?: z.ZodType;
    readonly shape?: Record<string, z.ZodType>;
    readonly element?: z.ZodType;
    readonly in?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
    return schema._zod.def as Def;
}

/** The schemas from the root down to `path`, wrappers (optional, default) included. */
function schemasAlong(root: z.ZodType, path: readonly Key[]): z.ZodType[] {
    const out: z.ZodType[] = [];
    let cur: z.ZodType | undefined = root;
    let i = 0;
    while (cur) {
        out.push(cur);
        const def = defOf(cur);
        if (def.innerType) {
            cur = def.innerType;
            continue;
        }
        if (def.type === "pipe" && def.in) {
            cur = def.in;
            continue;
        }
        if (i >= path.length) {
            break;
        }
        const key = path[i++];
        cur = def.type === "object" ? def.shape?.[String(key)] : def.type === "array" ? def.element : undefined;
    }
    return out;
}

/** The innermost declared meta along a path that says how to fix a value. */
function metaAt(root: z.ZodType, path: readonly Key[]): SettingMeta | undefined {
    const metas = schemasAlong(root, path).map(s => z.globalRegistry.get(s) as SettingMeta | undefined).filter(m => m !== undefined);
    return [...metas].reverse().find(m => m.fix !== undefined) ?? metas[metas.length - 1];
}

/** Known keys of the object at a path, for "did you mean". */
function keysAt(root: z.ZodType, path: readonly Key[]): string[] {
    const chain = schemasAlong(root, path);
    const obj = chain.reverse().find(s => defOf(s).type === "object");
    return obj ? Object.keys(defOf(obj).shape ?? {}) : [];
}

/** `hosts[0].name` from ["hosts", 0, "name"], under `base`. */
export function formatPath(base: string, path: readonly Key[]): string {
    return path.reduce<string>((acc, k) => typeof k === "number" ? `${acc}[${k}]` : joinPath(acc, String(k)), base);
}

const EXPECTED: Record<string, { what: string; fix: (key: string) => string }> = {
    string: { what: "text", fix: key => `write it as text, such as ${key}: "value"` },
    number: { what: "a number", fix: key => `write it without quotes, such as ${key}: 2` },
    int: { what: "a whole number", fix: key => `write a whole number, such as ${key}: 2` },
    boolean: { what: "true or false", fix: key => `write ${key}: true or ${key}: false` },
    array: { what: "a list", fix: () => "write it as a YAML list, such as [a, b]" },
    object: { what: "a mapping", fix: key => `write ${key} as a YAML mapping (key: value lines)` },
};

/** One zod issue as problems with our wording: the field, what is wrong, the fix. */
function toProblems(root: z.ZodType, base: string, issue: z.core.$ZodIssue & { input?: unknown }): Problem[] {
    const path = issue.path as Key[];
    const at = formatPath(base, path);
    const key = String(path.filter(k => typeof k === "string").pop() ?? base);
    const meta = metaAt(root, path);
    if (issue.code !== "unrecognized_keys" && issue.input === undefined) {
        return [{ path: at, message: "is missing", fix: meta?.fix ?? `set ${at}` }];
    }
    switch (issue.code) {
        case "unrecognized_keys": {
            const known = keysAt(root, path);
            const what = path.length === 0 ? (base ? `${base} setting` : "setting") : `setting of ${at}`;
            return issue.keys.map(k => {
                const near = nearest(k, known);
                return {
                    path: formatPath(at, [k]),
                    message: `is not a ${what}`,
                    fix: `${near ? `did you mean ${near}? ` : ""}Remove it, or use one of: ${known.join(", ")}`,
                };
            });
        }
        case "invalid_type": {
            const expected = EXPECTED[issue.expected] ?? { what: issue.expected, fix: () => `write ${key} as ${issue.expected}` };
            return [{ path: at, message: `must be ${expected.what}, got ${describe(issue.input)}`, fix: meta?.fix ?? expected.fix(key) }];
        }
        case "too_small":
        case "too_big": {
            const small = issue.code === "too_small";
            const bound = String(small ? (issue as { minimum: unknown }).minimum : (issue as { maximum: unknown }).maximum);
            const message = issue.origin === "string" && small ? "is empty"
                : issue.origin === "array" ? `must have ${small ? "at least" : "at most"} ${bound} entries`
                    : `${JSON.stringify(issue.input)} is ${small ? "below the minimum" : "above the maximum"} ${bound}`;
            return [{ path: at, message, fix: meta?.fix ?? `use a value ${small ? "of at least" : "of at most"} ${bound}` }];
        }
        case "invalid_value": {
            const values = issue.values.map(String);
            return [{ path: at, message: `${JSON.stringify(issue.input)} is not one of: ${values.join(", ")}`, fix: meta?.fix ?? `use one of: ${values.join(", ")}` }];
        }
        default:
            return [{ path: at, message: issue.message, fix: meta?.fix ?? "see the README's config reference" }];
    }
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Leaves out what the issues point at, so that parsing again applies the
 * defaults there; a required setting gets its declared placeholder. False
 * when an issue cannot be repaired that way (a required setting without a
 * placeholder is wrong or missing, or the whole input is of the wrong type).
 */
function leaveOut(root: z.ZodType, data: unknown, issues: readonly (z.core.$ZodIssue & { input?: unknown })[]): boolean {
    const removals: { parent: unknown; key: Key }[] = [];
    const get = (path: readonly Key[]) => path.reduce<unknown>((v, k) => (v as Record<Key, unknown> | undefined)?.[k], data);
    for (const issue of issues) {
        const path = issue.path as Key[];
        if (issue.code === "unrecognized_keys") {
            for (const k of issue.keys) {
                removals.push({ parent: get(path), key: k });
            }
            continue;
        }
        if (path.length === 0) {
            return false;
        }
        const parent = get(path.slice(0, -1));
        const key = path[path.length - 1];
        const placeholder = metaAt(root, path)?.placeholder;
        if (placeholder !== undefined && isRecord(parent)) {
            parent[String(key)] = placeholder;
            continue;
        }
        if (issue.input === undefined) {
            return false;
        }
        removals.push({ parent, key });
    }
    // Array entries from the last, so earlier indices stay valid.
    removals.sort((a, b) => (typeof b.key === "number" ? b.key : -1) - (typeof a.key === "number" ? a.key : -1));
    for (const { parent, key } of removals) {
        if (Array.isArray(parent) && typeof key === "number") {
            parent.splice(key, 1);
        } else if (isRecord(parent)) {
            delete parent[String(key)];
        }
    }
    return true;
}

/**
 * Parses `value` with `schema`, reporting every problem under `base`. Values
 * with a problem are left out and parsing goes on; `value` is undefined when
 * a problem cannot be left out (a required setting is missing).
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, base = ""): { value?: z.output<S>; problems: Problem[] } {
    let data: unknown = structuredClone(input);
    const problems: Problem[] = [];
    // One problem per field: what a later pass finds where a value was left out is a consequence.
    const seen = new Set<string>();
    for (let pass = 0; pass < 8; pass++) {
        const r = schema.safeParse(data, { reportInput: true });
        if (r.success) {
            return { value: r.data, problems };
        }
        const issues = r.error.issues as (z.core.$ZodIssue & { input?: unknown })[];
        for (const issue of issues) {
            for (const p of toProblems(schema, base, issue)) {
                if (!seen.has(p.path)) {
                    seen.add(p.path);
                    problems.push(p);
                }
            }
        }
        if (!leaveOut(schema, data, issues)) {
            return { problems };
        }
    }
    return { problems };
}

/** Problems of one setting's value, for a component checking its own argument against the declaration. */
export function settingProblems(schema: z.ZodType, value: unknown, path: string): Problem[] {
    return parseWith(schema, value, path).problems;
}

/**
 * Parses a whole fleet: the keys under the project's namespace, or
 * RunnerFleet's `config`. When a required setting is missing (a host's name,
 * github.org), the spec is undefined and only these problems are reported.
 */
export function parseFleetConfig(input: unknown): ParsedFleetConfig {
    if (!isRecord(input)) {
        return new ParsedFleetConfig(undefined, [{ path: "", message: `must be a mapping of settings, got ${describe(input)}`, fix: "pass the fleet's settings as an object" }]);
    }
    const { value, problems } = parseWith(fleetSchema(), input);
    return new ParsedFleetConfig(value as FleetSpec | undefined, problems);
}
