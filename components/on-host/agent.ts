// RunnerAgent: installs and registers the runner agent on one host over SSH:
// actuated (a Firecracker microVM per job; needs KVM) or the plain GitHub
// Actions runner. Two commands per host, both after the host's `ready`:
//   <name>-secrets  writes the agent's secrets to root-only files from stdin
//   <name>-install  installs the agent; its delete side removes it and
//                   deregisters it, so `pulumi destroy` leaves no runner behind.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ACTUATED_ARCH_LABEL, LABEL_FIX, kindLabelProblem, labelProblem } from "../spec/labels";
import { settingProblems } from "../spec/parse";
import { Problem, throwIfAny } from "../spec/problems";
import { AgentKind, AgentSchema, DEFAULTS, EndpointsSpec, GithubSchema, MirrorSchema, hostSchema } from "../spec/settings";
import { actuatedWithoutKvmProblems, dockerHubTokenProblems, endpointsProblems, ephemeralTokenProblems } from "../spec/rules";
import { RunnerHost } from "../hosts/host";
import { secretCommand, secretLines } from "./host-command";
import { agentPortProbe, runnerRegistration } from "./operator-command";
import { scriptHash } from "../remote/remote-script";

export interface AgentSecrets {
    /** actuated: the licence key. */
    readonly actuatedLicense?: pulumi.Input<string>;
    /** actuated: the account token its installer enrolls with. */
    readonly actuatedToken?: pulumi.Input<string>;
    /** actuated: Docker Hub access token for the installer's own mirror (with `dockerHubUsername`). */
    readonly dockerHubToken?: pulumi.Input<string>;
    /**
     * github-runner: the operator's token, allowed to manage the organization's
     * self-hosted runners. It is used where pulumi runs, to mint each
     * install's registration token and to remove the host's runners at
     * destroy; GITHUB_TOKEN where pulumi runs when unset. Only with
     * `ephemeral: true` (opt-in; refused where jobs can become root) is it
     * kept on the host, to register again after every job.
     */
    readonly githubRunnerToken?: pulumi.Input<string>;
}

export interface RunnerAgentArgs {
    readonly host: RunnerHost;
    readonly kind: AgentKind;
    /** Labels the runner registers with (no default labels are added). */
    readonly labels: readonly string[];
    /** The GitHub organization. */
    readonly org: string;
    /** github-runner: the runner group. Default `runner-fleet` (github.runnerGroup's default). */
    readonly runnerGroup?: string;
    /** github-runner: runner services on the host. Default 1. */
    readonly instances?: number;
    /**
     * github-runner: one job per registration. Default false: the runner keeps
     * its registration and cleans the job's workspace, containers and images
     * after each job. true needs a minting credential on the host, so it is
     * refused with installDocker (the docker group is root).
     */
    readonly ephemeral?: boolean;
    /** github-runner: the actions/runner release. */
    readonly runnerVersion?: string;
    /** github-runner: install Docker for the jobs. Default true. */
    readonly installDocker?: boolean;
    /** actuated: block device for microVM disks (wiped). */
    readonly vmDevice?: string;
    /** actuated: disk size of each microVM, such as 30GB. */
    readonly vmDiskSize?: string;
    /** actuated: let its installer run its own Docker Hub mirror on the VM bridge (true, default) or skip it. */
    readonly actuatedMirror?: boolean;
    /** actuated: Docker Hub user for the installer's mirror. */
    readonly dockerHubUsername?: string;
    /** Minutes a re-run of the install waits for running jobs before it enrolls again. Default agent.drainTimeoutMinutes's. */
    readonly drainTimeoutMinutes?: number;
    /** actuated: check from where pulumi runs that the agent's port answers on the host's public address. Default true. */
    readonly probeAgentPort?: boolean;
    readonly secrets: AgentSecrets;
    /**
     * Where the scripts download from and which GitHub they talk to; the real
     * services by default. https only: plain http:// needs
     * `allowInsecureHttp: true` here (test stand-ins, air-gapped mirrors).
     */
    readonly endpoints?: Partial<EndpointsSpec>;
    /** Resources the install must follow besides the host, such as the runner group it registers into. */
    readonly after?: pulumi.Resource[];
}

/** Every problem of a RunnerAgent's args. */
export function agentProblems(args: RunnerAgentArgs): Problem[] {
    const problems: Problem[] = [];
    const add = (path: string, message: string, fix: string) => problems.push({ path, message, fix });
    const host = args.host.name;
    if (args.kind === "actuated") {
        if (!args.host.kvm) {
            problems.push(...actuatedWithoutKvmProblems("kind", host, undefined, "use kind github-runner on this host, or a bare-metal host with /dev/kvm"));
        }
        if (args.secrets.actuatedLicense === undefined) {
            add("secrets.actuatedLicense", "is missing", "pass the actuated licence (a secret)");
        }
        if (args.secrets.actuatedToken === undefined) {
            add("secrets.actuatedToken", "is missing", "pass the actuated account token (a secret)");
        }
        if (args.actuatedMirror ?? true) {
            problems.push(...dockerHubTokenProblems(args.dockerHubUsername, args.secrets.dockerHubToken !== undefined, "secrets.dockerHubToken"));
        }
    } else if (args.kind === "github-runner") {
        const ephemeral = args.ephemeral ?? DEFAULTS.agent.ephemeral;
        problems.push(...ephemeralTokenProblems(ephemeral, args.installDocker ?? DEFAULTS.agent.installDocker));
        if (ephemeral && args.secrets.githubRunnerToken === undefined) {
            add("secrets.githubRunnerToken", "is missing, and ephemeral runners register again after every job with it", "pass the token (a secret), or leave ephemeral false");
        }
        problems.push(...settingProblems(AgentSchema.shape.instances, args.instances, "instances"));
        problems.push(...settingProblems(AgentSchema.shape.runnerVersion, args.runnerVersion, "runnerVersion"));
    } else {
        add("kind", `"${args.kind}" is not an agent kind`, "use actuated or github-runner");
    }
    problems.push(...settingProblems(GithubSchema.shape.org, args.org, "org"));
    if (args.runnerGroup !== undefined) {
        problems.push(...settingProblems(GithubSchema.shape.runnerGroup, args.runnerGroup, "runnerGroup"));
    }
    problems.push(...settingProblems(MirrorSchema.shape.dockerHubUsername, args.dockerHubUsername, "dockerHubUsername"));
    problems.push(...settingProblems(hostSchema().shape.vmDevice, args.vmDevice, "vmDevice"));
    problems.push(...settingProblems(AgentSchema.shape.vmDiskSize, args.vmDiskSize, "vmDiskSize"));
    problems.push(...endpointsProblems(args.endpoints));
    if (args.labels.length === 0) {
        add("labels", "is empty", "give the runner at least its arch label: actuated-arm64 or actuated for actuated, <prefix>-<arch> for a plain runner");
    }
    args.labels.forEach((l, i) => {
        const p = labelProblem(l);
        if (p) {
            add(`labels[${i}]`, `the label ${p}`, LABEL_FIX);
        }
        const k = args.kind === "actuated" || args.kind === "github-runner" ? kindLabelProblem(l, args.kind, args.host.arch) : undefined;
        if (k) {
            add(`labels[${i}]`, k, args.kind === "actuated" ? `enroll with ${ACTUATED_ARCH_LABEL[args.host.arch]} and routing labels only` : "use labels that do not start with actuated");
        }
    });
    if (args.kind === "actuated" && !args.labels.includes(ACTUATED_ARCH_LABEL[args.host.arch])) {
        add("labels", `an actuated agent on ${args.host.arch} enrolls with ${ACTUATED_ARCH_LABEL[args.host.arch]}, and it is not among the labels`, `add ${ACTUATED_ARCH_LABEL[args.host.arch]} (agentLabels in labels.ts gives the full list)`);
    }
    return problems;
}

export class RunnerAgent extends pulumi.ComponentResource {
    /** Its Pulumi type token. */
    public static readonly TYPE = "runner-fleet:index:RunnerAgent";

    public readonly secretsCommand: command.remote.Command;
    public readonly install: command.remote.Command;
    /** actuated: what changes in place (the licence, the mirror's Docker Hub login); re-runs when they change, without enrolling again. */
    public readonly configure?: command.remote.Command;
    /** actuated: the probe, from where pulumi runs, of the agent's port on the host's public address. */
    public readonly portProbe?: command.local.Command;
    /** github-runner: removes the host's registrations from the organization at destroy (where pulumi runs). */
    public readonly runners?: command.local.Command;
    /** github-runner: mints the install's registration token (where pulumi runs). */
    public readonly registrationToken?: command.local.Command;
    /** The settings hash the install recorded on the host (for drift checks). */
    public readonly settingsHash: string;
    /** What the agent's commands record on the host, by stamp name (for drift checks). */
    public readonly stamps: Readonly<Record<string, string>>;
    public readonly kind: AgentKind;
    /** The scripts this agent leaves in /usr/local/lib/runner-fleet (main scripts; their helpers come along). */
    public readonly scripts: readonly string[];

    constructor(name: string, args: RunnerAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfAny(agentProblems(args), `RunnerAgent "${name}"`);
        super(RunnerAgent.TYPE, name, {}, opts);
        this.kind = args.kind;
        const host = args.host;
        const endpoints = { ...DEFAULTS.endpoints, ...(args.endpoints ?? {}) };

        const secrets = args.kind === "actuated"
            ? {
                "actuated-license": args.secrets.actuatedLicense,
                "actuated-token": args.secrets.actuatedToken,
                "dockerhub-token": (args.actuatedMirror ?? true) && args.dockerHubUsername !== undefined ? args.secrets.dockerHubToken : undefined,
            }
            // A plain host holds no organization credential unless ephemeral was opted into (then no Docker).
            : { "github-runner-token": (args.ephemeral ?? DEFAULTS.agent.ephemeral) ? args.secrets.githubRunnerToken : undefined };
        this.secretsCommand = secretCommand(`${name}-secrets`, {
            host, script: "write-secrets.sh", env: { SECRET_SET: "agent" },
            deleteScript: "write-secrets.sh", deleteEnv: { SECRET_SET: "agent", ACTION: "remove" },
            stdin: secretLines(secrets), secret: true,
        }, { parent: this, dependsOn: [host.ready] }).command;

        const labels = args.labels.join(",");
        const mirror = (args.actuatedMirror ?? true) ? "actuated" : "skip";
        const dockerHubUsername = mirror === "actuated" ? (args.dockerHubUsername ?? "") : "";
        const drainTimeout = String(60 * (args.drainTimeoutMinutes ?? DEFAULTS.agent.drainTimeoutMinutes));
        let installed: { command: command.remote.Command; hash: string };
        if (args.kind === "actuated") {
            installed = secretCommand(`${name}-install`, {
                host, script: "install-actuated.sh", secret: true,
                env: {
                    RUNNER_FLEET_HOST: host.name,
                    LABELS: labels,
                    VM_DEV: args.vmDevice ?? "",
                    BASE_SIZE: args.vmDiskSize ?? "",
                    MIRROR: mirror,
                    // Read only to recognise an enrolment made by an earlier runner-fleet (install-actuated.sh).
                    DOCKERHUB_USERNAME: args.dockerHubUsername ?? "",
                    ACTUATED_INSTALLER_URL: endpoints.actuatedInstaller,
                    DRAIN_TIMEOUT: drainTimeout,
                },
                deleteScript: "remove-actuated.sh", deleteEnv: { RUNNER_FLEET_HOST: host.name },
            }, { parent: this, dependsOn: [this.secretsCommand, ...(args.after ?? [])] });
        } else {
            const plain = this.plainRunner(name, args, endpoints, drainTimeout);
            installed = plain.install;
            this.runners = plain.runners;
            this.registrationToken = plain.token;
        }
        this.install = installed.command;
        this.scripts = ["write-secrets.sh", args.kind === "actuated" ? "install-actuated.sh" : "install-github-runner.sh"];
        this.settingsHash = installed.hash;
        const stamps: Record<string, string> = { agent: installed.hash };
        if (args.kind === "actuated") {
            // A new licence or Docker Hub login re-runs this (its stdin changed), not the enrolment.
            const configured = secretCommand(`${name}-configure`, {
                host, script: "configure-actuated.sh", secret: true,
                env: { RUNNER_FLEET_HOST: host.name, MIRROR: mirror, DOCKERHUB_USERNAME: dockerHubUsername },
                stdin: secretLines({
                    "actuated-license": args.secrets.actuatedLicense,
                    "dockerhub-token": dockerHubUsername ? args.secrets.dockerHubToken : undefined,
                }),
            }, { parent: this, dependsOn: [this.install] });
            this.configure = configured.command;
            stamps["agent-config"] = configured.hash;
            if (args.probeAgentPort ?? DEFAULTS.agent.probeAgentPort) {
                this.portProbe = agentPortProbe(`${name}-port`, host, { parent: this, dependsOn: [this.configure] });
            }
        }
        this.stamps = stamps;
        this.registerOutputs({ settingsHash: this.settingsHash, kind: args.kind, labels: [...args.labels], host: host.name });
    }

    /**
     * The plain runner: its registration token is minted where pulumi runs,
     * exactly when the install runs (runnerRegistration), and reaches the
     * host on stdin; the host keeps no organization credential.
     */
    private plainRunner(name: string, args: RunnerAgentArgs, endpoints: EndpointsSpec, drainTimeout: string): {
        install: { command: command.remote.Command; hash: string }; runners: command.local.Command; token: command.local.Command;
    } {
        const host = args.host;
        const instances = args.instances ?? DEFAULTS.agent.instances;
        const env = {
            RUNNER_FLEET_HOST: host.name,
            GITHUB_ORG: args.org,
            GITHUB_URL: endpoints.githubUrl,
            GITHUB_API_URL: endpoints.githubApi,
            RUNNER_GROUP: args.runnerGroup ?? DEFAULTS.runnerGroup,
            LABELS: args.labels.join(","),
            INSTANCES: String(instances),
            EPHEMERAL: (args.ephemeral ?? DEFAULTS.agent.ephemeral) ? "1" : "0",
            RUNNER_VERSION: args.runnerVersion ?? DEFAULTS.agent.runnerVersion,
            RUNNER_DOWNLOAD_URL: endpoints.runnerDownloads,
            INSTALL_DOCKER: (args.installDocker ?? DEFAULTS.agent.installDocker) ? "1" : "0",
            DRAIN_TIMEOUT: drainTimeout,
        };
        const after = [this.secretsCommand, ...(args.after ?? [])];
        const registration = runnerRegistration(name, {
            host, org: args.org, githubApi: endpoints.githubApi, instances,
            operatorToken: args.secrets.githubRunnerToken, installHash: scriptHash("install-github-runner.sh", env),
        }, { parent: this, dependsOn: after });
        const install = secretCommand(`${name}-install`, {
            host, script: "install-github-runner.sh", secret: true, env,
            deleteScript: "remove-github-runner.sh", deleteEnv: { RUNNER_FLEET_HOST: host.name },
            // Minted for this install; a new one alone (it is new whenever the step runs) must not reinstall.
            // The provider trims stdout's last newline (pulumi-command, local/commandOutputs.go); the host reads whole lines.
            stdin: pulumi.secret(registration.token.stdout.apply(s => s.endsWith("\n") ? s : `${s}\n`)),
            ignoreStdin: true,
        }, { parent: this, dependsOn: [...after, registration.token] });
        return { install, runners: registration.runners, token: registration.token };
    }
}
