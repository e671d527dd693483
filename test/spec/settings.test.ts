// One declaration per setting: the README's config reference and the stack
// file's JSON Schema are generated from it and must be up to date; the
// example stack file validates against the schema; and no default is
// written anywhere but in its declaration.

import { expect } from "chai";
import Ajv2020 from "ajv/dist/2020";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { DEFAULTS, settingKeys } from "../../components/spec/settings";
import { README_FILE, SCHEMA_FILE, generatedDocs } from "../../scripts/docs";
import { REPO_ROOT } from "../harness";

function schemaValidator() {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    return ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")));
}

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
        e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []);
}

describe("the settings' declarations", () => {
    it("generate the README's config reference and the JSON Schema, both up to date (npm run docs)", () => {
        for (const [file, text] of Object.entries(generatedDocs())) {
            expect(fs.readFileSync(file, "utf8") === text, `${path.relative(REPO_ROOT, file)} is out of date: run npm run docs`).to.equal(true);
        }
    });

    it("list every setting in the README's reference", () => {
        const readme = fs.readFileSync(README_FILE, "utf8");
        for (const key of settingKeys()) {
            expect(readme).to.match(new RegExp(`\\| \`${key}[.\`]`));
        }
    });

    it("give a schema the example stack file passes", () => {
        const validate = schemaValidator();
        const doc = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8"));
        expect(validate(doc), JSON.stringify(validate.errors, null, 1)).to.equal(true);
    });

    it("give a schema that refuses an unknown key, a plain-text secret and a number out of range", () => {
        const validate = schemaValidator();
        const doc = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8"));
        for (const [what, change] of [
            ["unknown key", (c: Record<string, unknown>) => { c["runner-fleet:mirrors"] = { enabled: true }; }],
            ["plain secret", (c: Record<string, unknown>) => { c["runner-fleet:actuatedLicense"] = "in-clear"; }],
            ["range", (c: Record<string, unknown>) => { c["runner-fleet:agent"] = { instances: 99 }; }],
            ["host typo", (c: Record<string, unknown>) => { (c["runner-fleet:hosts"] as Record<string, unknown>[])[0].adress = "x"; }],
        ] as const) {
            const copy = structuredClone(doc);
            change(copy.config);
            expect(validate(copy), what).to.equal(false);
        }
    });

    it("are the only place a default is written (components and scripts)", () => {
        const literals = [
            DEFAULTS.mirror.bindAddress, DEFAULTS.mirror.upstream, DEFAULTS.mirror.ttl, DEFAULTS.agent.runnerVersion, DEFAULTS.metrics.bindAddress,
            ...Object.values(DEFAULTS.endpoints).filter((v): v is string => typeof v === "string"),
        ];
        const files = [...sourceFiles(path.join(REPO_ROOT, "components")), ...sourceFiles(path.join(REPO_ROOT, "scripts"))]
            // config-types.ts is generated from the declarations (npm run docs; a test keeps it current).
            .filter(f => !f.endsWith(path.join("components", "spec", "settings.ts")) && !f.endsWith(path.join("components", "spec", "config-types.ts")));
        // The runner version's default is the newest of the catalog's dated release table, which holds it.
        const table = path.join(REPO_ROOT, "components", "spec", "catalog.ts");
        for (const file of files) {
            const text = fs.readFileSync(file, "utf8");
            for (const literal of literals.filter(l => !(file === table && l === DEFAULTS.agent.runnerVersion))) {
                expect(text.includes(literal), `${path.relative(REPO_ROOT, file)} writes the default ${literal} again`).to.equal(false);
            }
        }
        expect(settingKeys()).to.have.length(11);
    });

    it("are never defaulted again on a host: the host scripts take each stack setting as given, and stop without it", () => {
        // The variables the components fill from stack settings (agent, mirror, metrics, endpoints, github).
        const fromStack = ["MIRROR_BIND", "MIRROR_UPSTREAM", "MIRROR_TTL", "MIRROR_DOWNLOAD_URL", "INSTANCES", "RUNNER_DOWNLOAD_URL",
            "GITHUB_URL", "GITHUB_API_URL", "RUNNER_GROUP", "EPHEMERAL", "INSTALL_DOCKER", "DRAIN_TIMEOUT", "ACTUATED_INSTALLER_URL", "MIRROR", "RUNNER_VERSION",
            "METRICS_BIND"];
        const hostDir = path.join(REPO_ROOT, "scripts", "host");
        const found: string[] = [];
        for (const file of fs.readdirSync(hostDir).filter(f => f.endsWith(".sh"))) {
            const text = fs.readFileSync(path.join(hostDir, file), "utf8");
            for (const m of text.matchAll(/\$\{([A-Z_]+):[-=]([^}]+)\}/g)) {
                if (fromStack.includes(m[1])) {
                    found.push(`${file}: ${m[0]}`);
                }
            }
            const literals = [DEFAULTS.mirror.bindAddress, DEFAULTS.mirror.upstream, DEFAULTS.mirror.ttl, DEFAULTS.runnerGroup, DEFAULTS.metrics.bindAddress,
                ...Object.values(DEFAULTS.endpoints).filter((v): v is string => typeof v === "string")];
            for (const literal of literals) {
                if (text.includes(`:-${literal}}`) || text.includes(`(default ${literal})`)) {
                    found.push(`${file}: defaults to ${literal}`);
                }
            }
        }
        expect(found).to.deep.equal([]);
        const r = spawnSync("bash", [path.join(hostDir, "configure-mirror.sh")], {
            env: { PATH: process.env.PATH, ROOT: fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-root-")), RENDER_ONLY: "1", MIRROR_MODE: "registry" },
            input: "", encoding: "utf8",
        });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.include("MIRROR_BIND is not set");
    });
});
