// The component package's schema as `pulumi package get-schema plugin`
// infers it: the same analyzer and schema writer, run on the plugin folder's
// entry without the engine or any provider plugin. The unit tests keep it as
// a snapshot; `npm run schema` prints it.

import * as path from "path";

/** The plugin folder: PulumiPlugin.yaml, its package.json and entry. */
export const PLUGIN_DIR = path.resolve(__dirname, "..", "..", "..", "plugin");

interface AnalyzerModule {
    Analyzer: new (dir: string, name: string, packageJSON: Record<string, unknown>, components: Set<string>) => {
        analyze(): { components: Record<string, unknown>; typeDefinitions: Record<string, unknown>; dependencies: unknown[] };
    };
}

/** The package's schema and the components it lists, as the Node.js language host's component provider makes it. */
export function componentSchema(): Record<string, unknown> {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { Analyzer } = require("@pulumi/pulumi/provider/experimental/analyzer") as AnalyzerModule;
    const { generateSchema } = require("@pulumi/pulumi/provider/experimental/schema") as {
        generateSchema: (...args: unknown[]) => Record<string, unknown>;
    };
    const { getPulumiComponents } = require("@pulumi/pulumi/provider/experimental/provider") as {
        getPulumiComponents: (exports: unknown) => { name: string }[];
    };
    const packageJSON = require(path.join(PLUGIN_DIR, "package.json")) as { name: string; version: string; description: string };
    // The classes the package serves: its entry's, as built (plugin/index.js serves them, host.ts).
    const entry = require(path.join(PLUGIN_DIR, "..", "bin", "plugin", "index.js")) as unknown;
    /* eslint-enable @typescript-eslint/no-require-imports */
    const names = new Set(getPulumiComponents(entry).map(c => c.name));
    const { components, typeDefinitions, dependencies } = new Analyzer(PLUGIN_DIR, packageJSON.name, packageJSON, names).analyze();
    return generateSchema(packageJSON.name, packageJSON.version, packageJSON.description, components, typeDefinitions, dependencies, undefined);
}

if (require.main === module) {
    process.stdout.write(`${JSON.stringify(componentSchema(), null, 2)}\n`);
}
