// The component package's schema (what `pulumi package add` generates every
// language's SDK from), inferred from the TypeScript surface as the Node.js
// language host does, without the engine. It must list every component with
// every input and output typed and described, take each setting's text from
// its one declaration, and match the snapshot: a surface change made on
// purpose updates it (UPDATE_SNAPSHOTS=1 npm test) and says so in the
// CHANGELOG.

import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { componentSchema } from "../../scripts/lib/component-schema";
import * as YAML from "yaml";
import { checkFleet } from "../../components";
import { fleetSchema, settingKeys } from "../../components/spec/settings";
import { REPO_ROOT } from "../harness";

interface Prop { type?: string; $ref?: string; items?: Prop; additionalProperties?: Prop; description?: string; plain?: boolean }
interface Resource { isComponent?: boolean; inputProperties?: Record<string, Prop>; properties?: Record<string, Prop>; requiredInputs?: string[] }
interface Schema { name: string; resources: Record<string, Resource>; types: Record<string, { type: string; properties?: Record<string, Prop>; enum?: { value: string }[] }> }

const SNAPSHOT = path.join(REPO_ROOT, "test", "snapshots", "component-schema.json");
const COMPONENTS = ["RunnerFleet", "EquinixMetalHost", "HetznerCloudHost", "ExistingHost", "RunnerAgent", "RegistryMirror", "HostMetrics", "GithubOrgWiring", "BuildWorkflow"];

describe("the component package's schema", function () {
    // The analyzer builds a TypeScript program of the package: seconds, more on a loaded machine.
    this.timeout(300_000);
    let schema: Schema;
    before(() => {
        schema = componentSchema() as unknown as Schema;
    });

    it("lists every component under runner-fleet:index", () => {
        expect(schema.name).to.equal("runner-fleet");
        expect(Object.keys(schema.resources).sort()).to.deep.equal(COMPONENTS.map(c => `runner-fleet:index:${c}`).sort());
        for (const r of Object.values(schema.resources)) {
            expect(r.isComponent).to.equal(true);
        }
    });

    it("types and describes every input and output, and every field of every type it names", () => {
        const missing: string[] = [];
        const check = (where: string, p: Prop) => {
            if (!p.type && !p.$ref) {
                missing.push(`${where}: no type`);
            }
            if (p.$ref?.startsWith("#/types/") && !schema.types[decodeURIComponent(p.$ref.slice("#/types/".length))]) {
                missing.push(`${where}: names ${p.$ref}, which the schema does not have`);
            }
            for (const inner of [p.items, p.additionalProperties]) {
                if (inner) {
                    check(`${where}[]`, { ...inner, description: "element" });
                }
            }
            if (!p.description) {
                missing.push(`${where}: no description`);
            }
        };
        for (const [token, r] of Object.entries(schema.resources)) {
            expect(Object.keys(r.inputProperties ?? {}), `${token} inputs`).to.not.be.empty;
            expect(Object.keys(r.properties ?? {}), `${token} outputs`).to.not.be.empty;
            for (const [name, p] of Object.entries(r.inputProperties ?? {})) {
                check(`${token} input ${name}`, p);
            }
            for (const [name, p] of Object.entries(r.properties ?? {})) {
                check(`${token} output ${name}`, p);
            }
        }
        for (const [token, t] of Object.entries(schema.types)) {
            for (const [name, p] of Object.entries(t.properties ?? {})) {
                check(`${token}.${name}`, p);
            }
        }
        expect(missing, missing.join("\n")).to.deep.equal([]);
    });

    it("gives RunnerFleet's config every setting, described by its one declaration", () => {
        const config = schema.types["runner-fleet:index:RunnerFleetConfig"];
        expect(Object.keys(config.properties ?? {}).sort()).to.deep.equal([...settingKeys()].sort());
        const declared = z.toJSONSchema(fleetSchema(), { io: "input", unrepresentable: "any" }) as { properties: Record<string, { description?: string }> };
        for (const key of settingKeys()) {
            expect(config.properties?.[key].description, key).to.satisfy((d: string) => d.startsWith(declared.properties[key].description ?? "?"));
        }
        const input = schema.resources["runner-fleet:index:RunnerFleet"].inputProperties ?? {};
        expect(input.config.$ref).to.equal("#/types/runner-fleet:index:RunnerFleetConfig");
        expect(schema.types["runner-fleet:index:AgentKind"].enum?.map(e => e.value)).to.deep.equal(["actuated", "github-runner"]);
    });

    it("takes the README's YAML example: components and inputs it has, and a fleet config without a problem", () => {
        const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        const block = /<!-- yaml-example:begin[^\n]*\n```yaml\n([\s\S]*?)```\n<!-- yaml-example:end -->/.exec(readme);
        expect(block, "README.md's yaml-example block").to.not.equal(null);
        const program = YAML.parse((block as RegExpExecArray)[1]) as { resources: Record<string, { type: string; properties: Record<string, unknown> }> };
        for (const [name, r] of Object.entries(program.resources)) {
            const component = schema.resources[r.type];
            expect(component, `${name}: ${r.type}`).to.not.equal(undefined);
            const inputs = component.inputProperties ?? {};
            expect(Object.keys(r.properties).filter(k => !(k in inputs)), `${name}'s properties the schema has not`).to.deep.equal([]);
            expect((component.requiredInputs ?? []).filter(k => !(k in r.properties)), `${name}'s required inputs left out`).to.deep.equal([]);
        }
        const fleet = program.resources.fleet.properties;
        const { problems } = checkFleet(fleet.config as never, new Set(Object.keys(fleet.secrets as object)));
        expect(problems).to.deep.equal([]);
    });

    it("matches the snapshot (UPDATE_SNAPSHOTS=1 npm test after a change made on purpose)", () => {
        const text = `${JSON.stringify(schema, null, 2)}\n`;
        if (process.env.UPDATE_SNAPSHOTS === "1") {
            fs.writeFileSync(SNAPSHOT, text);
        }
        expect(text === fs.readFileSync(SNAPSHOT, "utf8"), "the component package's schema changed: check the change, then UPDATE_SNAPSHOTS=1 npm test and a CHANGELOG entry").to.equal(true);
    });
});
