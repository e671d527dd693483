// RunnerFleet: the whole fleet from one config: every host, wherever it comes
// from, behind the RunnerHost contract; an agent, a mirror and the metrics
// exporter on each; the GitHub organization wiring once; optionally the build
// workflow. Validates everything before it registers anything. Hosts never
// wait for each other.
//
// The constructor is a list of named steps over one record per host.

import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { RunnerAgent } from "../on-host/agent";
import { DriftEntry, driftExpectations } from "../remote/drift-contract";
import { GithubOrgWiring } from "../github/github-org";
import { RegistrationWatch } from "../on-host/registration-watch";
import { HostComponent, hostSourceComponent } from "../hosts";
import { throwIfAny } from "../spec/problems";
import { RegistryMirror } from "../on-host/registry-mirror";
import { HostMetrics } from "../on-host/host-metrics";
import { RunsOn, buildPlatforms, fleetSecretNames, fleetVariables, runsOnSnippets } from "../github/routing";
import { DEFAULTS, FleetSpec, HostSpec, SECRET_KEYS } from "../spec/settings";
import { RunnerFleetConfig } from "../spec/config-types";
import {
    ArchRunners, MetricsTarget, ResolvedFleet, ResolvedHost, fleetMetricsTargets, metricsBindOf, mirrorAddressOf, onEnterpriseServer, privateKeySecretOf, resolveFleet, resolveHost,
} from "../spec/resolve";
import { fleetWarnings } from "../spec/rules";
import { checkFleet } from "./check";
import { BuildWorkflow } from "../github/workflow";

export interface RunnerFleetArgs {
    /**
     * What the fleet is made of, in the stack config's shape (see the README's
     * config reference; defaults fill what is left out).
     */
    readonly config: RunnerFleetConfig;
    /**
     * Secret values by config key: `sshPrivateKey` (and any key a host names in
     * `privateKeySecret`), `actuatedLicense`, `actuatedToken`, `dockerHubToken`,
     * `githubRunnerToken`. They are wrapped with pulumi.secret whatever they arrive as.
     */
    readonly secrets: { [key: string]: pulumi.Input<string> | undefined };
    /** Token for the GitHub provider the fleet creates (owner: github.org); GITHUB_TOKEN is used when unset. */
    readonly githubToken?: pulumi.Input<string>;
    /** What bad input is called in the error, such as "the config of stack prod". Default `RunnerFleet "<name>"`. */
    readonly errorContext?: string;
}

/** Per host, what the stack outputs. */
export interface FleetHostOutput {
    /** Where SSH reaches the host. */
    readonly address: string;
    /** The host's CPU architecture. */
    readonly arch: string;
    /** The host source it comes from. */
    readonly provider: string;
    /** The agent on the host. */
    readonly agent: string;
    /** The labels its runners register with. */
    readonly labels: string[];
    /** Where jobs on the host reach the Docker Hub mirror; left out without one. */
    readonly mirror?: string;
    /** The host's estimated monthly price; left out when the catalog has none and the config gives none. */
    readonly monthlyPrice?: number;
    /** The price's currency, beside monthlyPrice. */
    readonly currency?: string;
    /** What on the host a job could use beyond its own runner, where something is: the opt-in that keeps githubRunnerToken there. */
    readonly exposed?: string;
}

/** One host of the fleet and everything on it. */
export interface FleetHost {
    /** The host as written in the config. */
    readonly declared: HostSpec;
    /** The host resolved once (arch, plan, KVM, agent, labels, price), as every step below received it. */
    readonly resolved: ResolvedHost;
    readonly host: HostComponent;
    readonly agent: RunnerAgent;
    readonly mirror?: RegistryMirror;
    /** The node exporter and the fleet's figures, unless metrics.enabled is false. */
    readonly metrics?: HostMetrics;
}

/** What the organization step made. */
interface Organization {
    readonly provider?: github.Provider;
    readonly wiring?: GithubOrgWiring;
}

type Secrets = (key: string) => pulumi.Output<string> | undefined;

/**
 * What a RunnerFleet keeps besides its outputs, for TypeScript programs (the
 * getters below). Not fields: the component package's schema lists a
 * component's fields as its outputs, and these are not values another
 * language could take.
 */
interface FleetParts {
    spec: FleetSpec;
    resolved: ResolvedFleet;
    members: readonly FleetHost[];
    githubToken?: pulumi.Output<string>;
    secret: Secrets;
    githubProvider?: github.Provider;
    org?: GithubOrgWiring;
    registrationWatch?: RegistrationWatch;
    workflow?: BuildWorkflow;
}

const PARTS = new WeakMap<RunnerFleet, FleetParts>();

export class RunnerFleet extends pulumi.ComponentResource {
    /** Its Pulumi type token. */
    public static readonly TYPE = "runner-fleet:index:RunnerFleet";

    private get parts(): FleetParts {
        const parts = PARTS.get(this);
        if (parts === undefined) {
            throw new Error("runner-fleet: RunnerFleet read before its constructor ran");
        }
        return parts;
    }
    /** The validated spec with defaults applied. */
    public get spec(): FleetSpec { return this.parts.spec; }
    /** The hosts resolved once: arch, plan, KVM, agent, labels, price. */
    public get resolved(): ResolvedFleet { return this.parts.resolved; }
    /** Per host: as declared, as resolved, its host component, agent and mirror. */
    public get members(): readonly FleetHost[] { return this.parts.members; }
    private get githubToken(): pulumi.Output<string> | undefined { return this.parts.githubToken; }
    /** A secret value by config key, wrapped with pulumi.secret. */
    private get secret(): Secrets { return this.parts.secret; }
    /** The GitHub provider for the organization (unless github.manage is false). */
    public get githubProvider(): github.Provider | undefined { return this.parts.githubProvider; }
    public get org(): GithubOrgWiring | undefined { return this.parts.org; }
    /** The registration watch of every plain host with kept registrations: one question to GitHub per preview and up for them all. */
    public get registrationWatch(): RegistrationWatch | undefined { return this.parts.registrationWatch; }
    public get workflow(): BuildWorkflow | undefined { return this.parts.workflow; }

    /** Per host: address, arch, provider, agent, labels, mirror, price. */
    public readonly hosts: pulumi.Output<Record<string, FleetHostOutput>>;
    /** Per arch, what runs-on names for each kind of host the arch has (actuated microVMs, plain runners), and the preferred kind. */
    public readonly labelsByArch: pulumi.Output<Record<string, ArchRunners>>;
    /** Per arch, the preferred kind's runs-on labels and ready-to-paste lines. */
    public readonly runsOn: pulumi.Output<Record<string, RunsOn>>;
    /** Estimated monthly cost per currency. */
    public readonly estimatedMonthlyCost: pulumi.Output<Record<string, number>>;
    /** The rendered build workflow, when the fleet has one. */
    public readonly workflowYaml: pulumi.Output<string | undefined>;
    /** Per host, what the drift check reaches and compares. */
    public readonly drift: pulumi.Output<Record<string, DriftEntry>>;
    /**
     * Per host, its node exporter as a Prometheus scrape target in file_sd format (`file_sd_configs`), labelled
     * with the host, its arch and its agent (`kind`); none with metrics.enabled false.
     */
    public readonly metricsTargets: pulumi.Output<MetricsTarget[] | undefined>;

    constructor(name: string, args: RunnerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        const present = new Set(Object.keys(args.secrets).filter(k => args.secrets[k] !== undefined));
        const { spec, problems } = checkFleet(args.config, present);
        throwIfAny(problems, args.errorContext ?? `RunnerFleet "${name}"`);
        super(RunnerFleet.TYPE, name, {}, opts);
        const parts: FleetParts = { spec: spec as FleetSpec, resolved: resolveFleet(spec as FleetSpec), members: [], secret: () => undefined };
        PARTS.set(this, parts);
        for (const warning of fleetWarnings(this.spec)) {
            pulumi.log.warn(warning, this);
        }
        // One secret Output per key for the whole fleet, however many hosts take it.
        const secrets = new Map<string, pulumi.Output<string>>();
        parts.secret = key => {
            const value = args.secrets[key];
            if (value === undefined) {
                return undefined;
            }
            const known = secrets.get(key) ?? pulumi.secret(value);
            secrets.set(key, known);
            return known;
        };
        parts.githubToken = args.githubToken === undefined ? undefined : pulumi.secret(args.githubToken);

        const org = this.organization(name, args.githubToken);
        parts.githubProvider = org.provider;
        parts.org = org.wiring;
        parts.registrationWatch = this.watch(name, org);
        parts.members = this.spec.hosts.map(host => this.member(name, host, org));
        parts.workflow = this.buildWorkflow(name);

        // Each host's address and host key, gathered once for both outputs.
        const reached = pulumi.all(this.members.map(m => [m.host.publicIp, m.host.hostKey] as const));
        this.hosts = this.hostOutputs(reached);
        this.drift = this.driftOutputs(reached);
        this.labelsByArch = pulumi.output(this.resolved.labelsByArch as Record<string, ArchRunners>);
        this.runsOn = pulumi.output(runsOnSnippets(this.spec, this.resolved));
        this.estimatedMonthlyCost = pulumi.output(this.resolved.monthlyTotal);
        this.workflowYaml = pulumi.output(this.workflow?.yaml);
        const targets = fleetMetricsTargets(this.spec, this.resolved);
        this.metricsTargets = pulumi.output(targets);
        this.registerOutputs({
            hosts: this.hosts,
            labelsByArch: this.labelsByArch,
            runsOn: this.runsOn,
            estimatedMonthlyCost: this.estimatedMonthlyCost,
            drift: this.drift,
            ...(this.workflow ? { workflowYaml: this.workflowYaml } : {}),
            ...(targets ? { metricsTargets: this.metricsTargets } : {}),
        });
    }

    /** Organization-wide, once: the provider, secrets, variables, runner group, and a registration token for github-runner hosts. */
    private organization(name: string, token: pulumi.Input<string> | undefined): Organization {
        const spec = this.spec;
        if (!spec.github.manage) {
            return {};
        }
        const hasRunners = this.resolved.hosts.some(h => h.agent === "github-runner");
        // GitHub Enterprise Server: the provider goes where the agents and operator steps go. It takes the API
        // address as given (terraform-provider-github config.go getBaseURL trims a trailing api/v3/).
        const api = spec.endpoints.githubApi;
        const provider = new github.Provider(`${name}-github`, {
            owner: spec.github.org,
            token: token === undefined ? undefined : pulumi.secret(token),
            ...(api === DEFAULTS.endpoints.githubApi ? {} : { baseUrl: api }),
        }, { parent: this });
        const orgSecrets: Record<string, pulumi.Input<string>> = {};
        for (const [secretName, from] of Object.entries(fleetSecretNames(spec))) {
            const value = this.secret(SECRET_KEYS[from]);
            if (value !== undefined) {
                orgSecrets[secretName] = value;
            }
        }
        const wiring = new GithubOrgWiring(`${name}-org`, {
            org: spec.github.org,
            visibility: spec.github.visibility,
            plan: spec.github.plan,
            repositories: spec.github.repositories,
            secrets: orgSecrets,
            variables: fleetVariables(spec, this.resolved),
            runnerGroup: hasRunners ? {
                name: spec.github.runnerGroup,
                allowPublicRepositories: spec.github.allowPublicRepositories,
                workflows: spec.github.workflows,
            } : undefined,
        }, { parent: this, providers: [provider] });
        return { provider, wiring };
    }

    /** The fleet's plain hosts with kept registrations, under one registration watch (an ephemeral runner registers again itself). */
    private watch(name: string, org: Organization): RegistrationWatch | undefined {
        const plain = this.resolved.hosts.filter(h => h.agent === "github-runner").map(h => h.name);
        if (plain.length === 0 || this.spec.agent.ephemeral) {
            return undefined;
        }
        return new RegistrationWatch(`${name}-registrations`, {
            hosts: plain, org: this.spec.github.org, githubApi: this.spec.endpoints.githubApi, instances: this.spec.agent.instances,
            operatorToken: this.operatorToken(),
        }, { parent: this, dependsOn: org.wiring?.runnerGroup ? [org.wiring.runnerGroup] : [] });
    }

    /** The operator's token: the stack's githubRunnerToken, else the GitHub provider's; else GITHUB_TOKEN where pulumi runs. */
    private operatorToken(): pulumi.Output<string> | undefined {
        return this.secret(SECRET_KEYS.githubRunnerToken) ?? this.githubToken;
    }

    /** One host and what runs on it, from the host resolved once; depends on nothing of any other host. */
    private member(name: string, declared: HostSpec, org: Organization): FleetHost {
        const resolved = resolveHost(this.spec, declared);
        const host = this.createHost(`${name}-${declared.name}`, declared, resolved);
        const agent = this.createAgent(`${name}-${declared.name}-agent`, host, declared, resolved, org);
        const mirror = this.createMirror(`${name}-${declared.name}-mirror`, host, resolved, agent);
        const metrics = this.createMetrics(`${name}-${declared.name}-metrics`, host, declared, resolved, agent, mirror);
        return { declared, resolved, host, agent, mirror, metrics };
    }

    /** The host, by its source's own create: the fleet knows no provider. */
    private createHost(childName: string, host: HostSpec, resolved: ResolvedHost): HostComponent {
        const ssh = {
            hostname: host.name,
            privateKey: this.secret(privateKeySecretOf(host)) as pulumi.Output<string>,
            user: host.user,
            port: host.port,
            bootTimeoutMinutes: this.spec.bootTimeoutMinutes,
        };
        return hostSourceComponent(host.provider).create({ name: childName, host, resolved, fleet: this.spec, ssh, opts: { parent: this } });
    }

    private createAgent(childName: string, host: HostComponent, declared: HostSpec, s: ResolvedHost, org: Organization): RunnerAgent {
        const fleet = this.spec;
        const runner = s.agent === "github-runner";
        return new RunnerAgent(childName, {
            host, kind: s.agent, labels: [...s.labels], org: fleet.github.org, runnerGroup: fleet.github.runnerGroup,
            instances: fleet.agent.instances, ephemeral: fleet.agent.ephemeral, runnerVersion: fleet.agent.runnerVersion,
            installDocker: fleet.agent.installDocker,
            vmDevice: declared.vmDevice, vmDiskSize: fleet.agent.vmDiskSize,
            actuatedMirror: fleet.mirror.enabled, dockerHubUsername: fleet.mirror.dockerHubUsername,
            drainTimeoutMinutes: fleet.agent.drainTimeoutMinutes, probeAgentPort: fleet.agent.probeAgentPort,
            secrets: runner
                ? { githubRunnerToken: this.operatorToken() }
                : {
                    actuatedLicense: this.secret(SECRET_KEYS.actuatedLicense),
                    actuatedToken: this.secret(SECRET_KEYS.actuatedToken),
                    dockerHubToken: this.secret(SECRET_KEYS.dockerHubToken),
                },
            endpoints: fleet.endpoints,
            // A runner registers into the group, so the group must exist first.
            after: runner && org.wiring?.runnerGroup ? [org.wiring.runnerGroup] : [],
            registrationGeneration: runner ? this.registrationWatch?.generationOf(host.name) : undefined,
        }, { parent: host });
    }

    private createMirror(childName: string, host: HostComponent, s: ResolvedHost, agent: RunnerAgent): RegistryMirror | undefined {
        const mirror = this.spec.mirror;
        if (!mirror.enabled) {
            return undefined;
        }
        const actuated = s.agent === "actuated";
        return new RegistryMirror(childName, {
            host,
            mode: actuated ? "actuated" : "registry",
            bindAddress: mirror.bindAddress,
            upstream: mirror.upstream,
            ttl: mirror.ttl,
            downloads: this.spec.endpoints.mirrorDownloads,
            allowInsecureHttp: this.spec.endpoints.allowInsecureHttp,
            ...(mirror.release ? { release: { version: mirror.release.version, sha256: { amd64: mirror.release.sha256.amd64 ?? "", arm64: mirror.release.sha256.arm64 ?? "" } } } : {}),
            dockerHubUsername: actuated ? undefined : mirror.dockerHubUsername,
            dockerHubToken: actuated ? undefined : this.secret(SECRET_KEYS.dockerHubToken),
            after: [agent.install],
        }, { parent: host });
    }

    /** The host's exporter, after its agent and mirror: the figures it writes read both. */
    private createMetrics(childName: string, host: HostComponent, declared: HostSpec, s: ResolvedHost, agent: RunnerAgent, mirror: RegistryMirror | undefined): HostMetrics | undefined {
        if (!this.spec.metrics.enabled) {
            return undefined;
        }
        return new HostMetrics(childName, {
            host,
            agent: s.agent,
            bindAddress: metricsBindOf(this.spec, declared),
            mirrorMode: mirror?.mode,
            mirrorBind: mirror?.mode === "registry" ? mirror.address : undefined,
            after: [agent.install, ...(agent.configure ? [agent.configure] : []), ...(mirror ? [mirror.configure] : [])],
        }, { parent: host });
    }

    private buildWorkflow(name: string): BuildWorkflow | undefined {
        const w = this.spec.workflow;
        if (!w) {
            return undefined;
        }
        return new BuildWorkflow(`${name}-workflow`, {
            ...w, org: this.spec.github.org, platforms: buildPlatforms(this.spec, this.resolved),
            hostedRunners: !onEnterpriseServer(this.spec),
        }, { parent: this, providers: this.githubProvider ? [this.githubProvider] : [] });
    }

    private hostOutputs(reached: pulumi.Output<(readonly [string, string | undefined])[]>): pulumi.Output<Record<string, FleetHostOutput>> {
        return reached.apply(all => Object.fromEntries(this.members.map((m, i): [string, FleetHostOutput] => {
            const s = m.resolved;
            return [s.name, {
                address: all[i][0], arch: s.arch, provider: s.provider, agent: s.agent, labels: [...s.labels],
                mirror: mirrorAddressOf(this.spec, s.agent),
                monthlyPrice: s.monthlyPrice, currency: s.currency,
                exposed: s.agent === "github-runner" && this.spec.agent.ephemeral
                    ? "keeps githubRunnerToken (agent.ephemeral), which can register the organization's runners: anything that becomes root here can use it"
                    : undefined,
            }];
        })));
    }

    private driftOutputs(reached: pulumi.Output<(readonly [string, string | undefined])[]>): pulumi.Output<Record<string, DriftEntry>> {
        return reached.apply(all => Object.fromEntries(this.members.map((m, i): [string, DriftEntry] => {
            const { host, agent, mirror, metrics } = m;
            const [address, hostKey] = all[i];
            const stamps: Record<string, string> = { ...agent.stamps };
            if (mirror) {
                stamps.mirror = mirror.settingsHash;
            }
            if (metrics) {
                stamps.metrics = metrics.settingsHash;
            }
            return [host.name, {
                address, user: host.sshUser, port: host.sshPort, hostKey,
                privateKeySecret: privateKeySecretOf(m.declared),
                agent: agent.kind,
                instances: agent.kind === "github-runner" ? this.spec.agent.instances : undefined,
                mirrorMode: mirror?.mode,
                mirrorBind: mirror?.address,
                metricsBind: metrics?.target,
                expect: driftExpectations([
                    "ready.sh", ...agent.scripts, ...(mirror ? ["configure-mirror.sh"] : []), ...(metrics ? ["install-metrics.sh"] : []),
                ], stamps),
            }];
        })));
    }
}
