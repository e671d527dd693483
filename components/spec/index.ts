// The settings and the pure model under everything else: the declarations
// (one table feeding parser, defaults, README and JSON Schema), parsing with
// every problem at once, the cross-field rules, the catalog's conventions, the
// host-source registry, and the host resolved once. No resources.

export {
    fleetSchema, hostSchema, settingKeys, AgentSchema, MirrorSchema, MetricsSchema, GithubSchema, WorkflowSchema, EndpointsSchema,
    DEFAULTS, SECRET_KEYS, AGENT_KINDS, VISIBILITIES, AgentKind, Visibility, GithubPlan, BuildCache,
} from "./settings";
export type {
    FleetConfigInput, FleetSpec, HostSpec, AgentSpec, MirrorSpec, MetricsSpec, GithubSpec, WorkflowSpec, EndpointsSpec, SettingMeta,
} from "./settings";
export { HostProvider, WorkflowRunners } from "./config-types";
export type {
    RunnerFleetConfig, FleetHostConfig, AgentConfig, MirrorConfig, MirrorReleaseConfig, MetricsConfig, GithubConfig, WorkflowConfig, EndpointsConfig,
} from "./config-types";
export { setting, checked, matches } from "./settings";
export { ParsedFleetConfig, parseFleetConfig } from "./parse";
export { fleetSettingsProblems, fleetWarnings, hostProblems } from "./rules";
export { resolveFleet, resolveHost, requiredSecrets, hostPrice, monthlyTotals, fleetMetricsTargets, metricsTargetOf } from "./resolve";
export type { ResolvedFleet, ResolvedHost, ArchRunners, MetricsTarget, MetricsTargetLabels } from "./resolve";
export { labelProblem } from "./labels";
export { FleetConfigError, formatProblems } from "./problems";
export type { Problem } from "./problems";
export { ARCHES, Arch, MIRROR_REGISTRY_RELEASE } from "./catalog";
export type { CatalogEntry, MirrorRegistryRelease, ReleaseSha256 } from "./catalog";
export { catalog, findPlan, hostSource, hostSources, registerHostSource } from "./host-sources";
export type { HostSource, RegionField } from "./host-sources";
export { FLEET_METRICS, FLEET_METRIC_LABELS, FLEET_SCRAPE_JOB, JOB_DURATION_BUCKETS, fleetMetricOf, seriesNamesOf, type FleetMetric, type FleetMetricType } from "./metrics";
