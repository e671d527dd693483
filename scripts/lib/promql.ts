// The PromQL the package ships: every expression of the alerting rules
// (monitoring/alerts.yml) and of the Grafana dashboard's panels
// (monitoring/dashboard.json), with Grafana's template variables replaced so
// Prometheus can run them as they are; and the metric names an expression
// selects, which the tests hold against the fleet's metric catalog
// (components/spec/metrics.ts). Pure: reads files, runs nothing.

import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";

/** One shipped PromQL expression and where it comes from. */
export interface ShippedQuery {
    /** "alerts.yml: <alert or record name>" or "dashboard.json: <panel title> <refId>". */
    readonly source: string;
    /** The expression, template variables replaced. */
    readonly expr: string;
}

/** The shipped monitoring files, relative to the package root. */
export const ALERTS_FILE = path.join("monitoring", "alerts.yml");
export const DASHBOARD_FILE = path.join("monitoring", "dashboard.json");

/**
 * What each Grafana variable the dashboard may use stands for when Prometheus
 * runs the expression itself: every host and arch (`.*`, as the variables'
 * "All" does), and fixed windows for Grafana's interval variables.
 */
export const TEMPLATE_VALUES: Readonly<Record<string, string>> = {
    host: ".*",
    arch: ".*",
    __rate_interval: "5m",
    __interval: "1m",
    __range: "1h",
};

/**
 * An expression with Grafana's template variables replaced ($name, ${name}
 * and ${name:format} alike) by TEMPLATE_VALUES. A variable not listed there
 * is an error: Prometheus could not run the expression.
 */
export function substituteTemplateVariables(expr: string, where = "expression"): string {
    return expr.replace(/\$\{(\w+)(?::[\w-]+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
        const name = (braced ?? bare) as string;
        const value = TEMPLATE_VALUES[name];
        if (value === undefined) {
            throw new Error(`${where}: template variable ${whole} has no value Prometheus could run (known: ${Object.keys(TEMPLATE_VALUES).map(v => `$${v}`).join(", ")})`);
        }
        return value;
    });
}

/** A Grafana panel as far as its queries go; rows hold their panels when collapsed. */
interface DashboardPanel {
    readonly title?: string;
    readonly type?: string;
    readonly targets?: readonly { readonly refId?: string; readonly expr?: string }[];
    readonly panels?: readonly DashboardPanel[];
}

/** Every panel of a dashboard, the panels of collapsed rows included, rows themselves left out. */
export function dashboardPanels(dashboard: { readonly panels?: readonly DashboardPanel[] }): DashboardPanel[] {
    return (dashboard.panels ?? []).flatMap(p => p.type === "row" ? dashboardPanels(p) : [p]);
}

/** A rule of a Prometheus rule file, as far as this file reads it. */
export interface PrometheusRule {
    readonly alert?: string;
    readonly record?: string;
    readonly expr: string | number;
    readonly for?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
}

/** The groups of a Prometheus rule file. */
export function ruleGroupsOf(text: string): { readonly name: string; readonly rules: readonly PrometheusRule[] }[] {
    const doc = parseYaml(text) as { groups?: { name: string; rules?: PrometheusRule[] }[] } | null;
    return (doc?.groups ?? []).map(g => ({ name: g.name, rules: g.rules ?? [] }));
}

/**
 * Every PromQL expression the package ships, with where it comes from: each
 * rule of monitoring/alerts.yml, then each target of each panel of
 * monitoring/dashboard.json, template variables replaced.
 */
export function shippedQueries(root: string): ShippedQuery[] {
    const rules = ruleGroupsOf(fs.readFileSync(path.join(root, ALERTS_FILE), "utf8")).flatMap(g => g.rules.map(r => ({
        source: `alerts.yml: ${r.alert ?? r.record ?? `(unnamed rule in group ${g.name})`}`,
        expr: String(r.expr).trim(),
    })));
    const dashboard = JSON.parse(fs.readFileSync(path.join(root, DASHBOARD_FILE), "utf8"));
    const panels = dashboardPanels(dashboard).flatMap(p => (p.targets ?? []).filter(t => typeof t.expr === "string").map(t => {
        const source = `dashboard.json: ${p.title ?? "(untitled panel)"} ${t.refId ?? "?"}`;
        return { source, expr: substituteTemplateVariables((t.expr as string).trim(), source) };
    }));
    return [...rules, ...panels];
}

/** A PromQL string literal: double- or single-quoted with escapes, or backquoted raw. */
const STRING_LITERAL = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/;

/** PromQL's words that are neither metrics nor functions: binary and grouping keywords, and the number literals. */
const KEYWORDS = new Set([
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
]);

/**
 * The metric names an expression selects, in the order they first appear:
 * its identifiers that are not followed by `(` (functions and aggregations
 * are), not keywords, and not label names (inside `{...}`, or in the label
 * lists of by/without/on/ignoring/group_left/group_right). Strings, range
 * and subquery brackets and number literals are skipped. A selector that
 * names its metric only through `__name__` matchers is not seen.
 */
export function metricNamesOf(expr: string): string[] {
    const stripped = expr
        .replace(new RegExp(STRING_LITERAL.source, "g"), '""')
        .replace(/#[^\n]*/g, " ")
        .replace(/\{[^}]*\}/g, "{}")
        .replace(/\[[^\]]*\]/g, "[]")
        .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ");
    const names: string[] = [];
    for (const m of stripped.matchAll(/(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?[a-z]*|0x[0-9a-f]+|([A-Za-z_:][\w:]*)/gi)) {
        const word = m[1];
        if (word === undefined || KEYWORDS.has(word.toLowerCase())) {
            continue;
        }
        const after = stripped.slice((m.index ?? 0) + m[0].length);
        if (/^\s*\(/.test(after) || names.includes(word)) {
            continue;
        }
        names.push(word);
    }
    return names;
}

/** Every range or subquery window of an expression (`[1h]`, `[30m:1m]`), in seconds; the subquery's step is left out. */
export function rangesOf(expr: string): number[] {
    const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
    return [...expr.matchAll(/\[([^\]:]+)(?::[^\]]*)?\]/g)].map(m => {
        const parts = [...m[1].trim().matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
        if (parts.length === 0 || parts.map(p => p[0]).join("") !== m[1].trim()) {
            throw new Error(`"[${m[1]}]" is not a PromQL duration`);
        }
        return parts.reduce((n, p) => n + Number(p[1]) * unit[p[2]], 0);
    });
}

/**
 * An alert condition as a measurement: every comparison against a number
 * literal (`> 0.5`, `== 0`) given PromQL's `bool` modifier, so the
 * expression keeps every series it compared, at 1 where the condition held
 * and 0 where it did not, instead of dropping them ("Comparison binary
 * operators", prometheus.io/docs/prometheus/latest/querying/operators/). A
 * condition that does not hold then still returns data where its metrics
 * exist and its label sets match (an `and` keeps only the series both sides
 * have). Strings are left alone, and so are label matchers (`!="x"`), which
 * compare against a string; a comparison that already has `bool` keeps it.
 * Throws when there is no such comparison: there is nothing to measure.
 */
export function asMeasurement(expr: string): string {
    let compared = 0;
    const rewritten = expr.split(new RegExp(`(${STRING_LITERAL.source})`)).map((part, i) => i % 2 === 1 ? part :
        part.replace(/(==|!=|>=|<=|>|<)(\s*)(?!bool\b)(?=[-+]?(?:\d|\.\d|inf\b|nan\b))/gi, (_whole, op: string, space: string) => {
            compared++;
            return `${op} bool${space || " "}`;
        })).join("");
    if (compared === 0 && !/\bbool\b/.test(expr)) {
        throw new Error(`"${expr}" compares nothing with a number: there is no condition to measure`);
    }
    return rewritten;
}
