// The stack program: stack config -> RunnerFleet -> stack outputs. index.ts
// runs it; the offline plan runs the same function under mocks.

import * as pulumi from "@pulumi/pulumi";
import { loadFleetConfig } from "./config";
import { RunnerFleet } from "./fleet";

/** The fleet's resource name in every stack; changing it would replace every resource. */
export const FLEET_RESOURCE_NAME = "fleet";

export function fleetProgram() {
    const config = new pulumi.Config();
    const { spec, secrets } = loadFleetConfig(config);
    const fleet = new RunnerFleet(FLEET_RESOURCE_NAME, {
        config: spec,
        secrets,
        bootTimeoutMinutes: config.getNumber("bootTimeoutMinutes"),
    });
    return {
        hosts: fleet.hosts,
        labelsByArch: fleet.labelsByArch,
        estimatedMonthlyCost: fleet.estimatedMonthlyCost,
    };
}
