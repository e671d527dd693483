// The build workflow as the YAML file a repository holds: the typed model
// rendered with a YAML library, with the comments that explain it to whoever
// opens the file.

import * as YAML from "yaml";
import { buildWorkflow, hostedRunners } from "./workflow-model";
import { BuildWorkflowOptions, provenanceInput } from "./workflow-options";

const PROVENANCE_COMMENT: Record<"off" | "on", string> = {
    off: [
        " Provenance attestations are off: with them each per-arch push becomes an",
        " OCI image index holding the image and an attestation manifest (platform",
        " unknown/unknown), and so does the merged list; older Docker clients and",
        " some registries cannot pull that. Set workflow.provenance to min or max",
        " (max records the build's arguments: keep secrets out of them).",
    ].join("\n"),
    on: [
        " Provenance attestations are on (workflow.provenance): each per-arch push",
        " is an OCI image index with an attestation manifest, which imagetools",
        " create carries into the merged list; older Docker clients and some",
        " registries cannot pull such an index.",
    ].join("\n"),
};

/** The workflow as YAML text, with the comments that explain it. */
export function renderWorkflowYaml(o: BuildWorkflowOptions): string {
    const wf = buildWorkflow(o);
    const doc = new YAML.Document(wf);
    doc.commentBefore = (hostedRunners(o) ? [
        ` Written by runner-fleet: builds ${o.image} natively per arch on the fleet's`,
        " runners, in parallel; on pushes to the branches and manual runs, pushes each",
        " image by digest (job publish), then merges the digests into one manifest",
        " list in the same repository. Pull requests build without pushing (job",
        " build), with a token that can write nothing. Runs that carry work from",
        ` outside the ${o.org} organization (forks, pull requests from forks) go to`,
        " GitHub's hosted runners instead (arm64 natively on ubuntu-24.04-arm in a",
        " public repository, else with QEMU), and nothing outside the organization's",
        " own repository logs in or publishes. The routing is about cost, not",
        " security: a fork can edit this file in its pull request. The runner group's",
        " repository access and the organization's approval of fork pull request",
        " workflows keep forks off the fleet.",
    ] : [
        ` Written by runner-fleet: builds ${o.image} natively per arch on the fleet's`,
        " runners, in parallel; on pushes to the branches and manual runs, pushes each",
        " image by digest (job publish), then merges the digests into one manifest",
        " list on the fleet. Pull requests build without pushing (job build).",
        " GitHub Enterprise Server has no hosted runners: runs that carry work from",
        ` outside the ${o.org} organization (forks) build nothing.`,
    ]).join("\n");
    for (const job of ["build", "publish"]) {
        const steps = doc.getIn(["jobs", job, "steps"], true) as YAML.YAMLSeq;
        steps.items.forEach(item => {
            const step = item as YAML.YAMLMap;
            const withMap = step.get("with", true) as YAML.YAMLMap | undefined;
            const pair = withMap?.items.find(p => YAML.isScalar(p.key) && p.key.value === "provenance");
            if (pair && YAML.isScalar(pair.key)) {
                pair.key.commentBefore = PROVENANCE_COMMENT[provenanceInput(o.provenance) === false ? "off" : "on"];
            }
        });
    }
    return doc.toString({ lineWidth: 0 });
}
