// Writes what is derived from the settings' declarations: the README's
// config reference (and its metrics table, from the metric catalog), schema/stack-config.schema.json and RunnerFleet's config
// interfaces (components/spec/config-types.ts). A test fails when
// either is out of date; run this after changing a setting.
//
//   npm run docs

import * as fs from "fs";
import * as path from "path";
import { stackFileSchema, withSettingsSection } from "./lib/settings-docs";
import { configTypesSource } from "./lib/config-types";
import { withMetricsSection } from "./lib/metrics-docs";

export const ROOT = path.resolve(__dirname, "..", "..");
export const SCHEMA_FILE = path.join(ROOT, "schema", "stack-config.schema.json");
export const README_FILE = path.join(ROOT, "README.md");
export const CONFIG_TYPES_FILE = path.join(ROOT, "components", "spec", "config-types.ts");

/** The files as they should be, by path. */
export function generatedDocs(): Record<string, string> {
    return {
        [README_FILE]: withMetricsSection(withSettingsSection(fs.readFileSync(README_FILE, "utf8"))),
        [SCHEMA_FILE]: `${JSON.stringify(stackFileSchema(), null, 2)}\n`,
        [CONFIG_TYPES_FILE]: configTypesSource(),
    };
}

if (require.main === module) {
    for (const [file, text] of Object.entries(generatedDocs())) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
        console.log(`wrote ${path.relative(ROOT, file)}`);
    }
}
