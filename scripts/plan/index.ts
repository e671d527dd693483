// The offline plan (`runner-fleet plan`): read the stack (stack.ts), run the
// program under mocks (run.ts), group what it registered by host and fleet
// (group.ts), and print it (format.ts).

export { readStackConfig, secretPlaceholder, UsageError } from "./stack";
export type { StackConfig } from "./stack";
export type { Plan, PlanFleet, PlanHostGroup, PlanResource } from "./model";
export { NotAProgramError, planStack } from "./run";
export { groupPlan } from "./group";
export { formatPlan } from "./format";
