// The component package's entry, as the schema analyzer reads it (package.json
// "main" index.js maps to this file): the components every Pulumi language
// gets, each from the one class TypeScript programs use.

export { RunnerFleet } from "../components/fleet/fleet";
export { EquinixMetalHost } from "../components/hosts/equinix-metal";
export { HetznerCloudHost } from "../components/hosts/hetzner-cloud";
export { ExistingHost } from "../components/hosts/existing";
export { RunnerAgent } from "../components/on-host/agent";
export { RegistryMirror } from "../components/on-host/registry-mirror";
export { HostMetrics } from "../components/on-host/host-metrics";
export { GithubOrgWiring } from "../components/github/github-org";
export { BuildWorkflow } from "../components/github/workflow";
