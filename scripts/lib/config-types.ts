// RunnerFleet's config as TypeScript interfaces, derived from the settings'
// declarations like the README's reference and the stack file's JSON Schema:
// the component package's schema (plugin/) is inferred from these
// interfaces, so every language sees each setting with the one description
// it has. Pure; `npm run docs` writes components/spec/config-types.ts, and a
// test fails when it is stale.

import { SettingsNode, fleetNode } from "./settings-docs";

/** Objects by their path in the settings, and the interface each becomes. */
const OBJECTS: Readonly<Record<string, { name: string; doc: string }>> = {
    "": { name: "RunnerFleetConfig", doc: "What a fleet is made of: the stack config's settings (README \"Config reference\"), without the secrets. Defaults fill what is left out." },
    "hosts[]": { name: "FleetHostConfig", doc: "A host of the fleet: where it comes from, its machine and how to reach it. Each host source's own fields apply to its hosts only." },
    agent: { name: "AgentConfig", doc: "The runner agent on every host (a host may choose its own kind)." },
    mirror: { name: "MirrorConfig", doc: "The Docker Hub pull-through mirror on each host." },
    "mirror.release": { name: "MirrorReleaseConfig", doc: "Another distribution registry release than the package's pinned one." },
    metrics: { name: "MetricsConfig", doc: "The Prometheus node exporter on every host, with the fleet's own figures." },
    github: { name: "GithubConfig", doc: "The GitHub organization: its runner group, secrets and variables." },
    workflow: { name: "WorkflowConfig", doc: "The split-per-architecture build workflow the fleet renders, and where it commits it." },
    endpoints: { name: "EndpointsConfig", doc: "Where the host scripts download from and which GitHub they talk to." },
};

/** Types declared elsewhere, by path: the same type wherever it is used. */
const IMPORTED_OBJECTS: Readonly<Record<string, { name: string; from: string }>> = {
    "mirror.release.sha256": { name: "ReleaseSha256", from: "./catalog" },
};

/** Enums declared in the components (as const objects), by their values. */
const IMPORTED_ENUMS: readonly { values: readonly string[]; name: string; from: string }[] = [
    { values: ["arm64", "amd64"], name: "Arch", from: "./catalog" },
    { values: ["actuated", "github-runner"], name: "AgentKind", from: "./settings" },
    { values: ["all", "private", "selected"], name: "Visibility", from: "./settings" },
    { values: ["free", "team", "enterprise"], name: "GithubPlan", from: "./settings" },
    { values: ["gha", "registry", "none"], name: "BuildCache", from: "./settings" },
];

/** Enums only the config has, by path. */
const OWN_ENUMS: Readonly<Record<string, { name: string; doc: string }>> = {
    "hosts[].provider": { name: "HostProvider", doc: "Where a host comes from: a host source's id." },
    "workflow.runners": { name: "WorkflowRunners", doc: "Which hosts build each arch." },
};

function memberName(value: string): string {
    return value.replace(/[-.]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function docComment(text: string, indent: string): string {
    const escaped = text.replace(/\*\//g, "*\\/");
    return `${indent}/** ${escaped} */\n`;
}

/** A setting's description, as the README's reference gives it, with its default where it has a telling one. */
function describe(n: SettingsNode): string {
    const text = n.description ?? "";
    const literal = n.default !== undefined && !(typeof n.default === "object" && Object.keys(n.default as object).length === 0);
    const stated = n.defaultText && !n.defaultText.startsWith("(") ? n.defaultText : undefined;
    const dflt = literal ? `\`${typeof n.default === "string" ? n.default : JSON.stringify(n.default)}\`` : stated;
    return dflt === undefined ? text : `${text}${/[.!?]$/.test(text) ? "" : "."} Default: ${dflt}.`;
}

/** components/spec/config-types.ts as it should be. */
export function configTypesSource(): string {
    const imports = new Map<string, Set<string>>();
    const declarations: string[] = [];
    const use = (name: string, from: string) => {
        const names = imports.get(from) ?? new Set<string>();
        names.add(name);
        imports.set(from, names);
        return name;
    };

    const typeOf = (n: SettingsNode, path: string): string => {
        const imported = IMPORTED_OBJECTS[path];
        if (imported) {
            return use(imported.name, imported.from);
        }
        if (n.anyOf) {
            // A choice of kinds (such as false, true, "min" or "max"): the schema has no such union; the description lists the values.
            return "any";
        }
        if (n.enum) {
            const values = n.enum.map(String);
            const known = IMPORTED_ENUMS.find(e => e.values.length === values.length && e.values.every(v => values.includes(v)));
            if (known) {
                return use(known.name, known.from);
            }
            const own = OWN_ENUMS[path];
            if (!own) {
                throw new Error(`config-types: the enum at ${path} (${values.join(", ")}) has no name in OWN_ENUMS`);
            }
            declarations.push([
                docComment(own.doc, ""),
                `export const ${own.name} = {\n${values.map(v => `    ${memberName(v)}: ${JSON.stringify(v)},`).join("\n")}\n} as const;\n`,
                `export type ${own.name} = (typeof ${own.name})[keyof typeof ${own.name}];\n`,
            ].join(""));
            return own.name;
        }
        switch (n.type) {
            case "string": return "string";
            case "integer":
            case "number": return "number";
            case "boolean": return "boolean";
            case "array": return `${typeOf(n.items ?? {}, `${path}[]`)}[]`;
            case "object": return objectType(n, path);
            default: throw new Error(`config-types: the setting at ${path} has no type the schema can carry`);
        }
    };

    const objectType = (n: SettingsNode, path: string): string => {
        const named = OBJECTS[path];
        if (!named) {
            throw new Error(`config-types: the object at ${path} has no name in OBJECTS`);
        }
        const required = new Set(n.required ?? []);
        const fields = Object.entries(n.properties ?? {}).map(([key, child]) => {
            const childPath = path === "" ? key : `${path}.${key}`;
            // A setting with a default may be left out, whatever the parsed side requires.
            const optional = !required.has(key) || child.default !== undefined;
            return `${docComment(describe(child), "    ")}    ${key}${optional ? "?" : ""}: ${typeOf(child, childPath)};\n`;
        });
        declarations.push([
            docComment(named.doc, ""),
            `export interface ${named.name} {\n`,
            ...fields,
            ...(path === "" || path === "hosts[]" ? [
                "    /** A host source's own settings by name, where one registered beside the built-in ones declares them. */\n",
                "    [sourceSetting: string]: unknown;\n",
            ] : []),
            "}\n",
        ].join(""));
        return named.name;
    };

    objectType(fleetNode(), "");
    const header = [
        "// Generated from the settings' declarations (components/spec/settings.ts and",
        "// each host source's fields) by npm run docs; do not edit. RunnerFleet's",
        "// `config` in every Pulumi language: the component package's schema is",
        "// inferred from these interfaces.",
        "",
        ...[...imports.entries()].sort(([a], [b]) => a.localeCompare(b))
            .map(([from, names]) => `import { ${[...names].sort().join(", ")} } from "${from}";`),
        "",
    ];
    return `${[...header, declarations.reverse().join("\n")].join("\n")}`;
}
