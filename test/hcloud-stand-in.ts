// A loopback stand-in for the Hetzner Cloud API (https://api.hetzner.cloud/v1), for tests that drive the
// real Pulumi hcloud provider (a bridge of terraform-provider-hcloud v1.66.1 on hcloud-go v2.44.0) at it.
//
// It serves what that provider's hcloud_ssh_key, hcloud_firewall and hcloud_server Create/Read/Update/Delete
// call, plus the catalogue reads they make (server types, images, locations, datacenters, primary IPs) and
// the action polling of hcloud-go's action waiter. Each behaviour names the code or document it follows:
//   tf  = terraform-provider-hcloud v1.66.1 (internal/...)
//   go  = hcloud-go v2.44.0 (hcloud/...)
//   api = Hetzner's OpenAPI description of the Cloud API (docs.hetzner.cloud)
//   gh  = a public issue thread quoting what the live API answered
// Where neither says what the API answers, the comment says "guess".
//
// Point the provider at `url` (its `endpoint` setting takes the base including /v1: go client.go NewRequest
// builds endpoint + path). Note the SDKv2 half of the provider (server, firewall) refuses a token that is not
// exactly 64 characters (tf hcloud/provider.go "token" ValidateFunc), so give the stand-in such a token.

import * as http from "http";
import { AddressInfo, isIP } from "net";
import { createHash } from "crypto";

export interface StandInServer {
    id: number;
    name: string;
    serverType: string;
    location: string;
    image: string;
    arch: "arm" | "x86";
    publicKeys: string[];
    labels: Record<string, string>;
    firewallIds: number[];
    ipv4: string;
}

export interface HcloudStandInOptions {
    token: string;
    /** The public IPv4 of a new server (known at create, as Hetzner's answer has it). */
    address(server: StandInServer): string;
    /** Called when the create action finished: boot the machine (with server.publicKeys as root's authorized keys). The stand-in waits bootDelayMs first: until then nothing answers at the address. */
    boot(server: StandInServer): Promise<void>;
    /** Called when a server is deleted: stop the machine. */
    stop(server: StandInServer): Promise<void>;
    /** Called when POST /servers accepted a server (before its create action runs). */
    onCreate?(server: StandInServer): void;
    /**
     * Enforces a booted server's firewalls on its machine: called after the boot and whenever an action changed
     * what applies to it (apply_firewall, set_rules' apply_firewall, remove_firewall finished), with the inbound
     * rules of every firewall applied to it, or null when none is (everything gets in). As Hetzner's firewalls
     * work (docs.hetzner.com/cloud/firewalls/overview): with one applied, inbound traffic no rule allows is
     * dropped; replies to the server's own connections get through; with no outbound rule, all goes out.
     */
    filter?(server: StandInServer, inbound: StandInRule[] | null): Promise<void>;
    actionMs?: number;
    bootDelayMs?: number;
    /**
     * Server type / location pairs that are sold but out of stock right now: the type's `locations` entry says
     * `available: false` and POST /servers answers 412 resource_unavailable (api: server_types.locations).
     */
    outOfStock?: { serverType: string; location: string }[];
}

export interface StandInRequest { method: string; route: string; status: number }
/** A firewall rule as the API holds it. */
export interface StandInRule { direction: string; protocol: string; port: string | null; source_ips: string[]; destination_ips: string[]; description: string | null }
export interface StandInSshKey { id: number; name: string; publicKey: string; labels: Record<string, string> }
export interface StandInFirewall { id: number; name: string; rules: unknown[]; labels: Record<string, string>; appliedTo: number[] }

type Json = Record<string, unknown>;
type Labels = Record<string, string>;

// ---------------------------------------------------------------------------------------------------------
// Errors: {"error":{"code","message","details"}} with the status of api "Errors" table
// (401 unauthorized, 404 not_found, 405 method_not_allowed, 409 uniqueness_error, 412 resource_unavailable,
// 422 invalid_input / resource_in_use, 400 json_error). go schema/error.go parses details.fields for
// invalid_input (ErrorDetailsInvalidInput: fields[].name, fields[].messages).

class ApiError extends Error {
    constructor(readonly status: number, readonly code: string, message: string, readonly details: unknown = null) {
        super(message);
    }
}

interface FieldError { name: string; messages: string[] }

function invalidInput(fields: FieldError[]): ApiError {
    // api "Errors" example: "invalid input in field 'broken_field': is too long"
    const message = fields.length === 1
        ? `invalid input in field '${fields[0].name}': ${fields[0].messages.join(", ")}`
        : `invalid input in fields ${fields.map(f => `'${f.name}'`).join(", ")}`;
    return new ApiError(422, "invalid_input", message, { fields });
}

const notFound = (what: string) => new ApiError(404, "not_found", `${what} not found`); // go server_test.go uses "server not found"
// Marshmallow's wording, which the API uses for a missing field (guess from memory of live answers).
const MISSING = "Missing data for required field.";

// ---------------------------------------------------------------------------------------------------------
// Catalogue: locations, datacenters, server types, images. Shapes per go schema/location.go,
// schema/datacenter.go, schema/server_type.go, schema/image.go. Names, cities and network zones are Hetzner's;
// ids, sizes and prices are illustrative.

interface Location { id: number; name: string; description: string; country: string; city: string; latitude: number; longitude: number; network_zone: string }
const LOCATIONS: Location[] = [
    { id: 1, name: "fsn1", description: "Falkenstein DC Park 1", country: "DE", city: "Falkenstein", latitude: 50.47612, longitude: 12.370071, network_zone: "eu-central" },
    { id: 2, name: "nbg1", description: "Nuremberg DC Park 1", country: "DE", city: "Nuremberg", latitude: 49.452102, longitude: 11.076665, network_zone: "eu-central" },
    { id: 3, name: "hel1", description: "Helsinki DC Park 1", country: "FI", city: "Helsinki", latitude: 60.169855, longitude: 24.938379, network_zone: "eu-central" },
    { id: 4, name: "ash", description: "Ashburn, VA", country: "US", city: "Ashburn, VA", latitude: 39.045821, longitude: -77.487073, network_zone: "us-east" },
    { id: 5, name: "hil", description: "Hillsboro, OR", country: "US", city: "Hillsboro, OR", latitude: 45.54222, longitude: -122.951924, network_zone: "us-west" },
    { id: 6, name: "sin", description: "Singapore", country: "SG", city: "Singapore", latitude: 1.283333, longitude: 103.833333, network_zone: "ap-southeast" },
];
const DATACENTERS = [
    { id: 4, name: "fsn1-dc14", description: "Falkenstein 1 virtual DC 14", location: "fsn1" },
    { id: 2, name: "nbg1-dc3", description: "Nuremberg 1 virtual DC 3", location: "nbg1" },
    { id: 3, name: "hel1-dc2", description: "Helsinki 1 virtual DC 2", location: "hel1" },
    { id: 5, name: "ash-dc1", description: "Ashburn virtual DC 1", location: "ash" },
    { id: 6, name: "hil-dc1", description: "Hillsboro virtual DC 1", location: "hil" },
    { id: 7, name: "sin-dc1", description: "Singapore virtual DC 1", location: "sin" },
];

interface ServerType { id: number; name: string; cores: number; memory: number; disk: number; cpu_type: "shared" | "dedicated"; architecture: "arm" | "x86"; category: string; locations: string[] }
const EU = ["fsn1", "nbg1", "hel1"];
const ALL = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"];
// Where each type is sold (the brief's table): cax* EU only; ccx* everywhere; cpx11..51 only ash/hil;
// cpx22..62 EU + sin; cx23..53 EU (x86 cost-optimized).
const SERVER_TYPES: ServerType[] = [
    ...([["cax11", 2, 4, 40], ["cax21", 4, 8, 80], ["cax31", 8, 16, 160], ["cax41", 16, 32, 320]] as const)
        .map(([name, cores, memory, disk], i) => ({ id: 45 + i, name, cores, memory, disk, cpu_type: "shared" as const, architecture: "arm" as const, category: "cost_optimized", locations: EU })),
    ...([["ccx13", 2, 8, 80], ["ccx23", 4, 16, 160], ["ccx33", 8, 32, 240], ["ccx43", 16, 64, 360], ["ccx53", 32, 128, 600], ["ccx63", 48, 192, 960]] as const)
        .map(([name, cores, memory, disk], i) => ({ id: 96 + i, name, cores, memory, disk, cpu_type: "dedicated" as const, architecture: "x86" as const, category: "general_purpose", locations: ALL })),
    ...([["cpx11", 2, 2, 40], ["cpx21", 3, 4, 80], ["cpx31", 4, 8, 160], ["cpx41", 8, 16, 240], ["cpx51", 16, 32, 360]] as const)
        .map(([name, cores, memory, disk], i) => ({ id: 22 + i, name, cores, memory, disk, cpu_type: "shared" as const, architecture: "x86" as const, category: "regular_purpose", locations: ["ash", "hil"] })),
    ...([["cpx22", 2, 4, 80], ["cpx32", 4, 8, 160], ["cpx42", 8, 16, 320], ["cpx52", 12, 24, 480], ["cpx62", 16, 32, 640]] as const)
        .map(([name, cores, memory, disk], i) => ({ id: 108 + i, name, cores, memory, disk, cpu_type: "shared" as const, architecture: "x86" as const, category: "regular_purpose", locations: [...EU, "sin"] })),
    ...([["cx23", 2, 4, 40], ["cx33", 4, 8, 80], ["cx43", 8, 16, 160], ["cx53", 16, 32, 320]] as const)
        .map(([name, cores, memory, disk], i) => ({ id: 114 + i, name, cores, memory, disk, cpu_type: "shared" as const, architecture: "x86" as const, category: "cost_optimized", locations: EU })),
];

interface Image { id: number; name: string; description: string; os_flavor: string; os_version: string; architecture: "arm" | "x86"; created: string }
// System images come once per architecture under the same name (go image.go GetByNameAndArchitecture).
const IMAGES: Image[] = ([
    ["ubuntu-22.04", "Ubuntu 22.04", "ubuntu", "22.04", "2022-04-21T13:32:38Z"],
    ["ubuntu-24.04", "Ubuntu 24.04", "ubuntu", "24.04", "2024-04-25T13:26:27Z"],
    ["debian-12", "Debian 12", "debian", "12", "2023-06-13T06:00:02Z"],
    ["debian-13", "Debian 13", "debian", "13", "2025-08-11T06:00:03Z"],
] as const).flatMap(([name, description, os_flavor, os_version, created], i) => [
    { id: 161547200 + 2 * i, name, description, os_flavor, os_version, architecture: "x86" as const, created },
    { id: 161547201 + 2 * i, name, description, os_flavor, os_version, architecture: "arm" as const, created },
]);

const locationJson = (l: Location): Json => ({ ...l });
function datacenterJson(d: typeof DATACENTERS[number]): Json {
    // go schema/datacenter.go Datacenter (server_types ids per datacenter)
    const ids = SERVER_TYPES.filter(t => t.locations.includes(d.location)).map(t => t.id);
    return { id: d.id, name: d.name, description: d.description, location: locationJson(byName(LOCATIONS, d.location)!), server_types: { supported: ids, available: ids, available_for_migration: ids } };
}
function byName<T extends { name: string }>(list: readonly T[], name: string): T | undefined {
    return list.find(x => x.name === name);
}

// ---------------------------------------------------------------------------------------------------------
// State records.

interface ActionRec {
    id: number; command: string; resources: { id: number; type: string }[];
    started: Date; finished: Date | null; status: "running" | "success" | "error";
    durationMs: number; error: { code: string; message: string } | null;
}
interface KeyRec { id: number; name: string; publicKey: string; fingerprint: string; labels: Labels; created: Date }
type Rule = StandInRule;
interface FwRec { id: number; name: string; labels: Labels; rules: Rule[]; created: Date }
interface PipRec { id: number; type: "ipv4" | "ipv6"; ip: string; serverId: number | null; location: string; created: Date }
interface SrvRec {
    pub: StandInServer;
    status: string; created: Date; typeRec: ServerType; imageRec: Image; ipv4Id: number | null; ipv6: string; ipv6Id: number | null;
    firewalls: Map<number, "pending" | "applied">; userData: string;
    bootTimer: NodeJS.Timeout | null; booted: Promise<void> | null; deleting: boolean;
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** A route: method, template as it shows in `requests`, and the handler. */
interface Route { method: string; template: string; re: RegExp; handle(m: string[], q: URLSearchParams, body: unknown): Promise<{ status: number; body?: Json }> | { status: number; body?: Json } }

export class HcloudStandIn {
    readonly requests: StandInRequest[] = [];
    readonly unserved: string[] = [];
    /** Errors the boot/stop hooks threw (a test can assert this is empty). */
    readonly hookErrors: string[] = [];

    private readonly actionMs: number;
    private readonly bootDelayMs: number;
    private server?: http.Server;
    private base = "";
    private readonly timers = new Set<NodeJS.Timeout>();
    private readonly pending = new Set<Promise<unknown>>();
    private readonly routes: Route[];

    private readonly keys = new Map<number, KeyRec>();
    private readonly fws = new Map<number, FwRec>();
    private readonly srvs = new Map<number, SrvRec>();
    private readonly acts = new Map<number, ActionRec>();
    private readonly pips = new Map<number, PipRec>();
    // Distinct id ranges per resource, so a test that mixes ids up fails.
    private nextKey = 1_000_001;
    private nextFw = 2_000_001;
    private nextPip = 3_000_001;
    private nextSrv = 5_000_001;
    private nextAction = 9_000_001;

    constructor(private readonly opts: HcloudStandInOptions) {
        this.actionMs = opts.actionMs ?? 3000;
        this.bootDelayMs = opts.bootDelayMs ?? 0;
        this.routes = this.buildRoutes();
    }

    get url(): string {
        return this.base;
    }

    async start(): Promise<this> {
        this.server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", c => chunks.push(c as Buffer));
            req.on("end", () => {
                void this.serve(req, Buffer.concat(chunks).toString("utf8")).then(out => {
                    res.statusCode = out.status;
                    // go client_handler_rate_limit.go reads these headers.
                    res.setHeader("RateLimit-Limit", "3600");
                    res.setHeader("RateLimit-Remaining", "3599");
                    res.setHeader("RateLimit-Reset", String(Math.floor(Date.now() / 1000) + 1));
                    if (out.body === undefined) {
                        res.end(); // DELETE /ssh_keys/{id}, DELETE /firewalls/{id}: 204 without a body (api)
                        return;
                    }
                    // go client.go hasJSONBody: errors and meta are only parsed with an application/json type
                    res.setHeader("Content-Type", "application/json");
                    res.end(JSON.stringify(out.body));
                });
            });
        });
        await new Promise<void>(done => this.server!.listen(0, "127.0.0.1", done));
        this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
        return this;
    }

    /** Closes the listener and cancels pending actions and boots; it does not call `stop` for live servers. */
    async stop(): Promise<void> {
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        await Promise.allSettled([...this.pending]);
        this.server?.closeAllConnections();
        await new Promise<void>(done => (this.server ? this.server.close(() => done()) : done()));
    }

    counts(): Record<string, number> {
        const out: Record<string, number> = {};
        for (const r of this.requests) {
            const k = `${r.method} ${r.route}`;
            out[k] = (out[k] ?? 0) + 1;
        }
        return out;
    }

    servers(): StandInServer[] {
        return [...this.srvs.values()].map(s => ({ ...s.pub, publicKeys: [...s.pub.publicKeys], labels: { ...s.pub.labels }, firewallIds: [...s.firewalls.keys()] }));
    }

    sshKeys(): StandInSshKey[] {
        return [...this.keys.values()].map(k => ({ id: k.id, name: k.name, publicKey: k.publicKey, labels: { ...k.labels } }));
    }

    firewalls(): StandInFirewall[] {
        return [...this.fws.values()].map(f => ({ id: f.id, name: f.name, rules: f.rules.map(r => ({ ...r })), labels: { ...f.labels }, appliedTo: this.appliedTo(f.id) }));
    }

    // -----------------------------------------------------------------------------------------------------

    private async serve(req: http.IncomingMessage, raw: string): Promise<{ status: number; body?: Json }> {
        const method = req.method ?? "GET";
        const u = new URL(req.url ?? "/", "http://stand-in");
        let route = u.pathname;
        let out: { status: number; body?: Json };
        try {
            // api "Authentication": every request carries `Authorization: Bearer <token>`; the OpenAPI's 4xx
            // example is exactly {"code":"unauthorized","message":"unable to authenticate","details":null}.
            if (req.headers.authorization !== `Bearer ${this.opts.token}`) {
                throw new ApiError(401, "unauthorized", "unable to authenticate");
            }
            const path = u.pathname.startsWith("/v1/") ? u.pathname.slice(3) : null;
            const matches = path === null ? [] : this.routes.map(r => ({ r, m: r.re.exec(path) })).filter(x => x.m !== null);
            const hit = matches.find(x => x.r.method === method);
            if (!hit) {
                this.unserved.push(`${method} ${u.pathname}${u.search}`);
                if (matches.length > 0) {
                    route = matches[0].r.template;
                    throw new ApiError(405, "method_not_allowed", "The request method is not allowed"); // api "Errors"
                }
                throw new ApiError(404, "not_found", "not found");
            }
            route = hit.r.template;
            let body: unknown = undefined;
            if (method === "POST" || method === "PUT") {
                try {
                    body = raw.trim() === "" ? {} : JSON.parse(raw);
                } catch {
                    throw new ApiError(400, "json_error", "Invalid JSON input in your request"); // api "Errors": 400 json_error
                }
                if (typeof body !== "object" || body === null || Array.isArray(body)) {
                    throw new ApiError(400, "json_error", "Invalid JSON input in your request");
                }
            }
            out = await hit.r.handle(hit.m!.slice(1), u.searchParams, body);
        } catch (e) {
            const err = e instanceof ApiError ? e : new ApiError(500, "server_error", `stand-in: ${(e as Error).message}`);
            out = { status: err.status, body: { error: { code: err.code, message: err.message, details: err.details } } };
        }
        this.requests.push({ method, route, status: out.status });
        return out;
    }

    private buildRoutes(): Route[] {
        const r = (method: string, template: string, handle: Route["handle"]): Route => {
            // {action_id} is numeric, so POST /servers/{id}/actions/<verb> is not taken for a GET of an action.
            const re = new RegExp("^" + template.replace("{action_id}", "(\\d+)").replace(/\{[a-z_]+\}/g, "([^/]+)") + "$");
            return { method, template, re, handle };
        };
        return [
            // --- actions: go action_waiter.go WaitForFunc polls GET /actions?id=..&id=..&sort=status&sort=id
            //     (AllWithOpts: no per_page, follows meta.pagination.next_page); action.go GetByID GET /actions/{id}.
            r("GET", "/actions", (_m, q) => this.listActions(q, () => true, true)),
            r("GET", "/actions/{id}", m => ({ status: 200, body: { action: this.actionJson(this.getAction(m[0])) } })),
            r("GET", "/servers/actions", (_m, q) => this.listActions(q, a => a.resources.some(x => x.type === "server"), false)),
            r("GET", "/firewalls/actions", (_m, q) => this.listActions(q, a => a.resources.some(x => x.type === "firewall"), false)),
            r("GET", "/servers/{id}/actions", (m, q) => { const s = this.getServer(m[0]); return this.listActions(q, a => a.resources.some(x => x.type === "server" && x.id === s.pub.id), false); }),
            r("GET", "/firewalls/{id}/actions", (m, q) => { const f = this.getFirewall(m[0]); return this.listActions(q, a => a.resources.some(x => x.type === "firewall" && x.id === f.id), false); }),
            r("GET", "/servers/{id}/actions/{action_id}", m => { const s = this.getServer(m[0]); return { status: 200, body: { action: this.actionJson(this.getAction(m[1], a => a.resources.some(x => x.type === "server" && x.id === s.pub.id))) } }; }),
            r("GET", "/firewalls/{id}/actions/{action_id}", m => { const f = this.getFirewall(m[0]); return { status: 200, body: { action: this.actionJson(this.getAction(m[1], a => a.resources.some(x => x.type === "firewall" && x.id === f.id))) } }; }),

            // --- catalogue reads. tf server/resource.go resourceServerCreate: c.ServerType.Get(name) =>
            //     GET /server_types?name=; c.Image.GetForArchitecture => GET /images/{id} for a numeric id (falling
            //     back to the name), else GET /images?architecture=&include_deprecated=true&name=.
            r("GET", "/server_types", (_m, q) => this.list(q, "server_types", SERVER_TYPES.filter(t => nameMatches(q, t.name)).map(t => this.serverTypeJson(t)))),
            r("GET", "/server_types/{id}", m => ({ status: 200, body: { server_type: this.serverTypeJson(findById(SERVER_TYPES, m[0], "server type")) } })),
            r("GET", "/images", (_m, q) => this.list(q, "images", IMAGES.filter(i => this.imageMatches(i, q)).map(i => imageJson(i)))),
            r("GET", "/images/{id}", m => ({ status: 200, body: { image: imageJson(findById(IMAGES, m[0], "image")) } })),
            r("GET", "/locations", (_m, q) => this.list(q, "locations", LOCATIONS.filter(l => nameMatches(q, l.name)).map(locationJson))),
            r("GET", "/locations/{id}", m => ({ status: 200, body: { location: locationJson(findById(LOCATIONS, m[0], "location")) } })),
            r("GET", "/datacenters", (_m, q) => this.list(q, "datacenters", DATACENTERS.filter(d => nameMatches(q, d.name)).map(datacenterJson))),
            r("GET", "/datacenters/{id}", m => ({ status: 200, body: { datacenter: datacenterJson(findById(DATACENTERS, m[0], "datacenter")) } })),
            r("GET", "/primary_ips", (_m, q) => this.list(q, "primary_ips", [...this.pips.values()]
                .filter(p => nameMatches(q, `primary_ip-${p.id}`) && (!q.get("ip") || q.get("ip") === p.ip)).map(p => this.primaryIpJson(p)))),
            r("GET", "/primary_ips/{id}", m => ({ status: 200, body: { primary_ip: this.primaryIpJson(this.getById(this.pips, m[0], "primary ip")) } })),

            // --- ssh keys: tf sshkey/resource.go Create POST /ssh_keys, Read GET /ssh_keys/{id}, Update PUT,
            //     Delete DELETE (not_found tolerated); tf server/resource.go getSSHkeys => go ssh_key.go Get.
            r("GET", "/ssh_keys", (_m, q) => this.list(q, "ssh_keys", [...this.keys.values()]
                .filter(k => nameMatches(q, k.name) && (!q.has("fingerprint") || q.get("fingerprint") === k.fingerprint) && labelsMatch(q, k.labels)).map(keyJson))),
            r("POST", "/ssh_keys", (_m, _q, b) => this.createKey(b as Json)),
            r("GET", "/ssh_keys/{id}", m => ({ status: 200, body: { ssh_key: keyJson(this.getById(this.keys, m[0], "SSH key")) } })),
            r("PUT", "/ssh_keys/{id}", (m, _q, b) => this.updateKey(m[0], b as Json)),
            r("DELETE", "/ssh_keys/{id}", m => this.deleteKey(m[0])),

            // --- firewalls: tf firewall/resource.go Create POST /firewalls + WaitFor(actions) + GET; Update PUT
            //     (name, labels), POST .../set_rules, apply_to_resources / remove_from_resources; Delete GET,
            //     remove_from_resources if applied_to, then DELETE retried on resource_in_use / conflict.
            r("GET", "/firewalls", (_m, q) => this.list(q, "firewalls", [...this.fws.values()].filter(f => nameMatches(q, f.name) && labelsMatch(q, f.labels)).map(f => this.firewallJson(f)))),
            r("POST", "/firewalls", (_m, _q, b) => this.createFirewall(b as Json)),
            r("GET", "/firewalls/{id}", m => ({ status: 200, body: { firewall: this.firewallJson(this.getFirewall(m[0])) } })),
            r("PUT", "/firewalls/{id}", (m, _q, b) => this.updateFirewall(m[0], b as Json)),
            r("DELETE", "/firewalls/{id}", m => this.deleteFirewall(m[0])),
            r("POST", "/firewalls/{id}/actions/set_rules", (m, _q, b) => this.setRules(m[0], b as Json)),
            r("POST", "/firewalls/{id}/actions/apply_to_resources", (m, _q, b) => this.applyFirewall(m[0], b as Json)),
            r("POST", "/firewalls/{id}/actions/remove_from_resources", (m, _q, b) => this.removeFirewall(m[0], b as Json)),

            // --- servers: tf server/resource.go Create POST /servers + WaitFor(action) + WaitFor(next_actions) +
            //     Read; Read GET /servers/{id} (404 => gone); Update GET, PUT name, PUT labels, GET;
            //     Delete DELETE /servers/{id} + WaitFor(action).
            r("GET", "/servers", (_m, q) => this.list(q, "servers", [...this.srvs.values()]
                .filter(s => nameMatches(q, s.pub.name) && labelsMatch(q, s.pub.labels) && (q.getAll("status").length === 0 || q.getAll("status").includes(s.status))).map(s => this.serverJson(s)))),
            r("POST", "/servers", (_m, _q, b) => this.createServer(b as Json)),
            r("GET", "/servers/{id}", m => ({ status: 200, body: { server: this.serverJson(this.getServer(m[0])) } })),
            r("PUT", "/servers/{id}", (m, _q, b) => this.updateServer(m[0], b as Json)),
            r("DELETE", "/servers/{id}", m => this.deleteServer(m[0])),
        ];
    }

    // --- generic helpers --------------------------------------------------------------------------------

    /** api "Pagination": page from 1, per_page default 25 and at most 50; meta.pagination with nulls at the ends. */
    private list(q: URLSearchParams, key: string, all: Json[]): { status: number; body: Json } {
        const perPage = Math.min(50, Math.max(1, Number(q.get("per_page") ?? 25) || 25));
        const page = Math.max(1, Number(q.get("page") ?? 1) || 1);
        const lastPage = Math.max(1, Math.ceil(all.length / perPage));
        return {
            status: 200,
            body: {
                [key]: all.slice((page - 1) * perPage, page * perPage),
                // go client_helper.go iterPages stops when next_page is 0/null.
                meta: { pagination: { page, per_page: perPage, previous_page: page > 1 ? page - 1 : null, next_page: page < lastPage ? page + 1 : null, last_page: lastPage, total_entries: all.length } },
            },
        };
    }

    private getById<T>(map: Map<number, T>, raw: string, what: string): T {
        const rec = /^\d+$/.test(raw) ? map.get(Number(raw)) : undefined;
        if (!rec) throw notFound(what);
        return rec;
    }
    private getServer(raw: string): SrvRec { return this.getById(this.srvs, raw, "server"); }
    private getFirewall(raw: string): FwRec { return this.getById(this.fws, raw, "firewall"); }
    private getAction(raw: string, belongs: (a: ActionRec) => boolean = () => true): ActionRec {
        const a = this.getById(this.acts, raw, "action");
        if (!belongs(a)) throw notFound("action");
        return a;
    }

    private track<T>(p: Promise<T>): Promise<T> {
        this.pending.add(p);
        void p.finally(() => this.pending.delete(p)).catch(() => undefined);
        return p;
    }

    private later(ms: number, fn: () => void): NodeJS.Timeout {
        const t = setTimeout(() => {
            this.timers.delete(t);
            fn();
        }, ms);
        this.timers.add(t);
        return t;
    }

    private hookFailed(what: string, e: unknown): void {
        this.hookErrors.push(`${what}: ${(e as Error)?.message ?? String(e)}`);
    }

    // --- actions ----------------------------------------------------------------------------------------
    // go schema/action.go Action: id, command, status running|success|error, progress, started, finished
    // (null while running), resources [{id,type}], error {code,message}|null.

    /** Starts an action that succeeds `delayMs` from now, after `work` settled (its failure fails the action). */
    private startAction(command: string, resources: { id: number; type: string }[], delayMs: number, work?: () => Promise<void>, done?: () => void): ActionRec {
        const a: ActionRec = { id: this.nextAction++, command, resources, started: new Date(), finished: null, status: "running", durationMs: delayMs, error: null };
        this.acts.set(a.id, a);
        const finish = (err?: unknown) => {
            a.finished = new Date();
            if (err === undefined) {
                a.status = "success";
                done?.();
            } else {
                a.status = "error";
                a.error = { code: "action_failed", message: (err as Error)?.message ?? "Action failed" };
            }
        };
        const waited = work ? this.track(work()) : Promise.resolve();
        const ready = new Promise<void>(res => this.later(delayMs, res));
        // Not tracked: stop() cancels the timer, so this may never settle.
        void Promise.all([ready, waited]).then(() => finish(), e => ready.then(() => finish(e)));
        return a;
    }

    private actionJson(a: ActionRec): Json {
        const progress = a.status !== "running" ? 100 : Math.min(99, Math.floor(((Date.now() - a.started.getTime()) / Math.max(1, a.durationMs)) * 100));
        return { id: a.id, command: a.command, status: a.status, progress, started: rfc3339(a.started), finished: a.finished ? rfc3339(a.finished) : null, resources: a.resources.map(r => ({ ...r })), error: a.error };
    }

    private listActions(q: URLSearchParams, scope: (a: ActionRec) => boolean, idRequired: boolean): { status: number; body: Json } {
        const ids = q.getAll("id");
        // go action.go AllWithOpts: "It is required to pass in a list of IDs since 30 January 2025" for GET /actions.
        if (idRequired && ids.length === 0) throw invalidInput([{ name: "id", messages: [MISSING] }]);
        const statuses = q.getAll("status");
        const list = [...this.acts.values()]
            .filter(a => scope(a) && (ids.length === 0 || ids.includes(String(a.id))) && (statuses.length === 0 || statuses.includes(a.status)))
            .sort((x, y) => x.id - y.id);
        return this.list(q, "actions", list.map(a => this.actionJson(a)));
    }

    // --- catalogue --------------------------------------------------------------------------------------

    private serverTypeJson(t: ServerType): Json {
        // go schema/server_type.go ServerType; locations[] lists only where the type is sold (api
        // server_types.locations: "only supported in the Location that are listed", "temporarily unavailable
        // when available is false"), with deprecation null (tf deprecationutil.ServerTypeMessage reads it).
        const price = (t.cores * 0.9 + t.memory * 0.25).toFixed(4);
        return {
            id: t.id, name: t.name, description: t.name.toUpperCase(), category: t.category, cores: t.cores, memory: t.memory, disk: t.disk,
            storage_type: "local", cpu_type: t.cpu_type, architecture: t.architecture, included_traffic: 21990232555520,
            prices: t.locations.map(l => ({ location: l, price_hourly: { net: (Number(price) / 720).toFixed(4), gross: (Number(price) * 1.19 / 720).toFixed(4) }, price_monthly: { net: price, gross: (Number(price) * 1.19).toFixed(4) }, included_traffic: 21990232555520, price_per_tb_traffic: { net: "1.0000", gross: "1.1900" } })),
            deprecated: false, deprecation: null,
            locations: t.locations.map(l => ({ id: byName(LOCATIONS, l)!.id, name: l, deprecation: null, recommended: false, available: !this.isOutOfStock(t.name, l) })),
        };
    }

    private isOutOfStock(type: string, location: string): boolean {
        return (this.opts.outOfStock ?? []).some(o => o.serverType === type && o.location === location);
    }

    private imageMatches(i: Image, q: URLSearchParams): boolean {
        // go image.go ImageListOpts.Values: name, architecture (repeatable), type, status, include_deprecated.
        const archs = q.getAll("architecture");
        const types = q.getAll("type");
        const statuses = q.getAll("status");
        return nameMatches(q, i.name) && (archs.length === 0 || archs.includes(i.architecture))
            && (types.length === 0 || types.includes("system")) && (statuses.length === 0 || statuses.includes("available"))
            && !q.has("bound_to");
    }

    private primaryIpJson(p: PipRec): Json {
        // go schema/primary_ip.go PrimaryIP; auto-created with the server (auto_delete true), api POST /servers public_net.
        const loc = byName(LOCATIONS, p.location)!;
        const dc = DATACENTERS.find(d => d.location === p.location)!;
        return {
            id: p.id, name: `primary_ip-${p.id}`, ip: p.ip, type: p.type, labels: {}, protection: { delete: false },
            dns_ptr: p.type === "ipv4" ? [{ ip: p.ip, dns_ptr: reversePtr(p.ip) }] : [],
            assignee_id: p.serverId, assignee_type: "server", auto_delete: true, blocked: false, created: rfc3339(p.created),
            location: locationJson(loc), datacenter: datacenterJson(dc),
        };
    }

    // --- ssh keys ---------------------------------------------------------------------------------------

    private createKey(b: Json): { status: number; body: Json } {
        // go schema/ssh_key.go SSHKeyCreateRequest {name, public_key, labels?}; api POST /ssh_keys requires name, public_key.
        const errs: FieldError[] = [];
        const name = stringField(b, "name", errs, true);
        const rawKey = stringField(b, "public_key", errs, true);
        const labels = labelsField(b, errs);
        // gh hetznercloud/terraform-provider-hcloud#1389, hcloud-k8s/terraform-hcloud-kubernetes#390: since
        // 2026-04-22 the API trims surrounding whitespace off public_key (changelog "ssh-key-trimmed"), and
        // answers the trimmed key; the provider does not normalise, so a key with "\n" fails its apply.
        const publicKey = rawKey?.trim();
        let fingerprint = "";
        if (publicKey !== undefined && errs.every(e => e.name !== "public_key")) {
            const fp = md5Fingerprint(publicKey);
            if (fp === null) errs.push({ name: "public_key", messages: ["invalid public key"] }); // message: guess
            else fingerprint = fp;
        }
        if (errs.length) throw invalidInput(errs);
        // gh snowdrop/k8s-infra#214 "SSH key name is already used (uniqueness_error)";
        // api "Errors" example: "SSH key with the same fingerprint already exists", details.fields [{name: public_key}].
        if ([...this.keys.values()].some(k => k.name === name)) throw new ApiError(409, "uniqueness_error", "SSH key name is already used", { fields: [{ name: "name" }] });
        if ([...this.keys.values()].some(k => k.fingerprint === fingerprint)) throw new ApiError(409, "uniqueness_error", "SSH key with the same fingerprint already exists", { fields: [{ name: "public_key" }] });
        const k: KeyRec = { id: this.nextKey++, name: name!, publicKey: publicKey!, fingerprint, labels: labels ?? {}, created: new Date() };
        this.keys.set(k.id, k);
        return { status: 201, body: { ssh_key: keyJson(k) } }; // go schema/ssh_key.go SSHKeyCreateResponse
    }

    private updateKey(raw: string, b: Json): { status: number; body: Json } {
        // go schema/ssh_key.go SSHKeyUpdateRequest {name?, labels?}: labels replace the old ones.
        const k = this.getById(this.keys, raw, "SSH key");
        renameAndLabel(k, [...this.keys.values()], b, "SSH key name is already used");
        return { status: 200, body: { ssh_key: keyJson(k) } };
    }

    private deleteKey(raw: string): { status: number } {
        // api DELETE /ssh_keys/{id}: 204, no operation-specific errors. Keys are only injected into a server at
        // creation time (api POST /servers ssh_keys), so a key a server was built with is not "in use".
        const k = this.getById(this.keys, raw, "SSH key");
        this.keys.delete(k.id);
        return { status: 204 };
    }

    // --- firewalls --------------------------------------------------------------------------------------

    private appliedTo(fwId: number): number[] {
        return [...this.srvs.values()].filter(s => s.firewalls.has(fwId)).map(s => s.pub.id);
    }

    /** Hands the filter hook what is in force on a booted server: the inbound rules of its applied firewalls. */
    private enforce(s: SrvRec): void {
        if (!this.opts.filter || !s.booted || s.deleting) return;
        const applied = [...s.firewalls].filter(([, status]) => status === "applied").map(([id]) => this.fws.get(id)).filter((f): f is FwRec => f !== undefined);
        const inbound = applied.length === 0 ? null : applied.flatMap(f => f.rules.filter(r => r.direction === "in").map(r => ({ ...r, source_ips: [...r.source_ips] })));
        const server = { ...s.pub, publicKeys: [...s.pub.publicKeys], labels: { ...s.pub.labels }, firewallIds: [...s.firewalls.keys()] };
        s.booted = s.booted.then(() => this.opts.filter?.(server, inbound)).catch(e => this.hookFailed(`filter ${s.pub.name}`, e));
        this.track(s.booted);
    }

    private firewallJson(f: FwRec): Json {
        // go schema/firewall.go Firewall; applied_to [{type: server, server: {id}}] (api GET /firewalls/{id}).
        return {
            id: f.id, name: f.name, labels: { ...f.labels }, created: rfc3339(f.created),
            rules: f.rules.map(r => ({ ...r, source_ips: [...r.source_ips], destination_ips: [...r.destination_ips] })),
            applied_to: this.appliedTo(f.id).map(id => ({ type: "server", server: { id } })),
        };
    }

    private createFirewall(b: Json): { status: number; body: Json } {
        // go schema/firewall.go FirewallCreateRequest {name, labels?, rules?, apply_to?}.
        const errs: FieldError[] = [];
        const name = stringField(b, "name", errs, true);
        const labels = labelsField(b, errs);
        const rules = b.rules === undefined ? [] : parseRules(b.rules, errs);
        const targets = b.apply_to === undefined ? [] : this.parseResources(b.apply_to, "apply_to", errs);
        if (errs.length) throw invalidInput(errs);
        // "name is already used" is what the API says for placement groups (gh mysticaltech/terraform-hcloud-kube-hetzner#388); for firewalls: guess.
        if ([...this.fws.values()].some(f => f.name === name)) throw new ApiError(409, "uniqueness_error", "name is already used", { fields: [{ name: "name" }] });
        for (const id of targets) {
            // api POST /firewalls: 422 firewall_resource_not_found, 422 server_already_added
            if (!this.srvs.has(id)) throw new ApiError(422, "firewall_resource_not_found", "the resource the firewall should be attached to was not found");
        }
        if (new Set(targets).size !== targets.length) throw new ApiError(422, "server_already_added", "server added more than once");
        const f: FwRec = { id: this.nextFw++, name: name!, labels: labels ?? {}, rules: rules ?? [], created: new Date() };
        this.fws.set(f.id, f);
        // api POST /firewalls example: actions set_firewall_rules (resources: firewall) and, per server it is
        // applied to, apply_firewall (resources: server, firewall).
        const actions = [this.startAction("set_firewall_rules", [{ id: f.id, type: "firewall" }], this.actionMs)];
        for (const id of targets) actions.push(this.applyTo(f, this.srvs.get(id)!));
        return { status: 201, body: { firewall: this.firewallJson(f), actions: actions.map(a => this.actionJson(a)) } };
    }

    private applyTo(f: FwRec, s: SrvRec): ActionRec {
        // api apply_to_resources: "applied once the related Action with command apply_firewall successfully finished";
        // the server's public_net.firewalls[].status is pending until then (api ServerPublicNetFirewall status).
        s.firewalls.set(f.id, "pending");
        return this.startAction("apply_firewall", [{ id: s.pub.id, type: "server" }, { id: f.id, type: "firewall" }], this.actionMs, undefined, () => {
            if (s.firewalls.has(f.id)) s.firewalls.set(f.id, "applied");
            this.enforce(s);
        });
    }

    private parseResources(raw: unknown, field: string, errs: FieldError[]): number[] {
        // go schema/firewall.go FirewallResource {type: server|label_selector, server: {id}, label_selector: {selector}}
        if (!Array.isArray(raw)) {
            errs.push({ name: field, messages: ["Not a valid list."] });
            return [];
        }
        const ids: number[] = [];
        raw.forEach((r, i) => {
            const o = r as Json;
            if (o?.type === "server" && Number.isInteger((o.server as Json)?.id)) ids.push((o.server as Json).id as number);
            else if (o?.type === "label_selector") {
                this.unserved.push(`label_selector in ${field}[${i}] (not modelled by the stand-in)`);
                errs.push({ name: `${field}`, messages: ["label_selector is not supported by the stand-in"] });
            } else errs.push({ name: `${field}`, messages: ["invalid resource"] });
        });
        return ids;
    }

    private updateFirewall(raw: string, b: Json): { status: number; body: Json } {
        // go schema/firewall.go FirewallUpdateRequest {name?, labels?}; tf firewall/resource.go Update sends them apart.
        const f = this.getFirewall(raw);
        renameAndLabel(f, [...this.fws.values()], b, "name is already used");
        return { status: 200, body: { firewall: this.firewallJson(f) } };
    }

    private deleteFirewall(raw: string): { status: number } {
        // api DELETE /firewalls/{id}: 204; 422 resource_in_use "Firewall still applied to a resource".
        // tf firewall/resource.go resourceFirewallDelete retries DELETE on resource_in_use and conflict.
        const f = this.getFirewall(raw);
        if (this.appliedTo(f.id).length > 0) throw new ApiError(422, "resource_in_use", "firewall is still in use"); // message: guess
        this.fws.delete(f.id);
        return { status: 204 };
    }

    private setRules(raw: string, b: Json): { status: number; body: Json } {
        // go schema/firewall.go FirewallActionSetRulesRequest {rules} (required by api; [] removes all rules).
        const f = this.getFirewall(raw);
        const errs: FieldError[] = [];
        if (b.rules === undefined) errs.push({ name: "rules", messages: [MISSING] });
        const rules = b.rules === undefined ? [] : parseRules(b.rules, errs);
        if (errs.length) throw invalidInput(errs);
        f.rules = rules;
        // go schema/firewall.go FirewallActionSetRulesResponse {actions}: set_firewall_rules, then apply_firewall
        // per server the firewall is applied to (as the api POST /firewalls example pairs them).
        const actions = [this.startAction("set_firewall_rules", [{ id: f.id, type: "firewall" }], this.actionMs)];
        for (const id of this.appliedTo(f.id)) {
            actions.push(this.startAction("apply_firewall", [{ id, type: "server" }, { id: f.id, type: "firewall" }], this.actionMs, undefined, () => {
                const srv = this.srvs.get(id);
                if (srv) this.enforce(srv);
            }));
        }
        return { status: 201, body: { actions: actions.map(a => this.actionJson(a)) } };
    }

    /** The firewall of the path and the server ids of the body's `apply_to` or `remove_from` (required, checked as the api checks them). */
    private firewallAndResources(raw: string, b: Json, field: "apply_to" | "remove_from"): { f: FwRec; ids: number[] } {
        const f = this.getFirewall(raw);
        const errs: FieldError[] = [];
        if (b[field] === undefined) errs.push({ name: field, messages: [MISSING] });
        const ids = b[field] === undefined ? [] : this.parseResources(b[field], field, errs);
        if (errs.length) throw invalidInput(errs);
        return { f, ids };
    }

    private applyFirewall(raw: string, b: Json): { status: number; body: Json } {
        // api apply_to_resources: 404 firewall_resource_not_found, 422 firewall_already_applied.
        const { f, ids } = this.firewallAndResources(raw, b, "apply_to");
        for (const id of ids) {
            const s = this.srvs.get(id);
            if (!s || s.deleting) throw new ApiError(404, "firewall_resource_not_found", "the resource the firewall should be applied to was not found");
            if (s.firewalls.has(f.id)) throw new ApiError(422, "firewall_already_applied", "firewall is already applied to resource");
        }
        const actions = ids.map(id => this.applyTo(f, this.srvs.get(id)!));
        return { status: 201, body: { actions: actions.map(a => this.actionJson(a)) } };
    }

    private removeFirewall(raw: string, b: Json): { status: number; body: Json } {
        // api remove_from_resources: 404 firewall_resource_not_found; go error.go: firewall_already_removed is
        // no longer used (changelog 2025-08-04), so removing a firewall that is not applied just succeeds.
        const { f, ids } = this.firewallAndResources(raw, b, "remove_from");
        for (const id of ids) {
            if (!this.srvs.has(id)) throw new ApiError(404, "firewall_resource_not_found", "the resource the firewall should be removed from was not found");
        }
        const actions = ids.map(id => {
            const s = this.srvs.get(id)!;
            s.firewalls.delete(f.id);
            return this.startAction("remove_firewall", [{ id, type: "server" }, { id: f.id, type: "firewall" }], this.actionMs, undefined, () => this.enforce(s));
        });
        return { status: 201, body: { actions: actions.map(a => this.actionJson(a)) } };
    }

    // --- servers ----------------------------------------------------------------------------------------

    private serverJson(s: SrvRec): Json {
        // go schema/server.go Server (all fields the api marks required are present).
        const loc = byName(LOCATIONS, s.pub.location)!;
        const dc = DATACENTERS.find(d => d.location === s.pub.location)!;
        return {
            id: s.pub.id, name: s.pub.name, status: s.status, created: rfc3339(s.created),
            public_net: {
                ipv4: s.ipv4Id === null ? null : { id: s.ipv4Id, ip: s.pub.ipv4, blocked: false, dns_ptr: reversePtr(s.pub.ipv4) },
                ipv6: s.ipv6Id === null ? null : { id: s.ipv6Id, ip: s.ipv6, blocked: false, dns_ptr: [] },
                floating_ips: [],
                firewalls: [...s.firewalls].map(([id, status]) => ({ id, status })),
            },
            private_net: [],
            server_type: this.serverTypeJson(s.typeRec),
            included_traffic: 21990232555520, outgoing_traffic: 0, ingoing_traffic: 0,
            backup_window: null, rescue_enabled: false, iso: null, locked: false,
            location: locationJson(loc),
            // Deprecated (go schema/server.go: removed after 1 July 2026) but still answered; tf
            // getServerAttributes passes its name through to `datacenter`.
            datacenter: datacenterJson(dc),
            image: imageJson(s.imageRec),
            protection: { delete: false, rebuild: false },
            labels: { ...s.pub.labels },
            volumes: [], load_balancers: [], placement_group: null,
            primary_disk_size: s.typeRec.disk,
        };
    }

    private resolveLocation(b: Json, errs: FieldError[]): Location | null | undefined {
        // api POST /servers: location = ID or name; datacenter (deprecated) = ID or name; not both.
        const byIdOrName = <T extends { id: number; name: string }>(list: readonly T[], v: unknown): T | undefined =>
            list.find(x => (typeof v === "number" && x.id === v) || (typeof v === "string" && (x.name === v || String(x.id) === v)));
        if (b.location !== undefined && b.datacenter !== undefined) {
            errs.push({ name: "location", messages: ["location and datacenter are mutually exclusive"] }); // go server.go Validate; wording: guess
            return null;
        }
        if (b.location !== undefined) {
            const l = byIdOrName(LOCATIONS, b.location);
            // gh hetznercloud/terraform-provider-hcloud#493: "location 'ash' not found (invalid_input)"
            if (!l) errs.push({ name: "location", messages: [`location '${String(b.location)}' not found`] });
            return l ?? null;
        }
        if (b.datacenter !== undefined) {
            const d = byIdOrName(DATACENTERS, b.datacenter);
            if (!d) errs.push({ name: "datacenter", messages: [`datacenter '${String(b.datacenter)}' not found`] });
            return d ? byName(LOCATIONS, d.location)! : null;
        }
        return undefined;
    }

    private createServer(b: Json): { status: number; body: Json } {
        // go schema/server.go ServerCreateRequest: name, server_type (id or name), image (id or name),
        // ssh_keys []int64 (api also takes names), location, user_data, start_after_create, labels,
        // firewalls [{firewall}], public_net {enable_ipv4, enable_ipv6, ipv4?, ipv6?}. api requires name,
        // server_type, image.
        const errs: FieldError[] = [];
        const name = stringField(b, "name", errs, true);
        if (name !== undefined && !isHostname(name)) errs.push({ name: "name", messages: ["must be a valid hostname"] }); // api: "a valid hostname as per RFC 1123"; wording: guess
        let type: ServerType | undefined;
        if (b.server_type === undefined) errs.push({ name: "server_type", messages: [MISSING] });
        else {
            type = SERVER_TYPES.find(t => t.name === b.server_type || t.id === b.server_type || String(t.id) === b.server_type);
            if (!type) errs.push({ name: "server_type", messages: [`server type '${String(b.server_type)}' not found`] }); // guess; the provider resolves the type by GET first
        }
        let image: Image | undefined;
        if (b.image === undefined) errs.push({ name: "image", messages: [MISSING] });
        else {
            // By id (what the provider sends: go schema/id_or_name.go marshals the resolved image's ID) or by
            // name, picking the variant of the type's architecture.
            image = IMAGES.find(i => i.id === b.image || String(i.id) === b.image)
                ?? IMAGES.find(i => i.name === b.image && i.architecture === (type?.architecture ?? "x86"));
            if (!image) errs.push({ name: "image", messages: [`image '${String(b.image)}' not found`] }); // guess, as above
            else if (type && image.architecture !== type.architecture) errs.push({ name: "image", messages: ["image architecture does not match server type architecture"] }); // guess
        }
        const labels = labelsField(b, errs);
        const location = this.resolveLocation(b, errs);
        const keys: KeyRec[] = [];
        if (b.ssh_keys !== undefined) {
            if (!Array.isArray(b.ssh_keys)) errs.push({ name: "ssh_keys", messages: ["Not a valid list."] });
            else for (const v of b.ssh_keys) {
                const k = [...this.keys.values()].find(x => x.id === v || String(x.id) === v || x.name === v);
                if (!k) errs.push({ name: "ssh_keys", messages: [`ssh key '${String(v)}' not found`] }); // guess
                else keys.push(k);
            }
        }
        const fwIds: number[] = [];
        if (b.firewalls !== undefined) {
            if (!Array.isArray(b.firewalls)) errs.push({ name: "firewalls", messages: ["Not a valid list."] });
            else for (const v of b.firewalls) {
                const id = (v as Json)?.firewall;
                if (typeof id !== "number" || !this.fws.has(id)) errs.push({ name: "firewalls", messages: [`firewall '${String(id)}' not found`] }); // guess
                else fwIds.push(id);
            }
        }
        const pn = (b.public_net ?? {}) as Json;
        if (pn.ipv4 != null || pn.ipv6 != null) {
            this.unserved.push("POST /servers public_net.ipv4/ipv6 (existing primary IPs are not modelled by the stand-in)");
            errs.push({ name: "public_net", messages: ["assigning existing primary IPs is not supported by the stand-in"] });
        }
        if (errs.length) throw invalidInput(errs);

        // gh OpenRouterLabs/spawn#825, testflows/TestFlows-GitHub-Hetzner-Runners#96, roots/trellis-cli#622:
        // a type the location does not sell => "unsupported location for server type (invalid_input)".
        const loc = location ?? byName(LOCATIONS, type!.locations.find(l => !this.isOutOfStock(type!.name, l)) ?? type!.locations[0])!;
        if (!type!.locations.includes(loc.name)) throw invalidInput([{ name: "location", messages: ["unsupported location for server type"] }]);
        // api "Errors": 412 resource_unavailable "not available for order"; gh hetznercloud/terraform-provider-hcloud#531,
        // pulumi/pulumi-hcloud#104: "error during placement (resource_unavailable)" when sold but out of stock.
        if (this.isOutOfStock(type!.name, loc.name)) throw new ApiError(412, "resource_unavailable", "error during placement");
        // gh 23technologies/gardener-extension-provider-hcloud#10: "server name is already used (uniqueness_error)"
        if ([...this.srvs.values()].some(s => s.pub.name === name)) throw new ApiError(409, "uniqueness_error", "server name is already used", { fields: [{ name: "name" }] });

        const id = this.nextSrv++;
        const pub: StandInServer = {
            id, name: name!, serverType: type!.name, location: loc.name, image: image!.name, arch: type!.architecture,
            publicKeys: keys.map(k => k.publicKey), labels: labels ?? {}, firewallIds: fwIds, ipv4: "",
        };
        const s: SrvRec = {
            pub, status: "initializing", created: new Date(), typeRec: type!, imageRec: image!, ipv4Id: null, ipv6: "", ipv6Id: null,
            firewalls: new Map(fwIds.map(f => [f, "pending" as const])), userData: typeof b.user_data === "string" ? b.user_data : "",
            bootTimer: null, booted: null, deleting: false,
        };
        // api POST /servers public_net: enable_ipv4/enable_ipv6 default true; each creates a Primary IP.
        if (pn.enable_ipv4 !== false) {
            pub.ipv4 = this.opts.address({ ...pub });
            s.ipv4Id = this.nextPip++;
            this.pips.set(s.ipv4Id, { id: s.ipv4Id, type: "ipv4", ip: pub.ipv4, serverId: id, location: loc.name, created: s.created });
        }
        if (pn.enable_ipv6 !== false) {
            s.ipv6 = `2a01:4f8:c0c:${(id & 0xffff).toString(16)}::/64`;
            s.ipv6Id = this.nextPip++;
            this.pips.set(s.ipv6Id, { id: s.ipv6Id, type: "ipv6", ip: s.ipv6, serverId: id, location: loc.name, created: s.created });
        }
        this.srvs.set(id, s);
        try {
            this.opts.onCreate?.({ ...pub, publicKeys: [...pub.publicKeys], labels: { ...pub.labels }, firewallIds: [...fwIds] });
        } catch (e) {
            this.hookFailed(`onCreate ${pub.name}`, e);
        }

        // go schema/server.go ServerCreateResponse {server, action, next_actions, root_password}: action is
        // create_server (running); start_after_create (default true, api) adds start_server to next_actions.
        // Status initializing -> starting (create done) -> running (start done) (api Server.status enum).
        const start = b.start_after_create !== false;
        const create = this.startAction("create_server", [{ id, type: "server" }], this.actionMs, undefined, () => {
            s.status = start ? "starting" : "off";
            for (const f of s.firewalls.keys()) s.firewalls.set(f, "applied");
            if (start) {
                // The machine answers bootDelayMs after the create action finished (the brief's hook contract).
                s.bootTimer = this.later(this.bootDelayMs, () => {
                    s.bootTimer = null;
                    s.booted = this.track(Promise.resolve().then(() => this.opts.boot({ ...pub, publicKeys: [...pub.publicKeys], labels: { ...pub.labels }, firewallIds: [...s.firewalls.keys()] })))
                        .catch(e => this.hookFailed(`boot ${pub.name}`, e));
                    // The firewalls the create applied hold from the first packet the machine answers.
                    this.enforce(s);
                });
            }
        });
        const next = start ? [this.startAction("start_server", [{ id, type: "server" }], 2 * this.actionMs, undefined, () => {
            if (!s.deleting) s.status = "running";
        })] : [];
        return {
            status: 201,
            body: {
                server: this.serverJson(s), action: this.actionJson(create), next_actions: next.map(a => this.actionJson(a)),
                root_password: keys.length > 0 ? null : randomPassword(), // api: root_password null when ssh keys are given
            },
        };
    }

    private updateServer(raw: string, b: Json): { status: number; body: Json } {
        // go schema/server.go ServerUpdateRequest {name?, labels?}; tf server/resource.go Update sends name and
        // labels in separate PUTs; labels replace the old ones.
        const s = this.getServer(raw);
        renameAndLabel(s.pub, [...this.srvs.values()].map(o => o.pub), b, "server name is already used", isHostname);
        return { status: 200, body: { server: this.serverJson(s) } };
    }

    private deleteServer(raw: string): { status: number; body: Json } {
        // api DELETE /servers/{id}: 200 {action} (go schema/server.go ServerDeleteResponse); tf
        // resourceServerDelete waits for that action. The server shows status "deleting" until the action
        // finished, then it is gone (404), its firewalls are detached and its auto-delete primary IPs removed
        // ("Any resources attached to the server ... are detached while the server is deleted").
        const s = this.getServer(raw);
        if (s.deleting) throw new ApiError(423, "locked", "server is locked"); // api "Errors": 423 locked (action running); guess for this case
        s.deleting = true;
        s.status = "deleting";
        const stopMachine = async () => {
            if (s.bootTimer) {
                clearTimeout(s.bootTimer);
                this.timers.delete(s.bootTimer);
                s.bootTimer = null;
                return; // never booted: nothing to stop
            }
            if (s.booted) {
                await s.booted;
                await Promise.resolve().then(() => this.opts.stop({ ...s.pub, publicKeys: [...s.pub.publicKeys], labels: { ...s.pub.labels }, firewallIds: [...s.firewalls.keys()] }))
                    .catch(e => this.hookFailed(`stop ${s.pub.name}`, e));
            }
        };
        const a = this.startAction("delete_server", [{ id: s.pub.id, type: "server" }], this.actionMs, stopMachine, () => {
            this.srvs.delete(s.pub.id);
            if (s.ipv4Id !== null) this.pips.delete(s.ipv4Id);
            if (s.ipv6Id !== null) this.pips.delete(s.ipv6Id);
        });
        return { status: 200, body: { action: this.actionJson(a) } };
    }
}

// ---------------------------------------------------------------------------------------------------------
// Field parsing and validation.

function findById<T extends { id: number }>(list: readonly T[], raw: string, what: string): T {
    const x = /^\d+$/.test(raw) ? list.find(i => i.id === Number(raw)) : undefined;
    if (!x) throw notFound(what);
    return x;
}

const nameMatches = (q: URLSearchParams, name: string) => !q.has("name") || q.get("name") === name;

/** api "Label Selector": k=v, k==v, k!=v, k, !k, comma-separated (and); `in`/`notin` are not modelled. */
function labelsMatch(q: URLSearchParams, labels: Labels): boolean {
    const sel = q.get("label_selector");
    if (!sel) return true;
    return sel.split(",").map(t => t.trim()).filter(Boolean).every(term => {
        let m: RegExpExecArray | null;
        if ((m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term))) return labels[m[1]] !== m[2];
        if ((m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term))) return labels[m[1]] === m[2];
        if ((m = /^!\s*(\S+)$/.exec(term))) return !(m[1] in labels);
        return term in labels;
    });
}

/**
 * An update's {name?, labels?} (the key's, firewall's and server's Update requests in go schema/*.go): fields
 * checked, a name another of the same kind holds refused with uniqueness_error (409), labels replacing the old.
 */
function renameAndLabel(rec: { name: string; labels: Labels }, all: readonly { name: string }[], b: Json, taken: string,
    nameOk: (n: string) => boolean = () => true): void {
    const errs: FieldError[] = [];
    const name = stringField(b, "name", errs, false);
    if (name !== undefined && !nameOk(name)) errs.push({ name: "name", messages: ["must be a valid hostname"] });
    const labels = labelsField(b, errs);
    if (errs.length) throw invalidInput(errs);
    if (name !== undefined && name !== rec.name && all.some(o => o.name === name)) throw new ApiError(409, "uniqueness_error", taken, { fields: [{ name: "name" }] });
    if (name !== undefined) rec.name = name;
    if (labels !== undefined) rec.labels = labels;
}

function stringField(b: Json, name: string, errs: FieldError[], required: boolean): string | undefined {
    const v = b[name];
    if (v === undefined || v === null) {
        if (required) errs.push({ name, messages: [MISSING] });
        return undefined;
    }
    if (typeof v !== "string") {
        errs.push({ name, messages: ["Not a valid string."] });
        return undefined;
    }
    if (required && v === "") errs.push({ name, messages: ["Shorter than minimum length 1."] });
    return v;
}

/** api "Labels": keys [prefix/]name (name <= 63, alphanumeric ends, -_. inside; prefix a DNS subdomain), values <= 63 likewise or empty; hetzner.cloud/ is reserved. */
function labelsField(b: Json, errs: FieldError[]): Labels | undefined {
    const v = b.labels;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) {
        errs.push({ name: "labels", messages: ["Not a valid mapping type."] });
        return undefined;
    }
    const seg = /^[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/;
    const out: Labels = {};
    for (const [k, val] of Object.entries(v as Json)) {
        const slash = k.lastIndexOf("/");
        const prefix = slash >= 0 ? k.slice(0, slash) : null;
        const key = slash >= 0 ? k.slice(slash + 1) : k;
        const prefixOk = prefix === null || (prefix.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix) && prefix !== "hetzner.cloud");
        if (!prefixOk || !seg.test(key)) errs.push({ name: "labels", messages: [`label key '${k}' is invalid`] });
        else if (typeof val !== "string" || (val !== "" && !seg.test(val))) errs.push({ name: "labels", messages: [`label value of '${k}' is invalid`] });
        else out[k] = val;
    }
    return out;
}

/** api POST /servers name: "a valid hostname as per RFC 1123". */
function isHostname(name: string): boolean {
    return name.length <= 253 && name.split(".").every(l => /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/.test(l));
}

/**
 * Firewall rules (api POST /firewalls rules[], set_rules): direction in|out and protocol tcp|udp|icmp|esp|gre
 * required; port only for tcp/udp, and then required (port, range "a-b", or "any": tf docs for hcloud_firewall);
 * source_ips for `in`, destination_ips for `out`, in CIDR notation with empty host bits (api: networks or
 * single hosts; tf firewall/validation.go rejects host bits too), IPv6 canonicalised per RFC 5952 (api);
 * description at most 255; at most 50 rules. Field names in details: guess.
 */
function parseRules(raw: unknown, errs: FieldError[]): Rule[] {
    if (!Array.isArray(raw)) {
        errs.push({ name: "rules", messages: ["Not a valid list."] });
        return [];
    }
    if (raw.length > 50) errs.push({ name: "rules", messages: ["Longer than maximum length 50."] });
    return raw.map((item, i) => {
        const r = (item ?? {}) as Json;
        const at = (f: string) => `rules[${i}].${f}`;
        const direction = r.direction;
        const protocol = r.protocol;
        if (direction === undefined) errs.push({ name: at("direction"), messages: [MISSING] });
        else if (direction !== "in" && direction !== "out") errs.push({ name: at("direction"), messages: ["Must be one of: in, out."] });
        if (protocol === undefined) errs.push({ name: at("protocol"), messages: [MISSING] });
        else if (!["tcp", "udp", "icmp", "esp", "gre"].includes(protocol as string)) errs.push({ name: at("protocol"), messages: ["Must be one of: tcp, udp, icmp, esp, gre."] });
        let port: string | null = null;
        if (protocol === "tcp" || protocol === "udp") {
            if (r.port === undefined || r.port === null || r.port === "") errs.push({ name: at("port"), messages: [`port is required for protocol ${protocol as string}`] });
            else if (!validPort(r.port)) errs.push({ name: at("port"), messages: ["invalid port or port range"] });
            else port = r.port as string;
        } else if (r.port !== undefined && r.port !== null) {
            errs.push({ name: at("port"), messages: [`port is not allowed for protocol ${String(protocol)}`] });
        }
        const cidrs = (f: "source_ips" | "destination_ips"): string[] => {
            const v = r[f];
            if (v === undefined || v === null) return [];
            if (!Array.isArray(v)) {
                errs.push({ name: at(f), messages: ["Not a valid list."] });
                return [];
            }
            if (v.length > 100) errs.push({ name: at(f), messages: ["Longer than maximum length 100."] });
            return v.map(c => {
                const n = typeof c === "string" ? canonicalCidr(c) : null;
                if (n === null) errs.push({ name: at(f), messages: [`'${String(c)}' is not a valid CIDR`] });
                return n ?? String(c);
            });
        };
        const source_ips = cidrs("source_ips");
        const destination_ips = cidrs("destination_ips");
        if (direction === "in" && source_ips.length === 0) errs.push({ name: at("source_ips"), messages: ["source_ips are required for direction in"] });
        if (direction === "in" && destination_ips.length > 0) errs.push({ name: at("destination_ips"), messages: ["destination_ips are not allowed for direction in"] });
        if (direction === "out" && destination_ips.length === 0) errs.push({ name: at("destination_ips"), messages: ["destination_ips are required for direction out"] });
        if (direction === "out" && source_ips.length > 0) errs.push({ name: at("source_ips"), messages: ["source_ips are not allowed for direction out"] });
        let description: string | null = null;
        if (r.description !== undefined && r.description !== null) {
            if (typeof r.description !== "string" || r.description.length > 255) errs.push({ name: at("description"), messages: ["Longer than maximum length 255."] });
            else description = r.description;
        }
        return { direction: String(direction), protocol: String(protocol), port, source_ips, destination_ips, description };
    });
}

function validPort(p: unknown): boolean {
    if (p === "any") return true;
    if (typeof p !== "string") return false;
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(p);
    if (!m) return false;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    return lo >= 1 && hi <= 65535 && lo <= hi && (m[2] === undefined || lo < hi);
}

/** A CIDR in canonical form, or null if it is not one (or has host bits set). */
function canonicalCidr(c: string): string | null {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(c);
    if (!m) return null;
    const bits = Number(m[2]);
    const v = isIP(m[1]);
    if (v === 4) {
        if (bits > 32) return null;
        const parts = m[1].split(".").map(Number);
        const n = parts.reduce((a, p) => a * 256 + p, 0);
        const hostMask = bits === 32 ? 0 : 2 ** (32 - bits) - 1;
        if (n % (hostMask + 1) !== 0) return null;
        return `${parts.join(".")}/${bits}`;
    }
    if (v === 6) {
        if (bits > 128) return null;
        const canon = new URL(`http://[${m[1]}]/`).hostname.slice(1, -1).toLowerCase(); // WHATWG serialisation = RFC 5952 compression
        const n = ipv6ToBigInt(canon);
        const hostMask = (1n << BigInt(128 - bits)) - 1n;
        if ((n & hostMask) !== 0n) return null;
        return `${canon}/${bits}`;
    }
    return null;
}

function ipv6ToBigInt(addr: string): bigint {
    const [head, tail] = addr.includes("::") ? addr.split("::") : [addr, null];
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
    return groups.reduce((a, g) => (a << 16n) + BigInt(parseInt(g || "0", 16)), 0n);
}

/**
 * The fingerprint Hetzner shows: MD5 of the decoded key blob as colon-separated hex pairs (the api's example
 * "b7:2f:30:a0:..." is 16 bytes, ssh-keygen -E md5 style). Null if the text is not "<type> <base64> [comment]"
 * with a blob whose embedded type matches.
 */
export function md5Fingerprint(publicKey: string): string | null {
    const parts = publicKey.trim().split(/\s+/);
    if (parts.length < 2 || !/^[A-Za-z0-9+/]+={0,2}$/.test(parts[1])) return null;
    const blob = Buffer.from(parts[1], "base64");
    if (blob.length < 4) return null;
    const len = blob.readUInt32BE(0);
    if (len + 4 > blob.length || blob.subarray(4, 4 + len).toString("latin1") !== parts[0]) return null;
    return createHash("md5").update(blob).digest("hex").match(/../g)!.join(":");
}

function keyJson(k: KeyRec): Json {
    // go schema/ssh_key.go SSHKey
    return { id: k.id, name: k.name, fingerprint: k.fingerprint, public_key: k.publicKey, labels: { ...k.labels }, created: rfc3339(k.created) };
}

function imageJson(i: Image): Json {
    // go schema/image.go Image (a system image: type system, status available, no created_from/bound_to)
    return {
        id: i.id, type: "system", status: "available", name: i.name, description: i.description, image_size: null, disk_size: 5,
        created: i.created, created_from: null, bound_to: null, os_flavor: i.os_flavor, os_version: i.os_version, rapid_deploy: true,
        protection: { delete: false }, deprecated: null, deleted: null, labels: {}, architecture: i.architecture,
    };
}

function reversePtr(ip: string): string {
    return `static.${ip.split(".").reverse().join(".")}.clients.your-server.de`;
}

function randomPassword(): string {
    return createHash("sha256").update(String(Math.random())).digest("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 20);
}
