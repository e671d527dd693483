// What runs on a host, given any RunnerHost: the runner agent (actuated or the
// plain GitHub runner), the Docker Hub mirror and the metrics exporter, and
// the commands that carry them there (on the host over SSH, or where pulumi
// runs).

export { RunnerAgent, agentProblems } from "./agent";
export type { RunnerAgentArgs, AgentSecrets } from "./agent";
export { RegistryMirror, mirrorProblems } from "./registry-mirror";
export type { RegistryMirrorArgs } from "./registry-mirror";
export { HostMetrics, metricsProblems } from "./host-metrics";
export type { HostMetricsArgs } from "./host-metrics";
export { RegistrationWatch } from "./registration-watch";
export type { RegistrationWatchArgs } from "./registration-watch";
