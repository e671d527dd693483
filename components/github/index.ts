// The GitHub side: the organization's secrets, variables and runner group,
// where jobs go (routing), and the split-per-architecture build workflow.
// Knows the settings, never where hosts come from.

export { GithubOrgWiring, githubOrgProblems } from "./github-org";
export type { GithubOrgWiringArgs, RunnerGroupArgs } from "./github-org";
export { ACTIONS, BuildWorkflow, buildWorkflow, dockerfileOf, fleetRouting, publishCondition, renderWorkflowYaml, DEFAULT_WORKFLOW_PATH } from "./workflow";
export type { BuildCache, BuildWorkflowArgs, BuildWorkflowOptions, BuildPlatform, Provenance } from "./workflow";
export { fleetVariables, runsOnSnippets, runnerVariable, mirrorVariable } from "./routing";
export type { RunsOn } from "./routing";
