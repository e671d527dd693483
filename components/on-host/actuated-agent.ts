// The actuated agent on a host: its problems, the secrets it keeps (licence,
// account token, the installer mirror's Docker Hub token), the enrolment
// (install-actuated.sh, removed by remove-actuated.sh), what changes in place
// without enrolling again (configure-actuated.sh), and the probe of its port
// from where pulumi runs.

import * as pulumi from "@pulumi/pulumi";
import { Problem } from "../spec/problems";
import { actuatedWithoutKvmProblems, dockerHubTokenProblems } from "../spec/rules";
import { AgentContext, AgentSteps, RunnerAgentArgs } from "./agent-args";
import { hostScriptCommand, secretLines } from "./host-command";
import { agentPortProbe } from "./operator-command";
import { DEFAULTS } from "../spec/settings";

/** Whether actuated's installer runs its own Docker Hub mirror on the VM bridge (the args' default: yes). */
function installerMirror(args: RunnerAgentArgs): boolean {
    return args.actuatedMirror ?? true;
}

/** The problems only an actuated agent can have. */
export function actuatedProblems(args: RunnerAgentArgs): Problem[] {
    const problems: Problem[] = [];
    const add = (path: string, message: string, fix: string) => problems.push({ path, message, fix });
    if (!args.host.kvm) {
        problems.push(...actuatedWithoutKvmProblems("kind", args.host.name, undefined, "use kind github-runner on this host, or a bare-metal host with /dev/kvm"));
    }
    if (args.secrets.actuatedLicense === undefined) {
        add("secrets.actuatedLicense", "is missing", "pass the actuated licence (a secret)");
    }
    if (args.secrets.actuatedToken === undefined) {
        add("secrets.actuatedToken", "is missing", "pass the actuated account token (a secret)");
    }
    if (installerMirror(args)) {
        problems.push(...dockerHubTokenProblems(args.dockerHubUsername, args.secrets.dockerHubToken !== undefined, "secrets.dockerHubToken"));
    }
    return problems;
}

/** The secrets write-secrets.sh keeps for actuated, by file name. */
export function actuatedSecrets(args: RunnerAgentArgs): Record<string, pulumi.Input<string> | undefined> {
    return {
        "actuated-license": args.secrets.actuatedLicense,
        "actuated-token": args.secrets.actuatedToken,
        "dockerhub-token": installerMirror(args) && args.dockerHubUsername !== undefined ? args.secrets.dockerHubToken : undefined,
    };
}

/** The enrolment, then what changes in place (licence, mirror login), then the port probe. */
export function actuatedSteps(args: RunnerAgentArgs, ctx: AgentContext): AgentSteps {
    const { name, host, parent } = ctx;
    const mirror = installerMirror(args) ? "actuated" : "skip";
    const dockerHubUsername = mirror === "actuated" ? (args.dockerHubUsername ?? "") : "";
    const installed = hostScriptCommand(`${name}-install`, {
        host, script: "install-actuated.sh", secret: true,
        env: {
            RUNNER_FLEET_HOST: host.name,
            LABELS: args.labels.join(","),
            VM_DEV: args.vmDevice ?? "",
            BASE_SIZE: args.vmDiskSize ?? "",
            MIRROR: mirror,
            // Read only to recognise an enrolment made by an earlier runner-fleet (install-actuated.sh).
            DOCKERHUB_USERNAME: args.dockerHubUsername ?? "",
            ACTUATED_INSTALLER_URL: ctx.endpoints.actuatedInstaller,
            DRAIN_TIMEOUT: ctx.drainTimeout,
        },
        deleteScript: "remove-actuated.sh", deleteEnv: { RUNNER_FLEET_HOST: host.name },
    }, { parent, dependsOn: ctx.after });
    // A new licence or Docker Hub login re-runs this (its stdin changed), not the enrolment.
    const configured = hostScriptCommand(`${name}-configure`, {
        host, script: "configure-actuated.sh", secret: true,
        env: { RUNNER_FLEET_HOST: host.name, MIRROR: mirror, DOCKERHUB_USERNAME: dockerHubUsername },
        stdin: secretLines({
            "actuated-license": args.secrets.actuatedLicense,
            "dockerhub-token": dockerHubUsername ? args.secrets.dockerHubToken : undefined,
        }),
    }, { parent, dependsOn: [installed.command] });
    const portProbe = (args.probeAgentPort ?? DEFAULTS.agent.probeAgentPort)
        ? agentPortProbe(`${name}-port`, host, { parent, dependsOn: [configured.command] })
        : undefined;
    return {
        install: installed.command,
        script: "install-actuated.sh",
        stamps: { agent: installed.hash, "agent-config": configured.hash },
        configure: configured.command,
        portProbe,
    };
}
