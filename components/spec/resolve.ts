// What a valid fleet amounts to, per host and in total: arch, plan, KVM,
// agent, labels and price once defaults and the catalog are applied; and
// which secrets it needs. Pure; used by validation, RunnerFleet's outputs and
// the offline plan.

import { ARCHES, Arch, HOST_PROVIDERS, HostProvider, findPlan, resolvePlan } from "./catalog";
import { agentLabels, jobLabels } from "./labels";
import { AGENT_KINDS, AgentKind, FleetSpec, HostSpec, SECRET_KEYS } from "./settings";

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
        } else if (spec.agent.ephemeral) {
            // Kept on the host to register again after every job; otherwise the token may come from the environment.
            need.add(SECRET_KEYS.githubRunnerToken);
        }
    }
    if (spec.hosts.length > 0 && spec.mirror.enabled && spec.mirror.dockerHubUsername !== undefined) {
        need.add(SECRET_KEYS.dockerHubToken);
    }
    return [...need];
}

export interface HostSummary {
    readonly name: string;
    readonly provider: HostProvider;
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
    readonly actuated?: readonly string[];
    /** Plain GitHub runners on shared hosts. */
    readonly "github-runner"?: readonly string[];
    /** The isolated kind where the arch has it: actuated, else github-runner. */
    readonly preferred: AgentKind;
}

export interface FleetSummary {
    readonly hosts: readonly HostSummary[];
    /** Per arch present in the fleet, the runs-on labels per agent kind. */
    readonly labelsByArch: Readonly<Partial<Record<Arch, ArchRunners>>>;
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
        labels: agentLabels(r.agent, arch, spec.agent.labelPrefix, spec.agent.labels, h.labels), monthlyPrice: r.monthlyPrice,
        currency: r.monthlyPrice === undefined ? undefined : (r.currency ?? "EUR"),
    };
}

/** Summarises a fleet spec that validation found no problem with. */
export function summarizeFleet(spec: FleetSpec): FleetSummary {
    const hosts = spec.hosts.map(h => summarizeHost(spec, h));
    const labelsByArch: Partial<Record<Arch, ArchRunners>> = {};
    for (const arch of ARCHES) {
        const kinds = AGENT_KINDS.filter(k => hosts.some(h => h.arch === arch && h.agent === k));
        if (kinds.length > 0) {
            const byKind: Partial<Record<AgentKind, readonly string[]>> = {};
            for (const kind of kinds) {
                byKind[kind] = jobLabels(kind, arch, spec.agent.labelPrefix, spec.agent.labels, spec.agent.vmSize);
            }
            labelsByArch[arch] = { ...byKind, preferred: kinds.includes("actuated") ? "actuated" : "github-runner" };
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
