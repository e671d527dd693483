// The offline plan as people read it.

import * as YAML from "yaml";
import { isLoopbackBind } from "../../components/spec/addresses";
import { Plan, PlanHostGroup } from "./model";

function costText(cost: Record<string, number>): string {
    const totals = Object.entries(cost).map(([c, n]) => `${n.toFixed(2)} ${c}`);
    return totals.length ? totals.join(" + ") : "unknown";
}

function money(n: number | null, currency: string | null): string {
    return n === null ? "price unknown" : `${n.toFixed(2)} ${currency ?? ""}/month`.replace(" /", "/");
}

/** The hosts' exporters as Prometheus scrape targets, and from where each answers; nothing without any. */
function scrapeTargetLines(plan: Plan): string[] {
    const targets = plan.metricsTargets;
    if (targets.length === 0) {
        return [];
    }
    const out = ["", "Scrape targets (Prometheus file_sd_configs: pulumi stack output metricsTargets --json > runner-fleet-targets.json):"];
    const width = Math.max(...targets.map(t => t.labels.host.length));
    for (const t of targets) {
        out.push(`  ${t.labels.host.padEnd(width)}  ${t.targets.join(", ")}  arch=${t.labels.arch} kind=${t.labels.kind}`);
    }
    const binds = [...new Set(targets.flatMap(t => t.targets))];
    const loopback = binds.filter(isLoopbackBind);
    const privateBinds = binds.filter(b => !isLoopbackBind(b));
    if (loopback.length > 0) {
        out.push(`  ${loopback.join(", ")}: loopback, reachable from the host itself only: scrape each host through an SSH tunnel (ssh -N -L <local port>:${loopback[0]} <host>) or from a Prometheus on the host`);
    }
    if (privateBinds.length > 0) {
        out.push(`  ${privateBinds.join(", ")}: a private address, reachable from the hosts' private network only: scrape from a Prometheus on that network`);
    }
    return out;
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
        if (h.metrics) {
            out.push(`${indent}  metrics: ${h.metrics} (Prometheus node exporter, ${isLoopbackBind(h.metrics) ? "loopback" : "private address"})`);
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
    out.push(...scrapeTargetLines(plan));
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
