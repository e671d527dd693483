// The stack program: stack config -> RunnerFleet -> stack outputs. index.ts
// runs it; the offline plan runs the same function under mocks.

import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, FleetConfigError, RawConfig, parseFleetConfig, requiredSecrets } from "./config";
import { RunnerFleet } from "./fleet";
import { fleetProblems } from "./wiring";

/** The fleet's resource name in every stack; changing it would replace every resource. */
export const FLEET_RESOURCE_NAME = "fleet";

const PLAIN_KEYS = new Set<string>(["sshPublicKey", "equinixProjectId"]);

/** Structured config arrives as JSON; anything else is kept as text for the parser to report. */
function parseJsonOr(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** Whether a config key has a value; the value itself is not kept. */
function configKeyIsSet(config: pulumi.Config, key: string): boolean {
    return pulumi.runtime.getConfig(`${config.name}:${key}`) !== undefined;
}

/**
 * Reads the fleet's config and secrets from the current stack and validates
 * all of it, throwing one FleetConfigError that lists every problem. Secrets
 * are read with requireSecret only, and only once the config is valid.
 * Registers nothing.
 */
export function loadFleetConfig(config: pulumi.Config = new pulumi.Config()) {
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) {
        const text = config.get(key);
        if (text !== undefined) {
            raw[key] = PLAIN_KEYS.has(key) ? text : parseJsonOr(text);
        }
    }
    const { spec, problems } = parseFleetConfig(raw);
    const wanted = requiredSecrets(spec);
    problems.push(...fleetProblems(spec, new Set(wanted.filter(k => configKeyIsSet(config, k)))));
    if (problems.length > 0) {
        throw new FleetConfigError(problems, `the config of stack ${pulumi.getStack()}`);
    }
    const secrets: Record<string, pulumi.Output<string>> = {};
    for (const key of wanted) {
        secrets[key] = config.requireSecret(key);
    }
    return { spec, secrets };
}

export function fleetProgram() {
    const config = new pulumi.Config();
    const { spec, secrets } = loadFleetConfig(config);
    const fleet = new RunnerFleet(FLEET_RESOURCE_NAME, {
        config: spec,
        secrets,
        bootTimeoutMinutes: config.getNumber("bootTimeoutMinutes"),
        githubToken: new pulumi.Config("github").getSecret("token"),
    });
    return {
        hosts: fleet.hosts,
        labelsByArch: fleet.labelsByArch,
        runsOn: fleet.runsOn,
        estimatedMonthlyCost: fleet.estimatedMonthlyCost,
        workflowYaml: fleet.workflowYaml,
        drift: fleet.drift,
    };
}
