// Grouping a recorded plan: each host component (whatever made it) holds what
// is below it; what is below a RunnerFleet but no host is the fleet's own;
// prices from the fleet, else the host source's catalog.

import { HostMetrics, RegistryMirror, RunnerAgent, RunnerFleet } from "../../components";
import { hostSources } from "../../components/spec/host-sources";
import { MetricsTarget, hostPrice, metricsTargetOf, monthlyTotals } from "../../components/spec/resolve";
import { RecordedResource } from "../../components/testing/mock-runtime";
import { Plan, PlanFleet, PlanHostGroup, PlanResource } from "./model";

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
): Pick<Plan, "stack" | "project" | "fleets" | "hosts" | "fleetWide" | "outside" | "resourceCount" | "estimatedMonthlyCost" | "metricsTargets"> {
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
    // A RunnerAgent, RegistryMirror or HostMetrics the program made beside its host (not as its child) names the host it runs on.
    const byHostname = new Map(hostComponents.map(h => [String(outputs.get(h.urn)?.hostname ?? h.name), h]));
    const ON_HOST: readonly string[] = [RunnerAgent.TYPE, RegistryMirror.TYPE, HostMetrics.TYPE];
    const onHost = (r: RecordedResource): RecordedResource | undefined =>
        ON_HOST.includes(r.type) ? byHostname.get(String(outputs.get(r.urn)?.host ?? "")) : undefined;
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
    const exporters = resources.filter(r => r.type === HostMetrics.TYPE);
    /** The agent kind each host's HostMetrics was given, by the host component's URN. */
    const metricsKinds = new Map<string, string>();
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
        const exporter = exporters.find(m => hostOf(m)?.urn === h.urn);
        const exporterOut = exporter ? outputs.get(exporter.urn) ?? {} : {};
        const target = exporterOut.target;
        if (typeof exporterOut.agent === "string") {
            metricsKinds.set(h.urn, exporterOut.agent);
        }
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
            metrics: typeof target === "string" ? target : null,
            resources: items.get(h.urn) ?? [],
        };
    });
    const total = monthlyTotals;
    const planFleets: PlanFleet[] = fleets.map(f => {
        const own = hosts.filter(h => h.fleet === f.name);
        return { fleet: f.name, hosts: own.map(h => h.host), resources: fleetOwn.get(f.urn) ?? [], estimatedMonthlyCost: total(own) };
    });
    // Labelled as the metricsTargets output labels them: the host, its arch and the agent kind its HostMetrics was given.
    const metricsTargets: MetricsTarget[] = hosts.flatMap((h, i) => {
        const kind = metricsKinds.get(hostComponents[i].urn);
        return h.metrics === null ? [] : [metricsTargetOf(h.host, h.arch, kind ?? h.agent ?? "", h.metrics)];
    });
    return {
        stack, project, fleets: planFleets, hosts,
        fleetWide: [...planFleets.flatMap(f => f.resources), ...outside], outside,
        resourceCount: resources.length, estimatedMonthlyCost: total(hosts), metricsTargets,
    };
}

