// runner-fleet: the package entry. What a platform repo composes, listed by
// name, folder by folder (README "Layout"); everything else is internal.
// Loading it registers the built-in host sources.

// The whole fleet, its check, and the program that builds it from stack config.
export { RunnerFleet, checkFleet, fleetProblems, fleetProgram, loadFleetConfig, FLEET_RESOURCE_NAME } from "./fleet";
export type { RunnerFleetArgs, FleetHost, FleetHostOutput } from "./fleet";

// Where hosts come from: one file per source, behind one contract.
export {
    EquinixMetalHost, EQUINIX_OS, HetznerCloudHost, HETZNER_IMAGE, sshOnlyRules, ExistingHost,
    connectMachine, hostOutputRecord, defineHostSource, hostSourceComponent, sshConnection, waitForSsh,
} from "./hosts";
export type {
    EquinixMetalHostArgs, HetznerCloudHostArgs, ExistingHostArgs, HostCreation, HostSourceComponent, RunnerHost, SshArgs, ProvisionedMachine,
    HostComponent, HostOutputs, HostBasics, ConnectionArgs,
} from "./hosts";

// What runs on a host, given any RunnerHost.
export { RunnerAgent, agentProblems, RegistryMirror, mirrorProblems, HostMetrics, metricsProblems, RegistrationWatch } from "./on-host";
export type { RunnerAgentArgs, AgentSecrets, RegistryMirrorArgs, HostMetricsArgs, RegistrationWatchArgs } from "./on-host";

// The GitHub organization and the build workflow.
export {
    GithubOrgWiring, githubOrgProblems, ACTIONS, BuildWorkflow, buildWorkflow, dockerfileOf, fleetRouting, publishCondition, renderWorkflowYaml,
    DEFAULT_WORKFLOW_PATH, fleetVariables, runsOnSnippets, runnerVariable, mirrorVariable,
} from "./github";
export type { GithubOrgWiringArgs, RunnerGroupArgs, BuildWorkflowArgs, BuildWorkflowOptions, BuildPlatform, Provenance } from "./github";

// The settings: declarations, parsing, rules, the host resolved once, plans and prices, host sources.
export {
    fleetSchema, hostSchema, settingKeys, AgentSchema, MirrorSchema, MetricsSchema, GithubSchema, WorkflowSchema, EndpointsSchema,
    DEFAULTS, SECRET_KEYS, AGENT_KINDS, VISIBILITIES, setting, checked, matches,
    ParsedFleetConfig, parseFleetConfig, fleetWarnings, hostProblems, resolveFleet, resolveHost, requiredSecrets, fleetMetricsTargets,
    labelProblem, FleetConfigError, formatProblems, ARCHES, MIRROR_REGISTRY_RELEASE, catalog, findPlan, hostSource, hostSources, registerHostSource,
} from "./spec";
export type {
    FleetConfigInput, FleetSpec, HostSpec, AgentSpec, MirrorSpec, MetricsSpec, GithubSpec, WorkflowSpec, EndpointsSpec, SettingMeta,
    ResolvedFleet, ResolvedHost, MetricsTarget, MetricsTargetLabels, Problem, CatalogEntry, MirrorRegistryRelease, ReleaseSha256, HostSource, RegionField,
    RunnerFleetConfig, FleetHostConfig, AgentConfig, MirrorConfig, MirrorReleaseConfig, MetricsConfig, GithubConfig, WorkflowConfig, EndpointsConfig,
} from "./spec";
// The choices, as enums every Pulumi language gets (values and types of the same name).
export { Arch, AgentKind, Visibility, GithubPlan, BuildCache, HostProvider, WorkflowRunners } from "./spec";
export { MirrorMode } from "./remote";

// The drift contract, for tools that read a stack's `drift` output.
export { readDriftTarget } from "./remote";
export type { DriftTarget } from "./remote";
