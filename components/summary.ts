// What a valid fleet amounts to, per host and in total: arch, plan, KVM,
// agent, labels and price once defaults and the catalog are applied; and
// which secrets it needs. Pure; used by validation, RunnerFleet's outputs and
// the offline plan.

import { ARCHES, Arch, HOST_PROVIDERS, HostProvider, findPlan, resolvePlan } from "./catalog";
import { AgentKind, FleetSpec, HostSpec, SECRET_KEYS } from "./settings";

/** What the fleet knows about a host once defaults and the catalog are applied. */
export interface ResolvedHost {
    readonly arch: Arch | undefined;
    readonly plan: string | undefined;
    readonly kvm: boolean;
    readonly agent: AgentKind;
    readonly region: string | undefined;
    readonly monthlyPrice: number | undefined;
    readonly currency: string | undefined;
}

export function resolveHost(spec: HostSpec, defaultAgent: AgentKind): ResolvedHost {
    const provider = spec.provider;
    const plan = provider === "equinix-metal" || provider === "hetzner-cloud"
        ? resolvePlan(provider, spec.plan, spec.arch).plan
        : spec.plan;
    const entry = HOST_PROVIDERS.includes(provider) ? findPlan(provider, plan) : undefined;
    const kvm = provider === "existing" ? (spec.kvm ?? entry?.kvm ?? false)
        : provider === "hetzner-cloud" ? false
            : true;
    return {
        arch: spec.arch ?? entry?.arch,
        plan: plan?.toLowerCase(),
        kvm,
        agent: spec.agent ?? defaultAgent,
        region: provider === "equinix-metal" ? spec.metro : provider === "hetzner-cloud" ? spec.location : undefined,
        monthlyPrice: spec.monthlyPrice ?? entry?.monthlyPrice,
        currency: spec.monthlyPrice !== undefined ? undefined : entry?.currency,
    };
}

/** The secret config key that holds a host's SSH private key. */
export function privateKeySecretOf(host: HostSpec): string {
    return host.privateKeySecret ?? SECRET_KEYS.sshPrivateKey;
}

/** Which secret config keys the fleet needs, given its spec. */
export function requiredSecrets(spec: FleetSpec): string[] {
    const need = new Set<string>();
    for (const h of spec.hosts) {
        need.add(privateKeySecretOf(h));
        if ((h.agent ?? spec.agent.kind) === "actuated") {
            need.add(SECRET_KEYS.actuatedLicense);
            need.add(SECRET_KEYS.actuatedToken);
        } else {
            need.add(SECRET_KEYS.githubRunnerToken);
        }
    }
    if (spec.hosts.length > 0 && spec.mirror.enabled && spec.mirror.dockerHubUsername !== undefined) {
        need.add(SECRET_KEYS.dockerHubToken);
    }
    return [...need];
}

/** The labels a host registers with: its arch label, the fleet's labels, then its own. */
export function hostLabels(spec: FleetSpec, host: HostSpec, arch: Arch): string[] {
    const all = [`${spec.agent.labelPrefix}-${arch}`, ...spec.agent.labels, ...(host.labels ?? [])];
    return [...new Set(all)];
}

/** The labels every host of an arch carries: what `runs-on` should name. */
export function archLabels(spec: FleetSpec, arch: Arch): string[] {
    return [`${spec.agent.labelPrefix}-${arch}`, ...spec.agent.labels];
}

export interface HostSummary {
    readonly name: string;
    readonly provider: HostProvider;
    readonly arch: Arch;
    readonly plan: string | undefined;
    readonly region: string | undefined;
    readonly kvm: boolean;
    readonly agent: AgentKind;
    readonly labels: readonly string[];
    /** Estimated monthly price; undefined when the catalog has none and the host states none. */
    readonly monthlyPrice: number | undefined;
    readonly currency: string | undefined;
}

export interface FleetSummary {
    readonly hosts: readonly HostSummary[];
    /** Per arch present in the fleet, the labels every host of that arch carries. */
    readonly labelsByArch: Readonly<Partial<Record<Arch, readonly string[]>>>;
    /** Estimated monthly total per currency, over the hosts with a known price. */
    readonly monthlyTotal: Readonly<Record<string, number>>;
    /** Hosts whose price is unknown, left out of the total. */
    readonly unpriced: readonly string[];
}

/** One host's summary; the host must be valid (its arch known). */
export function summarizeHost(spec: FleetSpec, h: HostSpec): HostSummary {
    const r = resolveHost(h, spec.agent.kind);
    const arch = r.arch as Arch;
    return {
        name: h.name, provider: h.provider, arch, plan: r.plan, region: r.region, kvm: r.kvm, agent: r.agent,
        labels: hostLabels(spec, h, arch), monthlyPrice: r.monthlyPrice,
        currency: r.monthlyPrice === undefined ? undefined : (r.currency ?? "EUR"),
    };
}

/** Summarises a fleet spec that validation found no problem with. */
export function summarizeFleet(spec: FleetSpec): FleetSummary {
    const hosts = spec.hosts.map(h => summarizeHost(spec, h));
    const labelsByArch: Partial<Record<Arch, readonly string[]>> = {};
    for (const arch of ARCHES) {
        if (hosts.some(h => h.arch === arch)) {
            labelsByArch[arch] = archLabels(spec, arch);
        }
    }
    const monthlyTotal: Record<string, number> = {};
    for (const h of hosts) {
        if (h.monthlyPrice !== undefined && h.currency !== undefined) {
            monthlyTotal[h.currency] = Math.round(((monthlyTotal[h.currency] ?? 0) + h.monthlyPrice) * 100) / 100;
        }
    }
    return { hosts, labelsByArch, monthlyTotal, unpriced: hosts.filter(h => h.monthlyPrice === undefined).map(h => h.name) };
}
