// The stack program: stack config -> RunnerFleet -> stack outputs. index.ts
// runs it; the offline plan runs the same function under mocks.

import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, RawConfig, parseFleetConfig, requiredSecrets } from "./config";
import { FleetConfigInput, RunnerFleet } from "./fleet";

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
 * Reads the fleet's config and the secrets it needs from the current stack.
 * Only secrets that are set are read (with requireSecret); a missing one is
 * left out, and RunnerFleet reports it with every other problem. Registers
 * nothing and validates nothing: RunnerFleet does that, once.
 */
export function loadFleetConfig(config: pulumi.Config = new pulumi.Config()): { raw: RawConfig; secrets: Record<string, pulumi.Output<string>> } {
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) {
        const text = config.get(key);
        if (text !== undefined) {
            raw[key] = PLAIN_KEYS.has(key) ? text : parseJsonOr(text);
        }
    }
    const secrets: Record<string, pulumi.Output<string>> = {};
    for (const key of requiredSecrets(parseFleetConfig(raw).spec)) {
        if (configKeyIsSet(config, key)) {
            secrets[key] = config.requireSecret(key);
        }
    }
    return { raw, secrets };
}

export function fleetProgram() {
    const config = new pulumi.Config();
    const { raw, secrets } = loadFleetConfig(config);
    const fleet = new RunnerFleet(FLEET_RESOURCE_NAME, {
        config: raw as unknown as FleetConfigInput,
        secrets,
        errorContext: `the config of stack ${pulumi.getStack()}`,
        bootTimeoutMinutes: config.getNumber("bootTimeoutMinutes"),
        githubToken: new pulumi.Config("github").getSecret("token"),
    });
    // Only outputs with a value: the engine warns about every undefined one.
    return {
        hosts: fleet.hosts,
        labelsByArch: fleet.labelsByArch,
        runsOn: fleet.runsOn,
        estimatedMonthlyCost: fleet.estimatedMonthlyCost,
        drift: fleet.drift,
        ...(fleet.workflow ? { workflowYaml: fleet.workflowYaml } : {}),
    };
}
