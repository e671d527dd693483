// What the component package's provider hands each construct (plugin/host.ts):
// the inputs as a TypeScript program passes them. The SDK gives a construct
// every input that depends on another resource as an Output, plain or not
// (provider/server.ts deserializeInputs), so known values come out of their
// Outputs, secrets stay secret, unknown ones and resources stay as they are.

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { DependencyResource } from "@pulumi/pulumi/resource";
import { isSecretOutput, valueOf } from "../../components/testing/mock-runtime";
import { plainValues } from "../../plugin/host";

describe("the component package's inputs", () => {
    it("takes known values out of their Outputs, deeply", async () => {
        const host = { name: pulumi.output("plain"), kvm: pulumi.output(false), labels: [pulumi.output("a"), "b"], nested: pulumi.output({ x: pulumi.output(1) }) };
        expect(await plainValues({ host })).to.deep.equal({ host: { name: "plain", kvm: false, labels: ["a", "b"], nested: { x: 1 } } });
    });

    it("keeps a secret secret: a secret Output of the plain value", async () => {
        const out = await plainValues({ key: pulumi.secret("k"), list: [pulumi.secret({ a: pulumi.output("b") })] }) as { key: pulumi.Output<string>; list: pulumi.Output<unknown>[] };
        expect(pulumi.Output.isInstance(out.key)).to.equal(true);
        expect(await isSecretOutput(out.key)).to.equal(true);
        expect(await valueOf(out.key)).to.equal("k");
        expect(await isSecretOutput(out.list[0])).to.equal(true);
        expect(await valueOf(out.list[0])).to.deep.equal({ a: "b" });
    });

    it("leaves an unknown value (a preview before its resource exists) and resources as they came", async () => {
        const unknown = pulumi.output(pulumi.unknown as unknown as string);
        const ready = new DependencyResource("urn:pulumi:e2e::p::command:remote:Command::plain-ready");
        const out = await plainValues({ publicIp: unknown, ready, after: [ready] }) as Record<string, unknown>;
        expect(out.publicIp).to.equal(unknown);
        expect(out.ready).to.equal(ready);
        expect((out.after as unknown[])[0]).to.equal(ready);
    });
});
