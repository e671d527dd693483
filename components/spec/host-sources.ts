// Where hosts come from, as the rest of the package needs to know it: each
// host source (a provider such as Hetzner Cloud, or "a machine that exists")
// declares itself once, in its own file under hosts/, and registers here.
// Every list or rule over providers (the `provider` setting, its fields, the
// plans and prices, regions, default plans, KVM, the fleet-wide settings a
// provider needs) reads these declarations; nothing else names a provider.
// Pure: the declaration carries no resources (the host component that
// creates the machine registers beside it, in hosts/).

import type { z } from "zod";
import { Arch, CatalogEntry, DEFAULT_ARCH } from "./catalog";
import type { Problem } from "./problems";

/** Where a source's hosts are ordered: the host field that names it, and what it may be. */
export interface RegionField {
    /** The host field, such as `metro`. */
    readonly field: string;
    /** What one is called in errors, such as "Equinix Metal metro". */
    readonly what: string;
    readonly values: readonly string[];
}

/** What a source's rules see of a host: its declared fields, by name (the source's own are typed in its file). */
export type HostFields = Readonly<{ name: string; provider: string; arch?: Arch; plan?: string } & Record<string, unknown>>;

/** What a source's fleet-wide rules see of the fleet: its settings, by name. */
export type FleetFields = Readonly<Record<string, unknown>>;

export interface HostSource {
    /** The `provider` value of a host in the stack config, such as `hetzner-cloud`. */
    readonly id: string;
    /** Its name for people, such as "Hetzner Cloud". */
    readonly title: string;
    /** The Pulumi type token of its host component. */
    readonly typeToken: string;
    /** True when the fleet orders the machine (it then needs `sshPublicKey`, a plan and a region); false for a machine that exists. */
    readonly creates: boolean;
    /**
     * Whether its hosts have /dev/kvm (actuated needs it): always, never, or
     * "declared" by the host (its `kvm` field, else its catalog model's).
     */
    readonly kvm: boolean | "declared";
    /** Why its hosts have no KVM, where `kvm` is false, for the error that refuses actuated there. */
    readonly noKvmBecause?: string;
    /** Where its hosts are ordered, when it orders them. */
    readonly region?: RegionField;
    /** The plan a host gets per arch when it names none; without these a host names its arch or a known plan. */
    readonly defaultPlans?: Readonly<Record<Arch, string>>;
    /** The plans or models it knows, with arch, size, KVM and price (see catalog.ts for the price conventions). */
    readonly plans: readonly CatalogEntry[];
    /** Host fields only its hosts take, declared as settings (with their docs and fixes). */
    readonly hostFields: Readonly<Record<string, z.ZodType>>;
    /** Fleet-wide settings only it needs, declared as settings, such as `adminCidrs`. */
    readonly fleetFields?: Readonly<Record<string, z.ZodType>>;
    /** Problems of one of its hosts that its fields' own checks cannot see, under the host's paths. */
    hostProblems?(host: HostFields): Problem[];
    /** Problems of the fleet-wide settings it needs, given the name of the fleet's first host of this source. */
    fleetProblems?(fleet: FleetFields, firstHost: string): Problem[];
    /** What is allowed but worth a word, such as SSH opened to everyone. */
    fleetWarnings?(fleet: FleetFields): string[];
}

const sources = new Map<string, HostSource>();
let generation = 0;

/**
 * Adds a host source. The built-in ones register when hosts/ is loaded (the
 * package entry loads it); a platform repository's own source registers the
 * same way, before the fleet's config is parsed. A second source with the
 * same id is refused; a field two sources declare takes the first one's
 * declaration.
 */
export function registerHostSource(source: HostSource): void {
    const known = sources.get(source.id);
    if (known === source) {
        return;
    }
    if (known !== undefined) {
        throw new Error(`runner-fleet: a host source "${source.id}" is registered already`);
    }
    if (!/^[a-z][a-z0-9-]*$/.test(source.id)) {
        throw new Error(`runner-fleet: host source id "${source.id}" is not lower-case letters, digits and hyphens`);
    }
    sources.set(source.id, source);
    generation++;
}

/** Removes a source again (a test's own, once it is done); true when one was registered. */
export function unregisterHostSource(id: string): boolean {
    const removed = sources.delete(id);
    if (removed) {
        generation++;
    }
    return removed;
}

/** The registered sources, in the order they registered. */
export function hostSources(): readonly HostSource[] {
    if (sources.size === 0) {
        throw new Error("runner-fleet: no host source is registered; load the package entry (runner-fleet) or components/hosts before parsing a fleet");
    }
    return [...sources.values()];
}

/** A registered source by its id, or undefined. */
export function hostSource(id: string): HostSource | undefined {
    return sources.get(id);
}

/** Changes whenever a source registers: what is derived from the sources is derived again. */
export function hostSourcesGeneration(): number {
    return generation;
}

/** The sources that declare a host field, by id. */
export function ownersOfHostField(field: string): string[] {
    return hostSources().filter(s => field in s.hostFields).map(s => s.id);
}

/** Every plan the registered sources know. */
export function catalog(): CatalogEntry[] {
    return hostSources().flatMap(s => s.plans);
}

/** Looks a plan up for a source; plan names are case-insensitive. */
export function findPlan(provider: string, plan: string | undefined): CatalogEntry | undefined {
    if (plan === undefined) {
        return undefined;
    }
    const wanted = plan.toLowerCase();
    return hostSource(provider)?.plans.find(e => e.plan === wanted);
}

/** All plan names of a source, for error messages. */
export function plansOf(provider: string): string[] {
    return (hostSource(provider)?.plans ?? []).map(e => e.plan);
}

/**
 * A host's plan, from what it states: the plan it names, or its source's
 * default for its arch (Arm64 unless stated) where the source has defaults;
 * with the plan's catalog entry, where the catalog knows it.
 */
export function resolvePlan(provider: string, plan: string | undefined, arch: Arch | undefined): { plan: string | undefined; entry: CatalogEntry | undefined } {
    const defaults = hostSource(provider)?.defaultPlans;
    const chosen = (plan ?? (defaults ? defaults[arch ?? DEFAULT_ARCH] : undefined))?.toLowerCase();
    return { plan: chosen, entry: findPlan(provider, chosen) };
}
