// runner-fleet: the package entry. What a platform repo composes, listed by
// name; everything else is internal.

// The whole fleet, and the program that builds it from stack config.
export { RunnerFleet, checkFleet } from "./fleet";
export type { RunnerFleetArgs, FleetHost, FleetHostOutput } from "./fleet";
export { fleetProgram, loadFleetConfig, FLEET_RESOURCE_NAME } from "./program";

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
export { RunnerAgent, agentProblems } from "./agent";
export type { RunnerAgentArgs, AgentSecrets } from "./agent";
export { RegistryMirror, mirrorProblems } from "./registry-mirror";
export type { RegistryMirrorArgs } from "./registry-mirror";

// The GitHub organization and the build workflow.
export { GithubOrgWiring, githubOrgProblems } from "./github-org";
export type { GithubOrgWiringArgs, RunnerGroupArgs } from "./github-org";
export { ACTIONS, BuildWorkflow, buildWorkflow, dockerfileOf, fleetRouting, publishCondition, renderWorkflowYaml, DEFAULT_WORKFLOW_PATH } from "./workflow";
export type { BuildCache, BuildWorkflowArgs, BuildWorkflowOptions, BuildPlatform, Provenance } from "./workflow";

// The settings: declarations, parsing, validation, what a fleet amounts to.
export {
    FleetSchema, HostSchema, AgentSchema, MirrorSchema, GithubSchema, WorkflowSchema, EndpointsSchema,
    DEFAULTS, SECRET_KEYS, SETTING_KEYS, AGENT_KINDS, VISIBILITIES,
} from "./settings";
export type {
    FleetConfigInput, FleetSpec, HostSpec, AgentSpec, MirrorSpec, GithubSpec, WorkflowSpec, EndpointsSpec, AgentKind, Visibility,
} from "./settings";
export { ParsedFleetConfig, parseFleetConfig } from "./parse";
export { fleetProblems, fleetWarnings, hostProblems } from "./validate";
export { summarizeFleet, requiredSecrets } from "./summary";
export type { FleetSummary, HostSummary } from "./summary";
export { fleetVariables, runsOnSnippets, runnerVariable, mirrorVariable } from "./routing";
export { labelProblem } from "./labels";
export { FleetConfigError, formatProblems } from "./problems";
export type { Problem } from "./problems";

// Plans, server types and prices.
export { ARCHES, CATALOG, DEFAULT_PLANS, HOST_PROVIDERS, MIRROR_REGISTRY_RELEASE, REGIONS, findPlan } from "./catalog";
export type { Arch, CatalogEntry, HostProvider, MirrorRegistryRelease } from "./catalog";

// The drift contract, for tools that read a stack's `drift` output.
export { readDriftTarget } from "./drift-contract";
export type { DriftTarget } from "./drift-contract";
