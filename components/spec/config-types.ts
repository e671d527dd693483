// Generated from the settings' declarations (components/spec/settings.ts and
// each host source's fields) by npm run docs; do not edit. RunnerFleet's
// `config` in every Pulumi language: the component package's schema is
// inferred from these interfaces.

import { Arch, ReleaseSha256 } from "./catalog";
import { AgentKind, BuildCache, GithubPlan, Visibility } from "./settings";

/** What a fleet is made of: the stack config's settings (README "Config reference"), without the secrets. Defaults fill what is left out. */
export interface RunnerFleetConfig {
    /** the hosts (fields below) */
    hosts?: FleetHostConfig[];
    /** the runner agent */
    agent?: AgentConfig;
    /** the Docker Hub mirror */
    mirror?: MirrorConfig;
    /** the Prometheus node exporter and the fleet's metrics on every host */
    metrics?: MetricsConfig;
    /** the GitHub organization */
    github?: GithubConfig;
    /** the multi-arch build workflow */
    workflow?: WorkflowConfig;
    /** where the host scripts reach the outside world (https only, unless `allowInsecureHttp`); tests point them at stand-ins */
    endpoints?: EndpointsConfig;
    /** public half of `sshPrivateKey`, installed on new servers: one line `<type> <base64> [comment]` (the `.pub` file). Default: required with a cloud host. */
    sshPublicKey?: string;
    /** how long a host may take to answer SSH and finish booting, in minutes. Default: `20`. */
    bootTimeoutMinutes?: number;
    /** the Equinix Metal project (its UUID) that owns the devices. Default: required with an `equinix-metal` host. */
    equinixProjectId?: string;
    /** who may reach SSH on Hetzner Cloud hosts (Pulumi runs from one of them). Default: required with a `hetzner-cloud` host. */
    adminCidrs?: string[];
    /** A host source's own settings by name, where one registered beside the built-in ones declares them. */
    [sourceSetting: string]: unknown;
}

/** Where the host scripts download from and which GitHub they talk to. */
export interface EndpointsConfig {
    /** actuated's install script. Default: `https://get.actuated.com`. */
    actuatedInstaller?: string;
    /** where actions/runner release archives come from. Default: `https://github.com/actions/runner/releases/download`. */
    runnerDownloads?: string;
    /** where the mirror's registry archives come from (`v<version>/registry_<version>_linux_<arch>.tar.gz`, checked against the sha256 the package pins). Default: `https://github.com/distribution/distribution/releases/download`. */
    mirrorDownloads?: string;
    /** GitHub's web URL (set with githubApi for GitHub Enterprise Server). Default: `https://github.com`. */
    githubUrl?: string;
    /** GitHub's REST API. Default: `https://api.github.com`. */
    githubApi?: string;
    /** allow plain `http://` in `endpoints.*` and `mirror.upstream`, for test stand-ins and air-gapped mirrors only: actuated's installer is piped to a root shell and the runner archive is checked by no checksum (the mirror's archives are checked by sha256), and GitHub's URLs carry tokens. Each such URL is marked INSECURE in the plan. Default: `false`. */
    allowInsecureHttp?: boolean;
}

/** The split-per-architecture build workflow the fleet renders, and where it commits it. */
export interface WorkflowConfig {
    /** render the multi-arch build workflow for this image (`docker.io/org/app`, `ghcr.io/org/app`) */
    image: string;
    /** commit the workflow into these repositories (`github.RepositoryFile`); none: render only */
    repositories?: string[];
    /** the branch it is committed to. Default: the repository's default branch. */
    branch?: string;
    /** the workflow file. Default: `.github/workflows/multi-arch-image.yml`. */
    path?: string;
    /** the commit message; a direct commit gets `[skip ci]` added (unless the message already skips runs), so committing the workflow starts no publishing run. Default: a message naming runner-fleet. */
    commitMessage?: string;
    /** propose the workflow in a pull request (`github.RepositoryPullRequest` from the branch `runner-fleet/<file name>`) instead of committing it to the branch; `false` with a protected branch fails before anything is created. Default: where the branch is protected (branch protection or a ruleset). */
    pullRequest?: boolean;
    /** replace a file already at the path, which the fleet did not create, when the workflow is first committed; without it that `up` fails on the file (a pull request proposes the change for review and needs no such leave). Default: `false`. */
    overwriteExisting?: boolean;
    /** the build context, a folder of the repository. Default: `.`. */
    context?: string;
    /** the Dockerfile, as a path from the repository's root (build-push-action's `file`). Default: `<context>/Dockerfile`. */
    dockerfile?: string;
    /** tags of the manifest list, each as written (docker/metadata-action `type=raw`). Default: the branch name and the full commit SHA. */
    tags?: string[];
    /** branches whose pushes build and publish (GitHub's branch filter: globs such as `release/**` are fine). Default: `[main]`. */
    branches?: string[];
    /** provenance attestations: `false`, `min` or `max` (`true` is `min`). Off by default: with them every pushed image is an OCI index with an attestation manifest, which older Docker clients and some registries cannot pull; `max` records the build's arguments. Default: `false`. */
    provenance?: any;
    /** the user that pushes the image to its registry when that is not ghcr.io (which takes the job's own token); the fleet sets it as the organization variable `IMAGE_REGISTRY_USERNAME`, and the secret `imageRegistryToken` as `IMAGE_REGISTRY_TOKEN`: credentials of their own, apart from the mirror's Docker Hub pull login */
    registryUsername?: string;
    /** where each arch's build keeps BuildKit's cache between runs (fresh runners start cold): `gha` (GitHub's cache service, scope per image and arch), `registry` (`<image>:buildcache-<arch>` tags beside the image), `none`; only publishing runs write it. Default: `gha`. */
    cache?: BuildCache;
    /** which hosts build each arch: `isolated-first` takes actuated microVMs where the arch has actuated hosts, else the plain runners; `actuated` or `github-runner` insist on one kind. Default: `isolated-first`. */
    runners?: WorkflowRunners;
}

/** Which hosts build each arch. */
export const WorkflowRunners = {
    isolatedFirst: "isolated-first",
    actuated: "actuated",
    githubRunner: "github-runner",
} as const;
export type WorkflowRunners = (typeof WorkflowRunners)[keyof typeof WorkflowRunners];

/** The GitHub organization: its runner group, secrets and variables. */
export interface GithubConfig {
    /** the organization the runners serve */
    org: string;
    /** runner group of github-runner hosts (created by the fleet unless `manage` is false). Default: `runner-fleet`. */
    runnerGroup?: string;
    /** which repositories see the fleet's secrets, variables and runner group. Default: `private`. */
    visibility?: Visibility;
    /** with `selected`: the repositories (names in the organization, resolved to ids) */
    repositories?: string[];
    /** the organization's plan (`free`, `team`, or `enterprise`: Enterprise Cloud or Server): restricting the runner group to workflows is an Enterprise feature, and on `free` private repositories cannot use organization secrets and variables (visibility `private` is refused). Default: `team`. */
    plan?: GithubPlan;
    /** let public repositories use the runner group: any fork's pull request could then run code on the hosts. Default: `false`. */
    allowPublicRepositories?: boolean;
    /** restrict the runner group to these workflows (`owner/repo/.github/workflows/file.yml@refs/heads/main`); GitHub Enterprise only (`plan: enterprise`) */
    workflows?: string[];
    /** manage the organization with `@pulumi/github`; with `false` no GitHub resource is created and the runner group must exist (registration tokens are minted where `pulumi` runs either way). Default: `true`. */
    manage?: boolean;
}

/** The Prometheus node exporter on every host, with the fleet's own figures. */
export interface MetricsConfig {
    /** Prometheus node exporter with the fleet's textfile metrics on every host. Default: `true`. */
    enabled?: boolean;
    /** where the node exporter listens on every host, and so the target Prometheus scrapes (the `metricsTargets` output): loopback (reachable from the host itself only, such as through an SSH tunnel) or a private address such as the host's private network address; anything else is refused. Default: `127.0.0.1:9100`. */
    bindAddress?: string;
}

/** The Docker Hub pull-through mirror on each host. */
export interface MirrorConfig {
    /** run a Docker Hub pull-through mirror on every host. Default: `true`. */
    enabled?: boolean;
    /** Docker Hub user (Docker ID, or the organization an organization access token belongs to) for authenticated pulls; needs the `dockerHubToken` secret. Default: unset (anonymous pulls). */
    dockerHubUsername?: string;
    /** github-runner hosts: how long the mirror keeps a blob or manifest after fetching it from the upstream (distribution 3's `proxy.ttl`; expired content is deleted and fetched again on the next pull); `0s` keeps everything until the mirror is removed. actuated's own mirror keeps its own. Default: `168h`. */
    ttl?: string;
    /** where the mirror listens on github-runner hosts: loopback or a private address such as the Docker bridge `172.17.0.1:5000`; anything else is refused. Default: `127.0.0.1:5000`. */
    bindAddress?: string;
    /** the registry the mirror caches; https only, unless `endpoints.allowInsecureHttp`. Default: `https://registry-1.docker.io`. */
    upstream?: string;
    /** github-runner hosts: another distribution registry release than the package's pinned one (a build of your own, served at endpoints.mirrorDownloads): its version and each archive's sha256, for every arch a mirror runs on. Default: the package's (3.1.2, sha256 pinned). */
    release?: MirrorReleaseConfig;
}

/** Another distribution registry release than the package's pinned one. */
export interface MirrorReleaseConfig {
    /** the distribution release, without a leading v */
    version: string;
    /** the archives' sha256 by arch */
    sha256: ReleaseSha256;
}

/** The runner agent on every host (a host may choose its own kind). */
export interface AgentConfig {
    /** the agent every host runs unless the host says otherwise: `actuated` (a Firecracker microVM per job; needs KVM) or `github-runner` (the plain GitHub Actions runner). Default: `actuated`. */
    kind?: AgentKind;
    /** plain GitHub-runner hosts carry `<labelPrefix>-<arch>` (actuated hosts carry what actuated matches: `actuated-arm64`, x86 `actuated`); it may not start with `actuated`. Default: `runner-fleet`. */
    labelPrefix?: string;
    /** routing labels every host carries besides its arch label (a job adds them to runs-on to pick these hosts); none may start with `actuated` */
    labels?: string[];
    /** actuated: the microVM size jobs ask for; it shapes the `runsOn` outputs, the `RUNNER_*` variables and the workflow (`actuated-arm64-8cpu-16gb`), never what the hosts enroll with. Unset: the server's default size. Default: the server's default. */
    vmSize?: string;
    /** github-runner: runner services per host (one job each at a time). Default: `1`. */
    instances?: number;
    /** github-runner: one job per registration. Off (the default), each runner keeps its registration and the job's workspace, containers and images are cleaned after every job; on, the host keeps `githubRunnerToken` to register again after every job, root-only (no job's user can read it; Docker is rootless and each instance's own) and marked EXPOSED in the plan. Default: `false`. */
    ephemeral?: boolean;
    /** github-runner: the actions/runner release installed (it updates itself; updates are never disabled, since a runner that stops updating stops getting jobs 30 days after a newer release); the default is the newest release the catalog knows, and the drift check reports an older one. Default: `2.336.0`. */
    runnerVersion?: string;
    /** how long a change that re-runs an agent's install waits for running jobs to finish before it enrolls or registers again (an actuated re-enrolment wipes `vmDevice`). Default: `60`. */
    drainTimeoutMinutes?: number;
    /** actuated: check from where `pulumi up` runs that each host's agent port (443) answers on its public address, as actuated's control plane needs; set false for hosts exposed another way (an inlets tunnel). Default: `true`. */
    probeAgentPort?: boolean;
    /** github-runner: a rootless Docker per runner instance (`docker.io` with `rootlesskit`, `uidmap`, `slirp4netns`), in the runner's `DOCKER_HOST`. Default: `true`. */
    installDocker?: boolean;
    /** actuated: disk size of each microVM, such as `30GB`. Default: actuated's. */
    vmDiskSize?: string;
}

/** A host of the fleet: where it comes from, its machine and how to reach it. Each host source's own fields apply to its hosts only. */
export interface FleetHostConfig {
    /** unique DNS label; the server's hostname and its runners' names */
    name: string;
    /** where the host comes from */
    provider: HostProvider;
    /** CPU architecture; optional when `plan` is in the catalog, and checked against `uname -m` on the host */
    arch?: Arch;
    /** Metal plan (`c3.large.arm64` default for arm64), Hetzner Cloud server type (`cax41` default for arm64, `ccx33` for amd64) or, for existing hosts, the model (`rx170`, `rx220`, `ax102`, ...) for defaults and price. A plan the catalog does not know is accepted when `arch` is stated */
    plan?: string;
    /** extra runner labels for this host */
    labels?: string[];
    /** the agent on this host; `agent.kind` unless set */
    agent?: AgentKind;
    /** SSH login user, `root` unless set; any other needs password-less sudo */
    user?: string;
    /** SSH port, 22 unless set */
    port?: number;
    /** where this host's node exporter listens, such as its private network address `10.0.0.5:9100` for a Prometheus on that network; `metrics.bindAddress` unless set. Loopback or a private address only */
    metricsBindAddress?: string;
    /** a whole spare disk for microVM disks, such as `/dev/nvme1n1` (it is wiped); unset: actuated picks one or uses a loopback file */
    vmDevice?: string;
    /** Equinix Metal metro code such as `da` */
    metro?: string;
    /** deploy on this hardware reservation: its UUID, or `next-available` */
    hardwareReservationId?: string;
    /** extra device tags */
    tags?: string[];
    /** Hetzner Cloud location: `fsn1`, `nbg1`, `hel1` (CAX is sold in these only), `ash`, `hil`, `sin` */
    location?: string;
    /** IPv4 address, IPv6 address or DNS name reachable over SSH: the host alone (the user and port have their own fields); no two hosts share one */
    address?: string;
    /** the host's public key, pinned for every connection: `<type> <base64>` as ssh-keyscan prints it */
    hostKey?: string;
    /** whether `/dev/kvm` exists (known models fill it in); actuated needs it */
    kvm?: boolean;
    /** the name of the secret config key that holds this host's SSH private key; `sshPrivateKey` unless set */
    privateKeySecret?: string;
    /** monthly price in EUR when the model is not in the catalog */
    monthlyPrice?: number;
    /** A host source's own settings by name, where one registered beside the built-in ones declares them. */
    [sourceSetting: string]: unknown;
}

/** Where a host comes from: a host source's id. */
export const HostProvider = {
    equinixMetal: "equinix-metal",
    hetznerCloud: "hetzner-cloud",
    existing: "existing",
} as const;
export type HostProvider = (typeof HostProvider)[keyof typeof HostProvider];
