// RunnerFleet: the whole fleet from one config: every host, wherever it comes
// from, behind the RunnerHost contract. Validates everything before it
// registers anything.

import * as pulumi from "@pulumi/pulumi";
import {
    AgentSpec, FleetConfigError, FleetSpec, FleetSummary, GithubSpec, HostSpec, MirrorSpec, RawConfig,
    parseFleetConfig, privateKeySecretOf, summarizeFleet, validateFleet,
} from "./config";
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
}

/** Per host, what the stack outputs. */
export interface FleetHostOutput {
    readonly address: string;
    readonly arch: string;
    readonly provider: string;
    readonly agent: string;
    readonly labels: readonly string[];
    readonly monthlyPrice: number | null;
    readonly currency: string | null;
}

export class RunnerFleet extends pulumi.ComponentResource {
    /** The validated spec with defaults applied. */
    public readonly spec: FleetSpec;
    public readonly summary: FleetSummary;
    public readonly runnerHosts: readonly RunnerHost[];
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

        const byName = new Map(this.summary.hosts.map(h => [h.name, h]));
        this.hosts = pulumi.all(this.runnerHosts.map(h => h.publicIp)).apply(ips => {
            const out: Record<string, FleetHostOutput> = {};
            this.runnerHosts.forEach((h, i) => {
                const s = byName.get(h.name)!;
                out[h.name] = {
                    address: ips[i], arch: s.arch, provider: s.provider, agent: s.agent, labels: s.labels,
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
