// The plans and server types runner-fleet knows: architecture, size, whether
// the machine can run microVMs (KVM), where it can be ordered and what it
// costs. Pure data plus lookups; no Pulumi resources here.
//
// Prices are list prices without VAT, converted to a monthly figure of
// 730 hours where the provider bills by the hour. They are estimates for
// budgeting, not quotes: check the provider before ordering.
// Sources and dates are given beside each table below.

export const ARCHES = ["arm64", "amd64"] as const;
export type Arch = (typeof ARCHES)[number];
export const HOST_PROVIDERS = ["equinix-metal", "hetzner-cloud", "existing"] as const;
export type HostProvider = (typeof HOST_PROVIDERS)[number];

export interface CatalogEntry {
    /** The provider's name for the plan or server type. */
    readonly plan: string;
    readonly provider: HostProvider;
    readonly arch: Arch;
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGb: number;
    /** True when /dev/kvm is available to the OS, which actuated needs for its microVMs. */
    readonly kvm: boolean;
    /** Estimated monthly price, or undefined where no price could be sourced. */
    readonly monthlyPrice: number | undefined;
    readonly currency: "USD" | "EUR";
    /** Where it can be ordered; empty means "not restricted by this catalog". */
    readonly regions: readonly string[];
}

/** Hours in a billing month, the convention both clouds use for monthly caps. */
export const HOURS_PER_MONTH = 730;

// Equinix Metal on-demand, USD per hour. Equinix Metal reached end of life
// on 2026-06-30 and its pricing page is gone; these are the on-demand prices
// it listed in 2023-2024, not re-verified against a saved copy, and they
// varied by metro. They matter for hardware reservations (priced by
// contract) and migrations only. Metros: the ones Equinix documented
// (docs.equinix.com/metal/locations, checked 2026-11-23).
const EQUINIX_METROS = [
    "am", "at", "ch", "da", "dc", "fr", "hk", "la", "ld", "md", "ml", "mt",
    "ny", "os", "pa", "se", "sg", "sk", "sl", "sp", "sv", "sy", "tr", "ty",
] as const; // da, dc, sv, am, fr, sg, sy and ny are documented by Equinix; the rest are metros it ran in 2024.
const equinix = (plan: string, arch: Arch, cpu: string, cores: number, memoryGb: number, hourly: number): CatalogEntry => ({
    plan, provider: "equinix-metal", arch, cpu, cores, memoryGb, kvm: true,
    monthlyPrice: round2(hourly * HOURS_PER_MONTH), currency: "USD", regions: EQUINIX_METROS,
});

// Hetzner Cloud, EUR per month excluding VAT, with a primary IPv4, for new
// orders in the EU locations: Hetzner's price adjustment of 2026-06-15
// (docs.hetzner.com/general/infrastructure-and-availability/price-adjustment,
// as reported 2026-09-04). Where that figure was not published, the price in
// force from 2026-04-01 for existing servers is used (marked "Apr 2026"); new
// orders of those types cost more. CPX11-51 are sold only in the US
// locations now, and no current price was found for them. CAX (Ampere Altra)
// is sold only in the EU locations, and stock comes and goes. Hetzner Cloud
// offers no nested virtualisation, so none of these can run actuated.
const HETZNER_EU = ["fsn1", "nbg1", "hel1"] as const;
const HETZNER_ALL = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;
const HETZNER_EU_SIN = ["fsn1", "nbg1", "hel1", "sin"] as const;
const HETZNER_US = ["ash", "hil"] as const;
const hcloud = (plan: string, arch: Arch, cpu: string, cores: number, memoryGb: number, monthly: number | undefined, regions: readonly string[]): CatalogEntry => ({
    plan, provider: "hetzner-cloud", arch, cpu, cores, memoryGb, kvm: false,
    monthlyPrice: monthly, currency: "EUR", regions,
});

// Hetzner Robot dedicated servers (bare metal, KVM available), EUR per month
// excluding VAT and setup fee: the prices the Robot order pages listed in
// 2024-2025, not re-verified; Hetzner raised dedicated prices by 2-21% on
// 2026-04-01, so treat these as a floor.
const robot = (plan: string, arch: Arch, cpu: string, cores: number, memoryGb: number, monthly: number): CatalogEntry => ({
    plan, provider: "existing", arch, cpu, cores, memoryGb, kvm: true,
    monthlyPrice: monthly, currency: "EUR", regions: [],
});

export const CATALOG: readonly CatalogEntry[] = [
    equinix("c3.large.arm64", "arm64", "Ampere Altra Q80-30", 80, 256, 2.5),
    equinix("c3.small.x86", "amd64", "Intel Xeon E-2378G", 8, 64, 0.75),
    equinix("c3.medium.x86", "amd64", "AMD EPYC 7402P", 24, 64, 1.5),
    equinix("m3.small.x86", "amd64", "Intel Xeon E-2378G", 8, 64, 1.05),
    equinix("m3.large.x86", "amd64", "AMD EPYC 7502P", 32, 256, 3.1),
    equinix("n3.xlarge.x86", "amd64", "Intel Xeon Gold 6314", 32, 512, 4.5),

    hcloud("cax11", "arm64", "Ampere Altra (shared)", 2, 4, 6.49, HETZNER_EU),
    hcloud("cax21", "arm64", "Ampere Altra (shared)", 4, 8, 10.99, HETZNER_EU),
    hcloud("cax31", "arm64", "Ampere Altra (shared)", 8, 16, 21.49, HETZNER_EU),
    hcloud("cax41", "arm64", "Ampere Altra (shared)", 16, 32, 41.49, HETZNER_EU),
    hcloud("cpx22", "amd64", "AMD EPYC (shared)", 2, 4, 19.99, HETZNER_EU_SIN),
    hcloud("cpx32", "amd64", "AMD EPYC (shared)", 4, 8, 35.99, HETZNER_EU_SIN),
    hcloud("cpx42", "amd64", "AMD EPYC (shared)", 8, 16, 69.99, HETZNER_EU_SIN),
    hcloud("cpx52", "amd64", "AMD EPYC (shared)", 12, 24, 100.99, HETZNER_EU_SIN),
    hcloud("cpx62", "amd64", "AMD EPYC (shared)", 16, 32, 130.49, HETZNER_EU_SIN),
    hcloud("cpx11", "amd64", "AMD EPYC (shared)", 2, 2, undefined, HETZNER_US),
    hcloud("cpx21", "amd64", "AMD EPYC (shared)", 3, 4, undefined, HETZNER_US),
    hcloud("cpx31", "amd64", "AMD EPYC (shared)", 4, 8, undefined, HETZNER_US),
    hcloud("cpx41", "amd64", "AMD EPYC (shared)", 8, 16, undefined, HETZNER_US),
    hcloud("cpx51", "amd64", "AMD EPYC (shared)", 16, 32, undefined, HETZNER_US),
    hcloud("ccx13", "amd64", "AMD EPYC (dedicated)", 2, 8, 42.99, HETZNER_ALL),
    hcloud("ccx23", "amd64", "AMD EPYC (dedicated)", 4, 16, 31.49, HETZNER_ALL), // Apr 2026
    hcloud("ccx33", "amd64", "AMD EPYC (dedicated)", 8, 32, 62.49, HETZNER_ALL), // Apr 2026
    hcloud("ccx43", "amd64", "AMD EPYC (dedicated)", 16, 64, 124.99, HETZNER_ALL), // Apr 2026
    hcloud("ccx53", "amd64", "AMD EPYC (dedicated)", 32, 128, 533.49, HETZNER_ALL),
    hcloud("ccx63", "amd64", "AMD EPYC (dedicated)", 48, 192, 374.49, HETZNER_ALL), // Apr 2026

    robot("rx170", "arm64", "Ampere Altra Q80-30", 80, 128, 184),
    robot("rx220", "arm64", "Ampere Altra Q80-30", 80, 256, 257),
    robot("ax42", "amd64", "AMD Ryzen 7 PRO 8700GE", 8, 64, 46),
    robot("ax52", "amd64", "AMD Ryzen 7 7700", 8, 64, 64),
    robot("ax102", "amd64", "AMD Ryzen 9 7950X3D", 16, 128, 104),
    robot("ax162-r", "amd64", "AMD EPYC 9454P", 48, 256, 199),
];

/** The places a provider can put a host: Equinix metros or Hetzner Cloud locations. */
export const REGIONS: Readonly<Record<Exclude<HostProvider, "existing">, readonly string[]>> = {
    "equinix-metal": EQUINIX_METROS,
    "hetzner-cloud": HETZNER_ALL,
};

/** Default plan per provider and arch, used when a host names none. */
export const DEFAULT_PLANS: Readonly<Record<Exclude<HostProvider, "existing">, Readonly<Record<Arch, string>>>> = {
    "equinix-metal": { arm64: "c3.large.arm64", amd64: "c3.medium.x86" },
    "hetzner-cloud": { arm64: "cax41", amd64: "ccx33" },
};

/** The arch a cloud host gets when neither it nor its plan says: Arm64, what the fleet is for. */
export const DEFAULT_ARCH: Arch = "arm64";

/**
 * A cloud host's plan and arch, from what it states: the plan it names (or
 * the provider's default for its arch), and the arch it names (or the plan's).
 */
export function resolvePlan(provider: Exclude<HostProvider, "existing">, plan: string | undefined, arch: Arch | undefined): { plan: string; arch: Arch } {
    const chosen = (plan ?? DEFAULT_PLANS[provider][arch ?? DEFAULT_ARCH]).toLowerCase();
    return { plan: chosen, arch: arch ?? findPlan(provider, chosen)?.arch ?? DEFAULT_ARCH };
}

/** Looks a plan up for a provider; plan names are case-insensitive. */
export function findPlan(provider: HostProvider, plan: string | undefined): CatalogEntry | undefined {
    if (plan === undefined) {
        return undefined;
    }
    const wanted = plan.toLowerCase();
    return CATALOG.find(e => e.provider === provider && e.plan === wanted);
}

/** All plan names of a provider, for error messages. */
export function plansOf(provider: HostProvider): string[] {
    return CATALOG.filter(e => e.provider === provider).map(e => e.plan);
}

function round2(n: number): number {
    return Math.round(n * 100) / 100;
}

// ---------------------------------------------------------------------------
// The Docker Hub mirror's registry: the CNCF distribution registry 3, from the
// project's GitHub releases (registry_<version>_linux_<arch>.tar.gz, holding
// registry, LICENSE and README.md: distribution/distribution Dockerfile, stage
// releaser). The sha256 of each archive is pinned here and checked on the host
// before anything of it runs: the values the project publishes beside each
// archive (<archive>.sha256), as the official registry:3.1 image's build checks
// them (docker-library/repo-info repos/registry/remote/3.1.md).
//
// Why 3 and not the distribution 2.8 that Debian and Ubuntu package
// (docker-registry; no Debian or Ubuntu release ships 3.x): 2.8's proxy fetches
// every missed blob twice from the upstream and keeps content a fixed seven days (it
// has no proxy.ttl); 3's serves the first client and fills its cache from one
// fetch, honours proxy.ttl and counts hits and misses. README "The Docker Hub
// mirror" gives the trade-off and the host suite's figures.

export interface MirrorRegistryRelease {
    /** The release, without a leading v. */
    readonly version: string;
    /** sha256 of registry_<version>_linux_<arch>.tar.gz, by arch. */
    readonly sha256: Readonly<Record<Arch, string>>;
}

export const MIRROR_REGISTRY_RELEASE: MirrorRegistryRelease = {
    version: "3.1.2",
    sha256: {
        amd64: "40df2224d410f72ae425c3371873b078bbdbda3b8b612be9571f0e6751f3acc8",
        arm64: "09d26f88d2c0f161bd1b8bfc6c123571cc3d291dcca8af5477b3cacc4ec95e73",
    },
};

// ---------------------------------------------------------------------------
// actions/runner releases the fleet knows of, newest first: the tags' dates in
// actions/runner, read on 2026-11-25 (no network call at run time). GitHub
// stops queueing jobs to a runner that has not installed a newer release
// within 30 days of it (docs.github.com: "Runner software updates on
// self-hosted runners"); the runners update themselves unless told not to.

export interface RunnerRelease {
    readonly version: string;
    /** YYYY-MM-DD */
    readonly date: string;
}

export const RUNNER_RELEASES: readonly RunnerRelease[] = [
    { version: "2.336.0", date: "2026-07-20" },
    { version: "2.335.1", date: "2026-06-08" },
    { version: "2.335.0", date: "2026-06-08" },
    { version: "2.334.0", date: "2026-04-21" },
    { version: "2.333.1", date: "2026-03-27" },
    { version: "2.333.0", date: "2026-03-18" },
    { version: "2.329.0", date: "2025-10-14" },
];

/** GitHub's grace for a runner that has not updated, in days. */
export const RUNNER_UPDATE_GRACE_DAYS = 30;

function compareVersions(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < 3; i++) {
        if ((pa[i] ?? 0) !== (pb[i] ?? 0)) {
            return (pa[i] ?? 0) - (pb[i] ?? 0);
        }
    }
    return 0;
}

/**
 * Where an installed runner stands against the releases the fleet knows of:
 * the newest, whether it is older, and the days left before GitHub stops
 * sending it jobs (30 days after the first newer release; negative: past).
 */
export function runnerStanding(installed: string, today: Date): { newest: RunnerRelease; outdated: boolean; daysLeft: number | null } {
    const newest = RUNNER_RELEASES[0];
    const newer = RUNNER_RELEASES.filter(r => compareVersions(r.version, installed) > 0);
    if (newer.length === 0) {
        return { newest, outdated: false, daysLeft: null };
    }
    const first = newer[newer.length - 1];
    const deadline = Date.parse(`${first.date}T00:00:00Z`) + RUNNER_UPDATE_GRACE_DAYS * 86_400_000;
    return { newest, outdated: true, daysLeft: Math.floor((deadline - today.getTime()) / 86_400_000) };
}
