// The fleet's stack config: its schema, a pure parser and validator that
// report every problem at once, and the one function that reads it (and its
// secrets) from Pulumi config. Nothing here registers a resource.

import {
    Arch, DEFAULT_PLANS, HOST_PROVIDERS, HostProvider, REGIONS, findPlan, plansOf,
} from "./catalog";

export type AgentKind = "actuated" | "github-runner";
export const AGENT_KINDS: readonly AgentKind[] = ["actuated", "github-runner"];
export const ARCHES: readonly Arch[] = ["arm64", "amd64"];

/** One host of the fleet, as written under `runner-fleet:hosts` in the stack file. */
export interface HostSpec {
    /** Unique in the fleet; a DNS label (lower case letters, digits, hyphens). Names the server and its runners. */
    readonly name: string;
    readonly provider: HostProvider;
    /** CPU architecture. Optional when `plan` is in the catalog; required otherwise. */
    readonly arch?: Arch;
    /** Equinix Metal plan, Hetzner Cloud server type, or (existing hosts) the model, such as `rx170`, for its price. */
    readonly plan?: string;
    /** Equinix Metal metro (such as `da`). */
    readonly metro?: string;
    /** Hetzner Cloud location (such as `fsn1`). */
    readonly location?: string;
    /** Runner labels added for this host, on top of the fleet's. */
    readonly labels?: readonly string[];
    /** The agent for this host; defaults to the fleet's `agent.kind`. */
    readonly agent?: AgentKind;
    /** Equinix Metal: a hardware reservation to deploy on. */
    readonly hardwareReservationId?: string;
    /** Equinix Metal: extra device tags. */
    readonly tags?: readonly string[];
    /** Existing hosts: IP address or DNS name reachable over SSH. */
    readonly address?: string;
    /** SSH user; `root` unless set. */
    readonly user?: string;
    /** SSH port; 22 unless set. */
    readonly port?: number;
    /** Existing hosts: the host's public key (`ssh-ed25519 AAAA...`), pinned for every connection. */
    readonly hostKey?: string;
    /** Existing hosts: whether /dev/kvm is available. Known models (`plan`) fill this in. */
    readonly kvm?: boolean;
    /** Existing hosts: the name of the secret config key holding this host's SSH private key; `sshPrivateKey` unless set. */
    readonly privateKeySecret?: string;
    /** Existing hosts: monthly price when `plan` is not a catalog model. */
    readonly monthlyPrice?: number;
    /** actuated: the block device for microVM disks, such as `/dev/nvme1n1` (wiped). Unset: actuated picks a spare disk or a loopback file. */
    readonly vmDevice?: string;
}

export interface AgentSpec {
    /** `actuated` (one Firecracker microVM per job; needs KVM) or `github-runner` (the plain GitHub Actions runner). */
    readonly kind: AgentKind;
    /** Prefix of the per-arch label every host carries: `<labelPrefix>-arm64`, `<labelPrefix>-amd64`. Default `actuated`. */
    readonly labelPrefix: string;
    /** Labels every host carries in addition to its arch label. */
    readonly labels: readonly string[];
    /** github-runner: runner services per host. Default 1. */
    readonly instances: number;
    /** github-runner: one job per registration, registered again after each job. Default true. */
    readonly ephemeral: boolean;
    /** github-runner: the actions/runner release to install (it updates itself afterwards). */
    readonly runnerVersion: string;
    /** github-runner: install Docker and let the runner user use it. Default true. */
    readonly installDocker: boolean;
    /** actuated: disk size of each microVM, such as `30GB` (actuated's default when unset). */
    readonly vmDiskSize?: string;
}

/** Where the scripts reach the outside world; the defaults are the real services. Tests point them at stand-ins. */
export interface EndpointsSpec {
    /** actuated's install script. */
    readonly actuatedInstaller: string;
    /** Base URL of actions/runner release archives. */
    readonly runnerDownloads: string;
    /** GitHub's web URL (runner registration). */
    readonly githubUrl: string;
    /** GitHub's REST API. */
    readonly githubApi: string;
}

export const DEFAULT_ENDPOINTS: EndpointsSpec = {
    actuatedInstaller: "https://get.actuated.com",
    runnerDownloads: "https://github.com/actions/runner/releases/download",
    githubUrl: "https://github.com",
    githubApi: "https://api.github.com",
};

/** The actions/runner release installed unless agent.runnerVersion says otherwise. */
export const DEFAULT_RUNNER_VERSION = "2.329.0";

export interface MirrorSpec {
    /** Run a Docker Hub pull-through mirror on every host. Default true. */
    readonly enabled: boolean;
    /** Docker Hub user whose access token (`dockerHubToken` secret) lifts the anonymous pull limit. Unset: anonymous pulls. */
    readonly dockerHubUsername?: string;
    /** How long cached content is kept, as a Go duration (`168h`). */
    readonly ttl: string;
    /** Where the mirror listens on github-runner hosts: loopback or a private address, such as the Docker bridge. Default `127.0.0.1:5000`. */
    readonly bindAddress: string;
    /** The registry it caches. Default Docker Hub, `https://registry-1.docker.io`. */
    readonly upstream: string;
}

/** Where actuated's own mirror listens: the VM bridge. */
export const ACTUATED_MIRROR_ADDRESS = "192.168.128.1:5000";

export interface GithubSpec {
    /** The GitHub organization the runners serve. */
    readonly org: string;
    /** The runner group for github-runner hosts. */
    readonly runnerGroup: string;
    /** Which repositories see the fleet's secrets, variables and runner group: all, private (default) or selected. */
    readonly visibility: "all" | "private" | "selected";
    /** With visibility selected: repository names in the organization. */
    readonly repositories: readonly string[];
    /** Let public repositories use the runner group. Default false. */
    readonly allowPublicRepositories: boolean;
    /** Restrict the runner group to these workflows (owner/repo/.github/workflows/file.yml@ref). */
    readonly workflows: readonly string[];
    /**
     * Manage the organization with @pulumi/github (secrets, variables, runner
     * group, the registration token lookup). Default true. With false, the
     * runner group must exist already and hosts get registration tokens from
     * the API themselves, with githubRunnerToken.
     */
    readonly manage: boolean;
}

/** The multi-arch build workflow, when the fleet renders one. */
export interface WorkflowSpec {
    /** The image, such as docker.io/my-org/app. */
    readonly image: string;
    /** Repositories to commit the workflow into; none: render only. */
    readonly repositories: readonly string[];
    readonly branch?: string;
    readonly path?: string;
    readonly commitMessage?: string;
    readonly context?: string;
    readonly dockerfile?: string;
    readonly tags?: readonly string[];
    readonly branches?: readonly string[];
    readonly provenance?: boolean;
}

/** Everything a fleet is made of, with defaults filled in. No secret values live here. */
export interface FleetSpec {
    readonly hosts: readonly HostSpec[];
    readonly agent: AgentSpec;
    readonly mirror: MirrorSpec;
    readonly github: GithubSpec;
    /** Equinix Metal project that owns the devices (required with an equinix-metal host). */
    readonly equinixProjectId?: string;
    /** CIDRs allowed to reach SSH on Hetzner Cloud hosts (required with a hetzner-cloud host). */
    readonly adminCidrs: readonly string[];
    /** Public half of `sshPrivateKey`, installed on cloud hosts (required with an equinix-metal or hetzner-cloud host). */
    readonly sshPublicKey?: string;
    readonly endpoints: EndpointsSpec;
    readonly workflow?: WorkflowSpec;
}

/** One thing wrong with the config: where, what, and how to fix it. */
export interface Problem {
    readonly path: string;
    readonly message: string;
    readonly fix: string;
}

/** Thrown when a fleet's input is invalid; lists every problem. Thrown before any resource is registered. */
export class FleetConfigError extends Error {
    constructor(public readonly problems: readonly Problem[], what = "the fleet config") {
        super(formatProblems(problems, what));
        this.name = "FleetConfigError";
    }
}

export function formatProblems(problems: readonly Problem[], what = "the fleet config"): string {
    const n = problems.length;
    const lines = problems.map(p => `  - ${p.path}: ${p.message}. Fix: ${p.fix}`);
    return `${what} has ${n} problem${n === 1 ? "" : "s"}; nothing was created:\n${lines.join("\n")}`;
}

/** The config keys (under the project namespace) that hold secrets, by purpose. */
export const SECRET_KEYS = {
    sshPrivateKey: "sshPrivateKey",
    actuatedLicense: "actuatedLicense",
    actuatedToken: "actuatedToken",
    dockerHubToken: "dockerHubToken",
    githubRunnerToken: "githubRunnerToken",
} as const;

/** Plain config keys the program reads. */
export const CONFIG_KEYS = ["hosts", "agent", "mirror", "github", "equinixProjectId", "adminCidrs", "sshPublicKey", "endpoints", "workflow"] as const;

// ---------------------------------------------------------------------------
// Parsing: raw config values (as Pulumi hands them over) into a FleetSpec.

export type RawConfig = Partial<Record<(typeof CONFIG_KEYS)[number], unknown>>;

interface Reader {
    problems: Problem[];
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(r: Reader, obj: Record<string, unknown>, key: string, path: string): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
        return undefined;
    }
    if (typeof v !== "string") {
        r.problems.push({ path: `${path}.${key}`, message: `must be a string, got ${describe(v)}`, fix: `write it as text, such as ${key}: "value"` });
        return undefined;
    }
    return v;
}

function strList(r: Reader, v: unknown, path: string): string[] | undefined {
    if (v === undefined || v === null) {
        return undefined;
    }
    if (!Array.isArray(v) || v.some(x => typeof x !== "string")) {
        r.problems.push({ path, message: `must be a list of strings, got ${describe(v)}`, fix: `write it as a YAML list, such as [a, b]` });
        return undefined;
    }
    return v as string[];
}

function describe(v: unknown): string {
    if (Array.isArray(v)) {
        return "a list";
    }
    if (v === null) {
        return "null";
    }
    return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`;
}

function parseHost(r: Reader, raw: unknown, i: number): HostSpec | undefined {
    const path = `hosts[${i}]`;
    if (!isObject(raw)) {
        r.problems.push({ path, message: `must be an object with at least name and provider, got ${describe(raw)}`, fix: "write the host as a YAML mapping: { name: ..., provider: ... }" });
        return undefined;
    }
    const known = new Set([
        "name", "provider", "arch", "plan", "metro", "location", "labels", "agent", "hardwareReservationId", "tags",
        "address", "user", "port", "hostKey", "kvm", "privateKeySecret", "monthlyPrice", "vmDevice",
    ]);
    for (const key of Object.keys(raw)) {
        if (!known.has(key)) {
            r.problems.push({ path: `${path}.${key}`, message: "is not a host setting", fix: `remove it, or use one of: ${[...known].join(", ")}` });
        }
    }
    const port = raw.port;
    if (port !== undefined && (typeof port !== "number" || !Number.isInteger(port))) {
        r.problems.push({ path: `${path}.port`, message: `must be a whole number, got ${describe(port)}`, fix: "write the SSH port as a number, such as 22" });
    }
    const kvm = raw.kvm;
    if (kvm !== undefined && typeof kvm !== "boolean") {
        r.problems.push({ path: `${path}.kvm`, message: `must be true or false, got ${describe(kvm)}`, fix: "write kvm: true when /dev/kvm exists on the host, else kvm: false" });
    }
    const price = raw.monthlyPrice;
    if (price !== undefined && (typeof price !== "number" || price < 0)) {
        r.problems.push({ path: `${path}.monthlyPrice`, message: `must be a number of at least 0, got ${describe(price)}`, fix: "write the monthly price as a number, such as 184" });
    }
    return {
        name: str(r, raw, "name", path) ?? "",
        provider: (str(r, raw, "provider", path) ?? "") as HostProvider,
        arch: str(r, raw, "arch", path) as Arch | undefined,
        plan: str(r, raw, "plan", path),
        metro: str(r, raw, "metro", path),
        location: str(r, raw, "location", path),
        labels: strList(r, raw.labels, `${path}.labels`),
        agent: str(r, raw, "agent", path) as AgentKind | undefined,
        hardwareReservationId: str(r, raw, "hardwareReservationId", path),
        tags: strList(r, raw.tags, `${path}.tags`),
        address: str(r, raw, "address", path),
        user: str(r, raw, "user", path),
        port: typeof port === "number" ? port : undefined,
        hostKey: str(r, raw, "hostKey", path),
        kvm: typeof kvm === "boolean" ? kvm : undefined,
        privateKeySecret: str(r, raw, "privateKeySecret", path),
        monthlyPrice: typeof price === "number" ? price : undefined,
        vmDevice: str(r, raw, "vmDevice", path),
    };
}

/**
 * Turns raw config values into a FleetSpec with defaults filled in. Type
 * problems (a list where a string belongs, an unknown host setting) are
 * returned, not thrown; `validateFleet` finds the rest.
 */
export function parseFleetConfig(raw: RawConfig): { spec: FleetSpec; problems: Problem[] } {
    const r: Reader = { problems: [] };
    const hosts: HostSpec[] = [];
    if (raw.hosts !== undefined && raw.hosts !== null) {
        if (!Array.isArray(raw.hosts)) {
            r.problems.push({ path: "hosts", message: `must be a list of hosts, got ${describe(raw.hosts)}`, fix: "write runner-fleet:hosts as a YAML list of mappings" });
        } else {
            raw.hosts.forEach((h, i) => {
                const host = parseHost(r, h, i);
                if (host) {
                    hosts.push(host);
                }
            });
        }
    }
    const agentRaw = section(r, raw.agent, "agent");
    const mirrorRaw = section(r, raw.mirror, "mirror");
    const githubRaw = section(r, raw.github, "github");
    const endpointsRaw = section(r, raw.endpoints, "endpoints");
    const spec: FleetSpec = {
        hosts,
        agent: {
            kind: (str(r, agentRaw, "kind", "agent") ?? "actuated") as AgentKind,
            labelPrefix: str(r, agentRaw, "labelPrefix", "agent") ?? "actuated",
            labels: strList(r, agentRaw.labels, "agent.labels") ?? [],
            instances: num(r, agentRaw, "instances", "agent") ?? 1,
            ephemeral: bool(r, agentRaw, "ephemeral", "agent") ?? true,
            runnerVersion: str(r, agentRaw, "runnerVersion", "agent") ?? DEFAULT_RUNNER_VERSION,
            installDocker: bool(r, agentRaw, "installDocker", "agent") ?? true,
            vmDiskSize: str(r, agentRaw, "vmDiskSize", "agent"),
        },
        mirror: {
            enabled: bool(r, mirrorRaw, "enabled", "mirror") ?? true,
            dockerHubUsername: str(r, mirrorRaw, "dockerHubUsername", "mirror"),
            ttl: str(r, mirrorRaw, "ttl", "mirror") ?? "168h",
            bindAddress: str(r, mirrorRaw, "bindAddress", "mirror") ?? "127.0.0.1:5000",
            upstream: str(r, mirrorRaw, "upstream", "mirror") ?? "https://registry-1.docker.io",
        },
        github: {
            org: str(r, githubRaw, "org", "github") ?? "",
            runnerGroup: str(r, githubRaw, "runnerGroup", "github") ?? "runner-fleet",
            visibility: (str(r, githubRaw, "visibility", "github") ?? "private") as GithubSpec["visibility"],
            repositories: strList(r, githubRaw.repositories, "github.repositories") ?? [],
            allowPublicRepositories: bool(r, githubRaw, "allowPublicRepositories", "github") ?? false,
            workflows: strList(r, githubRaw.workflows, "github.workflows") ?? [],
            manage: bool(r, githubRaw, "manage", "github") ?? true,
        },
        workflow: raw.workflow === undefined || raw.workflow === null ? undefined : parseWorkflow(r, section(r, raw.workflow, "workflow")),
        equinixProjectId: typeof raw.equinixProjectId === "string" ? raw.equinixProjectId : undefined,
        adminCidrs: strList(r, raw.adminCidrs, "adminCidrs") ?? [],
        sshPublicKey: typeof raw.sshPublicKey === "string" ? raw.sshPublicKey : undefined,
        endpoints: {
            actuatedInstaller: str(r, endpointsRaw, "actuatedInstaller", "endpoints") ?? DEFAULT_ENDPOINTS.actuatedInstaller,
            runnerDownloads: str(r, endpointsRaw, "runnerDownloads", "endpoints") ?? DEFAULT_ENDPOINTS.runnerDownloads,
            githubUrl: str(r, endpointsRaw, "githubUrl", "endpoints") ?? DEFAULT_ENDPOINTS.githubUrl,
            githubApi: str(r, endpointsRaw, "githubApi", "endpoints") ?? DEFAULT_ENDPOINTS.githubApi,
        },
    };
    return { spec, problems: r.problems };
}

function parseWorkflow(r: Reader, w: Record<string, unknown>): WorkflowSpec {
    const image = str(r, w, "image", "workflow");
    if (image === undefined) {
        r.problems.push({ path: "workflow.image", message: "is missing", fix: "name the image to build, such as docker.io/my-org/app, or remove runner-fleet:workflow" });
    }
    return {
        image: image ?? "",
        repositories: strList(r, w.repositories, "workflow.repositories") ?? [],
        branch: str(r, w, "branch", "workflow"),
        path: str(r, w, "path", "workflow"),
        commitMessage: str(r, w, "commitMessage", "workflow"),
        context: str(r, w, "context", "workflow"),
        dockerfile: str(r, w, "dockerfile", "workflow"),
        tags: strList(r, w.tags, "workflow.tags"),
        branches: strList(r, w.branches, "workflow.branches"),
        provenance: bool(r, w, "provenance", "workflow"),
    };
}

function num(r: Reader, obj: Record<string, unknown>, key: string, path: string): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
        return undefined;
    }
    if (typeof v !== "number") {
        r.problems.push({ path: `${path}.${key}`, message: `must be a number, got ${describe(v)}`, fix: `write it without quotes, such as ${key}: 2` });
        return undefined;
    }
    return v;
}

function bool(r: Reader, obj: Record<string, unknown>, key: string, path: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
        return undefined;
    }
    if (typeof v !== "boolean") {
        r.problems.push({ path: `${path}.${key}`, message: `must be true or false, got ${describe(v)}`, fix: `write ${key}: true or ${key}: false` });
        return undefined;
    }
    return v;
}

function section(r: Reader, v: unknown, path: string): Record<string, unknown> {
    if (v === undefined || v === null) {
        return {};
    }
    if (!isObject(v)) {
        r.problems.push({ path, message: `must be a mapping, got ${describe(v)}`, fix: `write runner-fleet:${path} as a YAML mapping` });
        return {};
    }
    return v;
}

// ---------------------------------------------------------------------------
// Validation: every semantic problem, at once.

const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HOSTED_LABEL = /^(ubuntu|windows|macos)-(latest|\d[\w.-]*)$/i;
const RESERVED_LABELS = new Set(["self-hosted"]);
const MAX_LABEL = 100;

/** Why GitHub would reject a runner label, or undefined when it is fine. */
export function labelProblem(label: string): string | undefined {
    if (label.length === 0) {
        return "is empty";
    }
    if (label.length > MAX_LABEL) {
        return `is ${label.length} characters long; runner labels are at most ${MAX_LABEL}`;
    }
    if (/[\s,]/.test(label)) {
        return `"${label}" contains a comma or white space, which splits it into several labels`;
    }
    if (!LABEL.test(label)) {
        return `"${label}" has characters other than letters, digits, ".", "_" and "-", or does not start with a letter or digit`;
    }
    if (RESERVED_LABELS.has(label.toLowerCase())) {
        return `"${label}" is a default label GitHub sets itself; the fleet registers without default labels so that a bare runs-on: self-hosted never lands here`;
    }
    if (HOSTED_LABEL.test(label)) {
        return `"${label}" is the name of a GitHub-hosted runner image; jobs asking for it would be ambiguous`;
    }
    return undefined;
}

/** What the fleet knows about a host once defaults and the catalog are applied. */
export interface ResolvedHost {
    readonly spec: HostSpec;
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
    const defaultPlan = provider === "equinix-metal" || provider === "hetzner-cloud"
        ? DEFAULT_PLANS[provider][spec.arch ?? "arm64"]
        : undefined;
    const plan = spec.plan ?? defaultPlan;
    const entry = HOST_PROVIDERS.includes(provider) ? findPlan(provider, plan) : undefined;
    const kvm = provider === "existing" ? (spec.kvm ?? entry?.kvm ?? false)
        : provider === "hetzner-cloud" ? false
            : true;
    return {
        spec,
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

function validCidr(cidr: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (m) {
        return m.slice(1, 5).every(o => Number(o) <= 255) && Number(m[5]) <= 32;
    }
    const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(cidr);
    return v6 !== null && v6[1].includes(":") && Number(v6[2]) <= 128;
}

/**
 * Every semantic problem of a fleet spec. `secretsPresent` names the secret
 * config keys that are set (their values are never needed here).
 */
export function validateFleet(spec: FleetSpec, secretsPresent: ReadonlySet<string>): Problem[] {
    const problems: Problem[] = [];
    const add = (path: string, message: string, fix: string) => problems.push({ path, message, fix });

    if (spec.hosts.length === 0) {
        add("hosts", "the fleet has no hosts", "add at least one host under runner-fleet:hosts (name, provider, and plan or arch)");
    }
    if (!AGENT_KINDS.includes(spec.agent.kind)) {
        add("agent.kind", `"${spec.agent.kind}" is not an agent kind`, `use one of: ${AGENT_KINDS.join(", ")}`);
    }
    const prefixProblem = labelProblem(`${spec.agent.labelPrefix}-arm64`);
    if (prefixProblem) {
        add("agent.labelPrefix", `gives the label ${prefixProblem}`, "use letters, digits, '.', '_' and '-', such as actuated");
    }
    spec.agent.labels.forEach((l, i) => {
        const p = labelProblem(l);
        if (p) {
            add(`agent.labels[${i}]`, `the label ${p}`, "use letters, digits, '.', '_' and '-', at most 100 characters");
        }
    });
    if (spec.github.org.trim() === "") {
        add("github.org", "no GitHub organization is set", "set runner-fleet:github.org to the organization the runners serve");
    } else if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(spec.github.org)) {
        add("github.org", `"${spec.github.org}" is not a GitHub organization name`, "use the organization's login: letters, digits and hyphens");
    }
    if (!/^(?=.)(\d+h)?(\d+m)?(\d+s)?$/.test(spec.mirror.ttl)) {
        add("mirror.ttl", `"${spec.mirror.ttl}" is not a duration`, "write a Go duration such as 168h or 72h");
    }

    if (!Number.isInteger(spec.agent.instances) || spec.agent.instances < 1 || spec.agent.instances > 32) {
        add("agent.instances", `${spec.agent.instances} is not a number of runner services from 1 to 32`, "set agent.instances to a whole number such as 1 or 4 (each instance runs one job at a time)");
    }
    if (!/^\d+\.\d+\.\d+$/.test(spec.agent.runnerVersion)) {
        add("agent.runnerVersion", `"${spec.agent.runnerVersion}" is not an actions/runner release`, "use a version such as 2.329.0, without a leading v");
    }
    if (spec.agent.vmDiskSize !== undefined && !/^\d+(G|GB|T|TB)$/.test(spec.agent.vmDiskSize)) {
        add("agent.vmDiskSize", `"${spec.agent.vmDiskSize}" is not a disk size`, "write a size such as 30GB or 100GB");
    }
    const bindProblem = mirrorBindProblem(spec.mirror.bindAddress);
    if (spec.mirror.enabled && bindProblem) {
        add("mirror.bindAddress", bindProblem, "bind the mirror to loopback (127.0.0.1:5000) or the Docker bridge (172.17.0.1:5000); the mirror serves what the Docker Hub account can pull, so it must never face the internet");
    }
    for (const [key, url] of [["mirror.upstream", spec.mirror.upstream], ...Object.entries(spec.endpoints).map(([k, v]) => [`endpoints.${k}`, v])]) {
        if (!/^https?:\/\/[^\s/]+/.test(url)) {
            add(key, `"${url}" is not an http(s) URL`, "write a URL such as https://example.com, or remove the setting for the default");
        }
    }

    const seen = new Map<string, number>();
    const ctx: HostContext = {
        defaultAgent: spec.agent.kind,
        sshPublicKeySet: Boolean(spec.sshPublicKey),
        equinixProjectSet: Boolean(spec.equinixProjectId),
        adminCidrsSet: spec.adminCidrs.length > 0,
    };
    spec.hosts.forEach((host, i) => {
        const path = `hosts[${i}]`;
        if (host.name !== "" && HOST_NAME.test(host.name)) {
            if (seen.has(host.name)) {
                add(`${path}.name`, `"${host.name}" is already the name of hosts[${seen.get(host.name)}]`, "give every host a unique name");
            } else {
                seen.set(host.name, i);
            }
        }
        problems.push(...hostProblems(host, path, ctx));
    });
    // A fleet-wide setting that several hosts need is reported once.
    const fleetWide = new Set(["sshPublicKey", "equinixProjectId", "adminCidrs"]);
    const reported = new Set<string>();
    const deduped = problems.filter(p => {
        if (!fleetWide.has(p.path)) {
            return true;
        }
        const first = !reported.has(p.path);
        reported.add(p.path);
        return first;
    });
    problems.length = 0;
    problems.push(...deduped);

    spec.adminCidrs.forEach((c, i) => {
        if (!validCidr(c)) {
            add(`adminCidrs[${i}]`, `"${c}" is not a CIDR`, "write an address with a prefix length, such as 198.51.100.7/32");
        }
    });

    for (const key of requiredSecrets(spec)) {
        if (!secretsPresent.has(key)) {
            add(key, `the secret ${key} is not set`, `run: pulumi config set --secret ${key} <value>${key === SECRET_KEYS.sshPrivateKey ? " (or: cat key | pulumi config set --secret sshPrivateKey)" : ""}`);
        }
    }
    return problems;
}

/** What a host's validation needs to know about the fleet around it. */
export interface HostContext {
    readonly defaultAgent: AgentKind;
    readonly sshPublicKeySet: boolean;
    readonly equinixProjectSet: boolean;
    readonly adminCidrsSet: boolean;
}

/** Every problem of one host; `path` prefixes the field paths (such as hosts[2]). */
export function hostProblems(host: HostSpec, path: string, ctx: HostContext): Problem[] {
    const problems: Problem[] = [];
    const add = (p: string, message: string, fix: string) => problems.push({ path: p, message, fix });
    const r = resolveHost(host, ctx.defaultAgent);
    {
        if (host.name === "") {
            add(`${path}.name`, "is missing", "give the host a name: lower case letters, digits and hyphens");
        } else if (!HOST_NAME.test(host.name)) {
            add(`${path}.name`, `"${host.name}" is not a DNS label`, "use lower case letters, digits and hyphens, at most 63 characters, not starting or ending with a hyphen");
        }
        const name = host.name || path;

        if (!HOST_PROVIDERS.includes(host.provider)) {
            add(`${path}.provider`, host.provider ? `"${host.provider}" is not a provider` : "is missing", `use one of: ${HOST_PROVIDERS.join(", ")}`);
            return problems;
        }
        if (host.agent !== undefined && !AGENT_KINDS.includes(host.agent)) {
            add(`${path}.agent`, `"${host.agent}" is not an agent kind`, `use one of: ${AGENT_KINDS.join(", ")}`);
        }
        if (host.arch !== undefined && !ARCHES.includes(host.arch)) {
            add(`${path}.arch`, `"${host.arch}" is not an arch`, `use one of: ${ARCHES.join(", ")} (aarch64 is arm64, x86_64 is amd64)`);
        }
        const entry = findPlan(host.provider, r.plan);
        if (r.plan !== undefined && entry === undefined) {
            if (host.arch === undefined) {
                const known = plansOf(host.provider);
                add(`${path}.plan`, `"${host.plan}" is not in the catalog, so its arch is unknown`,
                    `state the host's arch (arm64 or amd64)${known.length ? `, or use a known plan: ${known.join(", ")}` : ""}`);
            }
        } else if (entry && host.arch !== undefined && host.arch !== entry.arch && ARCHES.includes(host.arch)) {
            add(`${path}.arch`, `host "${name}" says ${host.arch} but plan ${entry.plan} is ${entry.arch} (${entry.cpu})`,
                `remove arch, or pick a plan for ${host.arch}, such as ${host.provider === "existing" ? "another model" : DEFAULT_PLANS[host.provider][host.arch]}`);
        }
        if (host.provider === "existing" && r.plan === undefined && host.arch === undefined) {
            add(`${path}.arch`, `host "${name}" has no arch`, "state arch: arm64 or arch: amd64 (what uname -m says: aarch64 is arm64, x86_64 is amd64)");
        }

        if (host.provider === "equinix-metal" || host.provider === "hetzner-cloud") {
            const field = host.provider === "equinix-metal" ? "metro" : "location";
            const regions = REGIONS[host.provider];
            if (r.region === undefined) {
                add(`${path}.${field}`, "is missing", `set ${field} to one of: ${regions.join(", ")}`);
            } else if (!regions.includes(r.region)) {
                add(`${path}.${field}`, `"${r.region}" is not a known ${host.provider === "equinix-metal" ? "Equinix Metal metro" : "Hetzner Cloud location"}`, `use one of: ${regions.join(", ")}`);
            } else if (entry && entry.regions.length > 0 && !entry.regions.includes(r.region)) {
                add(`${path}.${field}`, `${entry.plan} is not sold in ${r.region}`, `use one of: ${entry.regions.join(", ")}`);
            }
            if (!ctx.sshPublicKeySet) {
                add("sshPublicKey", `host "${name}" is created with an SSH key, and none is set`, "set runner-fleet:sshPublicKey to the public half of the sshPrivateKey secret");
            }
            for (const key of ["address", "hostKey", "kvm", "privateKeySecret", "monthlyPrice"] as const) {
                if (host[key] !== undefined) {
                    add(`${path}.${key}`, `applies to existing hosts only, not to ${host.provider}`, `remove ${key}`);
                }
            }
        }
        if (host.provider === "equinix-metal" && !ctx.equinixProjectSet) {
            add("equinixProjectId", `host "${name}" is an Equinix Metal device and no project is set`, "set runner-fleet:equinixProjectId to the Metal project's UUID");
        }
        if (host.provider !== "equinix-metal") {
            for (const key of ["metro", "hardwareReservationId", "tags"] as const) {
                if (host[key] !== undefined) {
                    add(`${path}.${key}`, `applies to equinix-metal hosts only, not to ${host.provider}`, `remove ${key}`);
                }
            }
        }
        if (host.provider !== "hetzner-cloud" && host.location !== undefined) {
            add(`${path}.location`, `applies to hetzner-cloud hosts only, not to ${host.provider}`, host.provider === "equinix-metal" ? "use metro for Equinix Metal" : "remove location");
        }
        if (host.provider === "hetzner-cloud") {
            if (!ctx.adminCidrsSet) {
                add("adminCidrs", `host "${name}" gets a firewall that opens SSH only to adminCidrs, and the list is empty`, "set runner-fleet:adminCidrs to the networks Pulumi and your admins connect from, such as [198.51.100.0/24]");
            }
        }
        if (host.provider === "existing") {
            if (!host.address) {
                add(`${path}.address`, `existing host "${name}" has no address`, "set address to the host's IP address or DNS name");
            }
            if (host.hostKey !== undefined && !/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/.test(host.hostKey)) {
                add(`${path}.hostKey`, "is not an SSH public host key", "paste one line of ssh-keyscan's output without the host name, such as ssh-ed25519 AAAA...");
            }
        }
        if (host.port !== undefined && (host.port < 1 || host.port > 65535)) {
            add(`${path}.port`, `${host.port} is not a TCP port`, "use a port from 1 to 65535");
        }
        if (host.user !== undefined && !/^[a-z_][a-z0-9_-]*$/.test(host.user)) {
            add(`${path}.user`, `"${host.user}" is not a Linux user name`, "use the login user, such as root or ubuntu");
        }
        if (r.agent === "actuated" && !r.kvm) {
            const why = host.provider === "hetzner-cloud"
                ? "Hetzner Cloud servers have no nested virtualisation, so there is no KVM"
                : "the host does not declare KVM";
            add(host.agent ? `${path}.agent` : `${path}`, `host "${name}" would run the actuated agent without KVM: ${why}, and actuated starts a Firecracker microVM per job`,
                host.provider === "existing"
                    ? "set kvm: true if /dev/kvm exists on it, or set agent: github-runner for this host"
                    : "set agent: github-runner for this host, or use a bare-metal host (existing, such as a Hetzner Robot RX170)");
        }
        if (host.vmDevice !== undefined) {
            if (r.agent !== "actuated") {
                add(`${path}.vmDevice`, "applies to actuated hosts only", "remove vmDevice, or run the actuated agent on this host");
            } else if (!/^\/dev\/[A-Za-z0-9/_-]+$/.test(host.vmDevice)) {
                add(`${path}.vmDevice`, `"${host.vmDevice}" is not a block device path`, "name a whole spare disk such as /dev/nvme1n1 (it is wiped), or remove vmDevice");
            }
        }
        (host.labels ?? []).forEach((l, j) => {
            const p = labelProblem(l);
            if (p) {
                add(`${path}.labels[${j}]`, `the label ${p}`, "use letters, digits, '.', '_' and '-', at most 100 characters");
            }
        });
    }
    return problems;
}

/** Why a mirror may not listen on an address, or undefined when it may. */
export function mirrorBindProblem(bind: string): string | undefined {
    const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d+)$/.exec(bind);
    if (!m) {
        return `"${bind}" is not host:port`;
    }
    const host = m[1] ?? m[2];
    const port = Number(m[3]);
    if (port < 1 || port > 65535) {
        return `port ${port} is not a TCP port`;
    }
    if (host === "0.0.0.0" || host === "::" || host === "*") {
        return `"${bind}" listens on every address, the public one too`;
    }
    if (!isPrivateAddress(host)) {
        return `"${host}" is not a loopback or private address`;
    }
    return undefined;
}

function isPrivateAddress(host: string): boolean {
    if (host === "localhost" || host === "::1") {
        return true;
    }
    const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
    if (!v4) {
        return /^f[cd][0-9a-f]{2}:/i.test(host);
    }
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
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

// ---------------------------------------------------------------------------
// What a valid fleet amounts to: per host and in total. Used by RunnerFleet's
// outputs and by the offline plan.

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

/** Summarises a fleet spec that validateFleet found no problem with. */
export function summarizeFleet(spec: FleetSpec): FleetSummary {
    const hosts = spec.hosts.map((h): HostSummary => {
        const r = resolveHost(h, spec.agent.kind);
        const arch = r.arch as Arch;
        return {
            name: h.name, provider: h.provider, arch, plan: r.plan, region: r.region, kvm: r.kvm, agent: r.agent,
            labels: hostLabels(spec, h, arch), monthlyPrice: r.monthlyPrice,
            currency: r.monthlyPrice === undefined ? undefined : (r.currency ?? "EUR"),
        };
    });
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
