// The GitHub side: the organization's secrets, variables and runner group,
// where jobs go (routing), and the split-per-architecture build workflow.
// Knows the settings, never where hosts come from.

export { GithubOrgWiring, githubOrgProblems } from "./github-org";
export type { GithubOrgWiringArgs, RunnerGroupArgs } from "./github-org";
export { DEFAULT_WORKFLOW_PATH, dockerfileOf } from "./workflow-options";
export type { BuildCache, BuildWorkflowOptions, BuildPlatform, Provenance } from "./workflow-options";
export { ACTIONS, buildWorkflow, fleetRouting, publishCondition } from "./workflow-model";
export { renderWorkflowYaml } from "./workflow-yaml";
export { BuildWorkflow } from "./workflow";
export type { BuildWorkflowArgs } from "./workflow";
export { fleetVariables, runsOnSnippets, runnerVariable, mirrorVariable } from "./routing";
export type { RunsOn } from "./routing";
