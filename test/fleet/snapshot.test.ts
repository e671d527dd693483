// What the program registers for recorded stacks, compared with a snapshot:
// every resource (type, name, parent, inputs with secrets masked, what it
// waits for) and every stack output. A refactor must leave it unchanged, so a
// user's next `pulumi up` changes nothing on any host; a change of behaviour
// made on purpose updates the snapshot (UPDATE_SNAPSHOTS=1 npm test) and says
// in CHANGELOG.md what it does to live hosts.

import { expect } from "chai";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { fleetProgram } from "../../components/fleet/program";
import { RecordedResource, valueOf } from "../../components/testing/mock-runtime";
import { readStackConfig } from "../../scripts/plan";
import { REPO_ROOT, record } from "../harness";

const SNAPSHOTS = path.join(REPO_ROOT, "test", "snapshots");

/** A second stack beside the example: the settings the example leaves at their defaults. */
function variantConfig(): { config: Record<string, string>; secretKeys: string[] } {
    const base = readStackConfig(REPO_ROOT, "example");
    const config: Record<string, string> = { ...base.config };
    const set = (key: string, value: unknown) => { config[`runner-fleet:${key}`] = JSON.stringify(value); };
    set("github", { org: "variant-org", manage: false, runnerGroup: "builders" });
    set("agent", { kind: "github-runner", labels: ["native"], instances: 2, ephemeral: false, installDocker: false, runnerVersion: "2.328.0", labelPrefix: "fleet" });
    set("mirror", { enabled: true, bindAddress: "172.17.0.1:5000", upstream: "https://mirror.example.com" });
    set("metrics", { enabled: true, bindAddress: "10.0.0.2:9100" });
    set("endpoints", { githubUrl: "https://ghe.example.com", githubApi: "https://ghe.example.com/api/v3" });
    set("hosts", [
        { name: "x86-1", provider: "existing", arch: "amd64", kvm: true, agent: "actuated", address: "192.0.2.10", user: "ubuntu", port: 2222, privateKeySecret: "x86Key", vmDevice: "/dev/nvme1n1", labels: ["big"] },
        { name: "arm-1", provider: "hetzner-cloud", location: "hel1" },
        { name: "x86-2", provider: "equinix-metal", arch: "amd64", metro: "sv", tags: ["team-a"], hardwareReservationId: "next-available" },
    ]);
    set("workflow", { image: "ghcr.io/variant-org/app", context: "app", dockerfile: "app/Dockerfile", tags: ["latest"], branches: ["main", "release"], provenance: false });
    config["runner-fleet:x86Key"] = "[secret runner-fleet:x86Key]";
    return { config, secretKeys: [...base.secretKeys, "runner-fleet:x86Key"] };
}

const STACKS: Record<string, () => { config: Record<string, string>; secretKeys: string[] }> = {
    example: () => readStackConfig(REPO_ROOT, "example"),
    variant: variantConfig,
};

function shortUrn(urn: string): string {
    return urn.split("::").slice(2).join("::");
}

/** Long texts (the command lines that carry whole scripts) as their hash: any change still shows. */
function compact(v: unknown): unknown {
    if (typeof v === "string" && v.length > 300) {
        return `[${v.length} chars, sha256 ${createHash("sha256").update(v).digest("hex")}]`;
    }
    if (Array.isArray(v)) {
        return v.map(compact);
    }
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compact(x)]));
    }
    return v;
}

function describeResource(r: RecordedResource): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    for (const k of Object.keys(r.inputs).sort()) {
        // A dynamic resource's provider, serialized by the SDK (its text follows the SDK and Node, not the program):
        // what it does is tested by itself (test/on-host/registration-watch.test.ts).
        inputs[k] = r.secretInputs.has(k) ? "[secret]" : k === "__provider" ? "[serialized dynamic provider]" : compact(r.inputs[k]);
    }
    return {
        urn: shortUrn(r.urn),
        parent: r.parent ? shortUrn(r.parent) : "",
        inputs,
        dependencies: [...r.dependencies].map(shortUrn).sort(),
        additionalSecretOutputs: [...r.additionalSecretOutputs].sort(),
        customTimeouts: r.customTimeouts,
    };
}

async function snapshotOf(stack: string): Promise<unknown> {
    const { config, secretKeys } = STACKS[stack]();
    const { resources, result } = await record(() => fleetProgram(), { project: "runner-fleet", stack, config, secretKeys });
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(result).sort(([a], [b]) => a.localeCompare(b))) {
        outputs[k] = compact(await valueOf(v as never));
    }
    return { resources: resources.map(describeResource).sort((a, b) => String(a.urn).localeCompare(String(b.urn))), outputs };
}

describe("the recorded plan snapshots", function () {
    this.timeout(30000);
    for (const stack of Object.keys(STACKS)) {
        it(`stack ${stack}: the same resources, inputs, triggers and outputs as recorded`, async () => {
            const file = path.join(SNAPSHOTS, `${stack}.json`);
            const actual = JSON.parse(JSON.stringify(await snapshotOf(stack)));
            if (process.env.UPDATE_SNAPSHOTS === "1") {
                fs.mkdirSync(SNAPSHOTS, { recursive: true });
                fs.writeFileSync(file, `${JSON.stringify(actual, null, 1)}\n`);
            }
            const expected = JSON.parse(fs.readFileSync(file, "utf8"));
            expect(actual).to.deep.equal(expected);
        });
    }
});
