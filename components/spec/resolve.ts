// What a valid fleet amounts to, per host and in total: arch, plan, KVM,
// agent, labels and price once defaults and the catalog are applied; and
// which secrets it needs. Pure; used by validation, RunnerFleet's outputs and
// the offline plan.

import { ARCHES, Arch, CatalogEntry, round2 } from "./catalog";
import { findPlan, hostSource, resolvePlan } from "./host-sources";
import { agentLabels, jobLabels } from "./labels";
import { AGENT_KINDS, AgentKind, FleetSpec, HostSpec, SECRET_KEYS } from "./settings";

/** What the fleet knows about a host once defaults and the catalog are applied. */
export interface HostFacts {
    readonly arch: Arch | undefined;
    readonly plan: string | undefined;
    readonly kvm: boolean;
    readonly agent: AgentKind;
    readonly region: string | undefined;
    /** Its plan's catalog entry, where the catalog knows the plan. */
    readonly entry: CatalogEntry | undefined;
}

/** A host's arch, plan, KVM, agent and region from what it states, its source's declaration and the catalog: for the rules, the fleet and the host components alike. */
export function hostFacts(spec: HostSpec, defaultAgent: AgentKind): HostFacts {
    const source = hostSource(spec.provider);
    const { plan, entry } = resolvePlan(spec.provider, spec.plan, spec.arch);
    const declared = typeof spec.kvm === "boolean" ? spec.kvm : undefined;
    const region = source?.region ? spec[source.region.field] : undefined;
    return {
        arch: spec.arch ?? entry?.arch,
        plan,
        kvm: source?.kvm === "declared" ? (declared ?? entry?.kvm ?? false) : source?.kvm ?? false,
        agent: spec.agent ?? defaultAgent,
        region: typeof region === "string" ? region : undefined,
        entry,
    };
}

/** The secret config key that holds a host's SSH private key. */
export function privateKeySecretOf(host: HostSpec): string {
    return typeof host.privateKeySecret === "string" ? host.privateKeySecret : SECRET_KEYS.sshPrivateKey;
}

/**
 * Whether the fleet's workflow logs in to its image's registry with a login of its own (organization
 * variable and secret the fleet sets): any registry but ghcr.io, which takes the job's token, when the
 * fleet manages the organization.
 */
export function pushesWithOwnLogin(spec: FleetSpec): boolean {
    return spec.workflow !== undefined && spec.github.manage && spec.workflow.image.split("/")[0] !== "ghcr.io";
}

/**
 * Whether the GitHub the fleet serves is Enterprise Server: its REST API lives under /api/v3 on the
 * server's own host (docs.github.com, Enterprise Server "Getting started with the REST API"). It has no
 * GitHub-hosted runners. github.com and GHE.com (api.<subdomain>.ghe.com) have them.
 */
export function onEnterpriseServer(spec: Pick<FleetSpec, "endpoints">): boolean {
    return /\/api\/v3\/?$/.test(new URL(spec.endpoints.githubApi).pathname);
}

/** Which secret config keys the fleet needs, given its spec. */
export function requiredSecrets(spec: FleetSpec): string[] {
    const need = new Set<string>();
    for (const h of spec.hosts) {
        need.add(privateKeySecretOf(h));
        if ((h.agent ?? spec.agent.kind) === "actuated") {
            need.add(SECRET_KEYS.actuatedLicense);
            need.add(SECRET_KEYS.actuatedToken);
        } else if (spec.agent.ephemeral) {
            // Kept on the host to register again after every job; otherwise the token may come from the environment.
            need.add(SECRET_KEYS.githubRunnerToken);
        }
    }
    if (spec.hosts.length > 0 && spec.mirror.enabled && spec.mirror.dockerHubUsername !== undefined) {
        need.add(SECRET_KEYS.dockerHubToken);
    }
    if (pushesWithOwnLogin(spec)) {
        need.add(SECRET_KEYS.imageRegistryToken);
    }
    return [...need];
}

export interface ResolvedHost {
    readonly name: string;
    readonly provider: string;
    readonly arch: Arch;
    readonly plan: string | undefined;
    readonly region: string | undefined;
    readonly kvm: boolean;
    readonly agent: AgentKind;
    /** What the agent enrolls or registers with (labels.ts agentLabels). */
    readonly labels: readonly string[];
    /** Estimated monthly price; undefined when the catalog has none and the host states none. */
    readonly monthlyPrice: number | undefined;
    readonly currency: string | undefined;
}

/** Per arch, what a job names in runs-on to land on each kind of host the arch has, and which kind the fleet prefers. */
export interface ArchRunners {
    /** actuated microVMs (a fresh VM per job): the sized label when agent.vmSize is set. */
    readonly actuated?: string[];
    /** Plain GitHub runners on shared hosts. */
    readonly "github-runner"?: string[];
    /** The isolated kind where the arch has it: actuated, else github-runner. */
    readonly preferred: AgentKind;
}

export interface ResolvedFleet {
    readonly hosts: readonly ResolvedHost[];
    /** Per arch present in the fleet, the runs-on labels per agent kind. */
    readonly labelsByArch: Readonly<Partial<Record<Arch, ArchRunners>>>;
    /** Estimated monthly total per currency, over the hosts with a known price. */
    readonly monthlyTotal: Readonly<Record<string, number>>;
    /** Hosts whose price is unknown, left out of the total. */
    readonly unpriced: readonly string[];
}

/** One host's summary; the host must be valid (its arch known). */
export function resolveHost(spec: FleetSpec, h: HostSpec): ResolvedHost {
    const r = hostFacts(h, spec.agent.kind);
    const arch = r.arch as Arch;
    return {
        name: h.name, provider: h.provider, arch, plan: r.plan, region: r.region, kvm: r.kvm, agent: r.agent,
        labels: agentLabels(r.agent, arch, spec.agent.labelPrefix, spec.agent.labels, h.labels),
        ...hostPrice(h.provider, r.plan, typeof h.monthlyPrice === "number" ? h.monthlyPrice : undefined),
    };
}

/** Summarises a fleet spec that validation found no problem with. */
export function resolveFleet(spec: FleetSpec): ResolvedFleet {
    const hosts = spec.hosts.map(h => resolveHost(spec, h));
    const labelsByArch: Partial<Record<Arch, ArchRunners>> = {};
    for (const arch of ARCHES) {
        const kinds = AGENT_KINDS.filter(k => hosts.some(h => h.arch === arch && h.agent === k));
        if (kinds.length > 0) {
            const byKind: Partial<Record<AgentKind, string[]>> = {};
            for (const kind of kinds) {
                byKind[kind] = jobLabels(kind, arch, spec.agent.labelPrefix, spec.agent.labels, spec.agent.vmSize);
            }
            labelsByArch[arch] = { ...byKind, preferred: kinds.includes("actuated") ? "actuated" : "github-runner" };
        }
    }
    return { hosts, labelsByArch, monthlyTotal: monthlyTotals(hosts), unpriced: hosts.filter(h => h.monthlyPrice === undefined).map(h => h.name) };
}

/** Where actuated's own mirror listens: the VM bridge. */
export const ACTUATED_MIRROR_ADDRESS = "192.168.128.1:5000";

/** Where jobs on a host reach its mirror, given its agent. */
export function mirrorAddressOf(spec: FleetSpec, agent: AgentKind): string | undefined {
    if (!spec.mirror.enabled) {
        return undefined;
    }
    return agent === "actuated" ? ACTUATED_MIRROR_ADDRESS : spec.mirror.bindAddress;
}

/** The labels Prometheus gives a host's series (the fleet's own series carry the same, spec/metrics.ts). */
export interface MetricsTargetLabels {
    /** The host's name. */
    readonly host: string;
    /** Its CPU architecture: arm64 or amd64. */
    readonly arch: string;
    /** The agent it runs: actuated or github-runner. */
    readonly kind: string;
}

/** One host's node exporter as a Prometheus scrape target, in file_sd format (`file_sd_configs`). */
export interface MetricsTarget {
    /** The exporter's host:port (metrics.bindAddress). */
    readonly targets: string[];
    /** The labels the host's series get. */
    readonly labels: MetricsTargetLabels;
}

/** A host's scrape target: where its exporter listens, labelled with the host, its arch and its agent. */
export function metricsTargetOf(host: string, arch: string, kind: string, bind: string): MetricsTarget {
    return { targets: [bind], labels: { host, arch, kind } };
}

/** Where a host's exporter listens: its own metricsBindAddress, else metrics.bindAddress. */
export function metricsBindOf(spec: FleetSpec, host: { readonly metricsBindAddress?: string }): string {
    return host.metricsBindAddress ?? spec.metrics.bindAddress;
}

/** The fleet's scrape targets, one per host in the config's order; undefined with metrics off. */
export function fleetMetricsTargets(spec: FleetSpec, resolved: ResolvedFleet): MetricsTarget[] | undefined {
    if (!spec.metrics.enabled) {
        return undefined;
    }
    return resolved.hosts.map((h, i) => metricsTargetOf(h.name, h.arch, h.agent, metricsBindOf(spec, spec.hosts[i])));
}

/**
 * A host's estimated monthly price: the one it states (in EUR, the currency
 * of the bare-metal offers it stands for), else its plan's in the catalog;
 * none where neither is known.
 */
export function hostPrice(provider: string, plan: string | undefined, stated?: number): { monthlyPrice: number | undefined; currency: string | undefined } {
    if (stated !== undefined) {
        return { monthlyPrice: stated, currency: "EUR" };
    }
    const entry = findPlan(provider, plan);
    return entry?.monthlyPrice === undefined ? { monthlyPrice: undefined, currency: undefined } : { monthlyPrice: entry.monthlyPrice, currency: entry.currency };
}

/** The estimated monthly total per currency of hosts with a known price (the fleet's output, the plan's per fleet and in all). */
export function monthlyTotals(hosts: readonly { readonly monthlyPrice?: number | null; readonly currency?: string | null }[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const h of hosts) {
        if (typeof h.monthlyPrice === "number" && typeof h.currency === "string") {
            out[h.currency] = round2((out[h.currency] ?? 0) + h.monthlyPrice);
        }
    }
    return out;
}
