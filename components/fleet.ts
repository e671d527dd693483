// RunnerFleet: the whole fleet from one config: every host, wherever it comes
// from, behind the RunnerHost contract. Validates everything before it
// registers anything.

import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import {
    AgentSpec, EndpointsSpec, FleetConfigError, FleetSpec, FleetSummary, GithubSpec, HostSpec, MirrorSpec, RawConfig,
    SECRET_KEYS, parseFleetConfig, privateKeySecretOf, summarizeFleet, validateFleet,
} from "./config";
import { RunnerAgent } from "./agent";
import { RegistryMirror } from "./registry-mirror";
import { RunnerHost } from "./hosts/host";
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
}

export interface RunnerFleetArgs {
    /** What the fleet is made of (see the README's config reference). */
    readonly config: FleetConfigInput;
    /**
     * Secret values by config key: `sshPrivateKey` (and any key a host names in
     * `privateKeySecret`), `actuatedLicense`, `actuatedToken`, `dockerHubToken`.
     * They are wrapped with pulumi.secret whatever they arrive as.
     */
    readonly secrets: Readonly<Record<string, pulumi.Input<string>>>;
    /** Minutes each host may take to answer SSH and finish booting. Default 20. */
    readonly bootTimeoutMinutes?: number;
    /** Token for the GitHub provider the fleet creates (owner: github.org); GITHUB_TOKEN is used when unset. */
    readonly githubToken?: pulumi.Input<string>;
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

export class RunnerFleet extends pulumi.ComponentResource {
    /** The validated spec with defaults applied. */
    public readonly spec: FleetSpec;
    public readonly summary: FleetSummary;
    public readonly runnerHosts: readonly (RunnerHost & pulumi.ComponentResource)[];
    public readonly agents: readonly RunnerAgent[];
    public readonly mirrors: readonly (RegistryMirror | undefined)[];
    /** The GitHub provider for the organization. */
    public readonly githubProvider: github.Provider;
    /** Per host: address, arch, provider, agent, labels, price. */
    public readonly hosts: pulumi.Output<Record<string, FleetHostOutput>>;
    /** Per arch, the labels every host of that arch carries. */
    public readonly labelsByArch: pulumi.Output<Record<string, readonly string[]>>;
    /** Estimated monthly cost per currency. */
    public readonly estimatedMonthlyCost: pulumi.Output<Record<string, number>>;

    constructor(name: string, args: RunnerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        const { spec, problems } = parseFleetConfig(args.config as RawConfig);
        problems.push(...validateFleet(spec, new Set(Object.keys(args.secrets).filter(k => args.secrets[k] !== undefined))));
        if (problems.length > 0) {
            throw new FleetConfigError(problems, `RunnerFleet "${name}"`);
        }
        super("runner-fleet:index:RunnerFleet", name, {}, opts);
        this.spec = spec;
        this.summary = summarizeFleet(spec);

        this.runnerHosts = spec.hosts.map((host, i) => {
            const s = this.summary.hosts[i];
            const ssh = {
                hostname: host.name,
                privateKey: pulumi.secret(args.secrets[privateKeySecretOf(host)]),
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

        this.githubProvider = new github.Provider(`${name}-github`, {
            owner: spec.github.org,
            token: args.githubToken === undefined ? undefined : pulumi.secret(args.githubToken),
        }, { parent: this });
        const registrationToken = this.summary.hosts.some(h => h.agent === "github-runner")
            ? pulumi.secret(github.getActionsOrganizationRegistrationTokenOutput({ provider: this.githubProvider }).token)
            : undefined;
        const secret = (key: string) => args.secrets[key] === undefined ? undefined : pulumi.secret(args.secrets[key]);

        this.agents = this.runnerHosts.map((host, i) => {
            const s = this.summary.hosts[i];
            return new RunnerAgent(`${name}-${host.name}-agent`, {
                host, kind: s.agent, labels: s.labels, org: spec.github.org, runnerGroup: spec.github.runnerGroup,
                instances: spec.agent.instances, ephemeral: spec.agent.ephemeral, runnerVersion: spec.agent.runnerVersion,
                installDocker: spec.agent.installDocker, registrationToken: s.agent === "github-runner" ? registrationToken : undefined,
                vmDevice: spec.hosts[i].vmDevice, vmDiskSize: spec.agent.vmDiskSize,
                actuatedMirror: spec.mirror.enabled, dockerHubUsername: spec.mirror.dockerHubUsername,
                secrets: s.agent === "actuated"
                    ? {
                        actuatedLicense: secret(SECRET_KEYS.actuatedLicense),
                        actuatedToken: secret(SECRET_KEYS.actuatedToken),
                        dockerHubToken: secret(SECRET_KEYS.dockerHubToken),
                    }
                    : { githubRunnerToken: secret(SECRET_KEYS.githubRunnerToken) },
                endpoints: spec.endpoints,
            }, { parent: host });
        });
        this.mirrors = this.runnerHosts.map((host, i) => {
            if (!spec.mirror.enabled) {
                return undefined;
            }
            const actuated = this.summary.hosts[i].agent === "actuated";
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

        const byName = new Map(this.summary.hosts.map(h => [h.name, h]));
        this.hosts = pulumi.all(this.runnerHosts.map(h => h.publicIp)).apply(ips => {
            const out: Record<string, FleetHostOutput> = {};
            this.runnerHosts.forEach((h, i) => {
                const s = byName.get(h.name)!;
                out[h.name] = {
                    address: ips[i], arch: s.arch, provider: s.provider, agent: s.agent, labels: s.labels,
                    mirror: this.mirrors[i]?.address ?? null,
                    monthlyPrice: s.monthlyPrice ?? null, currency: s.currency ?? null,
                };
            });
            return out;
        });
        this.labelsByArch = pulumi.output(this.summary.labelsByArch as Record<string, readonly string[]>);
        this.estimatedMonthlyCost = pulumi.output(this.summary.monthlyTotal);
        this.registerOutputs({
            hosts: this.hosts,
            labelsByArch: this.labelsByArch,
            estimatedMonthlyCost: this.estimatedMonthlyCost,
        });
    }
}
