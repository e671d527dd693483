// What a RunnerAgent takes: the host, the agent kind and its settings, the
// secrets; and what the two kinds' builders (actuated-agent.ts,
// plain-agent.ts) get from the component.

import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AgentKind, EndpointsSpec } from "../spec/settings";
import { RunnerHost } from "../hosts/host";
import { EndpointsConfig } from "../spec/config-types";

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
    /** The host to install on: a host component's outputs, or the same fields of a machine of your own. */
    readonly host: RunnerHost;
    /** The agent: `actuated` (a microVM per job; needs KVM) or `github-runner`. */
    readonly kind: AgentKind;
    /** Labels the runner registers with (no default labels are added). */
    readonly labels: string[];
    /** The GitHub organization. */
    readonly org: string;
    /** github-runner: the runner group. Default `runner-fleet` (github.runnerGroup's default). */
    readonly runnerGroup?: string;
    /** github-runner: runner services on the host. Default 1. */
    readonly instances?: number;
    /**
     * github-runner: one job per registration. Default false: the runner keeps
     * its registration and cleans the job's workspace, containers and images
     * after each job. true keeps a minting credential on the host (root-only),
     * and the plan marks the host EXPOSED.
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
    /** The agent's secrets; they reach the host on stdin and stay secret. */
    readonly secrets: AgentSecrets;
    /**
     * Where the scripts download from and which GitHub they talk to; the real
     * services by default. https only: plain http:// needs
     * `allowInsecureHttp: true` here (test stand-ins, air-gapped mirrors).
     */
    readonly endpoints?: EndpointsConfig;
    /**
     * Resources the install must follow besides the host, such as the runner group it registers into. Typed any: a component schema has no type for "any
     * resource"; a program in another language passes resource references.
     * Anything that is not a resource is refused.
     */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly after?: any[];
    /**
     * github-runner (kept registrations): a number that goes up each time
     * GitHub was found without one of this host's runners, such as
     * `generationOf(host)` of a RegistrationWatch that covers the host with
     * the agent's instances (RunnerFleet hands its one watch's); the token and
     * install steps run again when it changes. Unset, the agent makes a watch
     * of its own.
     */
    readonly registrationGeneration?: pulumi.Input<number>;
}

/** What the component hands each kind's builder. */
export interface AgentContext {
    /** The component's name: each command's name starts with it. */
    readonly name: string;
    readonly host: RunnerHost;
    /** The args' endpoints over the defaults. */
    readonly endpoints: EndpointsSpec;
    /** Seconds a re-run of the install waits for running jobs. */
    readonly drainTimeout: string;
    /** What the install follows: the secrets step and the args' `after`. */
    readonly after: pulumi.Resource[];
    readonly parent: pulumi.Resource;
}

/** What a kind's builder made: the install and its hash, and the kind's other steps. */
export interface AgentSteps {
    readonly install: command.remote.Command;
    /** The script the install runs (left in /usr/local/lib/runner-fleet). */
    readonly script: string;
    /** What the steps record on the host, by stamp name; `agent` is the install's settings hash. */
    readonly stamps: Readonly<Record<string, string>>;
    readonly configure?: command.remote.Command;
    readonly portProbe?: command.local.Command;
    readonly runners?: command.local.Command;
    readonly registrationToken?: command.local.Command;
}
