// A fourth host source, as a platform repository (or a contributor adding a
// provider) would write it: this one file and nothing else. It declares what
// the rest of the package needs (id, type token, KVM, region field and
// regions, default plans, plans with prices, its own host field and
// fleet-wide setting with their rules, how it creates its host); the machine
// itself is a stand-in address, as there is no Fake Cloud to order from.
// Registered by the test that uses it (host-source.test.ts) and removed after.

import * as pulumi from "@pulumi/pulumi";
import { Arch, CatalogEntry, HostOutputs, HostSourceComponent, SshArgs, connectMachine, hostOutputRecord, matches, setting } from "../../components";

const ID = "fake-cloud";
const ZONES = ["fk1", "fk2"] as const;
const plan = (name: string, arch: Arch, cores: number, monthly: number): CatalogEntry => ({
    plan: name, provider: ID, arch, cpu: "Fake CPU", cores, memoryGb: cores * 4, kvm: false, monthlyPrice: monthly, currency: "EUR", regions: ZONES,
});

export interface FakeCloudHostArgs extends SshArgs {
    readonly zone: string;
    readonly arch: Arch;
    readonly plan: string;
    readonly account: string;
}

// TypeScript only: the host outputs merged in as a type (a component package would declare each field on the class).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface FakeCloudHost extends HostOutputs {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FakeCloudHost extends pulumi.ComponentResource {
    constructor(name: string, args: FakeCloudHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostname = args.hostname ?? name;
        super(fakeCloud.typeToken, name, {}, opts);
        const host = connectMachine(this, name, { hostname, arch: args.arch, kvm: false, ssh: args, provider: ID, plan: args.plan },
            { address: `198.51.100.${10 + ZONES.indexOf(args.zone as (typeof ZONES)[number])}`, hostId: `${ID}:${args.account}:${hostname}` });
        Object.assign(this, host);
        this.registerOutputs(hostOutputRecord(host));
    }
}

export const fakeCloud: HostSourceComponent = {
    id: ID,
    title: "Fake Cloud",
    typeToken: "fake-cloud:index:FakeCloudHost",
    creates: true,
    kvm: false,
    noKvmBecause: "Fake Cloud has no KVM",
    region: { field: "zone", what: "Fake Cloud zone", values: ZONES },
    defaultPlans: { arm64: "fk-arm-4", amd64: "fk-x86-4" },
    plans: [plan("fk-arm-4", "arm64", 4, 12.5), plan("fk-x86-4", "amd64", 4, 10)],
    hostFields: {
        zone: setting(matches(/^[a-z][a-z0-9]{1,7}$/, "a zone code").optional(), { description: "Fake Cloud zone", fix: "write the zone, such as fk1", appliesTo: ID }),
    },
    fleetFields: {
        fakeCloudAccount: setting(matches(/^acct-[0-9]+$/, "a Fake Cloud account").optional(), { description: "the Fake Cloud account", fix: "write acct-<digits>" }),
    },
    fleetProblems: (fleet, first) => fleet.fakeCloudAccount ? [] : [{
        path: "fakeCloudAccount", message: `host "${first}" is a Fake Cloud server and no account is set`, fix: "set runner-fleet:fakeCloudAccount",
    }],
    create: ({ name, host, resolved, fleet, ssh, opts }) => new FakeCloudHost(name, {
        ...ssh, zone: host.zone as string, arch: resolved.arch, plan: resolved.plan as string, account: fleet.fakeCloudAccount as string,
    }, opts),
};

