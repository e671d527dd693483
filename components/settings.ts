// Every setting of a fleet, declared once: its type, default, range or
// format check (with the fix), and its doc. The parser (parse.ts), the
// components' defaults (DEFAULTS), the README's config reference and the
// JSON Schema of the stack file (settings-docs.ts) are derived from here.
// Checks that involve several settings (KVM for actuated, what a provider
// accepts, required secrets) are in validate.ts; checks of a component's own
// arguments (workflow, GitHub wiring) are in that component's file.

import { z } from "zod";
import { cidrProblem, mirrorBindProblem } from "./addresses";
import { ARCHES, HOST_PROVIDERS, RUNNER_RELEASES } from "./catalog";
import { LABEL_FIX, VM_SIZE, labelProblem } from "./labels";

/** What the docs and the error messages know of a setting besides its type. */
export interface SettingMeta {
    /** What it does. */
    readonly description: string;
    /** How to fix a wrong value (the error's "Fix:"). */
    readonly fix?: string;
    /** The type as the docs name it, where the schema's is too plain (URL, duration, host:port). */
    readonly docType?: string;
    /** The default as the docs state it, where there is no literal one ("required with ..."). */
    readonly defaultText?: string;
    /** Which hosts a host field applies to. */
    readonly appliesTo?: string;
    /**
     * A required setting's stand-in while its own value is wrong or missing,
     * so that the checks of the settings around it still run. Never used
     * beyond validation: the problem stops everything before a resource.
     */
    readonly placeholder?: unknown;
}

/** Declares a setting: the schema with its doc and fix. */
function setting<T extends z.ZodType>(schema: T, meta: SettingMeta): T {
    return schema.meta({ ...meta }) as T;
}

/** A text check: `problem` says why a value is wrong (or undefined). */
function checked(problem: (v: string) => string | undefined) {
    return z.string().superRefine((v, ctx) => {
        const why = problem(v);
        if (why !== undefined) {
            ctx.addIssue({ code: "custom", message: why, input: v });
        }
    });
}

const matches = (re: RegExp, what: string) => checked(v => re.test(v) ? undefined : `"${v}" is not ${what}`);

const label = checked(l => {
    const why = labelProblem(l);
    return why === undefined ? undefined : `the label ${why}`;
});
const labelList = z.array(label);
const url = matches(/^https?:\/\/[^\s/]+/, "an http(s) URL");
const URL_FIX = "write a URL such as https://example.com, or remove the setting for the default";

export const AGENT_KINDS = ["actuated", "github-runner"] as const;
export const VISIBILITIES = ["all", "private", "selected"] as const;

// ---------------------------------------------------------------------------
// A host, as written under `runner-fleet:hosts`.

export const HostSchema = z.strictObject({
    name: setting(matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "a DNS label"), {
        description: "unique DNS label; the server's hostname and its runners' names",
        fix: "use lower case letters, digits and hyphens, at most 63 characters, not starting or ending with a hyphen",
        defaultText: "(required)", appliesTo: "all", placeholder: "unnamed-host",
    }),
    provider: setting(z.enum(HOST_PROVIDERS), {
        description: "where the host comes from",
        defaultText: "(required)", appliesTo: "all",
    }),
    arch: setting(z.enum(ARCHES).optional(), {
        description: "CPU architecture; optional when `plan` is in the catalog, and checked against `uname -m` on the host",
        fix: "use one of: arm64, amd64 (aarch64 is arm64, x86_64 is amd64)", appliesTo: "all",
    }),
    plan: setting(z.string().optional(), {
        description: "Metal plan (`c3.large.arm64` default for arm64), Hetzner Cloud server type (`cax41` default for arm64, `ccx33` for amd64) or, for existing hosts, the model (`rx170`, `rx220`, `ax102`, ...) for defaults and price. A plan the catalog does not know is accepted when `arch` is stated",
        appliesTo: "all",
    }),
    metro: setting(z.string().optional(), { description: "Equinix Metal metro code such as `da`", appliesTo: "equinix-metal" }),
    location: setting(z.string().optional(), {
        description: "Hetzner Cloud location: `fsn1`, `nbg1`, `hel1` (CAX is sold in these only), `ash`, `hil`, `sin`", appliesTo: "hetzner-cloud",
    }),
    labels: setting(labelList.optional(), { description: "extra runner labels for this host", fix: LABEL_FIX, appliesTo: "all" }),
    agent: setting(z.enum(AGENT_KINDS).optional(), { description: "the agent on this host; `agent.kind` unless set", appliesTo: "all" }),
    hardwareReservationId: setting(z.string().optional(), { description: "deploy on this hardware reservation", appliesTo: "equinix-metal" }),
    tags: setting(z.array(z.string()).optional(), { description: "extra device tags", appliesTo: "equinix-metal" }),
    address: setting(z.string().optional(), { description: "IP address or DNS name reachable over SSH", appliesTo: "existing" }),
    user: setting(matches(/^[a-z_][a-z0-9_-]*$/, "a Linux user name").optional(), {
        description: "SSH login user, `root` unless set; any other needs password-less sudo",
        fix: "use the login user, such as root or ubuntu", appliesTo: "all",
    }),
    port: setting(z.number().int().min(1).max(65535).optional(), {
        description: "SSH port, 22 unless set", fix: "write the SSH port as a number from 1 to 65535, such as 22", appliesTo: "all",
    }),
    hostKey: setting(matches(/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, "an SSH public host key").optional(), {
        description: "the host's public key, pinned for every connection",
        fix: "paste one line of ssh-keyscan's output without the host name, such as ssh-ed25519 AAAA...", appliesTo: "existing",
    }),
    kvm: setting(z.boolean().optional(), {
        description: "whether `/dev/kvm` exists (known models fill it in); actuated needs it",
        fix: "write kvm: true when /dev/kvm exists on the host, else kvm: false", appliesTo: "existing",
    }),
    privateKeySecret: setting(matches(/^[A-Za-z][A-Za-z0-9_]*$/, "a config key name").optional(), {
        description: "the name of the secret config key that holds this host's SSH private key; `sshPrivateKey` unless set",
        fix: "name a config key such as robotKey, set with pulumi config set --secret robotKey", appliesTo: "existing",
    }),
    monthlyPrice: setting(z.number().min(0).max(100000).optional(), {
        description: "monthly price in EUR when the model is not in the catalog",
        fix: "write the monthly price as a number, such as 184", appliesTo: "existing",
    }),
    vmDevice: setting(matches(/^\/dev\/[A-Za-z0-9/_-]+$/, "a block device path").optional(), {
        description: "a whole spare disk for microVM disks, such as `/dev/nvme1n1` (it is wiped); unset: actuated picks one or uses a loopback file",
        fix: "name a whole spare disk such as /dev/nvme1n1 (it is wiped), or remove vmDevice", appliesTo: "actuated hosts",
    }),
});

// ---------------------------------------------------------------------------
// Fleet-wide sections.

/** The actions/runner release installed unless agent.runnerVersion says otherwise: the newest the catalog knows. */
export const DEFAULT_RUNNER_VERSION = RUNNER_RELEASES[0].version;

export const AgentSchema = z.strictObject({
    kind: setting(z.enum(AGENT_KINDS).default("actuated"), {
        description: "the agent every host runs unless the host says otherwise: `actuated` (a Firecracker microVM per job; needs KVM) or `github-runner` (the plain GitHub Actions runner)",
    }),
    labelPrefix: setting(checked(p => {
        if (/^actuated/i.test(p)) {
            return `"${p}" starts with "actuated": plain hosts must not carry labels actuated's control plane acts on`;
        }
        const why = labelProblem(`${p}-arm64`);
        return why === undefined ? undefined : `gives the label ${why}`;
    }).default("runner-fleet"), {
        description: "plain GitHub-runner hosts carry `<labelPrefix>-<arch>` (actuated hosts carry what actuated matches: `actuated-arm64`, x86 `actuated`); it may not start with `actuated`",
        fix: "use letters, digits, '.', '_' and '-', not starting with actuated, such as runner-fleet",
    }),
    labels: setting(labelList.default([]), {
        description: "routing labels every host carries besides its arch label (a job adds them to runs-on to pick these hosts); none may start with `actuated`",
        fix: LABEL_FIX, docType: "list of labels",
    }),
    vmSize: setting(matches(VM_SIZE, "a microVM size such as 8cpu-16gb").optional(), {
        description: "actuated: the microVM size jobs ask for; it shapes the `runsOn` outputs, the `RUNNER_*` variables and the workflow (`actuated-arm64-8cpu-16gb`), never what the hosts enroll with. Unset: the server's default size",
        fix: "write vCPUs then RAM, such as 8cpu-16gb or 2cpu-8gb", docType: "size", defaultText: "the server's default",
    }),
    instances: setting(z.number().int().min(1).max(32).default(1), {
        description: "github-runner: runner services per host (one job each at a time)",
        fix: "set agent.instances to a whole number from 1 to 32, such as 1 or 4 (each instance runs one job at a time)",
    }),
    ephemeral: setting(z.boolean().default(false), {
        description: "github-runner: one job per registration. Off (the default), each runner keeps its registration and the job's workspace, containers and images are cleaned after every job; on, the host keeps `githubRunnerToken` to register again after every job, which is refused with `installDocker` (every job could read it: the docker group is root) and marked EXPOSED in the plan",
        fix: "leave ephemeral false, or set installDocker: false",
    }),
    runnerVersion: setting(matches(/^\d+\.\d+\.\d+$/, "an actions/runner release").default(DEFAULT_RUNNER_VERSION), {
        description: "github-runner: the actions/runner release installed (it updates itself; updates are never disabled, since a runner that stops updating stops getting jobs 30 days after a newer release); the default is the newest release the catalog knows, and the drift check reports an older one",
        fix: "use a release such as 2.336.0, without a leading v", docType: "version",
    }),
    drainTimeoutMinutes: setting(z.number().int().min(0).max(1440).default(60), {
        description: "how long a change that re-runs an agent's install waits for running jobs to finish before it enrolls or registers again (an actuated re-enrolment wipes `vmDevice`)",
        fix: "write a whole number of minutes from 0 to 1440, such as 60",
    }),
    probeAgentPort: setting(z.boolean().default(true), {
        description: "actuated: check from where `pulumi up` runs that each host's agent port (443) answers on its public address, as actuated's control plane needs; set false for hosts exposed another way (an inlets tunnel)",
    }),
    installDocker: setting(z.boolean().default(true), {
        description: "github-runner: install Docker (`docker.io`) and let the runner user use it",
    }),
    vmDiskSize: setting(matches(/^\d+(G|GB|T|TB)$/, "a disk size").optional(), {
        description: "actuated: disk size of each microVM, such as `30GB`", fix: "write a size such as 30GB or 100GB",
        docType: "size", defaultText: "actuated's",
    }),
});

export const MirrorSchema = z.strictObject({
    enabled: setting(z.boolean().default(true), { description: "run a Docker Hub pull-through mirror on every host" }),
    dockerHubUsername: setting(z.string().min(1).optional(), {
        description: "Docker Hub user for authenticated pulls; needs the `dockerHubToken` secret", defaultText: "unset (anonymous pulls)",
        fix: "write the Docker Hub user name, or remove the setting for anonymous pulls",
    }),
    ttl: setting(matches(/^(?=.)(\d+h)?(\d+m)?(\d+s)?$/, "a duration").default("168h"), {
        description: "github-runner hosts: how long the mirror keeps a blob or manifest after fetching it from the upstream (distribution 3's `proxy.ttl`; expired content is deleted and fetched again on the next pull); `0s` keeps everything until the mirror is removed. actuated's own mirror keeps its own",
        fix: "write a Go duration such as 168h, 72h or 30m, or 0s to keep content forever", docType: "duration",
    }),
    bindAddress: setting(checked(mirrorBindProblem).default("127.0.0.1:5000"), {
        description: "where the mirror listens on github-runner hosts: loopback or a private address such as the Docker bridge `172.17.0.1:5000`; anything else is refused",
        fix: "bind the mirror to loopback (127.0.0.1:5000) or the Docker bridge (172.17.0.1:5000); the mirror serves what the Docker Hub account can pull, so it must never face the internet",
        docType: "host:port",
    }),
    upstream: setting(url.default("https://registry-1.docker.io"), {
        description: "the registry the mirror caches", fix: URL_FIX, docType: "URL",
    }),
    release: setting(z.strictObject({
        version: setting(matches(/^\d+\.\d+\.\d+$/, "a release version"), { description: "the distribution release, without a leading v", fix: "write it as 3.1.2" }),
        sha256: setting(z.strictObject({
            amd64: setting(matches(/^[0-9a-f]{64}$/, "a sha256").optional(), { description: "sha256 of registry_<version>_linux_amd64.tar.gz", fix: "write 64 lowercase hex digits" }),
            arm64: setting(matches(/^[0-9a-f]{64}$/, "a sha256").optional(), { description: "sha256 of registry_<version>_linux_arm64.tar.gz", fix: "write 64 lowercase hex digits" }),
        }), { description: "the archives' sha256 by arch" }),
    }).optional(), {
        description: "github-runner hosts: another distribution registry release than the package's pinned one (a build of your own, served at endpoints.mirrorDownloads): its version and each archive's sha256, for every arch a mirror runs on",
        defaultText: "the package's (3.1.2, sha256 pinned)", docType: "object",
    }),
});

export const GithubSchema = z.strictObject({
    org: setting(matches(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "a GitHub organization name"), {
        description: "the organization the runners serve",
        fix: "set runner-fleet:github.org to the organization's login: letters, digits and hyphens", defaultText: "(required)",
        placeholder: "unnamed-org",
    }),
    runnerGroup: setting(z.string().trim().min(1).default("runner-fleet"), {
        description: "runner group of github-runner hosts (created by the fleet unless `manage` is false)",
        fix: "name the runner group, such as runner-fleet",
    }),
    visibility: setting(z.enum(VISIBILITIES).default("private"), {
        description: "which repositories see the fleet's secrets, variables and runner group",
    }),
    repositories: setting(z.array(z.string()).default([]), {
        description: "with `selected`: the repositories (names in the organization, resolved to ids)", docType: "list of names",
    }),
    allowPublicRepositories: setting(z.boolean().default(false), {
        description: "let public repositories use the runner group: any fork's pull request could then run code on the hosts",
    }),
    workflows: setting(z.array(z.string()).default([]), {
        description: "restrict the runner group to these workflows (`owner/repo/.github/workflows/file.yml@refs/heads/main`)",
    }),
    manage: setting(z.boolean().default(true), {
        description: "manage the organization with `@pulumi/github`; with `false` no GitHub resource is created and the runner group must exist (registration tokens are minted where `pulumi` runs either way)",
    }),
});

export const WorkflowSchema = z.strictObject({
    image: setting(z.string(), {
        description: "render the multi-arch build workflow for this image (`docker.io/org/app`, `ghcr.io/org/app`)",
        fix: "name the image to build, such as docker.io/my-org/app, or remove runner-fleet:workflow", defaultText: "(required in workflow)",
        placeholder: "docker.io/unnamed/image",
    }),
    repositories: setting(z.array(z.string()).default([]), {
        description: "commit the workflow into these repositories (`github.RepositoryFile`); none: render only", docType: "list of names",
    }),
    branch: setting(z.string().optional(), { description: "the branch it is committed to", defaultText: "the repository's default branch" }),
    path: setting(z.string().optional(), { description: "the workflow file", defaultText: "`.github/workflows/multi-arch-image.yml`" }),
    commitMessage: setting(z.string().optional(), { description: "the commit message", defaultText: "a message naming runner-fleet" }),
    context: setting(z.string().optional(), { description: "the build context, a folder of the repository", defaultText: "`.`" }),
    dockerfile: setting(z.string().optional(), {
        description: "the Dockerfile, as a path from the repository's root (build-push-action's `file`)", defaultText: "`<context>/Dockerfile`",
    }),
    tags: setting(z.array(z.string()).optional(), {
        description: "tags of the manifest list, each as written (docker/metadata-action `type=raw`)", defaultText: "the branch name and the full commit SHA",
    }),
    branches: setting(z.array(z.string()).optional(), { description: "branches whose pushes build and publish", defaultText: "`[main]`" }),
    provenance: setting(z.union([z.literal(false), z.literal(true), z.enum(["min", "max"])]).optional(), {
        description: "provenance attestations: `false`, `min` or `max` (`true` is `min`). Off by default: with them every pushed image is an OCI index with an attestation manifest, which older Docker clients and some registries cannot pull; `max` records the build's arguments",
        fix: "write false, min or max", defaultText: "`false`", docType: "false, min or max",
    }),
    cache: setting(z.enum(["gha", "registry", "none"]).default("gha"), {
        description: "where each arch's build keeps BuildKit's cache between runs (fresh runners start cold): `gha` (GitHub's cache service, scope per arch), `registry` (`<image>:buildcache-<arch>` tags beside the image), `none`; only publishing runs write it",
    }),
    runners: setting(z.enum(["isolated-first", "actuated", "github-runner"]).default("isolated-first"), {
        description: "which hosts build each arch: `isolated-first` takes actuated microVMs where the arch has actuated hosts, else the plain runners; `actuated` or `github-runner` insist on one kind",
    }),
});

export const EndpointsSchema = z.strictObject({
    actuatedInstaller: setting(url.default("https://get.actuated.com"), { description: "actuated's install script", fix: URL_FIX, docType: "URL" }),
    runnerDownloads: setting(url.default("https://github.com/actions/runner/releases/download"), {
        description: "where actions/runner release archives come from", fix: URL_FIX, docType: "URL",
    }),
    mirrorDownloads: setting(url.default("https://github.com/distribution/distribution/releases/download"), {
        description: "where the mirror's registry archives come from (`v<version>/registry_<version>_linux_<arch>.tar.gz`, checked against the sha256 the package pins)",
        fix: URL_FIX, docType: "URL",
    }),
    githubUrl: setting(url.default("https://github.com"), { description: "GitHub's web URL (set with githubApi for GitHub Enterprise Server)", fix: URL_FIX, docType: "URL" }),
    githubApi: setting(url.default("https://api.github.com"), { description: "GitHub's REST API", fix: URL_FIX, docType: "URL" }),
});

// ---------------------------------------------------------------------------
// The whole fleet: the keys under the project's namespace.

export const FleetSchema = z.strictObject({
    hosts: setting(z.array(HostSchema).default([]), { description: "the hosts (fields below)", docType: "list of hosts", defaultText: "(required)" }),
    agent: setting(AgentSchema.prefault({}), { description: "the runner agent" }),
    mirror: setting(MirrorSchema.prefault({}), { description: "the Docker Hub mirror" }),
    github: setting(GithubSchema.prefault({} as z.input<typeof GithubSchema>), { description: "the GitHub organization" }),
    workflow: setting(WorkflowSchema.optional(), { description: "the multi-arch build workflow" }),
    endpoints: setting(EndpointsSchema.prefault({}), { description: "where the host scripts reach the outside world; tests point them at stand-ins" }),
    equinixProjectId: setting(z.string().optional(), {
        description: "the Equinix Metal project that owns the devices", defaultText: "required with an `equinix-metal` host",
    }),
    adminCidrs: setting(z.array(checked(cidrProblem)).default([]), {
        description: "who may reach SSH on Hetzner Cloud hosts (Pulumi runs from one of them)", docType: "list of CIDRs",
        defaultText: "required with a `hetzner-cloud` host", fix: "write an address with a prefix length, such as 198.51.100.7/32",
    }),
    sshPublicKey: setting(z.string().optional(), {
        description: "public half of `sshPrivateKey`, installed on new servers", defaultText: "required with a cloud host",
    }),
    bootTimeoutMinutes: setting(z.number().int().min(1).max(240).default(20), {
        description: "how long a host may take to answer SSH and finish booting, in minutes",
        fix: "write a whole number of minutes from 1 to 240, such as 20",
    }),
});

/** A host with the fleet's types. */
export type HostSpec = Readonly<z.output<typeof HostSchema>>;
export type AgentSpec = Readonly<z.output<typeof AgentSchema>>;
export type MirrorSpec = Readonly<z.output<typeof MirrorSchema>>;
export type GithubSpec = Readonly<z.output<typeof GithubSchema>>;
export type WorkflowSpec = Readonly<z.output<typeof WorkflowSchema>>;
export type EndpointsSpec = Readonly<z.output<typeof EndpointsSchema>>;
/** Everything a fleet is made of, with defaults filled in. No secret values live here. */
export type FleetSpec = Readonly<z.output<typeof FleetSchema>>;
/** The fleet as written (stack config, or RunnerFleet's `config`): what may be left out is optional. */
export type FleetConfigInput = z.input<typeof FleetSchema>;
export type AgentKind = (typeof AGENT_KINDS)[number];
export type Visibility = (typeof VISIBILITIES)[number];

/** The settings' keys under the project namespace. */
export const SETTING_KEYS = Object.keys(FleetSchema.shape) as (keyof typeof FleetSchema.shape)[];

/** The defaults every component falls back on, taken from the declarations. */
export const DEFAULTS = {
    agent: AgentSchema.parse({}),
    mirror: MirrorSchema.parse({}),
    endpoints: EndpointsSchema.parse({}),
    runnerGroup: GithubSchema.shape.runnerGroup.parse(undefined),
    visibility: GithubSchema.shape.visibility.parse(undefined),
    bootTimeoutMinutes: FleetSchema.shape.bootTimeoutMinutes.parse(undefined),
} as const;

// ---------------------------------------------------------------------------
// Secrets: read with requireSecret only, never in plain text in the stack file.

export const SECRET_KEYS = {
    sshPrivateKey: "sshPrivateKey",
    actuatedLicense: "actuatedLicense",
    actuatedToken: "actuatedToken",
    dockerHubToken: "dockerHubToken",
    githubRunnerToken: "githubRunnerToken",
} as const;

/** When each secret is needed (the docs). */
export const SECRET_DOCS: Readonly<Record<string, string>> = {
    sshPrivateKey: "always: every host is reached over SSH",
    "(any name)": "an existing host sets `privateKeySecret: <name>` to use its own key",
    actuatedLicense: "any host runs the actuated agent",
    actuatedToken: "any host runs the actuated agent",
    dockerHubToken: "`mirror.dockerHubUsername` is set",
    githubRunnerToken: "any host runs the GitHub runner (else the GitHub provider's token, else `GITHUB_TOKEN` where `pulumi` runs): a token with the organization permission \"Self-hosted runners: read and write\" (fine-grained) or `admin:org` (classic). It is used where `pulumi` runs, to mint each install's registration token and to remove the host's runners at destroy; it reaches a host only with `agent.ephemeral: true`.",
};

/** Whether a top-level setting is plain text in the stack file (the rest arrive as JSON). */
export function isTextSetting(key: string): boolean {
    let schema: z.ZodType | undefined = (FleetSchema.shape as Record<string, z.ZodType>)[key];
    while (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) {
        schema = schema.unwrap() as z.ZodType;
    }
    return schema instanceof z.ZodString;
}
