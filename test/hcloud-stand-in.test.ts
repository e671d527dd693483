// The Hetzner Cloud API stand-in (test/hcloud-stand-in.ts), driven over plain HTTP the way hcloud-go drives
// the real API for the Pulumi hcloud provider: ssh key, firewall and server create/read/update/delete, the
// action polling, and the errors the provider meets.

import { expect } from "chai";
import { HcloudStandIn, StandInServer, md5Fingerprint } from "./hcloud-stand-in";

const TOKEN = "s".repeat(64); // tf hcloud/provider.go wants exactly 64 characters
// Made with ssh-keygen -t ed25519; fingerprints from `ssh-keygen -E md5 -lf`.
const KEY1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBpppugr6b+K3+LzZLg6KZtUh287rzaa21sFAlW+wQyj stand-in-1";
const KEY1_MD5 = "37:1a:30:da:23:d7:bc:cf:a4:03:a6:47:34:db:4d:3c";
const KEY2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN68Mqd2XwuEtF3BY2jiX6+rGb9Rpvy2nMSEEDCKmADd stand-in-2";
const KEY2_MD5 = "5a:84:1c:dd:43:83:28:39:14:90:51:5b:1e:df:8b:53";

type Body = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("hcloud stand-in", function () {
    this.timeout(60000);
    const ACTION_MS = 50;
    const BOOT_DELAY_MS = 50;
    const booted: { server: StandInServer; at: number }[] = [];
    const stopped: { server: StandInServer; at: number }[] = [];
    const created: number[] = [];
    /** What the filter hook was handed, per server id: the inbound rules in force, or null (no firewall). */
    const filtered: { id: number; inbound: { port: string | null; source_ips: string[] }[] | null }[] = [];
    let api: HcloudStandIn;

    before(async () => {
        api = await new HcloudStandIn({
            token: TOKEN,
            address: s => `203.0.113.${10 + (s.id % 200)}`,
            boot: async s => { booted.push({ server: s, at: Date.now() }); },
            stop: async s => { stopped.push({ server: s, at: Date.now() }); },
            onCreate: s => { created.push(s.id); },
            filter: async (s, inbound) => { filtered.push({ id: s.id, inbound: inbound && inbound.map(r => ({ port: r.port, source_ips: r.source_ips })) }); },
            actionMs: ACTION_MS,
            bootDelayMs: BOOT_DELAY_MS,
            outOfStock: [{ serverType: "cax21", location: "nbg1" }],
        }).start();
    });
    after(async () => {
        await api.stop();
    });

    /** Waits (no tight bound: the machine may be loaded) until `ok` holds. */
    async function until(ok: () => boolean): Promise<void> {
        for (let i = 0; i < 600 && !ok(); i++) {
            await new Promise(r => setTimeout(r, 50));
        }
        expect(ok()).to.equal(true);
    }

    async function call(method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: Body; type: string | null }> {
        const headers: Record<string, string> = { Accept: "application/json" };
        if (token) headers.Authorization = `Bearer ${token}`;
        if (body !== undefined) headers["Content-Type"] = "application/json";
        const r = await fetch(api.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const text = await r.text();
        return { status: r.status, body: text ? JSON.parse(text) : undefined, type: r.headers.get("content-type") };
    }

    /** Polls GET /actions?id=..&sort=status&sort=id as hcloud-go's WaitFor does, until none is running. */
    async function waitFor(ids: number[]): Promise<Body[]> {
        const deadline = Date.now() + 20000;
        for (;;) {
            const q = ids.map(id => `id=${id}`).join("&");
            const r = await call("GET", `/actions?${q}&sort=status&sort=id`);
            expect(r.status).to.equal(200);
            expect(r.body.actions).to.have.length(ids.length);
            expect(r.body.meta.pagination.next_page).to.equal(null);
            if (r.body.actions.every((a: Body) => a.status !== "running")) return r.body.actions;
            if (Date.now() > deadline) throw new Error(`actions ${ids} still running`);
            await new Promise(res => setTimeout(res, 20));
        }
    }

    let keyId = 0;
    let fwId = 0;
    let serverId = 0;
    let imageId = 0;

    it("answers 401 unauthorized to a wrong or missing token", async () => {
        for (const token of ["wrong", ""]) {
            const r = await call("GET", "/servers", undefined, token);
            expect(r.status).to.equal(401);
            expect(r.type).to.match(/^application\/json/);
            expect(r.body).to.deep.equal({ error: { code: "unauthorized", message: "unable to authenticate", details: null } });
        }
    });

    it("serves the catalogue reads the provider makes before a create", async () => {
        // tf resourceServerCreate: ServerType.Get(name) -> GET /server_types?name=
        const st = await call("GET", "/server_types?name=cax11");
        expect(st.status).to.equal(200);
        expect(st.body.server_types).to.have.length(1);
        expect(st.body.server_types[0]).to.include({ name: "cax11", architecture: "arm", deprecation: null });
        expect(st.body.server_types[0].locations.map((l: Body) => l.name)).to.deep.equal(["fsn1", "nbg1", "hel1"]);
        expect(st.body.meta.pagination).to.include({ page: 1, total_entries: 1, next_page: null, previous_page: null });
        const none = await call("GET", "/server_types?name=cx99");
        expect(none.body.server_types).to.deep.equal([]);
        // Image.GetForArchitecture(name, arch) -> GET /images?architecture=&include_deprecated=true&name=
        const img = await call("GET", "/images?architecture=arm&include_deprecated=true&name=ubuntu-24.04");
        expect(img.body.images).to.have.length(1);
        expect(img.body.images[0]).to.include({ name: "ubuntu-24.04", architecture: "arm", type: "system", status: "available" });
        imageId = img.body.images[0].id;
        const x86 = await call("GET", "/images?architecture=x86&name=ubuntu-24.04");
        expect(x86.body.images[0].id).to.not.equal(imageId);
        expect((await call("GET", `/images/${imageId}`)).body.image.architecture).to.equal("arm");
        expect((await call("GET", "/locations?name=ash")).body.locations[0]).to.include({ name: "ash", network_zone: "us-east" });
        expect((await call("GET", "/datacenters?name=fsn1-dc14")).body.datacenters[0].location.name).to.equal("fsn1");
        const page = await call("GET", "/server_types?per_page=5&page=2");
        expect(page.body.server_types).to.have.length(5);
        expect(page.body.meta.pagination).to.include({ page: 2, per_page: 5, previous_page: 1, next_page: 3 });
    });

    it("creates an ssh key, trimming the key and computing Hetzner's MD5 fingerprint", async () => {
        expect(md5Fingerprint(KEY2)).to.equal(KEY2_MD5);
        const r = await call("POST", "/ssh_keys", { name: "ops", public_key: `${KEY1}\n`, labels: { team: "ci" } });
        expect(r.status).to.equal(201);
        expect(r.body.ssh_key).to.include({ name: "ops", public_key: KEY1, fingerprint: KEY1_MD5 });
        expect(r.body.ssh_key.labels).to.deep.equal({ team: "ci" });
        expect(r.body.ssh_key.created).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        keyId = r.body.ssh_key.id;
        expect(Number.isInteger(keyId)).to.equal(true);
        expect((await call("GET", `/ssh_keys/${keyId}`)).body.ssh_key.fingerprint).to.equal(KEY1_MD5);
        expect((await call("GET", "/ssh_keys?name=ops")).body.ssh_keys.map((k: Body) => k.id)).to.deep.equal([keyId]);
        expect((await call("GET", `/ssh_keys?fingerprint=${KEY1_MD5}`)).body.ssh_keys).to.have.length(1);
        expect((await call("GET", "/ssh_keys/999")).body.error.code).to.equal("not_found");
    });

    it("refuses a second ssh key with the same name or the same key (uniqueness_error), and a bad key", async () => {
        const sameName = await call("POST", "/ssh_keys", { name: "ops", public_key: KEY2 });
        expect(sameName.status).to.equal(409);
        expect(sameName.body.error).to.include({ code: "uniqueness_error", message: "SSH key name is already used" });
        const sameKey = await call("POST", "/ssh_keys", { name: "other", public_key: KEY1 });
        expect(sameKey.status).to.equal(409);
        expect(sameKey.body.error).to.include({ code: "uniqueness_error", message: "SSH key with the same fingerprint already exists" });
        expect(sameKey.body.error.details.fields[0].name).to.equal("public_key");
        const bad = await call("POST", "/ssh_keys", { name: "bad", public_key: "ssh-ed25519 not-base64!" });
        expect(bad.status).to.equal(422);
        expect(bad.body.error.code).to.equal("invalid_input");
        const missing = await call("POST", "/ssh_keys", { public_key: KEY2 });
        expect(missing.status).to.equal(422);
        expect(missing.body.error.details.fields).to.deep.equal([{ name: "name", messages: ["Missing data for required field."] }]);
        expect(api.sshKeys()).to.have.length(1);
    });

    it("creates a firewall with rules and answers its actions", async () => {
        const rules = [
            { direction: "in", protocol: "tcp", port: "22", source_ips: ["0.0.0.0/0", "2001:0DB8:0:0::/32"], description: "ssh" },
            { direction: "in", protocol: "icmp", source_ips: ["0.0.0.0/0"] },
        ];
        const r = await call("POST", "/firewalls", { name: "runners", labels: { role: "ci" }, rules });
        expect(r.status).to.equal(201);
        fwId = r.body.firewall.id;
        expect(r.body.firewall.rules[0]).to.deep.equal({ direction: "in", protocol: "tcp", port: "22", source_ips: ["0.0.0.0/0", "2001:db8::/32"], destination_ips: [], description: "ssh" });
        expect(r.body.firewall.rules[1]).to.include({ port: null, description: null });
        expect(r.body.firewall.applied_to).to.deep.equal([]);
        expect(r.body.actions.map((a: Body) => a.command)).to.deep.equal(["set_firewall_rules"]);
        expect(r.body.actions[0]).to.include({ status: "running", finished: null });
        const done = await waitFor(r.body.actions.map((a: Body) => a.id));
        expect(done[0]).to.include({ status: "success", progress: 100 });
        expect(done[0].finished).to.be.a("string");
        expect((await call("GET", `/firewalls/${fwId}`)).body.firewall.labels).to.deep.equal({ role: "ci" });
    });

    it("answers invalid_input with details.fields for bad rules, and uniqueness_error for a taken name", async () => {
        const cases: [unknown, string][] = [
            [{ direction: "in", protocol: "tcp", port: "22", source_ips: ["10.0.0.300/24"] }, "rules[0].source_ips"],
            [{ direction: "in", protocol: "tcp", port: "22", source_ips: ["10.0.0.1/24"] }, "rules[0].source_ips"],
            [{ direction: "in", protocol: "sctp", source_ips: ["0.0.0.0/0"] }, "rules[0].protocol"],
            [{ direction: "in", protocol: "tcp", source_ips: ["0.0.0.0/0"] }, "rules[0].port"],
            [{ protocol: "icmp", source_ips: ["0.0.0.0/0"] }, "rules[0].direction"],
        ];
        for (const [rule, field] of cases) {
            const r = await call("POST", "/firewalls", { name: "bad", rules: [rule] });
            expect(r.status, JSON.stringify(rule)).to.equal(422);
            expect(r.body.error.code).to.equal("invalid_input");
            expect(r.body.error.details.fields.map((f: Body) => f.name)).to.include(field);
        }
        const dup = await call("POST", "/firewalls", { name: "runners" });
        expect(dup.status).to.equal(409);
        expect(dup.body.error.code).to.equal("uniqueness_error");
        expect(api.firewalls().map(f => f.name)).to.deep.equal(["runners"]);
    });

    it("refuses a type a location does not sell (invalid_input) and one out of stock (resource_unavailable)", async () => {
        const base = { image: "ubuntu-24.04", ssh_keys: [keyId] };
        const unsold = await call("POST", "/servers", { ...base, name: "arm-ash", server_type: "cax41", location: "ash" });
        expect(unsold.status).to.equal(422);
        expect(unsold.body.error).to.include({ code: "invalid_input", message: "invalid input in field 'location': unsupported location for server type" });
        const out = await call("POST", "/servers", { ...base, name: "arm-nbg", server_type: "cax21", location: "nbg1" });
        expect(out.status).to.equal(412);
        expect(out.body.error.code).to.equal("resource_unavailable");
        const nowhere = await call("POST", "/servers", { ...base, name: "x", server_type: "cax11", location: "mars1" });
        expect(nowhere.status).to.equal(422);
        expect(nowhere.body.error.details.fields[0]).to.deep.equal({ name: "location", messages: ["location 'mars1' not found"] });
        const st = await call("GET", "/server_types?name=cax21");
        expect(st.body.server_types[0].locations.find((l: Body) => l.name === "nbg1").available).to.equal(false);
        expect(api.servers()).to.deep.equal([]);
        expect(booted).to.deep.equal([]);
    });

    it("creates a server: create_server + start_server actions, IP known at once, boot only after the create action and the boot delay", async () => {
        const r = await call("POST", "/servers", {
            name: "runner-arm-1", server_type: "cax11", image: imageId, location: "fsn1", ssh_keys: [keyId],
            firewalls: [{ firewall: fwId }], public_net: { enable_ipv4: true, enable_ipv6: true }, labels: { fleet: "a" },
        });
        expect(r.status).to.equal(201);
        const s = r.body.server;
        serverId = s.id;
        expect(s).to.include({ name: "runner-arm-1", status: "initializing" });
        expect(s.public_net.ipv4.ip).to.equal(`203.0.113.${10 + (serverId % 200)}`);
        expect(s.public_net.ipv6.ip).to.match(/::\/64$/);
        expect(s.public_net.firewalls).to.deep.equal([{ id: fwId, status: "pending" }]);
        expect(s.server_type).to.include({ name: "cax11", architecture: "arm" });
        expect(s.image).to.include({ id: imageId, name: "ubuntu-24.04", architecture: "arm" });
        expect(s.location.name).to.equal("fsn1");
        expect(s.datacenter.location.name).to.equal("fsn1");
        expect(s.labels).to.deep.equal({ fleet: "a" });
        expect(r.body.root_password).to.equal(null);
        expect(r.body.action).to.include({ command: "create_server", status: "running" });
        expect(r.body.action.resources).to.deep.equal([{ id: serverId, type: "server" }]);
        expect(r.body.next_actions.map((a: Body) => a.command)).to.deep.equal(["start_server"]);
        expect(booted).to.deep.equal([]);
        expect(created).to.deep.equal([serverId]);

        const [create] = await waitFor([r.body.action.id]);
        expect(create.status).to.equal("success");
        const finishedAt = Date.parse(create.finished);
        await waitFor(r.body.next_actions.map((a: Body) => a.id));
        const deadline = Date.now() + 10000;
        while (booted.length === 0 && Date.now() < deadline) await new Promise(res => setTimeout(res, 10));
        expect(booted).to.have.length(1);
        // created/finished carry whole seconds, so allow one second of rounding.
        expect(booted[0].at).to.be.at.least(finishedAt + BOOT_DELAY_MS - 1000);
        expect(booted[0].server).to.include({ id: serverId, name: "runner-arm-1", arch: "arm", serverType: "cax11", location: "fsn1", image: "ubuntu-24.04", ipv4: s.public_net.ipv4.ip });
        expect(booted[0].server.publicKeys).to.deep.equal([KEY1]);
        expect(booted[0].server.firewallIds).to.deep.equal([fwId]);
        // The firewall the create applied is enforced on the machine from its boot: its inbound rules, not null.
        await until(() => filtered.some(f => f.id === serverId));
        expect(filtered.find(f => f.id === serverId)?.inbound).to.be.an("array");

        const got = await call("GET", `/servers/${serverId}`);
        expect(got.body.server.status).to.equal("running");
        expect(got.body.server.public_net.firewalls).to.deep.equal([{ id: fwId, status: "applied" }]);
        expect((await call("GET", `/firewalls/${fwId}`)).body.firewall.applied_to).to.deep.equal([{ type: "server", server: { id: serverId } }]);
        expect((await call("GET", "/servers?name=runner-arm-1")).body.servers).to.have.length(1);
        expect((await call("GET", `/primary_ips/${s.public_net.ipv4.id}`)).body.primary_ip).to.include({ ip: s.public_net.ipv4.ip, assignee_id: serverId, auto_delete: true });
        expect(api.firewalls()[0].appliedTo).to.deep.equal([serverId]);
    });

    it("refuses a second server with the same name", async () => {
        const r = await call("POST", "/servers", { name: "runner-arm-1", server_type: "cax11", image: imageId, location: "hel1" });
        expect(r.status).to.equal(409);
        expect(r.body.error).to.include({ code: "uniqueness_error", message: "server name is already used" });
    });

    it("updates a server's labels and name (PUT /servers/{id}, as the provider sends them apart)", async () => {
        const l = await call("PUT", `/servers/${serverId}`, { labels: { fleet: "b", tier: "1" } });
        expect(l.status).to.equal(200);
        expect(l.body.server.labels).to.deep.equal({ fleet: "b", tier: "1" });
        const n = await call("PUT", `/servers/${serverId}`, { name: "runner-arm-one" });
        expect(n.body.server).to.include({ name: "runner-arm-one" });
        expect(n.body.server.labels).to.deep.equal({ fleet: "b", tier: "1" });
        const bad = await call("PUT", `/servers/${serverId}`, { labels: { "hetzner.cloud/x": "y" } });
        expect(bad.status).to.equal(422);
        expect(api.servers()[0].labels).to.deep.equal({ fleet: "b", tier: "1" });
        expect((await call("GET", "/servers?label_selector=fleet%3Db,tier")).body.servers).to.have.length(1);
        expect((await call("GET", "/servers?label_selector=fleet%3Da")).body.servers).to.have.length(0);
    });

    it("sets firewall rules: set_firewall_rules plus apply_firewall for the server it is applied to", async () => {
        const r = await call("POST", `/firewalls/${fwId}/actions/set_rules`, { rules: [{ direction: "in", protocol: "tcp", port: "443", source_ips: ["192.0.2.0/24"] }] });
        expect(r.status).to.equal(201);
        expect(r.body.actions.map((a: Body) => a.command)).to.deep.equal(["set_firewall_rules", "apply_firewall"]);
        expect(r.body.actions[1].resources).to.deep.include({ id: serverId, type: "server" });
        const done = await waitFor(r.body.actions.map((a: Body) => a.id));
        expect(done.map((a: Body) => a.status)).to.deep.equal(["success", "success"]);
        const fw = await call("GET", `/firewalls/${fwId}`);
        expect(fw.body.firewall.rules).to.deep.equal([{ direction: "in", protocol: "tcp", port: "443", source_ips: ["192.0.2.0/24"], destination_ips: [], description: null }]);
        // The booted server's machine was handed the new inbound rules once apply_firewall finished.
        await until(() => filtered.some(f => f.id === serverId && f.inbound?.[0]?.port === "443"));
        expect(filtered.filter(f => f.id === serverId).pop()).to.deep.equal({ id: serverId, inbound: [{ port: "443", source_ips: ["192.0.2.0/24"] }] });
        const bad = await call("POST", `/firewalls/${fwId}/actions/set_rules`, { rules: [{ direction: "in", protocol: "udp", source_ips: ["0.0.0.0/0"] }] });
        expect(bad.status).to.equal(422);
    });

    it("refuses to delete a firewall still applied (resource_in_use), deletes the server, then the firewall and the key", async () => {
        const inUse = await call("DELETE", `/firewalls/${fwId}`);
        expect(inUse.status).to.equal(422);
        expect(inUse.body.error.code).to.equal("resource_in_use");

        const del = await call("DELETE", `/servers/${serverId}`);
        expect(del.status).to.equal(200);
        expect(del.body.action).to.include({ command: "delete_server", status: "running" });
        expect((await call("GET", `/servers/${serverId}`)).body.server.status).to.equal("deleting");
        const [done] = await waitFor([del.body.action.id]);
        expect(done.status).to.equal("success");
        expect(stopped.map(s => s.server.id)).to.deep.equal([serverId]);
        const gone = await call("GET", `/servers/${serverId}`);
        expect(gone.status).to.equal(404);
        expect(gone.body.error.code).to.equal("not_found");
        expect((await call("GET", `/firewalls/${fwId}`)).body.firewall.applied_to).to.deep.equal([]);
        expect((await call("GET", "/primary_ips")).body.primary_ips).to.deep.equal([]);

        const fw = await call("DELETE", `/firewalls/${fwId}`);
        expect(fw.status).to.equal(204);
        expect(fw.body).to.equal(undefined);
        expect((await call("DELETE", `/ssh_keys/${keyId}`)).status).to.equal(204);
        expect((await call("GET", `/ssh_keys/${keyId}`)).status).to.equal(404);
        expect(api.servers()).to.deep.equal([]);
        expect(api.firewalls()).to.deep.equal([]);
        expect(api.sshKeys()).to.deep.equal([]);
    });

    it("lists what it does not serve, and counts requests by route", async () => {
        const r = await call("POST", `/servers/${serverId}/actions/poweron`, {});
        expect(r.status).to.equal(404);
        expect(api.unserved).to.include(`POST /v1/servers/${serverId}/actions/poweron`);
        const nv1 = await call("PATCH", "/servers");
        expect(nv1.status).to.equal(405);
        const c = api.counts();
        expect(c["POST /servers"]).to.be.at.least(5);
        expect(c["GET /actions"]).to.be.at.least(4);
        expect(c["GET /servers/{id}"]).to.be.at.least(2);
        expect(c["POST /firewalls/{id}/actions/set_rules"]).to.equal(2);
        expect(api.requests.find(q => q.method === "DELETE" && q.route === "/servers/{id}")?.status).to.equal(200);
        expect(api.hookErrors).to.deep.equal([]);
    });
});
