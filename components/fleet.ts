// RunnerFleet: the whole fleet from one config: every host, wherever it comes
// from, behind the RunnerHost contract; an agent and a mirror on each; the
// GitHub organization wiring once; optionally the build workflow. Validates
// everything before it registers anything. Hosts never wait for each other.

import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import {
    AgentSpec, EndpointsSpec, FleetConfigError, FleetSpec, FleetSummary, GithubSpec, HostSpec, MirrorSpec, RawConfig,
    SECRET_KEYS, WorkflowSpec, parseFleetConfig, privateKeySecretOf, summarizeFleet,
} from "./config";
import { RunnerAgent } from "./agent";
import { RegistryMirror } from "./registry-mirror";
import { GithubOrgWiring } from "./github-org";
import { BuildWorkflow } from "./workflow";
import {
    buildPlatforms, driftExpectations, fleetProblems, fleetSecretNames, fleetVariables, mirrorAddressOf, runsOnSnippets,
} from "./wiring";
import { HostComponent } from "./hosts/host";
import { EquinixMetalHost } from "./hosts/equinix-metal";
import { HetznerCloudHost } from "./hosts/hetzner-cloud";
import { ExistingHost } from "./hosts/existing";

/** The fleet in the same shape as the stack config; defaults fill what is left out. */
export interface FleetConfigInput {
    readonly hosts: readonly HostSpec[];
    readonly agent?: Partial<AgentSpec>;
    readonly mirror?: Partial<MirrorSpec>;
    readonly github: Partial<GithubSpec> & { readonly org: string };
    readonly equinixProjectId?: string;
    readonly adminCidrs?: readonly string[];
    readonly sshPublicKey?: string;
    readonly endpoints?: Partial<EndpointsSpec>;
    readonly workflow?: Partial<WorkflowSpec> & { readonly image: string };
}

export interface RunnerFleetArgs {
    /** What the fleet is made of (see the README's config reference). */
    readonly config: FleetConfigInput;
    /**
     * Secret values by config key: `sshPrivateKey` (and any key a host names in
     * `privateKeySecret`), `actuatedLicense`, `actuatedToken`, `dockerHubToken`,
     * `githubRunnerToken`. They are wrapped with pulumi.secret whatever they arrive as.
     */
    readonly secrets: Readonly<Record<string, pulumi.Input<string> | undefined>>;
    /** Minutes each host may take to answer SSH and finish booting. Default 20. */
    readonly bootTimeoutMinutes?: number;
    /** Token for the GitHub provider the fleet creates (owner: github.org); GITHUB_TOKEN is used when unset. */
    readonly githubToken?: pulumi.Input<string>;
    /** What bad input is called in the error, such as "the config of stack prod". Default `RunnerFleet "<name>"`. */
    readonly errorContext?: string;
}

/** Per host, what the stack outputs. */
export interface FleetHostOutput {
    readonly address: string;
    readonly arch: string;
    readonly provider: string;
    readonly agent: string;
    readonly labels: readonly string[];
    /** Where jobs on the host reach the Docker Hub mirror, or null without one. */
    readonly mirror: string | null;
    readonly monthlyPrice: number | null;
    readonly currency: string | null;
}

/** Per host, what the drift check needs to reach it and to compare. No secret: the key is named, not given. */
export interface DriftTarget {
    readonly address: string;
    readonly user: string;
    readonly port: number;
    /** The host's SSH key to pin, or null when none is known. */
    readonly hostKey: string | null;
    /** The config key holding the SSH private key. */
    readonly privateKeySecret: string;
    readonly agent: string;
    readonly instances: number;
    readonly mirrorMode: "registry" | "actuated" | "none";
    readonly mirrorBind: string;
    /** check.sh's EXPECT: settings hashes and installed files' hashes. */
    readonly expect: string;
}

/** Parses and validates a fleet's input; every problem at once. */
export function checkFleet(input: FleetConfigInput, secretsPresent: ReadonlySet<string>): { spec: FleetSpec; problems: ReturnType<typeof fleetProblems> } {
    const { spec, problems } = parseFleetConfig(input as unknown as RawConfig);
    problems.push(...fleetProblems(spec, secretsPresent));
    return { spec, problems };
}

export class RunnerFleet extends pulumi.ComponentResource {
    /** The validated spec with defaults applied. */
    public readonly spec: FleetSpec;
    public readonly summary: FleetSummary;
    public readonly runnerHosts: readonly HostComponent[];
    public readonly agents: readonly RunnerAgent[];
    public readonly mirrors: readonly (RegistryMirror | undefined)[];
    /** The GitHub provider for the organization (unless github.manage is false). */
    public readonly githubProvider?: github.Provider;
    public readonly org?: GithubOrgWiring;
    public readonly workflow?: BuildWorkflow;
    /** Per host: address, arch, provider, agent, labels, mirror, price. */
    public readonly hosts: pulumi.Output<Record<string, FleetHostOutput>>;
    /** Per arch, the labels every host of that arch carries. */
    public readonly labelsByArch: pulumi.Output<Record<string, readonly string[]>>;
    /** Per arch, ready-to-paste runs-on lines: plain, and fork-safe. */
    public readonly runsOn: pulumi.Output<Record<string, { plain: string; forkSafe: string }>>;
    /** Estimated monthly cost per currency. */
    public readonly estimatedMonthlyCost: pulumi.Output<Record<string, number>>;
    /** The rendered build workflow, when the fleet has one. */
    public readonly workflowYaml: pulumi.Output<string | undefined>;
    /** Per host, what the drift check reaches and compares. */
    public readonly drift: pulumi.Output<Record<string, DriftTarget>>;

    constructor(name: string, args: RunnerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        const present = new Set(Object.keys(args.secrets).filter(k => args.secrets[k] !== undefined));
        const { spec, problems } = checkFleet(args.config, present);
        if (problems.length > 0) {
            throw new FleetConfigError(problems, args.errorContext ?? `RunnerFleet "${name}"`);
        }
        super("runner-fleet:index:RunnerFleet", name, {}, opts);
        this.spec = spec;
        this.summary = summarizeFleet(spec);
        const secret = (key: string) => args.secrets[key] === undefined ? undefined : pulumi.secret(args.secrets[key] as pulumi.Input<string>);

        // Organization-wide, once.
        const hasRunners = this.summary.hosts.some(h => h.agent === "github-runner");
        let registrationToken: pulumi.Output<string> | undefined;
        if (spec.github.manage) {
            this.githubProvider = new github.Provider(`${name}-github`, {
                owner: spec.github.org,
                token: args.githubToken === undefined ? undefined : pulumi.secret(args.githubToken),
            }, { parent: this });
            const orgSecrets: Record<string, pulumi.Input<string>> = {};
            for (const [secretName, from] of Object.entries(fleetSecretNames(spec))) {
                const value = from === "dockerHubUsername" ? spec.mirror.dockerHubUsername : secret(SECRET_KEYS.dockerHubToken);
                if (value !== undefined) {
                    orgSecrets[secretName] = value;
                }
            }
            this.org = new GithubOrgWiring(`${name}-org`, {
                org: spec.github.org,
                visibility: spec.github.visibility,
                repositories: spec.github.repositories,
                secrets: orgSecrets,
                variables: fleetVariables(spec, this.summary),
                runnerGroup: hasRunners ? {
                    name: spec.github.runnerGroup,
                    allowPublicRepositories: spec.github.allowPublicRepositories,
                    workflows: spec.github.workflows,
                } : undefined,
                provider: this.githubProvider,
            }, { parent: this });
            registrationToken = hasRunners
                ? pulumi.secret(github.getActionsOrganizationRegistrationTokenOutput({ provider: this.githubProvider }).token)
                : undefined;
        }

        // Per host, each chain on its own.
        this.runnerHosts = spec.hosts.map((host, i) => {
            const s = this.summary.hosts[i];
            const ssh = {
                hostname: host.name,
                privateKey: pulumi.secret(args.secrets[privateKeySecretOf(host)] as pulumi.Input<string>),
                user: host.user,
                port: host.port,
                bootTimeoutMinutes: args.bootTimeoutMinutes,
            };
            const childName = `${name}-${host.name}`;
            const childOpts = { parent: this };
            switch (host.provider) {
                case "equinix-metal":
                    return new EquinixMetalHost(childName, {
                        ...ssh, projectId: spec.equinixProjectId as string, metro: host.metro as string, arch: s.arch, plan: s.plan,
                        sshPublicKey: spec.sshPublicKey as string, hardwareReservationId: host.hardwareReservationId, tags: host.tags,
                    }, childOpts);
                case "hetzner-cloud":
                    return new HetznerCloudHost(childName, {
                        ...ssh, location: host.location as string, arch: s.arch, serverType: s.plan,
                        sshPublicKey: spec.sshPublicKey as string, adminCidrs: spec.adminCidrs,
                    }, childOpts);
                case "existing":
                    return new ExistingHost(childName, {
                        ...ssh, address: host.address as string, arch: s.arch, kvm: s.kvm, model: host.plan, hostKey: host.hostKey,
                    }, childOpts);
            }
        });

        this.agents = this.runnerHosts.map((host, i) => {
            const s = this.summary.hosts[i];
            const runner = s.agent === "github-runner";
            return new RunnerAgent(`${name}-${host.name}-agent`, {
                host, kind: s.agent, labels: s.labels, org: spec.github.org, runnerGroup: spec.github.runnerGroup,
                instances: spec.agent.instances, ephemeral: spec.agent.ephemeral, runnerVersion: spec.agent.runnerVersion,
                installDocker: spec.agent.installDocker, registrationToken: runner ? registrationToken : undefined,
                vmDevice: spec.hosts[i].vmDevice, vmDiskSize: spec.agent.vmDiskSize,
                actuatedMirror: spec.mirror.enabled, dockerHubUsername: spec.mirror.dockerHubUsername,
                secrets: runner
                    ? { githubRunnerToken: secret(SECRET_KEYS.githubRunnerToken) }
                    : {
                        actuatedLicense: secret(SECRET_KEYS.actuatedLicense),
                        actuatedToken: secret(SECRET_KEYS.actuatedToken),
                        dockerHubToken: secret(SECRET_KEYS.dockerHubToken),
                    },
                endpoints: spec.endpoints,
                // A runner registers into the group, so the group must exist first.
                after: runner && this.org?.runnerGroup ? [this.org.runnerGroup] : [],
            }, { parent: host });
        });

        this.mirrors = this.runnerHosts.map((host, i) => {
            const s = this.summary.hosts[i];
            if (!spec.mirror.enabled) {
                return undefined;
            }
            const actuated = s.agent === "actuated";
            return new RegistryMirror(`${name}-${host.name}-mirror`, {
                host,
                mode: actuated ? "actuated" : "registry",
                bindAddress: spec.mirror.bindAddress,
                upstream: spec.mirror.upstream,
                ttl: spec.mirror.ttl,
                dockerHubUsername: actuated ? undefined : spec.mirror.dockerHubUsername,
                dockerHubToken: actuated ? undefined : secret(SECRET_KEYS.dockerHubToken),
                after: [this.agents[i].install],
            }, { parent: host });
        });

        if (spec.workflow) {
            const w = spec.workflow;
            this.workflow = new BuildWorkflow(`${name}-workflow`, {
                ...w, org: spec.github.org, platforms: buildPlatforms(spec, this.summary), provider: this.githubProvider,
            }, { parent: this });
        }

        this.hosts = pulumi.all(this.runnerHosts.map(h => h.publicIp)).apply(ips => {
            const out: Record<string, FleetHostOutput> = {};
            this.summary.hosts.forEach((s, i) => {
                out[s.name] = {
                    address: ips[i], arch: s.arch, provider: s.provider, agent: s.agent, labels: s.labels,
                    mirror: mirrorAddressOf(spec, s.agent) ?? null,
                    monthlyPrice: s.monthlyPrice ?? null, currency: s.currency ?? null,
                };
            });
            return out;
        });
        this.drift = pulumi.all(this.runnerHosts.map(h => pulumi.all([h.publicIp, h.hostKey]))).apply(values => {
            const out: Record<string, DriftTarget> = {};
            this.runnerHosts.forEach((h, i) => {
                const [address, hostKey] = values[i];
                const agent = this.agents[i];
                const mirror = this.mirrors[i];
                const stamps: Record<string, string> = { agent: agent.settingsHash };
                if (mirror) {
                    stamps.mirror = mirror.settingsHash;
                }
                out[h.name] = {
                    address, user: h.sshUser, port: h.sshPort, hostKey: hostKey ?? null,
                    privateKeySecret: privateKeySecretOf(spec.hosts[i]),
                    agent: agent.kind,
                    instances: agent.kind === "github-runner" ? spec.agent.instances : 0,
                    mirrorMode: mirror?.mode ?? "none",
                    mirrorBind: mirror?.address ?? "",
                    expect: driftExpectations(["ready.sh", ...agent.scripts, ...(mirror ? ["configure-mirror.sh"] : [])], stamps),
                };
            });
            return out;
        });
        this.labelsByArch = pulumi.output(this.summary.labelsByArch as Record<string, readonly string[]>);
        this.runsOn = pulumi.output(runsOnSnippets(spec, this.summary));
        this.estimatedMonthlyCost = pulumi.output(this.summary.monthlyTotal);
        this.workflowYaml = pulumi.output(this.workflow?.yaml);
        this.registerOutputs({
            hosts: this.hosts,
            labelsByArch: this.labelsByArch,
            runsOn: this.runsOn,
            estimatedMonthlyCost: this.estimatedMonthlyCost,
            drift: this.drift,
            ...(this.workflow ? { workflowYaml: this.workflowYaml } : {}),
        });
    }
}
