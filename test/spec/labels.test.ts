// The label scheme: what each kind of host carries and what a job names, for
// every kind, arch and size; and the combinations the config refuses.

import { expect } from "chai";
import { ARCHES } from "../../components/spec/catalog";
import { checkFleet } from "../../components/fleet/check";
import { ACTUATED_ARCH_LABEL, RunnerKind, agentLabels, jobLabels, kindLabelProblem } from "../../components/spec/labels";
import { FleetConfigInput } from "../../components/spec/settings";
import { resolveFleet } from "../../components/spec/resolve";
import { parseFleetConfig } from "../../components/spec/parse";

const KINDS: RunnerKind[] = ["actuated", "github-runner"];
const SIZES = [undefined, "8cpu-16gb", "0.5cpu-2gb"];

describe("the label scheme", () => {
    const expected: Record<string, string> = {
        "actuated arm64 -": "actuated-arm64", "actuated arm64 8cpu-16gb": "actuated-arm64-8cpu-16gb", "actuated arm64 0.5cpu-2gb": "actuated-arm64-0.5cpu-2gb",
        "actuated amd64 -": "actuated", "actuated amd64 8cpu-16gb": "actuated-8cpu-16gb", "actuated amd64 0.5cpu-2gb": "actuated-0.5cpu-2gb",
        "github-runner arm64 -": "runner-fleet-arm64", "github-runner arm64 8cpu-16gb": "runner-fleet-arm64", "github-runner arm64 0.5cpu-2gb": "runner-fleet-arm64",
        "github-runner amd64 -": "runner-fleet-amd64", "github-runner amd64 8cpu-16gb": "runner-fleet-amd64", "github-runner amd64 0.5cpu-2gb": "runner-fleet-amd64",
    };
    for (const kind of KINDS) {
        for (const arch of ARCHES) {
            for (const size of SIZES) {
                const key = `${kind} ${arch} ${size ?? "-"}`;
                it(`${key}: a job names ${expected[key]}; the host enrolls with its unsized arch label`, () => {
                    expect(jobLabels(kind, arch, "runner-fleet", ["fast"], size)).to.deep.equal([expected[key], "fast"]);
                    const enrolled = agentLabels(kind, arch, "runner-fleet", ["fast"], ["big"]);
                    expect(enrolled).to.deep.equal([kind === "actuated" ? ACTUATED_ARCH_LABEL[arch] : `runner-fleet-${arch}`, "fast", "big"]);
                    // The size shapes what jobs ask for, never what hosts enroll with.
                    expect(enrolled.some(l => /cpu-/.test(l))).to.equal(false);
                    if (kind === "github-runner") {
                        expect([...enrolled, ...jobLabels(kind, arch, "runner-fleet", [], size)].some(l => l.startsWith("actuated"))).to.equal(false);
                    }
                });
            }
        }
    }

    it("has no actuated-amd64 anywhere", () => {
        for (const kind of KINDS) {
            for (const arch of ARCHES) {
                for (const size of SIZES) {
                    expect([...agentLabels(kind, arch, "runner-fleet", []), ...jobLabels(kind, arch, "runner-fleet", [], size)]).to.not.include("actuated-amd64");
                }
            }
        }
    });

    it("tells which labels a host of a kind and arch may not carry", () => {
        expect(kindLabelProblem("actuated-arm64", "github-runner", "arm64")).to.contain("plain GitHub-runner host");
        expect(kindLabelProblem("Actuated", "github-runner", "amd64")).to.contain("starts with \"actuated\"");
        expect(kindLabelProblem("gpu", "github-runner", "amd64")).to.equal(undefined);
        expect(kindLabelProblem("actuated-amd64", "actuated", "amd64")).to.contain("there is no actuated-amd64");
        expect(kindLabelProblem("actuated-arm64", "actuated", "amd64")).to.contain("actuated on x86");
        expect(kindLabelProblem("actuated-arm64-8cpu-16gb", "actuated", "arm64")).to.contain("a job asks for a size");
        expect(kindLabelProblem("actuated-arm64", "actuated", "arm64")).to.equal(undefined);
        expect(kindLabelProblem("actuated", "actuated", "amd64")).to.equal(undefined);
        expect(kindLabelProblem("gpu", "actuated", "arm64")).to.equal(undefined);
    });
});

function fleet(over: Partial<FleetConfigInput> & { hosts: FleetConfigInput["hosts"] }): FleetConfigInput {
    return { github: { org: "example-org" }, ...over } as FleetConfigInput;
}
const SECRETS = new Set(["sshPrivateKey", "actuatedLicense", "actuatedToken", "githubRunnerToken", "imageRegistryToken"]);
const robot = { name: "arm-1", provider: "existing" as const, plan: "rx170", address: "192.0.2.1" };
const x86 = { name: "x86-1", provider: "existing" as const, arch: "amd64" as const, kvm: true, address: "192.0.2.2" };
const plain = { name: "plain-1", provider: "existing" as const, arch: "arm64" as const, kvm: false, agent: "github-runner" as const, address: "192.0.2.3" };

describe("labels in the config", () => {
    const problems = (input: FleetConfigInput) => checkFleet(input, SECRETS).problems;
    const paths = (input: FleetConfigInput) => problems(input).map(p => p.path);

    it("refuses an actuated* label on a plain host, with the field and the fix", () => {
        const p = problems(fleet({ hosts: [{ ...plain, labels: ["actuated-arm64"] }] }));
        expect(p.map(x => x.path)).to.deep.equal(["hosts[0].labels[0]"]);
        expect(p[0].fix).to.contain("does not start with actuated");
    });

    it("refuses an actuated arch label actuated would not match, and a size on a host", () => {
        expect(paths(fleet({ hosts: [{ ...x86, labels: ["actuated-amd64"] }] }))).to.deep.equal(["hosts[0].labels[0]"]);
        expect(paths(fleet({ hosts: [{ ...robot, labels: ["actuated-arm64-8cpu-16gb"] }] }))).to.deep.equal(["hosts[0].labels[0]"]);
        expect(paths(fleet({ hosts: [{ ...robot, labels: ["actuated-arm64", "gpu"] }] }))).to.deep.equal([]);
    });

    it("refuses an actuated* labelPrefix and fleet-wide actuated* labels", () => {
        expect(paths(fleet({ hosts: [plain], agent: { labelPrefix: "actuated" } }))).to.deep.equal(["agent.labelPrefix"]);
        expect(paths(fleet({ hosts: [plain], agent: { labels: ["actuated-arm64"] } }))).to.deep.equal(["agent.labels[0]"]);
    });

    it("checks agent.vmSize's form and that the fleet has an actuated host to size", () => {
        expect(paths(fleet({ hosts: [robot], agent: { vmSize: "8 cores" } }))).to.deep.equal(["agent.vmSize"]);
        expect(paths(fleet({ hosts: [plain], agent: { vmSize: "8cpu-16gb" } }))).to.deep.equal(["agent.vmSize"]);
        expect(paths(fleet({ hosts: [robot], agent: { vmSize: "8cpu-16gb" } }))).to.deep.equal([]);
    });

    it("refuses a workflow that insists on a kind an arch lacks", () => {
        const p = problems(fleet({ hosts: [robot, { ...plain, arch: "amd64", name: "plain-x86" }], workflow: { image: "docker.io/example-org/app", registryUsername: "example-pusher", runners: "actuated" } }));
        expect(p.map(x => [x.path, x.message])).to.deep.equal([["workflow.runners", "is actuated, and the fleet has no actuated host for amd64"]]);
    });

    it("prefers the isolated kind per arch and shows both kinds", () => {
        const spec = parseFleetConfig(fleet({ hosts: [robot, plain, { ...plain, arch: "amd64", name: "plain-x86" }], agent: { vmSize: "4cpu-8gb" } })).spec!;
        expect(resolveFleet(spec).labelsByArch).to.deep.equal({
            arm64: { actuated: ["actuated-arm64-4cpu-8gb"], "github-runner": ["runner-fleet-arm64"], preferred: "actuated" },
            amd64: { "github-runner": ["runner-fleet-amd64"], preferred: "github-runner" },
        });
    });
});
