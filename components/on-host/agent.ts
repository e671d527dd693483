// RunnerAgent: installs and registers the runner agent on one host over SSH:
// actuated (a Firecracker microVM per job; needs KVM; actuated-agent.ts) or
// the plain GitHub Actions runner (plain-agent.ts). Two commands per host at
// least, both after the host's `ready`:
//   <name>-secrets  writes the agent's secrets to root-only files from stdin
//   <name>-install  installs the agent; its delete side removes it and
//                   deregisters it, so `pulumi destroy` leaves no runner behind.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ACTUATED_ARCH_LABEL, LABEL_FIX, kindLabelProblem, labelProblem } from "../spec/labels";
import { settingProblems } from "../spec/parse";
import { Problem, afterProblems, throwIfAny } from "../spec/problems";
import { AgentKind, DEFAULTS, GithubSchema, MirrorSchema, hostSchema, AgentSchema } from "../spec/settings";
import { endpointsProblems } from "../spec/rules";
import { AgentSteps, RunnerAgentArgs } from "./agent-args";
import { actuatedProblems, actuatedSecrets, actuatedSteps } from "./actuated-agent";
import { plainRunnerProblems, plainRunnerSecrets, plainRunnerSteps } from "./plain-agent";
import { hostScriptCommand, secretLines } from "./host-command";

export type { AgentSecrets, RunnerAgentArgs } from "./agent-args";

/** Every problem of a RunnerAgent's args. */
export function agentProblems(args: RunnerAgentArgs): Problem[] {
    const problems: Problem[] = afterProblems(args.after);
    const add = (path: string, message: string, fix: string) => problems.push({ path, message, fix });
    if (args.kind === "actuated") {
        problems.push(...actuatedProblems(args));
    } else if (args.kind === "github-runner") {
        problems.push(...plainRunnerProblems(args));
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

    /** Writes the agent's secrets to root-only files on the host, from stdin. */
    public readonly secretsCommand: command.remote.Command;
    /** Installs and registers the agent; its delete side removes and deregisters it. */
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
    /** The agent installed. */
    public readonly kind: AgentKind;
    /** The scripts this agent leaves in /usr/local/lib/runner-fleet (main scripts; their helpers come along). */
    public readonly scripts: string[];

    constructor(name: string, args: RunnerAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfAny(agentProblems(args), `RunnerAgent "${name}"`);
        super(RunnerAgent.TYPE, name, {}, opts);
        this.kind = args.kind;
        const host = args.host;

        const secretsOf: (a: RunnerAgentArgs) => Record<string, pulumi.Input<string> | undefined> = args.kind === "actuated" ? actuatedSecrets : plainRunnerSecrets;
        this.secretsCommand = hostScriptCommand(`${name}-secrets`, {
            host, script: "write-secrets.sh", env: { SECRET_SET: "agent" },
            deleteScript: "write-secrets.sh", deleteEnv: { SECRET_SET: "agent", ACTION: "remove" },
            stdin: secretLines(secretsOf(args)), secret: true,
        }, { parent: this, dependsOn: [host.ready] }).command;

        const ctx = {
            name, host, parent: this,
            endpoints: { ...DEFAULTS.endpoints, ...(args.endpoints ?? {}) },
            drainTimeout: String(60 * (args.drainTimeoutMinutes ?? DEFAULTS.agent.drainTimeoutMinutes)),
            after: [this.secretsCommand, ...(args.after ?? [])],
        };
        const made: AgentSteps = args.kind === "actuated" ? actuatedSteps(args, ctx) : plainRunnerSteps(args, ctx);
        this.install = made.install;
        this.configure = made.configure;
        this.portProbe = made.portProbe;
        this.runners = made.runners;
        this.registrationToken = made.registrationToken;
        this.scripts = ["write-secrets.sh", made.script];
        this.settingsHash = made.stamps.agent;
        this.stamps = made.stamps;
        this.registerOutputs({ settingsHash: this.settingsHash, kind: args.kind, labels: [...args.labels], host: host.name });
    }
}
