// The component package's provider: the Node.js SDK's component provider
// (schema inferred from index.ts by its analyzer; construct calls the class)
// with one step before each construct: the inputs as the classes take them.
//
// The SDK hands a construct every input that depends on another resource as
// an Output, plain or not (provider/server.ts deserializeInputs: any input
// with dependencies, or holding output values, is wrapped or kept as one).
// A YAML program's `name: ${host.name}`, typed plain in the schema, would so
// reach RunnerAgent as an Output, where a string is needed before anything is
// registered (labels, the arch check, the host's name in every command). So
// every known value is taken out of its Output; a secret one stays secret (a
// secret Output of the value), and an unknown one (a preview, before its
// resource exists) stays as it came. The dependencies an Output carried are
// kept by the components' own: every step on a host follows its `ready`.

import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider";
import * as path from "path";
import * as components from "./index";

/** The internals of an SDK Output this step reads: whether its value is known and secret, and the value. */
interface OutputState {
    readonly isKnown: Promise<boolean>;
    readonly isSecret: Promise<boolean>;
    promise(withUnknowns?: boolean): Promise<unknown>;
}

/**
 * A construct's inputs as a program in TypeScript would pass them: known
 * values in place of their Outputs (deeply: arrays, objects), secret ones as
 * secret Outputs, unknown ones untouched, resources as they are.
 */
export async function plainValues(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const o = value as unknown as OutputState;
        if (!(await o.isKnown)) {
            return value;
        }
        const inner = await plainValues(await o.promise());
        return (await o.isSecret) ? pulumi.secret(inner) : inner;
    }
    if (pulumi.Resource.isInstance(value) || pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) {
        return value;
    }
    if (Array.isArray(value)) {
        return Promise.all((value as unknown[]).map(plainValues));
    }
    if (value !== null && typeof value === "object") {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await plainValues(v)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

class PackageProvider extends ComponentProvider {
    async construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<pulumi.provider.ConstructResult> {
        return super.construct(name, type, await plainValues(inputs) as pulumi.Inputs, options);
    }
}

/** Serves the package to the engine (what the Node.js language host runs for `runtime: nodejs` plugins). */
export function serve(args: string[] = process.argv.slice(2)): Promise<void> {
    const dirname = path.resolve(__dirname, "..", "..", "plugin");
    const provider = new PackageProvider({
        name: "runner-fleet",
        dirname,
        components: Object.values(components) as ConstructorParameters<typeof ComponentProvider>[0]["components"],
    });
    return pulumi.provider.main(provider, args);
}
