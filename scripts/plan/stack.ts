// Reading a stack for the offline plan: Pulumi.yaml and Pulumi.<stack>.yaml,
// every secure value replaced by a placeholder before any program sees it.

import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

export interface StackConfig {
    readonly project: string;
    /** Full keys (`project:key`) to the strings the engine would hand over. */
    readonly config: Record<string, string>;
    /** Keys whose values were secret; their values here are placeholders. */
    readonly secretKeys: string[];
}

/** A placeholder that stands in for a secret value in the plan. */
export function secretPlaceholder(key: string): string {
    return `[secret ${key}]`;
}

/** Reads Pulumi.yaml and Pulumi.<stack>.yaml, replacing every secure value by a placeholder. */
export function readStackConfig(dir: string, stack: string): StackConfig {
    const projectFile = path.join(dir, "Pulumi.yaml");
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(projectFile)) {
        throw new UsageError(`no Pulumi.yaml in ${dir}`);
    }
    if (!fs.existsSync(stackFile)) {
        const stacks = fs.readdirSync(dir).filter(f => /^Pulumi\..+\.yaml$/.test(f)).map(f => f.slice(7, -5));
        throw new UsageError(`no stack file Pulumi.${stack}.yaml in ${dir}${stacks.length ? `; stacks here: ${stacks.join(", ")}` : ""}`);
    }
    const project = String((YAML.parse(fs.readFileSync(projectFile, "utf8")) ?? {}).name ?? "");
    const doc = YAML.parse(fs.readFileSync(stackFile, "utf8")) ?? {};
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries<unknown>(doc.config ?? {})) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        let secret = false;
        const scrub = (v: unknown): unknown => {
            if (isSecure(v)) {
                secret = true;
                return secretPlaceholder(key);
            }
            if (Array.isArray(v)) {
                return v.map(scrub);
            }
            if (typeof v === "object" && v !== null) {
                return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x)]));
            }
            return v;
        };
        const clean = scrub(value);
        config[key] = typeof clean === "string" ? clean : JSON.stringify(clean);
        if (secret) {
            secretKeys.push(key);
        }
    }
    return { project, config, secretKeys };
}

function isSecure(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

export class UsageError extends Error {}
