// The plain GitHub Actions runner on a host: its problems, the one secret it
// may keep (the operator's token, with ephemeral only), and the install
// (install-github-runner.sh, removed by remove-github-runner.sh) with its
// registration token minted where pulumi runs, exactly when the install runs,
// reaching the host on stdin.

import * as pulumi from "@pulumi/pulumi";
import { settingProblems } from "../spec/parse";
import { Problem } from "../spec/problems";
import { AgentSchema, DEFAULTS } from "../spec/settings";
import { scriptHash } from "../remote/remote-script";
import { AgentContext, AgentSteps, RunnerAgentArgs } from "./agent-args";
import { hostScriptCommand } from "./host-command";
import { runnerRegistration } from "./operator-command";
import { RegistrationWatch } from "./registration-watch";

function ephemeralOf(args: RunnerAgentArgs): boolean {
    return args.ephemeral ?? DEFAULTS.agent.ephemeral;
}

/** The problems only a plain runner can have. */
export function plainRunnerProblems(args: RunnerAgentArgs): Problem[] {
    const problems: Problem[] = [];
    const ephemeral = ephemeralOf(args);
    if (ephemeral && args.secrets.githubRunnerToken === undefined) {
        problems.push({
            path: "secrets.githubRunnerToken",
            message: "is missing, and ephemeral runners register again after every job with it",
            fix: "pass the token (a secret), or leave ephemeral false",
        });
    }
    problems.push(...settingProblems(AgentSchema.shape.instances, args.instances, "instances"));
    problems.push(...settingProblems(AgentSchema.shape.runnerVersion, args.runnerVersion, "runnerVersion"));
    return problems;
}

/** The secrets write-secrets.sh keeps for a plain runner: no organization credential unless ephemeral was opted into (then no Docker). */
export function plainRunnerSecrets(args: RunnerAgentArgs): Record<string, pulumi.Input<string> | undefined> {
    return { "github-runner-token": ephemeralOf(args) ? args.secrets.githubRunnerToken : undefined };
}

/** The registration token where pulumi runs, the install on the host, the registrations' removal at destroy. */
export function plainRunnerSteps(args: RunnerAgentArgs, ctx: AgentContext): AgentSteps {
    const { name, host, parent, endpoints } = ctx;
    const instances = args.instances ?? DEFAULTS.agent.instances;
    const env = {
        RUNNER_FLEET_HOST: host.name,
        GITHUB_ORG: args.org,
        GITHUB_URL: endpoints.githubUrl,
        GITHUB_API_URL: endpoints.githubApi,
        RUNNER_GROUP: args.runnerGroup ?? DEFAULTS.runnerGroup,
        LABELS: args.labels.join(","),
        INSTANCES: String(instances),
        EPHEMERAL: ephemeralOf(args) ? "1" : "0",
        RUNNER_VERSION: args.runnerVersion ?? DEFAULTS.agent.runnerVersion,
        RUNNER_DOWNLOAD_URL: endpoints.runnerDownloads,
        INSTALL_DOCKER: (args.installDocker ?? DEFAULTS.agent.installDocker) ? "1" : "0",
        DRAIN_TIMEOUT: ctx.drainTimeout,
    };
    // Kept registrations only: an ephemeral runner's ends with every job, and it registers again itself.
    // The generation the fleet's watch gives when it hands one, else one of the agent's own watch.
    const generation = ephemeralOf(args) ? undefined : args.registrationGeneration ?? new RegistrationWatch(`${name}-registrations`, {
        hosts: [host.name], org: args.org, githubApi: endpoints.githubApi, instances, operatorToken: args.secrets.githubRunnerToken,
    }, { parent, dependsOn: ctx.after }).generationOf(host.name);
    const triggers = generation === undefined ? [] : [generation];
    const registration = runnerRegistration(name, {
        host, org: args.org, githubApi: endpoints.githubApi, instances,
        operatorToken: args.secrets.githubRunnerToken, installHash: scriptHash("install-github-runner.sh", env), triggers,
    }, { parent, dependsOn: ctx.after });
    const installed = hostScriptCommand(`${name}-install`, {
        host, script: "install-github-runner.sh", secret: true, env,
        deleteScript: "remove-github-runner.sh", deleteEnv: { RUNNER_FLEET_HOST: host.name },
        // Minted for this install; a new one alone (it is new whenever the step runs) must not reinstall.
        // The provider trims stdout's last newline (pulumi-command, local/commandOutputs.go); the host reads whole lines.
        stdin: pulumi.secret(registration.token.stdout.apply(s => s.endsWith("\n") ? s : `${s}\n`)),
        ignoreStdin: true,
        triggers,
    }, { parent, dependsOn: [...ctx.after, registration.token] });
    return {
        install: installed.command,
        script: "install-github-runner.sh",
        stamps: { agent: installed.hash },
        runners: registration.runners,
        registrationToken: registration.token,
    };
}
