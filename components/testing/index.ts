// runner-fleet/testing: what a platform repository needs to unit-test its
// own program that uses runner-fleet, under Pulumi's mocks, with no engine,
// no credentials and no network. The mocks answer what the components ask of
// providers: the registration token the operator-side step mints for a plain
// runner host (a command:local:Command's stdout), GitHub's repository lookup,
// and plausible addresses for new servers.
//
//   import { record } from "runner-fleet/testing";
//   const { resources } = await record(() => myProgram(), { project: "platform", stack: "ci" });
//
// or, with Pulumi's own pulumi.runtime.setMocks: pulumi.runtime.setMocks(fleetMocks(), "platform", "ci").

import * as pulumi from "@pulumi/pulumi";
import { MockRunOptions, MockRuntime, RecordedResource, Recording, defaultCalls, defaultOutputs } from "./mock-runtime";

export { MINTED_REGISTRATION_TOKEN, MockRuntime, defaultCalls, defaultOutputs, valueOf } from "./mock-runtime";
export type { MockRunOptions, RecordedResource, Recording } from "./mock-runtime";

/**
 * Runs `build` (your program, or part of it) under a fresh recording mock
 * runtime, waits until every registration is answered, and returns every
 * resource registered (type, name, parent, inputs, which inputs are secret,
 * dependencies), the provider calls, and what `build` returned.
 */
export async function record<T>(build: () => T, options: Partial<MockRunOptions> = {}): Promise<Recording & { result: T }> {
    const runtime = new MockRuntime({ project: "project", stack: "test", ...options }).install();
    const result = build();
    await runtime.settle();
    return { ...runtime.recording(), result };
}

/** Mocks for pulumi.runtime.setMocks that answer runner-fleet's provider calls; yours are tried first. */
export function fleetMocks(own: Partial<pulumi.runtime.Mocks> = {}): pulumi.runtime.Mocks {
    return {
        newResource: args => own.newResource?.(args) ?? {
            id: args.custom === false ? undefined : `${args.name}-id`,
            state: { ...args.inputs, ...defaultOutputs(args.type, args.name, args.inputs as Record<string, unknown>) },
        },
        call: args => {
            if (own.call) {
                return own.call(args);
            }
            const answer = defaultCalls[args.token];
            if (!answer) {
                throw new Error(`runner-fleet/testing: no answer for provider function ${args.token}; pass your own call to fleetMocks`);
            }
            return answer(args.inputs as Record<string, unknown>);
        },
    };
}

/** The resources of one type. */
export function byType(resources: readonly RecordedResource[], type: string): RecordedResource[] {
    return resources.filter(r => r.type === type);
}
