// npm run examples: writes examples/workflows/, the build workflow as
// runner-fleet renders it for two fleets, so users can read what they get.
// A test checks the files are up to date.

import * as fs from "fs";
import * as path from "path";
import { renderWorkflowYaml } from "../components/github/workflow-yaml";

/** The examples, by file name: a mixed fleet and a single-arch one. */
export const EXAMPLE_WORKFLOWS: Record<string, () => string> = {
    // arm64 on actuated microVMs, amd64 on a plain runner host whose mirror listens on the Docker bridge.
    "mixed-fleet.yml": () => renderWorkflowYaml({
        org: "example-org", image: "docker.io/example-org/app", context: "app", platforms: [
            { arch: "arm64", labels: ["actuated-arm64-8cpu-32gb"], actuated: true },
            { arch: "amd64", labels: ["runner-fleet-amd64"], actuated: false, mirror: "172.17.0.1:5000" },
        ],
    }),
    // One arch only, pushed to ghcr.io with the job's token, provenance on.
    "single-arch.yml": () => renderWorkflowYaml({
        org: "example-org", image: "ghcr.io/example-org/app", provenance: "min", tags: ["latest", "${{ github.sha }}"],
        platforms: [{ arch: "arm64", labels: ["actuated-arm64"], actuated: true }],
    }),
};

if (require.main === module) {
    const dir = path.resolve(__dirname, "..", "..", "examples", "workflows");
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, render] of Object.entries(EXAMPLE_WORKFLOWS)) {
        fs.writeFileSync(path.join(dir, file), render());
        console.log(`wrote examples/workflows/${file}`);
    }
}
