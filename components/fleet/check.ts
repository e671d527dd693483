// The fleet check: every problem of a fleet's input at once, before anything
// is registered. The settings' own rules (spec/rules.ts), then the GitHub
// organization's and the workflow's (github/), which see the hosts through
// the resolved model. RunnerFleet and the offline plan both run this.

import "../hosts"; // registers the built-in host sources the settings are parsed against
import { githubOrgProblems } from "../github/github-org";
import { buildPlatforms, fleetSecretNames, fleetVariables } from "../github/routing";
import { workflowProblems } from "../github/workflow-options";
import { ParsedFleetConfig, parseFleetConfig } from "../spec/parse";
import { Problem, Problems, within } from "../spec/problems";
import { pushesWithOwnLogin, resolveFleet } from "../spec/resolve";
import { afterFieldProblems, fleetSettingsProblems } from "../spec/rules";
import { FleetConfigInput, FleetSpec } from "../spec/settings";
import { RunnerFleetConfig } from "../spec/config-types";

/** Every problem of a parsed fleet spec that its fields' own checks cannot see. `secretsPresent` names the secret keys that are set. */
export function fleetProblems(spec: FleetSpec, secretsPresent: ReadonlySet<string>): Problem[] {
    const p = new Problems();
    p.addAll(fleetSettingsProblems(spec, secretsPresent));
    const hostsValid = p.list.length === 0;
    // Resolved once: the organization's variables and the workflow's platforms both come from the hosts.
    const resolved = hostsValid ? resolveFleet(spec) : undefined;
    p.addAll(within("github", githubOrgProblems({
        org: spec.github.org,
        visibility: spec.github.visibility,
        plan: spec.github.plan,
        // What the wiring would create (the variables need the hosts resolved; nothing without github.manage).
        secrets: spec.github.manage ? fleetSecretNames(spec) : {},
        variables: spec.github.manage && resolved ? fleetVariables(spec, resolved) : {},
        repositories: spec.github.repositories,
        runnerGroup: { name: spec.github.runnerGroup, workflows: spec.github.workflows, allowPublicRepositories: spec.github.allowPublicRepositories },
    })));
    if (spec.workflow) {
        if (spec.workflow.registryUsername !== undefined && spec.workflow.image.startsWith("ghcr.io/")) {
            p.add("workflow.registryUsername", "is not used: pushes to ghcr.io log in with the job's own token", "remove workflow.registryUsername");
        }
        if (pushesWithOwnLogin(spec) && spec.workflow.registryUsername === undefined) {
            p.add("workflow.registryUsername", `is not set, and the workflow pushes to ${spec.workflow.image.split("/")[0]} with a login of its own (only ghcr.io takes the job's token)`,
                "set workflow.registryUsername and the secret imageRegistryToken (a token that may push the image), or publish to ghcr.io");
        }
        if (spec.workflow.repositories.length > 0 && !spec.github.manage) {
            p.add("workflow.repositories", "committing the workflow needs the GitHub provider, and github.manage is false", "set github.manage: true, or drop workflow.repositories and commit the rendered workflow (the workflowYaml output) yourself");
        }
        // The platforms come from the hosts; with broken hosts, only the workflow's own settings are checked.
        const platforms = resolved ? buildPlatforms(spec, resolved) : [];
        p.addAll(within("workflow", workflowProblems({ ...spec.workflow, org: spec.github.org, platforms })
            .filter(x => hostsValid || x.path !== "")));
    }
    return p.list;
}

/** Parses (unless parsed) and validates a fleet's input: the spec, or every problem at once. */
export function checkFleet(config: RunnerFleetConfig | FleetConfigInput | ParsedFleetConfig, secretsPresent: ReadonlySet<string>): { spec?: FleetSpec; problems: Problem[] } {
    const parsed = config instanceof ParsedFleetConfig ? config : parseFleetConfig(config as FleetConfigInput);
    const problems = afterFieldProblems(parsed.problems, parsed.spec ? fleetProblems(parsed.spec, secretsPresent) : []);
    return { spec: problems.length === 0 ? parsed.spec : undefined, problems };
}
