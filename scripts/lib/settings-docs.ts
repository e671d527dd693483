// What is derived from the settings' declarations for people and editors:
// the README's config reference (Markdown tables) and the JSON Schema of a
// stack file (Pulumi.<stack>.yaml), so editors can check one as it is typed.
// Pure; `npm run docs` writes both, and a test fails when either is stale.

import { z } from "zod";
import "../../components/hosts"; // the built-in host sources, whose fields and settings are documented
import { SECRET_DOCS, SECRET_KEYS, fleetSchema, settingKeys } from "../../components/spec/settings";

/** A JSON Schema node, as zod emits it with the declarations' meta. */
export interface SettingsNode {
    type?: string | string[];
    description?: string;
    default?: unknown;
    enum?: unknown[];
    minimum?: number;
    maximum?: number;
    pattern?: string;
    items?: SettingsNode;
    properties?: Record<string, SettingsNode>;
    required?: string[];
    additionalProperties?: boolean | SettingsNode;
    anyOf?: SettingsNode[];
    // The declarations' own meta (settings.ts SettingMeta).
    fix?: string;
    docType?: string;
    defaultText?: string;
    appliesTo?: string;
    placeholder?: unknown;
    [key: string]: unknown;
}

const META_KEYS = ["fix", "docType", "defaultText", "appliesTo", "placeholder"] as const;

/** The fleet's settings as JSON Schema (input side: what may be written), with the declarations' meta. */
export function fleetNode(): SettingsNode {
    return z.toJSONSchema(fleetSchema(), { io: "input", unrepresentable: "any" }) as SettingsNode;
}

function code(v: unknown): string {
    return `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;
}

function typeText(n: SettingsNode): string {
    if (n.docType) {
        return n.docType;
    }
    if (n.enum) {
        return n.enum.map(code).join(" | ");
    }
    if (n.type === "integer" || n.type === "number") {
        const whole = n.type === "integer" ? "whole number" : "number";
        return n.minimum !== undefined && n.maximum !== undefined ? `${whole}, ${n.minimum}-${n.maximum}` : whole;
    }
    if (n.type === "boolean") {
        return "bool";
    }
    if (n.type === "array") {
        return n.items?.type === "string" ? "list of strings" : "list";
    }
    return String(n.type ?? "any");
}

function defaultText(n: SettingsNode, required: boolean): string {
    if (n.defaultText) {
        return n.defaultText;
    }
    if (n.default !== undefined) {
        return code(n.default);
    }
    return required ? "(required)" : "unset";
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The README's config reference: settings, secrets, host fields. */
export function settingsMarkdown(): string {
    const root = fleetNode();
    const rows: string[] = ["| key | type | default | meaning |", "|---|---|---|---|"];
    for (const key of settingKeys()) {
        const n = root.properties?.[key] as SettingsNode;
        if (n.type === "object" && n.properties) {
            for (const [sub, child] of Object.entries(n.properties)) {
                rows.push(`| \`${key}.${sub}\` | ${cell(typeText(child))} | ${cell(defaultText(child, n.required?.includes(sub) ?? false))} | ${cell(child.description ?? "")} |`);
            }
        } else {
            rows.push(`| \`${key}\` | ${cell(typeText(n))} | ${cell(defaultText(n, false))} | ${cell(n.description ?? "")} |`);
        }
    }
    const secrets = ["| secret | needed when |", "|---|---|", ...Object.entries(SECRET_DOCS).map(([k, v]) => `| ${k.startsWith("(") ? k : `\`${k}\``} | ${cell(v)} |`)];
    const host = (root.properties?.hosts?.items ?? {}) as SettingsNode;
    const hostRows = ["| field | type | applies to | meaning |", "|---|---|---|---|",
        ...Object.entries(host.properties ?? {}).map(([k, n]) =>
            `| \`${k}\`${host.required?.includes(k) ? " (required)" : ""} | ${cell(typeText(n))} | ${cell(n.appliesTo ?? "all")} | ${cell(n.description ?? "")} |`)];
    return [
        "All keys live under the project namespace (`runner-fleet:`) in `Pulumi.<stack>.yaml`; any other key there is refused.",
        "",
        ...rows,
        "",
        "Secrets (set with `pulumi config set --secret`; read with `requireSecret` only; a secret stored in plain text is refused):",
        "",
        ...secrets,
        "",
        "A host (`hosts[]`):",
        "",
        ...hostRows,
    ].join("\n");
}

/** A node without the declarations' own meta keys: plain JSON Schema. */
function clean(n: unknown): unknown {
    if (Array.isArray(n)) {
        return n.map(clean);
    }
    if (typeof n === "object" && n !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(n)) {
            if (!(META_KEYS as readonly string[]).includes(k) && k !== "$schema") {
                out[k] = clean(v);
            }
        }
        return out;
    }
    return n;
}

/** The JSON Schema of a stack file of a runner-fleet project named `project`. */
export function stackFileSchema(project = "runner-fleet"): Record<string, unknown> {
    const root = fleetNode();
    const properties: Record<string, unknown> = {};
    for (const key of settingKeys()) {
        properties[`${project}:${key}`] = clean(root.properties?.[key]);
    }
    for (const key of Object.values(SECRET_KEYS)) {
        properties[`${project}:${key}`] = { $ref: "#/$defs/secure", description: `secret: ${SECRET_DOCS[key]}` };
    }
    const named = [...settingKeys(), ...Object.values(SECRET_KEYS)].join("|");
    return {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        title: `Pulumi.<stack>.yaml of a ${project} project`,
        description: "Generated from the settings' declarations (components/spec/settings.ts) by npm run docs.",
        type: "object",
        properties: {
            config: {
                type: "object",
                properties,
                patternProperties: {
                    // A host's own SSH key, named by its privateKeySecret.
                    [`^${project}:(?!(${named})$)[A-Za-z][A-Za-z0-9_]*$`]: { $ref: "#/$defs/secure", description: "secret: a host's own SSH private key (hosts[].privateKeySecret)" },
                    // Other namespaces: providers' settings such as github:token.
                    [`^(?!${project}:)[^:]+:.+$`]: {},
                },
                additionalProperties: false,
            },
            secretsprovider: { type: "string" },
            encryptedkey: { type: "string" },
            encryptionsalt: { type: "string" },
            environment: {},
        },
        $defs: {
            secure: {
                type: "object",
                properties: { secure: { type: "string" } },
                required: ["secure"],
                additionalProperties: false,
            },
        },
    };
}

/** The README with its config reference replaced by the generated one (between the markers). */
export function withSettingsSection(readme: string): string {
    const begin = "<!-- settings:begin (generated by npm run docs from components/spec/settings.ts) -->";
    const end = "<!-- settings:end -->";
    const a = readme.indexOf(begin);
    const b = readme.indexOf(end);
    if (a < 0 || b < a) {
        throw new Error(`README.md has no ${begin} ... ${end} section`);
    }
    return `${readme.slice(0, a + begin.length)}\n${settingsMarkdown()}\n${readme.slice(b)}`;
}
