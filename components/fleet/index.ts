// The top: RunnerFleet (every host from its source, an agent, a mirror and the
// metrics exporter on each, the GitHub wiring once), its check, and the stack
// program.

export { RunnerFleet } from "./fleet";
export type { RunnerFleetArgs, FleetHost, FleetHostOutput } from "./fleet";
export { checkFleet, fleetProblems } from "./check";
export { fleetProgram, loadFleetConfig, FLEET_RESOURCE_NAME } from "./program";
