// The stack program: stack config -> RunnerFleet -> stack outputs. index.ts
// runs it; the offline plan runs the same function under mocks.

import * as pulumi from "@pulumi/pulumi";
import { RunnerFleet } from "./fleet";
import { ParsedFleetConfig, parseFleetConfig } from "../spec/parse";
import { Problem, nearest, throwIfAny } from "../spec/problems";
import { checkFleet } from "./check";
import { RunnerFleetConfig } from "../spec/config-types";
import { privateKeySecretOf } from "../spec/resolve";
import { SECRET_KEYS, isTextSetting, settingKeys } from "../spec/settings";

const KNOWN_SECRETS: ReadonlySet<string> = new Set(Object.values(SECRET_KEYS));

/** The fleet's resource name in every stack; changing it would replace every resource. */
export const FLEET_RESOURCE_NAME = "fleet";

/** Structured config arrives as JSON; anything else is kept as text for the parser to report. */
function parseJsonOr(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * Whether the engine handed a config value over as a secret (`secure:` in the
 * stack file). The SDK keeps the engine's list of secret keys
 * (PULUMI_CONFIG_SECRET_KEYS) behind internal functions; where the engine
 * sent no list, nothing can be told, and every value counts as secret.
 */
function configIsSecret(fullKey: string): boolean {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean; configSecretKeysEnvKey?: string };
    const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): { config: Record<string, string | undefined> } };
    /* eslint-enable @typescript-eslint/no-require-imports */
    const listKey = runtimeConfig.configSecretKeysEnvKey;
    if (!runtimeConfig.isConfigSecret || !listKey || getStore().config[listKey] === undefined) {
        return true;
    }
    return runtimeConfig.isConfigSecret(fullKey);
}

/**
 * Reads the fleet's config and its secrets from the current stack, strictly:
 * every key under the project's namespace is a setting or a secret (an
 * unknown one is a problem naming the nearest known key), and a secret stored
 * in plain text is a problem with the command that stores it encrypted.
 * Secrets are read with requireSecret only. Registers nothing; RunnerFleet
 * validates the rest, once.
 */
export function loadFleetConfig(config: pulumi.Config = new pulumi.Config()): { parsed: ParsedFleetConfig; raw: RunnerFleetConfig; secrets: Record<string, pulumi.Output<string>> } {
    const prefix = `${config.name}:`;
    const values = new Map<string, string>();
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (fullKey.startsWith(prefix)) {
            values.set(fullKey.slice(prefix.length), value);
        }
    }
    const settings = new Set<string>(settingKeys());
    const raw: Record<string, unknown> = {};
    for (const [key, text] of values) {
        if (settings.has(key)) {
            raw[key] = isTextSetting(key) ? text : parseJsonOr(text);
        }
    }
    // The secrets' names: the fixed ones, and those the parsed hosts name in privateKeySecret.
    const parsed = parseFleetConfig(raw);
    const secretKeys = new Set<string>([...KNOWN_SECRETS, ...(parsed.spec?.hosts ?? []).map(privateKeySecretOf)]);
    const secrets: Record<string, pulumi.Output<string>> = {};
    const problems: Problem[] = [];
    for (const key of values.keys()) {
        if (secretKeys.has(key)) {
            if (!configIsSecret(`${prefix}${key}`)) {
                problems.push({
                    path: key, message: "is a secret stored in plain text in the stack file (and so in git)",
                    fix: `store it encrypted: pulumi config set --secret ${key} <value> (it replaces the plain value), then rotate it, since it was exposed`,
                });
                continue;
            }
            secrets[key] = config.requireSecret(key);
        } else if (!settings.has(key)) {
            const near = nearest(key, [...settings, ...secretKeys]);
            problems.push({
                path: key, message: `is not a runner-fleet setting (${prefix}${key})`,
                fix: `${near ? `did you mean ${near}? ` : ""}Remove it with pulumi config rm ${key}, or see the README's config reference`,
            });
        }
    }
    return { parsed: parsed.withProblems(problems), raw: raw as RunnerFleetConfig, secrets };
}

export function fleetProgram() {
    const { parsed, raw, secrets } = loadFleetConfig();
    const errorContext = `the config of stack ${pulumi.getStack()}`;
    if (parsed.problems.length > 0) {
        // The stack config's own problems (unknown keys, secrets in plain text) first, then the fleet's: all at once.
        throwIfAny(checkFleet(parsed, new Set(Object.keys(secrets))).problems, errorContext);
    }
    const fleet = new RunnerFleet(FLEET_RESOURCE_NAME, {
        config: raw,
        secrets,
        errorContext,
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
        // Prometheus file_sd: pulumi stack output metricsTargets --json > runner-fleet-targets.json
        ...(fleet.spec.metrics.enabled ? { metricsTargets: fleet.metricsTargets } : {}),
    };
}
