// What a plan or server type is (architecture, size, whether the machine can
// run microVMs, where it can be ordered, what it costs), the releases of the
// runner and of the mirror's registry the package knows, and the conventions
// every price follows. Each host source declares its own plans (hosts/);
// host-sources.ts looks them up. Pure data; no Pulumi resources here.
//
// Prices are list prices without VAT, converted to a monthly figure of
// 730 hours where the provider bills by the hour. They are estimates for
// budgeting, not quotes: check the provider before ordering.
// Sources and dates are given beside each table.

/** A CPU architecture, as Docker, Debian and GitHub's runner labels name it. */
export const Arch = {
    /** 64-bit Arm (aarch64), such as Ampere Altra. */
    arm64: "arm64",
    /** 64-bit x86 (x86_64). */
    amd64: "amd64",
} as const;
export type Arch = (typeof Arch)[keyof typeof Arch];
export const ARCHES = [Arch.arm64, Arch.amd64] as const;
export interface CatalogEntry {
    /** The provider's name for the plan or server type. */
    readonly plan: string;
    /** The host source that sells or describes it (hosts/). */
    readonly provider: string;
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

/** The arch a cloud host gets when neither it nor its plan says: Arm64, what the fleet is for. */
export const DEFAULT_ARCH: Arch = "arm64";

/** Rounds a price to cents. */
export function round2(n: number): number {
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
    readonly sha256: ReleaseSha256;
}

/** sha256 of registry_<version>_linux_<arch>.tar.gz, for each arch a mirror runs on. */
export interface ReleaseSha256 {
    /** sha256 of the linux_arm64 archive. */
    readonly arm64?: string;
    /** sha256 of the linux_amd64 archive. */
    readonly amd64?: string;
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

/** Orders two release versions (x.y.z) numerically: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
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
