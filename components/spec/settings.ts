// Every setting of a fleet, declared once: its type, default, range or
// format check (with the fix), and its doc. The parser (parse.ts), the
// components' defaults (DEFAULTS), the README's config reference and the
// JSON Schema of the stack file (scripts/lib/settings-docs.ts) are derived
// from here. A host source's own settings are declared in its file (hosts/)
// and joined in by hostSchema() and fleetSchema().
// Checks that involve several settings (KVM for actuated, what a provider
// accepts, required secrets) are in rules.ts; checks of a component's own
// arguments (workflow, GitHub wiring) are in that component's file.

import { z } from "zod";
import { privateBindProblem, shown } from "./addresses";
import { ARCHES, RUNNER_RELEASES } from "./catalog";
import { HostSource, hostSourcesGeneration, hostSources } from "./host-sources";
import { LABEL_FIX, VM_SIZE, isActuatedLabel, labelProblem } from "./labels";

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
export function setting<T extends z.ZodType>(schema: T, meta: SettingMeta): T {
    return schema.meta({ ...meta }) as T;
}

/** A text check: `problem` says why a value is wrong (or undefined). */
export function checked(problem: (v: string) => string | undefined) {
    return z.string().superRefine((v, ctx) => {
        const why = problem(v);
        if (why !== undefined) {
            ctx.addIssue({ code: "custom", message: why, input: v });
        }
    });
}

/** A text check against a pattern: "<value> is not <what>". */
export const matches = (re: RegExp, what: string) => checked(v => re.test(v) ? undefined : `${shown(v)} is not ${what}`);

const label = checked(l => {
    const why = labelProblem(l);
    return why === undefined ? undefined : `the label ${why}`;
});
const labelList = z.array(label);
const url = checked(urlProblem);
const URL_FIX = "write an https URL without user, password, ?query or #fragment, such as https://example.com, or remove the setting for the default";

// ---------------------------------------------------------------------------
// Formats: what every free-form setting may be, as the system it reaches
// takes it (a shell on the host, a file there, an API, a workflow). Each
// returns why a value is wrong, or undefined. The components that take these
// values directly (workflow.ts, github-org.ts, agent.ts, registry-mirror.ts)
// use the same functions, so a rule is written once.

/** Control characters (line breaks, tabs, NUL, DEL, C1): no free-form setting may carry one. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * An http(s) URL the host scripts can use as a base: scheme http or https,
 * a host, no user or password (they would be written into the host's files
 * and logs), no ?query or #fragment (paths are appended to it), and nothing
 * a shell or a YAML file would read (white space, quotes, `$`, backslash).
 */
export function urlProblem(v: string): string | undefined {
    if (CONTROL.test(v) || /[\s"'`$\\<>{}|^]/.test(v)) {
        return `${shown(v)} has white space, quotes or characters a URL does not carry`;
    }
    let u: URL;
    try {
        u = new URL(v);
    } catch {
        return `${shown(v)} is not an http(s) URL`;
    }
    if ((u.protocol !== "https:" && u.protocol !== "http:") || !/^https?:\/\/[^/]/i.test(v) || u.hostname === "") {
        return `${shown(v)} is not an http(s) URL`;
    }
    if (u.username !== "" || u.password !== "") {
        // Not shown: it carries a password.
        return "carries a user name or password, which would be written into the hosts' files and logs (the value is not shown)";
    }
    if (u.search !== "" || u.hash !== "" || v.includes("?") || v.includes("#")) {
        return `${shown(v)} has a ?query or #fragment, and paths are appended to it`;
    }
    return undefined;
}

/** Whether a URL is plain http: refused unless endpoints.allowInsecureHttp (rules.ts, insecureUrlProblems). */
export function isPlainHttp(url: string): boolean {
    return /^http:\/\//i.test(url);
}

/** What plain http puts at risk, per URL setting: the warning the plan prints when it is allowed. */
export const INSECURE_HTTP_RISK: Readonly<Record<string, string>> = {
    actuatedInstaller: "actuated's installer is piped to a root shell on every actuated host and is checked by no checksum: whoever can change this traffic runs code as root there",
    runnerDownloads: "the actions/runner archive is checked by no pinned checksum: whoever can change this traffic runs code as the runner on every plain host",
    mirrorDownloads: "the registry archives are checked against the pinned sha256, but the download can be read and held back",
    githubUrl: "runner registrations travel in clear: whoever can read this traffic can register runners or take jobs",
    githubApi: "the operator's GitHub token travels in clear where pulumi runs: whoever can read this traffic can manage the organization's runners",
    upstream: "images and the Docker Hub login travel in clear: whoever can change this traffic can swap what a tag pulls",
};

/** The fix for a plain http URL, and what the switch is for. */
export const INSECURE_HTTP_FIX = "use https; plain http is for test stand-ins and air-gapped mirrors only, and needs endpoints.allowInsecureHttp: true";

/** The key types an OpenSSH public key (or a host key from ssh-keyscan) may have. */
export const SSH_KEY_TYPES = [
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

/**
 * Why `v` is not one line of an OpenSSH public key, `<type> <base64> [comment]`,
 * whose base64 holds the key in the SSH wire format: a length-prefixed string
 * naming the key's type first (RFC 4253, section 6.6), which must be `<type>`.
 * The messages never show the value: a private key pasted by mistake must
 * not reach any output. The base64 is decoded as Node does (a trailing
 * partial group is dropped); the key itself is not checked further.
 */
export function sshPublicKeyProblem(v: string): string | undefined {
    if (/PRIVATE KEY|PuTTY-User-Key-File|Private-Lines/i.test(v) || v.trimStart().startsWith("-----BEGIN")) {
        return "is a private key or a key block (-----BEGIN ...), not the one line of an OpenSSH public key (the value is not shown)";
    }
    if (/[\r\n]/.test(v)) {
        return "spans several lines; an OpenSSH public key is one line (the value is not shown)";
    }
    if (CONTROL.test(v.replace(/\t/g, " "))) {
        return "has control characters (the value is not shown)";
    }
    const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(v);
    if (!m) {
        return "is not <type> <base64> [comment], the form of an OpenSSH public key (the value is not shown)";
    }
    const [, type, b64] = m;
    if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
        return `does not start with a key type OpenSSH writes (${SSH_KEY_TYPES.join(", ")}) (the value is not shown)`;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
        return `has no base64 key after ${type} (the value is not shown)`;
    }
    const blob = Buffer.from(b64, "base64");
    const n = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    const inner = n >= 0 && 4 + n <= blob.length ? blob.subarray(4, 4 + n).toString("latin1") : undefined;
    if (inner !== type) {
        const known = (SSH_KEY_TYPES as readonly string[]).includes(inner ?? "");
        return `its base64 does not hold a ${type} key${known ? ` but a ${inner} key` : ""}: the SSH wire format names the key's own type first (the value is not shown)`;
    }
    if (blob.length <= 4 + n) {
        return `its base64 holds no key after the type ${type} (the value is not shown)`;
    }
    return undefined;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A UUID, 8-4-4-4-12 hex digits (Equinix Metal's project and reservation ids). */
export function uuidProblem(v: string): string | undefined {
    return UUID.test(v) ? undefined : `${shown(v)} is not a UUID (8-4-4-4-12 hex digits)`;
}

/**
 * A Docker Hub user (or organization) name. A Docker ID "must be between 4
 * and 30 characters long, and can only contain numbers and lowercase
 * letters" (docs.docker.com/accounts/general-faqs, "What is a Docker ID?";
 * Docker Hub's own error: `it has to match "^[a-z0-9]{4,30}$"`, quoted in
 * moby/moby#8961). Namespaces of older accounts and organizations also have
 * '-' and '_' (the Docker client's namespace check was [a-z0-9-_], moby/moby
 * #8961, #11118), so those are taken between letters and digits. It is
 * written into the mirror's YAML config and a shell's environment: white
 * space, line breaks and anything else are refused, and shown escaped.
 */
export function dockerHubUsernameProblem(v: string): string | undefined {
    if (/\s/.test(v) || CONTROL.test(v)) {
        return `${shown(v)} has white space or a line break in it`;
    }
    if (v.includes("@")) {
        return `${shown(v)} is an email address, and the login is the Docker ID`;
    }
    if (/[A-Z]/.test(v)) {
        return `${shown(v)} has upper-case letters, and Docker IDs are lower case`;
    }
    if (!/^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$/.test(v)) {
        return `${shown(v)} is not a Docker ID (lower-case letters and digits; '-' and '_' only between them)`;
    }
    if (v.length < 4 || v.length > 30) {
        return `${shown(v)} has ${v.length} characters, and a Docker ID has 4 to 30`;
    }
    return undefined;
}

/**
 * A GitHub repository name without the owner: letters, digits, '.', '-' and
 * '_', at most 100 characters (what GitHub keeps of a name; it replaces
 * anything else with '-'), and not "." or "..".
 */
export function repositoryNameProblem(v: string): string | undefined {
    return /^[A-Za-z0-9._-]{1,100}$/.test(v) && v !== "." && v !== ".." ? undefined : `${shown(v)} is not a repository name`;
}

/**
 * A git branch name as `git check-ref-format --branch` takes it (the
 * basics): no control characters, space, ~ ^ : ? * [ or backslash; no "..",
 * "@{", "//"; not "@"; not starting with "-" or "/" or ending with "/" or
 * "."; no part starting with "." or ending with ".lock". With `pattern`,
 * GitHub's branch filter globs (* ? [ ] + and a leading !) are taken too.
 */
export function branchProblem(v: string, pattern = false): string | undefined {
    const name = pattern ? v.replace(/^!/, "") : v;
    const bad = pattern ? /[\s~^:\\]/ : /[\s~^:?*[\\]/;
    const why = name === "" ? "is empty"
        : CONTROL.test(name) || bad.test(name) ? "has white space or a character git refuses in a branch name"
            : name.includes("..") || name.includes("@{") || name.includes("//") || name === "@" ? "has .., @{ or // in it"
                : name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".") ? "starts with - or /, or ends with / or ."
                    : name.split("/").some(c => c.startsWith(".") || c.endsWith(".lock")) ? "has a part starting with . or ending with .lock"
                        : /^refs\//.test(name) ? "is a full ref; write the branch name alone"
                            : undefined;
    return why === undefined ? undefined : `${shown(v)} ${why}`;
}

/** The workflow file's path in a repository: `.github/workflows/<name>.yml` (GitHub runs files there only). */
export function workflowPathProblem(v: string): string | undefined {
    return /^\.github\/workflows\/[A-Za-z0-9._-]+\.ya?ml$/.test(v) ? undefined : `${shown(v)} is not a workflow file`;
}

/** A relative path inside a repository: no leading slash, no "..", no expression, no white space, quote or `$`. */
export function repoPathProblem(v: string): string | undefined {
    return v.length > 0 && !v.startsWith("/") && !v.split("/").includes("..") && !v.includes("${{") && !/[\s'"`$\\]/.test(v) && !CONTROL.test(v)
        ? undefined : `${shown(v)} is not a path inside the repository`;
}

/** An image tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'), or one ${{ }} expression. */
export function imageTagProblem(v: string): string | undefined {
    return /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|\$\{\{[^}]+\}\})$/.test(v) ? undefined : `${shown(v)} is not an image tag`;
}

/** An image name without a tag: registry/owner/name in lower case, as the distribution reference grammar has it. */
export function imageNameProblem(v: string): string | undefined {
    return /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\.[a-z0-9-]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/.test(v)
        ? undefined : `${shown(v)} is not an image name without a tag`;
}

/** A workflow a runner group admits: `owner/repo/.github/workflows/file.yml@ref`, as GitHub takes it. */
export function workflowRefProblem(v: string): string | undefined {
    return /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+\/\.github\/workflows\/[A-Za-z0-9._-]+\.ya?ml@[^\s]+$/.test(v) && !CONTROL.test(v)
        ? undefined : `${shown(v)} is not a workflow reference`;
}

/** Free text one line long, as names GitHub and Equinix take (a runner group, a device tag): not empty, no control characters, no white space around it. */
export function lineProblem(v: string): string | undefined {
    if (v.trim() === "") {
        return "is empty";
    }
    if (CONTROL.test(v)) {
        return `${shown(v)} has a line break or another control character`;
    }
    return v.trim() === v ? undefined : `${shown(v)} has white space around it`;
}

/** A commit message: not empty, no control characters but line breaks and tabs. */
export function commitMessageProblem(v: string): string | undefined {
    if (v.trim() === "") {
        return "is empty";
    }
    return CONTROL.test(v.replace(/[\n\t]/g, " ")) ? `${shown(v)} has control characters other than line breaks and tabs` : undefined;
}

const runnerGroupName = checked(lineProblem);
const repositoryName = checked(repositoryNameProblem);
const REPOSITORY_FIX = "write the repository's name without the owner, such as app (letters, digits, '.', '-' and '_', at most 100)";
const BRANCH_FIX = "write a branch name such as main or release/1.x (no spaces, ~ ^ : ? * [ \\ .. or @{; not starting with - or /)";
export const LINE_FIX_TAIL = "one line, without control characters or white space around it";

/** The runner agent on a host. */
export const AgentKind = {
    /** actuated: one Firecracker microVM per job; needs KVM. */
    actuated: "actuated",
    /** The plain GitHub Actions runner (actions/runner). */
    githubRunner: "github-runner",
} as const;
export type AgentKind = (typeof AgentKind)[keyof typeof AgentKind];
/** Which of the organization's repositories may use the runner group and read the fleet's secrets and variables. */
export const Visibility = {
    all: "all",
    private: "private",
    selected: "selected",
} as const;
export type Visibility = (typeof Visibility)[keyof typeof Visibility];
/** The organization's GitHub plan, as far as the fleet's settings depend on it. */
export const GithubPlan = {
    free: "free",
    team: "team",
    enterprise: "enterprise",
} as const;
export type GithubPlan = (typeof GithubPlan)[keyof typeof GithubPlan];
/** Where the build workflow's per-arch builds keep BuildKit's cache. */
export const BuildCache = {
    /** GitHub's cache service, scope per image and arch. */
    gha: "gha",
    /** `<image>:buildcache-<arch>` tags beside the image. */
    registry: "registry",
    /** No cache: every build starts cold. */
    none: "none",
} as const;
export type BuildCache = (typeof BuildCache)[keyof typeof BuildCache];
export const AGENT_KINDS = [AgentKind.actuated, AgentKind.githubRunner] as const;
export const VISIBILITIES = [Visibility.all, Visibility.private, Visibility.selected] as const;
export const PLANS = [GithubPlan.free, GithubPlan.team, GithubPlan.enterprise] as const;

// ---------------------------------------------------------------------------
// A host, as written under `runner-fleet:hosts`.

/**
 * The fields every host takes, whatever its source; `provider` is added from
 * the registered host sources (host-sources.ts), with each source's own fields.
 */
const BASE_HOST_FIELDS = {
    name: setting(matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "a DNS label"), {
        description: "unique DNS label; the server's hostname and its runners' names",
        fix: "use lower case letters, digits and hyphens, at most 63 characters, not starting or ending with a hyphen",
        defaultText: "(required)", appliesTo: "all", placeholder: "unnamed-host",
    }),
    arch: setting(z.enum(ARCHES).optional(), {
        description: "CPU architecture; optional when `plan` is in the catalog, and checked against `uname -m` on the host",
        fix: "use one of: arm64, amd64 (aarch64 is arm64, x86_64 is amd64)", appliesTo: "all",
    }),
    plan: setting(matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a plan, server type or model name").optional(), {
        description: "Metal plan (`c3.large.arm64` default for arm64), Hetzner Cloud server type (`cax41` default for arm64, `ccx33` for amd64) or, for existing hosts, the model (`rx170`, `rx220`, `ax102`, ...) for defaults and price. A plan the catalog does not know is accepted when `arch` is stated",
        fix: "write the plan as the provider names it, such as c3.large.arm64, cax41 or rx170 (letters, digits, '.', '-' and '_')",
        appliesTo: "all",
    }),
    labels: setting(labelList.optional(), { description: "extra runner labels for this host", fix: LABEL_FIX, appliesTo: "all" }),
    agent: setting(z.enum(AGENT_KINDS).optional(), { description: "the agent on this host; `agent.kind` unless set", appliesTo: "all" }),
    user: setting(matches(/^[a-z_][a-z0-9_-]*$/, "a Linux user name").optional(), {
        description: "SSH login user, `root` unless set; any other needs password-less sudo",
        fix: "use the login user, such as root or ubuntu", appliesTo: "all",
    }),
    port: setting(z.number().int().min(1).max(65535).optional(), {
        description: "SSH port, 22 unless set", fix: "write the SSH port as a number from 1 to 65535, such as 22", appliesTo: "all",
    }),
    metricsBindAddress: setting(checked(privateBindProblem).optional(), {
        description: "where this host's node exporter listens, such as its private network address `10.0.0.5:9100` for a Prometheus on that network; `metrics.bindAddress` unless set. Loopback or a private address only",
        fix: "bind the exporter to the host's private network address (such as 10.0.0.5:9100) or to loopback; it tells whoever reaches it about the host and its jobs",
        appliesTo: "all", docType: "host:port",
    }),
    vmDevice: setting(matches(/^\/dev\/[A-Za-z0-9/_-]+$/, "a block device path").optional(), {
        description: "a whole spare disk for microVM disks, such as `/dev/nvme1n1` (it is wiped); unset: actuated picks one or uses a loopback file",
        fix: "name a whole spare disk such as /dev/nvme1n1 (it is wiped), or remove vmDevice", appliesTo: "actuated hosts",
    }),
};

const PROVIDER_META: SettingMeta = { description: "where the host comes from", defaultText: "(required)", appliesTo: "all" };

/** The shape the type checker knows of a host: the fields every host takes, `provider` as text. */
const StaticHostSchema = z.strictObject({ ...BASE_HOST_FIELDS, provider: z.string() });

// ---------------------------------------------------------------------------
// Fleet-wide sections.

/** The actions/runner release installed unless agent.runnerVersion says otherwise: the newest the catalog knows. */
export const DEFAULT_RUNNER_VERSION = RUNNER_RELEASES[0].version;

export const AgentSchema = z.strictObject({
    kind: setting(z.enum(AGENT_KINDS).default("actuated"), {
        description: "the agent every host runs unless the host says otherwise: `actuated` (a Firecracker microVM per job; needs KVM) or `github-runner` (the plain GitHub Actions runner)",
    }),
    labelPrefix: setting(checked(p => {
        if (isActuatedLabel(p)) {
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
        description: "github-runner: one job per registration. Off (the default), each runner keeps its registration and the job's workspace, containers and images are cleaned after every job; on, the host keeps `githubRunnerToken` to register again after every job, root-only (no job's user can read it; Docker is rootless and each instance's own) and marked EXPOSED in the plan",
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
        description: "github-runner: a rootless Docker per runner instance (`docker.io` with `rootlesskit`, `uidmap`, `slirp4netns`), in the runner's `DOCKER_HOST`",
    }),
    vmDiskSize: setting(matches(/^\d+(G|GB|T|TB)$/, "a disk size").optional(), {
        description: "actuated: disk size of each microVM, such as `30GB`", fix: "write a size such as 30GB or 100GB",
        docType: "size", defaultText: "actuated's",
    }),
});

export const MirrorSchema = z.strictObject({
    enabled: setting(z.boolean().default(true), { description: "run a Docker Hub pull-through mirror on every host" }),
    dockerHubUsername: setting(checked(dockerHubUsernameProblem).optional(), {
        description: "Docker Hub user (Docker ID, or the organization an organization access token belongs to) for authenticated pulls; needs the `dockerHubToken` secret",
        defaultText: "unset (anonymous pulls)",
        fix: "write the Docker ID (4 to 30 lower-case letters and digits), not the email address, or remove the setting for anonymous pulls",
    }),
    ttl: setting(matches(/^(?=.)(\d+h)?(\d+m)?(\d+s)?$/, "a duration").default("168h"), {
        description: "github-runner hosts: how long the mirror keeps a blob or manifest after fetching it from the upstream (distribution 3's `proxy.ttl`; expired content is deleted and fetched again on the next pull); `0s` keeps everything until the mirror is removed. actuated's own mirror keeps its own",
        fix: "write a Go duration such as 168h, 72h or 30m, or 0s to keep content forever", docType: "duration",
    }),
    bindAddress: setting(checked(privateBindProblem).default("127.0.0.1:5000"), {
        description: "where the mirror listens on github-runner hosts: loopback or a private address such as the Docker bridge `172.17.0.1:5000`; anything else is refused",
        fix: "bind the mirror to loopback (127.0.0.1:5000) or the Docker bridge (172.17.0.1:5000); the mirror serves what the Docker Hub account can pull, so it must never face the internet",
        docType: "host:port",
    }),
    upstream: setting(url.default("https://registry-1.docker.io"), {
        description: "the registry the mirror caches; https only, unless `endpoints.allowInsecureHttp`", fix: URL_FIX, docType: "URL",
    }),
    release: setting(z.strictObject({
        version: setting(matches(/^\d+\.\d+\.\d+$/, "a release version"), { description: "the distribution release, without a leading v", fix: "write the version without a leading v, such as 3.1.2" }),
        sha256: setting(z.strictObject({
            amd64: setting(matches(/^[0-9a-f]{64}$/, "a sha256").optional(), { description: "sha256 of registry_<version>_linux_amd64.tar.gz", fix: "write 64 lowercase hex digits" }),
            arm64: setting(matches(/^[0-9a-f]{64}$/, "a sha256").optional(), { description: "sha256 of registry_<version>_linux_arm64.tar.gz", fix: "write 64 lowercase hex digits" }),
        }), { description: "the archives' sha256 by arch" }),
    }).optional(), {
        description: "github-runner hosts: another distribution registry release than the package's pinned one (a build of your own, served at endpoints.mirrorDownloads): its version and each archive's sha256, for every arch a mirror runs on",
        defaultText: "the package's (3.1.2, sha256 pinned)", docType: "object",
    }),
});

export const MetricsSchema = z.strictObject({
    enabled: setting(z.boolean().default(true), { description: "Prometheus node exporter with the fleet's textfile metrics on every host" }),
    bindAddress: setting(checked(privateBindProblem).default("127.0.0.1:9100"), {
        description: "where the node exporter listens on every host, and so the target Prometheus scrapes (the `metricsTargets` output): loopback (reachable from the host itself only, such as through an SSH tunnel) or a private address such as the host's private network address; anything else is refused",
        fix: "bind the exporter to loopback (127.0.0.1:9100) or a private address such as the host's private network address (10.0.0.2:9100); its figures name the hosts, runners and jobs, so it must never face the internet",
        docType: "host:port",
    }),
});

export const GithubSchema = z.strictObject({
    org: setting(matches(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "a GitHub organization name"), {
        description: "the organization the runners serve",
        fix: "set runner-fleet:github.org to the organization's login: letters, digits and hyphens", defaultText: "(required)",
        placeholder: "unnamed-org",
    }),
    runnerGroup: setting(runnerGroupName.default("runner-fleet"), {
        description: "runner group of github-runner hosts (created by the fleet unless `manage` is false)",
        fix: `name the runner group, such as runner-fleet: ${LINE_FIX_TAIL}`,
    }),
    visibility: setting(z.enum(VISIBILITIES).default("private"), {
        description: "which repositories see the fleet's secrets, variables and runner group",
    }),
    repositories: setting(z.array(repositoryName).default([]), {
        description: "with `selected`: the repositories (names in the organization, resolved to ids)", docType: "list of names", fix: REPOSITORY_FIX,
    }),
    plan: setting(z.enum(PLANS).default("team"), {
        description: "the organization's plan (`free`, `team`, or `enterprise`: Enterprise Cloud or Server): restricting the runner group to workflows is an Enterprise feature, and on `free` private repositories cannot use organization secrets and variables (visibility `private` is refused)",
    }),
    allowPublicRepositories: setting(z.boolean().default(false), {
        description: "let public repositories use the runner group: any fork's pull request could then run code on the hosts",
    }),
    workflows: setting(z.array(checked(workflowRefProblem)).default([]), {
        description: "restrict the runner group to these workflows (`owner/repo/.github/workflows/file.yml@refs/heads/main`); GitHub Enterprise only (`plan: enterprise`)",
        fix: "write owner/repo/.github/workflows/file.yml@refs/heads/main", docType: "list of workflow references",
    }),
    manage: setting(z.boolean().default(true), {
        description: "manage the organization with `@pulumi/github`; with `false` no GitHub resource is created and the runner group must exist (registration tokens are minted where `pulumi` runs either way)",
    }),
});

export const WorkflowSchema = z.strictObject({
    image: setting(checked(imageNameProblem), {
        description: "render the multi-arch build workflow for this image (`docker.io/org/app`, `ghcr.io/org/app`)",
        fix: "name the image to build without a tag, in lower case, such as docker.io/my-org/app, or remove runner-fleet:workflow", defaultText: "(required in workflow)",
        placeholder: "docker.io/unnamed/image",
    }),
    repositories: setting(z.array(repositoryName).default([]), {
        description: "commit the workflow into these repositories (`github.RepositoryFile`); none: render only", docType: "list of names", fix: REPOSITORY_FIX,
    }),
    branch: setting(checked(v => branchProblem(v)).optional(), {
        description: "the branch it is committed to", defaultText: "the repository's default branch", fix: BRANCH_FIX,
    }),
    path: setting(checked(workflowPathProblem).optional(), {
        description: "the workflow file", defaultText: "`.github/workflows/multi-arch-image.yml`", fix: "use .github/workflows/<name>.yml",
    }),
    commitMessage: setting(checked(commitMessageProblem).optional(), {
        description: "the commit message; a direct commit gets `[skip ci]` added (unless the message already skips runs), so committing the workflow starts no publishing run", defaultText: "a message naming runner-fleet", fix: "write a message without control characters (line breaks and tabs are fine)",
    }),
    pullRequest: setting(z.boolean().optional(), {
        description: "propose the workflow in a pull request (`github.RepositoryPullRequest` from the branch `runner-fleet/<file name>`) instead of committing it to the branch; `false` with a protected branch fails before anything is created",
        defaultText: "where the branch is protected (branch protection or a ruleset)",
    }),
    overwriteExisting: setting(z.boolean().default(false), {
        description: "replace a file already at the path, which the fleet did not create, when the workflow is first committed; without it that `up` fails on the file (a pull request proposes the change for review and needs no such leave)",
    }),
    context: setting(checked(repoPathProblem).optional(), {
        description: "the build context, a folder of the repository", defaultText: "`.`", fix: "write a relative path such as . or app (no .., white space, quotes, $ or ${{ }})",
    }),
    dockerfile: setting(checked(repoPathProblem).optional(), {
        description: "the Dockerfile, as a path from the repository's root (build-push-action's `file`)", defaultText: "`<context>/Dockerfile`",
        fix: "write a path from the repository's root, such as app/Dockerfile (no .., white space, quotes, $ or ${{ }})",
    }),
    tags: setting(z.array(checked(imageTagProblem)).optional(), {
        description: "tags of the manifest list, each as written (docker/metadata-action `type=raw`)", defaultText: "the branch name and the full commit SHA",
        fix: "use letters, digits, '_', '.' and '-' (at most 128, not starting with . or -), or one ${{ }} expression",
    }),
    branches: setting(z.array(checked(v => branchProblem(v, true))).optional(), {
        description: "branches whose pushes build and publish (GitHub's branch filter: globs such as `release/**` are fine)", defaultText: "`[main]`",
        fix: "write branch names or filter patterns such as main or release/** (no spaces, ~ ^ : or \\)",
    }),
    provenance: setting(z.union([z.literal(false), z.literal(true), z.enum(["min", "max"])]).optional(), {
        description: "provenance attestations: `false`, `min` or `max` (`true` is `min`). Off by default: with them every pushed image is an OCI index with an attestation manifest, which older Docker clients and some registries cannot pull; `max` records the build's arguments",
        fix: "write false, min or max", defaultText: "`false`", docType: "false, min or max",
    }),
    registryUsername: setting(checked(lineProblem).optional(), {
        description: "the user that pushes the image to its registry when that is not ghcr.io (which takes the job's own token); the fleet sets it as the organization variable `IMAGE_REGISTRY_USERNAME`, and the secret `imageRegistryToken` as `IMAGE_REGISTRY_TOKEN`: credentials of their own, apart from the mirror's Docker Hub pull login",
        defaultText: "(required for a registry other than ghcr.io, with `github.manage`)", fix: "write the registry user's name on one line",
    }),
    cache: setting(z.enum([BuildCache.gha, BuildCache.registry, BuildCache.none]).default("gha"), {
        description: "where each arch's build keeps BuildKit's cache between runs (fresh runners start cold): `gha` (GitHub's cache service, scope per image and arch), `registry` (`<image>:buildcache-<arch>` tags beside the image), `none`; only publishing runs write it",
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
    allowInsecureHttp: setting(z.boolean().optional(), {
        description: "allow plain `http://` in `endpoints.*` and `mirror.upstream`, for test stand-ins and air-gapped mirrors only: actuated's installer is piped to a root shell and the runner archive is checked by no checksum (the mirror's archives are checked by sha256), and GitHub's URLs carry tokens. Each such URL is marked INSECURE in the plan",
        fix: "write allowInsecureHttp: true only for a test stand-in or an air-gapped mirror; else use https URLs", defaultText: "`false`",
    }),
});

// ---------------------------------------------------------------------------
// The whole fleet: the keys under the project's namespace.

/** The fleet-wide settings every fleet takes; `hosts` and the host sources' own fleet-wide settings are added. */
const BASE_FLEET_FIELDS = {
    agent: setting(AgentSchema.prefault({}), { description: "the runner agent" }),
    mirror: setting(MirrorSchema.prefault({}), { description: "the Docker Hub mirror" }),
    metrics: setting(MetricsSchema.prefault({}), { description: "the Prometheus node exporter and the fleet's metrics on every host" }),
    github: setting(GithubSchema.prefault({} as z.input<typeof GithubSchema>), { description: "the GitHub organization" }),
    workflow: setting(WorkflowSchema.optional(), { description: "the multi-arch build workflow" }),
    endpoints: setting(EndpointsSchema.prefault({}), { description: "where the host scripts reach the outside world (https only, unless `allowInsecureHttp`); tests point them at stand-ins" }),
    sshPublicKey: setting(checked(sshPublicKeyProblem).optional(), {
        description: "public half of `sshPrivateKey`, installed on new servers: one line `<type> <base64> [comment]` (the `.pub` file)", defaultText: "required with a cloud host",
        fix: "paste the public half, one line such as ssh-ed25519 AAAA... comment (ssh-keygen -y -f <private key> prints it); never the private key: if it was pasted into the stack file in plain text, rotate it",
        docType: "SSH public key",
    }),
    bootTimeoutMinutes: setting(z.number().int().min(1).max(240).default(20), {
        description: "how long a host may take to answer SSH and finish booting, in minutes",
        fix: "write a whole number of minutes from 1 to 240, such as 20",
    }),
};

const HOSTS_META: SettingMeta = { description: "the hosts (fields below)", docType: "list of hosts", defaultText: "(required)" };

/** The shape the type checker knows of a fleet. */
const StaticFleetSchema = z.strictObject({ hosts: z.array(StaticHostSchema).default([]), ...BASE_FLEET_FIELDS });

let derived: { generation: number; host: z.ZodObject; fleet: z.ZodObject } | undefined;

/** The host and fleet schemas of the registered host sources, made again when one registers. */
function schemas(): { host: z.ZodObject; fleet: z.ZodObject } {
    if (derived === undefined || derived.generation !== hostSourcesGeneration()) {
        const sources = hostSources();
        const own = (pick: (s: HostSource) => Readonly<Record<string, z.ZodType>> | undefined) => {
            const fields: Record<string, z.ZodType> = {};
            for (const source of sources) {
                for (const [key, schema] of Object.entries(pick(source) ?? {})) {
                    fields[key] ??= schema;
                }
            }
            return fields;
        };
        const ids = sources.map(s => s.id) as [string, ...string[]];
        const { name, ...rest } = BASE_HOST_FIELDS;
        const host = z.strictObject({
            name,
            provider: setting(z.enum(ids), PROVIDER_META),
            ...rest,
            ...own(s => s.hostFields),
        });
        const fleet = z.strictObject({
            hosts: setting(z.array(host).default([]), HOSTS_META),
            ...BASE_FLEET_FIELDS,
            ...own(s => s.fleetFields),
        });
        derived = { generation: hostSourcesGeneration(), host, fleet };
    }
    return derived;
}

/** A host as written under `runner-fleet:hosts`: the common fields and those of every registered host source. */
export function hostSchema(): z.ZodObject {
    return schemas().host;
}

/** Every setting of a fleet: the keys under the project's namespace. */
export function fleetSchema(): z.ZodObject {
    return schemas().fleet;
}

/** A host with the fleet's types; its source's own fields by name (typed in the source's file). */
export type HostSpec = Readonly<z.output<typeof StaticHostSchema>> & { readonly [sourceField: string]: unknown };
export type AgentSpec = Readonly<z.output<typeof AgentSchema>>;
export type MirrorSpec = Readonly<z.output<typeof MirrorSchema>>;
export type MetricsSpec = Readonly<z.output<typeof MetricsSchema>>;
export type GithubSpec = Readonly<z.output<typeof GithubSchema>>;
export type WorkflowSpec = Readonly<z.output<typeof WorkflowSchema>>;
export type EndpointsSpec = Readonly<z.output<typeof EndpointsSchema>>;
/** Everything a fleet is made of, with defaults filled in. No secret values live here. */
export type FleetSpec = Readonly<Omit<z.output<typeof StaticFleetSchema>, "hosts">> & { readonly hosts: readonly HostSpec[] } & { readonly [sourceSetting: string]: unknown };
/** The fleet as written (stack config, or RunnerFleet's `config`): what may be left out is optional. */
export type FleetConfigInput = Omit<z.input<typeof StaticFleetSchema>, "hosts"> & {
    readonly hosts?: readonly (z.input<typeof StaticHostSchema> & { readonly [sourceField: string]: unknown })[];
} & { readonly [sourceSetting: string]: unknown };
/** The organization's GitHub plan (the name GithubPlan had before). */
export type Plan = GithubPlan;

/** The settings' keys under the project namespace. */
export function settingKeys(): string[] {
    return Object.keys(fleetSchema().shape);
}

/** The defaults every component falls back on, taken from the declarations. */
export const DEFAULTS = {
    agent: AgentSchema.parse({}),
    mirror: MirrorSchema.parse({}),
    metrics: MetricsSchema.parse({}),
    endpoints: EndpointsSchema.parse({}),
    runnerGroup: GithubSchema.shape.runnerGroup.parse(undefined),
    visibility: GithubSchema.shape.visibility.parse(undefined),
    plan: GithubSchema.shape.plan.parse(undefined),
    bootTimeoutMinutes: BASE_FLEET_FIELDS.bootTimeoutMinutes.parse(undefined),
} as const;

// ---------------------------------------------------------------------------
// Secrets: read with requireSecret only, never in plain text in the stack file.

export const SECRET_KEYS = {
    sshPrivateKey: "sshPrivateKey",
    actuatedLicense: "actuatedLicense",
    actuatedToken: "actuatedToken",
    dockerHubToken: "dockerHubToken",
    githubRunnerToken: "githubRunnerToken",
    imageRegistryToken: "imageRegistryToken",
} as const;

/** When each secret is needed (the docs). */
export const SECRET_DOCS: Readonly<Record<string, string>> = {
    sshPrivateKey: "always: every host is reached over SSH",
    "(any name)": "an existing host sets `privateKeySecret: <name>` to use its own key",
    actuatedLicense: "any host runs the actuated agent",
    actuatedToken: "any host runs the actuated agent",
    dockerHubToken: "`mirror.dockerHubUsername` is set: the mirrors' Docker Hub pull login (it never reaches a workflow)",
    imageRegistryToken: "`workflow.image` is on a registry other than ghcr.io and `github.manage` is on: the token `workflow.registryUsername` pushes with (organization secret `IMAGE_REGISTRY_TOKEN`)",
    githubRunnerToken: "any host runs the GitHub runner (else the GitHub provider's token, else `GITHUB_TOKEN` where `pulumi` runs): a token with the organization permission \"Self-hosted runners: read and write\" (fine-grained) or `admin:org` (classic). It is used where `pulumi` runs, to mint each install's registration token and to remove the host's runners at destroy; it reaches a host only with `agent.ephemeral: true`.",
};

/** Whether a top-level setting is plain text in the stack file (the rest arrive as JSON). */
export function isTextSetting(key: string): boolean {
    let schema: z.ZodType | undefined = (fleetSchema().shape as Record<string, z.ZodType>)[key];
    while (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) {
        schema = schema.unwrap() as z.ZodType;
    }
    return schema instanceof z.ZodString;
}
