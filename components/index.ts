// runner-fleet: the package entry. What a platform repo composes, listed by
// name; everything else is internal.

// The whole fleet, and the program that builds it from stack config.
export { RunnerFleet, checkFleet } from "./fleet/fleet";
export type { RunnerFleetArgs, FleetHost, FleetHostOutput } from "./fleet/fleet";
export { fleetProgram, loadFleetConfig, FLEET_RESOURCE_NAME } from "./fleet/program";

// Where hosts come from, behind one contract.
export { EquinixMetalHost, EQUINIX_OS } from "./hosts/equinix-metal";
export type { EquinixMetalHostArgs } from "./hosts/equinix-metal";
export { HetznerCloudHost, HETZNER_IMAGE, sshOnlyRules } from "./hosts/hetzner-cloud";
export type { HetznerCloudHostArgs } from "./hosts/hetzner-cloud";
export { ExistingHost } from "./hosts/existing";
export type { ExistingHostArgs } from "./hosts/existing";
export { HostComponent, sshConnection, waitForSsh } from "./hosts/host";
export type { RunnerHost, SshArgs, ProvisionedMachine } from "./hosts/host";

// What runs on a host, given any RunnerHost.
export { RunnerAgent, agentProblems } from "./on-host/agent";
export type { RunnerAgentArgs, AgentSecrets } from "./on-host/agent";
export { RegistryMirror, mirrorProblems } from "./on-host/registry-mirror";
export type { RegistryMirrorArgs } from "./on-host/registry-mirror";

// The GitHub organization and the build workflow.
export { GithubOrgWiring, githubOrgProblems } from "./github/github-org";
export type { GithubOrgWiringArgs, RunnerGroupArgs } from "./github/github-org";
export { ACTIONS, BuildWorkflow, buildWorkflow, dockerfileOf, fleetRouting, publishCondition, renderWorkflowYaml, DEFAULT_WORKFLOW_PATH } from "./github/workflow";
export type { BuildCache, BuildWorkflowArgs, BuildWorkflowOptions, BuildPlatform, Provenance } from "./github/workflow";

// The settings: declarations, parsing, validation, what a fleet amounts to.
export {
    FleetSchema, HostSchema, AgentSchema, MirrorSchema, GithubSchema, WorkflowSchema, EndpointsSchema,
    DEFAULTS, SECRET_KEYS, SETTING_KEYS, AGENT_KINDS, VISIBILITIES,
} from "./spec/settings";
export type {
    FleetConfigInput, FleetSpec, HostSpec, AgentSpec, MirrorSpec, GithubSpec, WorkflowSpec, EndpointsSpec, AgentKind, Visibility,
} from "./spec/settings";
export { ParsedFleetConfig, parseFleetConfig } from "./spec/parse";
export { fleetProblems, fleetWarnings, hostProblems } from "./spec/rules";
export { summarizeFleet, requiredSecrets } from "./spec/resolve";
export type { FleetSummary, HostSummary } from "./spec/resolve";
export { fleetVariables, runsOnSnippets, runnerVariable, mirrorVariable } from "./github/routing";
export { labelProblem } from "./spec/labels";
export { FleetConfigError, formatProblems } from "./spec/problems";
export type { Problem } from "./spec/problems";

// Plans, server types and prices.
export { ARCHES, CATALOG, DEFAULT_PLANS, HOST_PROVIDERS, MIRROR_REGISTRY_RELEASE, REGIONS, findPlan } from "./spec/catalog";
export type { Arch, CatalogEntry, HostProvider, MirrorRegistryRelease } from "./spec/catalog";

// The drift contract, for tools that read a stack's `drift` output.
export { readDriftTarget } from "./remote/drift-contract";
export type { DriftTarget } from "./remote/drift-contract";
