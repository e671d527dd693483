// A loopback stand-in for GitHub's REST API as the Pulumi GitHub provider (@pulumi/github 6.15.0, which wraps
// integrations/terraform-provider-github v6.13.0 and google/go-github v88) uses it for an organization's Actions
// wiring: org secrets and variables, runner groups, the repository data source, repository files and pull requests.
//
// Every request is checked against GitHub's official OpenAPI description (npm @octokit/openapi,
// generated/api.github.com.json by default; generated/ghes-3.17..3.19.json can be chosen): the operation
// (method + path template after /api/v3), path and query parameters (required, type, enum, no undocumented query
// parameter) and the JSON body against the operation's requestBody schema. A request that fails is recorded in
// `failures` and answered 404 (no such operation) or 400 (bad parameters or body); one that passes counts in
// `validated`. The stand-in's own answers are checked against the operation's response schema too
// (`responseFailures`), after the properties the schema requires and the stand-in does not model are filled in
// with empty values of the right type.
//
// The provider is pointed at it as at GitHub Enterprise Server: base_url http://127.0.0.1:<port>/api/v3/ (config.go
// getBaseURL trims api/v3/ and marks the URL as GHES; NewRESTClient adds api/v3/ back, GraphQL would be api/graphql).
// None of the resources served here makes a GraphQL call (their sources use meta.v3client only), so /api/graphql is
// not served: a request to it is recorded as a failure.

import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";

// ---------------------------------------------------------------------------------------------------------------
// The OpenAPI description and a small JSON Schema checker (OpenAPI 3.0: type + nullable, enum, required,
// properties, additionalProperties, items, allOf, anyOf/oneOf (loosely: at least one branch), pattern, lengths,
// minimum/maximum, $ref into components).
// ---------------------------------------------------------------------------------------------------------------

/** The descriptions @octokit/openapi ships (each about 11-14 MB; the .deref variants, 60-80 MB, are not used). */
export type DescriptionName = "api.github.com" | "ghes-3.17" | "ghes-3.18" | "ghes-3.19";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Schema = { [k: string]: any };
type Obj = Record<string, unknown>;

const METHODS = ["get", "put", "post", "patch", "delete", "head", "options"] as const;

interface Operation {
    readonly method: string;
    readonly template: string;
    readonly regex: RegExp;
    readonly names: readonly string[];
    readonly literals: number;
    readonly op: Schema;
}

export interface Matched {
    readonly operation: Operation;
    readonly params: Record<string, string>;
}

export class OpenApiDescription {
    readonly operations: readonly Operation[];

    constructor(readonly doc: Schema, readonly name: string) {
        const ops: Operation[] = [];
        for (const [template, item] of Object.entries<Schema>(doc.paths)) {
            for (const m of METHODS) {
                const op = item[m];
                if (!op) {
                    continue;
                }
                const multi = new Set(this.parameters(item, op).filter(p => p.in === "path" && p["x-multi-segment"]).map(p => p.name as string));
                const names: string[] = [];
                let literals = 0;
                const source = template.split("/").map(seg => {
                    const pm = /^\{([^}]+)\}$/.exec(seg);
                    if (pm) {
                        names.push(pm[1]);
                        // Octokit marks the parameters whose value spans segments (a file path, a ref such as heads/main).
                        return multi.has(pm[1]) ? "(.+)" : "([^/]+)";
                    }
                    if (seg !== "") {
                        literals++;
                    }
                    return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
                }).join("/");
                ops.push({ method: m.toUpperCase(), template, regex: new RegExp(`^${source}$`), names, literals, op });
            }
        }
        this.operations = ops;
    }

    static #cache = new Map<string, OpenApiDescription>();

    /** Loads (once per process) one of the descriptions @octokit/openapi ships. */
    static load(name: DescriptionName = "api.github.com"): OpenApiDescription {
        let d = OpenApiDescription.#cache.get(name);
        if (!d) {
            const dir = path.dirname(require.resolve("@octokit/openapi/package.json"));
            const doc = JSON.parse(fs.readFileSync(path.join(dir, "generated", `${name}.json`), "utf8")) as Schema;
            d = new OpenApiDescription(doc, name);
            OpenApiDescription.#cache.set(name, d);
        }
        return d;
    }

    get version(): string {
        return `${this.name} ${this.doc.info?.version ?? "?"}`;
    }

    has(method: string, template: string): boolean {
        return Boolean(this.doc.paths[template]?.[method.toLowerCase()]);
    }

    /** Follows $ref (local, into components) until a schema object. */
    resolve(s: unknown): Schema {
        let x = s as Schema;
        for (let i = 0; x && typeof x === "object" && typeof x.$ref === "string"; i++) {
            if (i > 64 || !x.$ref.startsWith("#/")) {
                throw new Error(`stand-in: cannot resolve $ref ${x.$ref}`);
            }
            x = x.$ref.slice(2).split("/").map((k: string) => k.replace(/~1/g, "/").replace(/~0/g, "~"))
                .reduce((o: Schema | undefined, k: string) => o?.[k], this.doc) as Schema;
        }
        return x;
    }

    parameters(item: Schema, op: Schema): Schema[] {
        return [...(item.parameters ?? []), ...(op.parameters ?? [])].map(p => this.resolve(p));
    }

    /** The operation a request is for: the documented template with the most literal segments that matches. */
    match(method: string, rawPath: string): Matched | { readonly error: string } {
        const hits = this.operations.filter(o => o.regex.test(rawPath));
        if (hits.length === 0) {
            return { error: `${method} ${rawPath}: no such path in GitHub's OpenAPI description (${this.version})` };
        }
        const mine = hits.filter(o => o.method === method).sort((a, b) => b.literals - a.literals);
        if (mine.length === 0) {
            const templates = [...new Set(hits.map(o => o.template))];
            const allowed = [...new Set(hits.map(o => o.method))].join(", ");
            return { error: `${method} ${rawPath}: method not documented for ${templates.join(" / ")} (documented: ${allowed})` };
        }
        const operation = mine[0];
        const values = operation.regex.exec(rawPath)!.slice(1);
        const params: Record<string, string> = {};
        operation.names.forEach((n, i) => {
            try {
                params[n] = decodeURIComponent(values[i]);
            } catch {
                params[n] = values[i];
            }
        });
        return { operation, params };
    }

    /** Checks a request against its operation: parameters, query, body. Returns the problems and undocumented body properties. */
    checkRequest(m: Matched, query: URLSearchParams, body: unknown, hasBody: boolean, contentType: string): { errors: string[]; extras: string[] } {
        const errors: string[] = [];
        const extras: string[] = [];
        const item = this.doc.paths[m.operation.template] as Schema;
        const params = this.parameters(item, m.operation.op);
        for (const p of params.filter(q => q.in === "path")) {
            const v = m.params[p.name];
            if (v === undefined || v === "") {
                errors.push(`path parameter ${p.name} is missing`);
            } else {
                this.check(p.schema ?? {}, coerce(p.schema ?? {}, v, this), `path parameter ${p.name}`, errors);
            }
        }
        const documented = new Set(params.filter(q => q.in === "query").map(q => q.name as string));
        for (const key of new Set(query.keys())) {
            if (!documented.has(key)) {
                errors.push(`query parameter ${key} is not documented (documented: ${[...documented].join(", ") || "none"})`);
            }
        }
        for (const p of params.filter(q => q.in === "query")) {
            const all = query.getAll(p.name);
            if (all.length === 0) {
                if (p.required) {
                    errors.push(`required query parameter ${p.name} is missing`);
                }
                continue;
            }
            const schema = this.resolve(p.schema ?? {});
            const value = schema.type === "array" ? all.flatMap(a => a.split(",")) : all[all.length - 1];
            this.check(schema, coerce(schema, value, this), `query parameter ${p.name}`, errors);
        }
        const rb = m.operation.op.requestBody ? this.resolve(m.operation.op.requestBody) : undefined;
        if (!rb) {
            if (hasBody) {
                errors.push("a body was sent to an operation that takes none");
            }
        } else if (!hasBody) {
            if (rb.required) {
                errors.push("the operation requires a JSON body and none was sent");
            }
        } else {
            const media = rb.content?.["application/json"];
            if (!media) {
                errors.push(`the operation takes ${Object.keys(rb.content ?? {}).join(", ")}, not JSON`);
            } else {
                if (contentType && !/json/i.test(contentType)) {
                    errors.push(`Content-Type ${contentType} for a JSON body`);
                }
                this.check(media.schema ?? {}, body, "body", errors, extras);
            }
        }
        return { errors, extras };
    }

    /** JSON Schema check (the subset GitHub's description uses); appends readable problems to `errors`. */
    check(schema: unknown, value: unknown, at: string, errors: string[], extras?: string[]): void {
        const s = this.resolve(schema);
        if (!s || typeof s !== "object") {
            return;
        }
        if (value === undefined) {
            return;
        }
        if (s.allOf) {
            for (const sub of s.allOf) {
                this.check(sub, value, at, errors, extras);
            }
        }
        for (const key of ["anyOf", "oneOf"] as const) {
            if (s[key]) {
                const tries = (s[key] as unknown[]).map(b => {
                    const e: string[] = [];
                    this.check(b, value, at, e);
                    return e;
                });
                if (!tries.some(e => e.length === 0)) {
                    errors.push(`${at}: matches none of ${key} (${tries.map(e => e[0]).join("; ")})`);
                }
            }
        }
        if (value === null) {
            const types = s.type === undefined ? [] : [s.type].flat();
            if (s.nullable === true || types.includes("null") || (Array.isArray(s.enum) && s.enum.includes(null))) {
                return;
            }
            if (types.length > 0 || s.enum) {
                errors.push(`${at}: null where ${types.join("|") || "one of the enum"} is expected`);
            }
            return;
        }
        if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) {
            errors.push(`${at}: ${show(value)} is not one of ${s.enum.map(show).join(", ")}`);
        }
        if (s.type !== undefined) {
            const types = [s.type].flat() as string[];
            if (!types.some(t => isType(t, value))) {
                errors.push(`${at}: ${show(value)} is not of type ${types.join("|")}`);
                return;
            }
        }
        if (typeof value === "string") {
            if (typeof s.pattern === "string") {
                let re: RegExp | undefined;
                try {
                    re = new RegExp(s.pattern, "u");
                } catch {
                    re = undefined;
                }
                if (re && !re.test(value)) {
                    errors.push(`${at}: ${show(value)} does not match the pattern ${s.pattern}`);
                }
            }
            if (typeof s.minLength === "number" && value.length < s.minLength) {
                errors.push(`${at}: shorter than ${s.minLength}`);
            }
            if (typeof s.maxLength === "number" && value.length > s.maxLength) {
                errors.push(`${at}: longer than ${s.maxLength}`);
            }
        }
        if (typeof value === "number") {
            if (typeof s.minimum === "number" && value < s.minimum) {
                errors.push(`${at}: ${value} is below the minimum ${s.minimum}`);
            }
            if (typeof s.maximum === "number" && value > s.maximum) {
                errors.push(`${at}: ${value} is above the maximum ${s.maximum}`);
            }
        }
        if (Array.isArray(value)) {
            if (typeof s.minItems === "number" && value.length < s.minItems) {
                errors.push(`${at}: fewer than ${s.minItems} items`);
            }
            if (typeof s.maxItems === "number" && value.length > s.maxItems) {
                errors.push(`${at}: more than ${s.maxItems} items`);
            }
            if (s.items) {
                value.forEach((v, i) => this.check(s.items, v, `${at}[${i}]`, errors, extras));
            }
        }
        if (isObject(value) && (s.properties || s.required || s.additionalProperties !== undefined)) {
            for (const r of (s.required ?? []) as string[]) {
                if (!(r in value)) {
                    errors.push(`${at}: required property ${r} is missing`);
                }
            }
            const props = (s.properties ?? {}) as Schema;
            for (const [k, v] of Object.entries(value)) {
                if (k in props) {
                    this.check(props[k], v, `${at}.${k}`, errors, extras);
                } else if (s.additionalProperties === false) {
                    errors.push(`${at}: property ${k} is not allowed (additionalProperties: false)`);
                } else if (s.additionalProperties && typeof s.additionalProperties === "object") {
                    this.check(s.additionalProperties, v, `${at}.${k}`, errors, extras);
                } else if (s.properties && !s.allOf && !s.anyOf && !s.oneOf) {
                    extras?.push(`${at}.${k}`);
                }
            }
        }
    }

    /** A value of `schema` with what it requires: defaults, the first enum value, null where nullable, else empty values. */
    synth(schema: unknown, depth = 0): unknown {
        const s = this.resolve(schema);
        if (!s || typeof s !== "object" || depth > 16) {
            return null;
        }
        if (s.default !== undefined) {
            return structuredClone(s.default);
        }
        if (Array.isArray(s.enum) && s.enum.length > 0) {
            return s.enum[0];
        }
        if (s.nullable === true) {
            return null;
        }
        if (s.allOf) {
            return Object.assign({}, ...s.allOf.map((x: unknown) => this.synth(x, depth + 1)));
        }
        if (s.oneOf || s.anyOf) {
            return this.synth((s.oneOf ?? s.anyOf)[0], depth + 1);
        }
        const type = [s.type].flat()[0];
        switch (type) {
            case "string":
                return s.format === "date-time" ? "1970-01-01T00:00:00Z" : "";
            case "integer":
            case "number":
                return typeof s.minimum === "number" ? s.minimum : 0;
            case "boolean":
                return false;
            case "array":
                return [];
            case "null":
                return null;
            default: {
                if (type !== "object" && !s.properties) {
                    return null;
                }
                const out: Obj = {};
                for (const r of (s.required ?? []) as string[]) {
                    out[r] = this.synth(s.properties?.[r] ?? {}, depth + 1);
                }
                return out;
            }
        }
    }

    /** `value` with every property `schema` requires and `value` lacks filled in (recursively); for anyOf/oneOf the first branch that then validates. */
    fill(schema: unknown, value: unknown, depth = 0): unknown {
        const s = this.resolve(schema);
        if (!s || typeof s !== "object" || depth > 16) {
            return value;
        }
        if (value === undefined) {
            return this.synth(s, depth);
        }
        if (value === null) {
            return value;
        }
        if (s.allOf) {
            return s.allOf.reduce((v: unknown, sub: unknown) => this.fill(sub, v, depth + 1), value);
        }
        if (s.oneOf || s.anyOf) {
            for (const b of (s.oneOf ?? s.anyOf) as unknown[]) {
                const v = this.fill(b, structuredClone(value), depth + 1);
                const e: string[] = [];
                this.check(b, v, "", e);
                if (e.length === 0) {
                    return v;
                }
            }
            return value;
        }
        if (Array.isArray(value) && s.items) {
            return value.map(v => this.fill(s.items, v, depth + 1));
        }
        if (isObject(value) && (s.properties || s.required)) {
            const out: Obj = { ...value };
            for (const r of (s.required ?? []) as string[]) {
                if (!(r in out)) {
                    out[r] = this.synth(s.properties?.[r] ?? {}, depth + 1);
                }
            }
            for (const [k, v] of Object.entries(out)) {
                if (s.properties?.[k] && v !== null) {
                    out[k] = this.fill(s.properties[k], v, depth + 1);
                }
            }
            return out;
        }
        return value;
    }

    /** The JSON schema of an operation's answer with this status, if the description has one. */
    responseSchema(op: Schema, status: number): Schema | undefined {
        const r = op.responses?.[String(status)] ?? op.responses?.[`${String(status)[0]}XX`];
        const resolved = r ? this.resolve(r) : undefined;
        return resolved?.content?.["application/json"]?.schema;
    }
}

function isObject(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isType(t: string, v: unknown): boolean {
    switch (t) {
        case "integer":
            return typeof v === "number" && Number.isInteger(v);
        case "number":
            return typeof v === "number" && Number.isFinite(v);
        case "string":
            return typeof v === "string";
        case "boolean":
            return typeof v === "boolean";
        case "array":
            return Array.isArray(v);
        case "object":
            return isObject(v);
        case "null":
            return v === null;
        default:
            return true;
    }
}

function show(v: unknown): string {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A path or query string as the value its schema describes (so that type and enum can be checked). */
function coerce(schema: Schema, raw: string | string[], d: OpenApiDescription): unknown {
    const s = d.resolve(schema);
    if (Array.isArray(raw)) {
        return raw.map(r => coerce(s.items ?? {}, r, d));
    }
    switch ([s.type].flat()[0]) {
        case "integer":
            return /^-?\d+$/.test(raw) ? Number(raw) : raw;
        case "number":
            return raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
        case "boolean":
            return raw === "true" ? true : raw === "false" ? false : raw;
        default:
            return raw;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The stand-in
// ---------------------------------------------------------------------------------------------------------------

export interface StandInRepositoryOptions {
    readonly id: number;
    /** Default true (GitHub's visibility `private`; false: `public`). */
    readonly private?: boolean;
    /** Default `main`. */
    readonly defaultBranch?: string;
    /** Files of the initial commit on the default branch (path → content). Default a README.md. */
    readonly files?: Record<string, string>;
}

export interface GithubOrgStandInOptions {
    /** The organization's login. */
    readonly org: string;
    /** Its repositories: name → id, or name → options. */
    readonly repositories: Record<string, number | StandInRepositoryOptions>;
    /** Tokens it accepts (Authorization: Bearer <token> or token <token>). */
    readonly tokens: readonly string[];
    /** The organization's plan; `enterprise` (Enterprise Cloud or Server) allows runner groups restricted to workflows. Default `team`. */
    readonly plan?: "free" | "team" | "enterprise";
    /** The login GET /user answers for the tokens. Default `stand-in-bot`. */
    readonly login?: string;
    /** The organization's id. Default 9000001. */
    readonly orgId?: number;
    /** Which of @octokit/openapi's descriptions requests are checked against. Default api.github.com. */
    readonly description?: DescriptionName;
    /** The clock for created_at/updated_at (ms since the epoch; GitHub's timestamps are whole seconds). Default Date.now. */
    readonly clock?: () => number;
    /**
     * Documented operations it does not model but hands on, checked as every request is, to another stand-in
     * that does (such as the host suite's World for self-hosted runners and their registration tokens): the
     * operations, as "METHOD /template", and that stand-in's REST base (a request's path after /api/v3 is
     * appended). Authentication is the other stand-in's.
     */
    readonly forward?: { readonly base: string; readonly operations: readonly string[] };
}

export interface StandInRequest {
    readonly method: string;
    /** The path as sent (with /api/v3). */
    readonly path: string;
    /** The query string as sent ("" or "?..."). */
    readonly query: string;
    /** The parsed JSON body, if any. */
    readonly body?: unknown;
    /** The documented operation it matched, as "METHOD /template" (operationId). */
    operation?: string;
    /** The status answered. */
    status: number;
    readonly at: number;
}

export interface StandInFailure {
    readonly method: string;
    readonly path: string;
    readonly reason: string;
}

interface Answer {
    readonly status: number;
    readonly body?: unknown;
    readonly headers?: Record<string, string>;
}

interface Call {
    readonly method: string;
    readonly params: Record<string, string>;
    readonly query: URLSearchParams;
    readonly body: any;
    readonly login: string;
    readonly op: Schema;
    readonly rawPath: string;
}

interface SecretState {
    name: string;
    createdAt: string;
    updatedAt: string;
    visibility: string;
    repositories: number[];
    encryptedValue: string;
    keyId: string;
}

interface VariableState {
    name: string;
    value: string;
    createdAt: string;
    updatedAt: string;
    visibility: string;
    repositories: number[];
}

export interface RunnerGroupState {
    id: number;
    name: string;
    visibility: string;
    default: boolean;
    allowsPublicRepositories: boolean;
    restrictedToWorkflows: boolean;
    selectedWorkflows: string[];
    repositories: number[];
}

interface Person {
    readonly name: string;
    readonly email: string;
    readonly date: string;
}

interface CommitState {
    readonly sha: string;
    readonly parents: readonly string[];
    readonly message: string;
    readonly tree: ReadonlyMap<string, string>;
    readonly files: readonly { readonly filename: string; readonly status: "added" | "modified" | "removed" }[];
    readonly author: Person;
    readonly committer: Person;
    readonly login: string;
}

interface PullState {
    readonly number: number;
    readonly id: number;
    title: string;
    body: string | null;
    state: "open" | "closed";
    head: string;
    base: string;
    draft: boolean;
    maintainerCanModify: boolean;
    readonly createdAt: string;
    updatedAt: string;
    closedAt: string | null;
    readonly login: string;
}

interface RepoState {
    readonly name: string;
    readonly id: number;
    readonly private: boolean;
    readonly defaultBranch: string;
    readonly createdAt: string;
    readonly branches: Map<string, string>;
    readonly commits: Map<string, CommitState>;
    readonly protectedBranches: Set<string>;
    readonly pulls: Map<number, PullState>;
}

type Handler = (c: Call) => Answer;

function sha1(s: string | Buffer): string {
    return crypto.createHash("sha1").update(s).digest("hex");
}

/** Git's blob id of a file's content. */
function blobSha(content: Buffer): string {
    return sha1(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]));
}

function nodeId(kind: string, id: number | string): string {
    return Buffer.from(`0:${kind}${id}`).toString("base64").replace(/=+$/, "");
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class GithubOrgStandIn {
    readonly org: string;
    readonly description: OpenApiDescription;
    /** Every request, in order. */
    readonly requests: StandInRequest[] = [];
    /** Requests that do not match GitHub's OpenAPI description (or that the stand-in does not serve). */
    readonly failures: StandInFailure[] = [];
    /** Answers of the stand-in that do not match the operation's response schema (a bug of the stand-in). */
    readonly responseFailures: StandInFailure[] = [];
    /** Body properties the operation's schema does not name (allowed by the schema; GitHub ignores them), as "METHOD path: body.x". */
    readonly undocumentedBodyProperties: string[] = [];
    /** How many requests passed validation. */
    validated = 0;

    readonly plan: "free" | "team" | "enterprise";
    readonly login: string;
    readonly orgId: number;
    readonly publicKey: { readonly keyId: string; readonly key: string; readonly privateKey: crypto.KeyObject };

    private readonly tokens: Set<string>;
    private readonly forward?: GithubOrgStandInOptions["forward"];
    private readonly revoked = new Set<string>();
    private readonly clock: () => number;
    private readonly routes = new Map<string, Handler>();
    private readonly repos = new Map<string, RepoState>();
    private readonly secretsByName = new Map<string, SecretState>();
    private readonly variablesByName = new Map<string, VariableState>();
    private readonly groups = new Map<number, RunnerGroupState>();
    private nextGroupId = 2;
    private nextPullId = 700000001;
    private commitCounter = 0;
    private server?: http.Server;
    private origin = "";

    constructor(options: GithubOrgStandInOptions) {
        this.org = options.org;
        this.plan = options.plan ?? "team";
        this.login = options.login ?? "stand-in-bot";
        this.orgId = options.orgId ?? 9000001;
        this.tokens = new Set(options.tokens);
        this.forward = options.forward;
        this.clock = options.clock ?? Date.now;
        this.description = OpenApiDescription.load(options.description ?? "api.github.com");
        // A real Curve25519 key: the provider seals secret values to it with libsodium's crypto_box_seal
        // (resource_github_actions_organization_secret.go encryptPlaintext), which needs 32 bytes of base64.
        const pair = crypto.generateKeyPairSync("x25519");
        const raw = pair.publicKey.export({ format: "der", type: "spki" }).subarray(-32);
        this.publicKey = { keyId: "568250167242549743", key: raw.toString("base64"), privateKey: pair.privateKey };
        const created = this.stamp();
        for (const [name, spec] of Object.entries(options.repositories)) {
            const o: StandInRepositoryOptions = typeof spec === "number" ? { id: spec } : spec;
            const repo: RepoState = {
                name, id: o.id, private: o.private ?? true, defaultBranch: o.defaultBranch ?? "main", createdAt: created,
                branches: new Map(), commits: new Map(), protectedBranches: new Set(), pulls: new Map(),
            };
            const files = o.files ?? { "README.md": `# ${name}\n` };
            const first = this.commit(repo, undefined, "Initial commit", new Map(Object.entries(files)),
                Object.keys(files).map(f => ({ filename: f, status: "added" as const })), this.login);
            repo.branches.set(repo.defaultBranch, first.sha);
            this.repos.set(name.toLowerCase(), repo);
        }
        // Every organization has the Default runner group (docs.github.com/en/actions/hosting-your-own-runners/
        // managing-self-hosted-runners/managing-access-to-self-hosted-runners-using-groups: "the default group").
        this.groups.set(1, {
            id: 1, name: "Default", visibility: "all", default: true, allowsPublicRepositories: false,
            restrictedToWorkflows: false, selectedWorkflows: [], repositories: [],
        });
        this.defineRoutes();
        for (const key of [...this.routes.keys(), ...(this.forward?.operations ?? [])]) {
            const [m, t] = key.split(" ");
            if (!this.description.has(m, t)) {
                throw new Error(`stand-in: serves ${key}, which ${this.description.version} does not document`);
            }
        }
    }

    /** The REST base URL, as the provider's base_url: http://127.0.0.1:<port>/api/v3/. */
    get url(): string {
        return `${this.origin}/api/v3/`;
    }

    /** The operations served, as "METHOD /template". */
    get servedOperations(): string[] {
        return [...this.routes.keys()];
    }

    async start(): Promise<this> {
        this.server = http.createServer((req, res) => {
            this.serve(req, res).catch(e => {
                res.statusCode = 500;
                res.end(JSON.stringify({ message: `stand-in: ${(e as Error).message}` }));
            });
        });
        await new Promise<void>(done => this.server!.listen(0, "127.0.0.1", done));
        this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this;
    }

    async stop(): Promise<void> {
        this.server?.closeAllConnections();
        await new Promise<void>(done => (this.server ? this.server.close(() => done()) : done()));
        this.server = undefined;
    }

    /** From now on the token gets 401 Bad credentials. */
    revokeToken(token: string): void {
        this.revoked.add(token);
    }

    addToken(token: string): void {
        this.tokens.add(token);
        this.revoked.delete(token);
    }

    /** Marks a branch protected ("Require a pull request before merging"): the contents API refuses commits to it. */
    protectBranch(repository: string, branch: string): void {
        this.repo(repository).protectedBranches.add(branch);
    }

    /** A file's content on a branch (default: the default branch), or undefined. */
    file(repository: string, filePath: string, branch?: string): string | undefined {
        const r = this.repo(repository);
        const head = r.branches.get(branch ?? r.defaultBranch);
        return head ? r.commits.get(head)?.tree.get(filePath) : undefined;
    }

    /** The head commit of a branch, or undefined. */
    branchHead(repository: string, branch: string): string | undefined {
        return this.repo(repository).branches.get(branch);
    }

    /** Creates a branch at another's head (as a push would). */
    createBranch(repository: string, branch: string, from?: string): void {
        const r = this.repo(repository);
        r.branches.set(branch, r.branches.get(from ?? r.defaultBranch)!);
    }

    secret(name: string): Readonly<SecretState> | undefined {
        return this.secretsByName.get(name.toUpperCase());
    }

    variable(name: string): Readonly<VariableState> | undefined {
        return this.variablesByName.get(name.toUpperCase());
    }

    runnerGroups(): readonly Readonly<RunnerGroupState>[] {
        return [...this.groups.values()];
    }

    /** A repository's pull requests, oldest first. */
    pullRequests(repository: string): readonly Readonly<PullState>[] {
        return [...this.repo(repository).pulls.values()];
    }

    /** The message of a branch's head commit, or undefined. */
    headMessage(repository: string, branch: string): string | undefined {
        const r = this.repo(repository);
        const head = r.branches.get(branch);
        return head ? r.commits.get(head)?.message : undefined;
    }

    /** A repository's id. */
    repositoryId(repository: string): number {
        return this.repo(repository).id;
    }

    private repo(name: string): RepoState {
        const r = this.repos.get(name.toLowerCase());
        if (!r) {
            throw new Error(`stand-in: no repository ${name}`);
        }
        return r;
    }

    /** GitHub's timestamps: ISO 8601, whole seconds, UTC. */
    private stamp(): string {
        return new Date(Math.floor(this.clock() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    }

    // ---- the HTTP side ------------------------------------------------------------------------------------------

    private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const chunks: Buffer[] = [];
        for await (const c of req) {
            chunks.push(c as Buffer);
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const u = new URL(req.url ?? "/", "http://stand-in");
        const method = (req.method ?? "GET").toUpperCase();
        let body: unknown;
        let parsed = true;
        if (raw.trim() !== "") {
            try {
                body = JSON.parse(raw);
            } catch {
                parsed = false;
            }
        }
        const entry: StandInRequest = { method, path: u.pathname, query: u.search, body, status: 0, at: Date.now() };
        this.requests.push(entry);
        const answer = await this.answer(method, u, raw.trim() !== "", parsed, body, req.headers, entry, raw);
        let out = answer;
        let text = "";
        if (answer.status !== 204 && answer.status !== 304) {
            text = JSON.stringify(answer.body ?? {});
            // Conditional requests (docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api,
            // "Use conditional requests if appropriate"): GET answers carry an ETag, and If-None-Match with it gets 304.
            // The provider relies on it for runner groups (resource_github_actions_runner_group.go: the stored etag is
            // sent by transport.go etagTransport, and a 304 leaves the state as it is).
            if ((method === "GET" || method === "POST" || method === "PATCH") && answer.status < 300) {
                const etag = `W/"${crypto.createHash("sha256").update(text).digest("hex")}"`;
                const inm = String(req.headers["if-none-match"] ?? "");
                if (method === "GET" && inm && inm.split(/\s*,\s*/).includes(etag)) {
                    out = { status: 304, headers: { ...answer.headers, ETag: etag } };
                    text = "";
                } else {
                    out = { ...answer, headers: { ...answer.headers, ETag: etag } };
                }
            }
        }
        entry.status = out.status;
        res.statusCode = out.status;
        const reset = Math.floor(Date.now() / 1000) + 3600;
        res.setHeader("X-GitHub-Media-Type", "github.v3; format=json");
        res.setHeader("X-GitHub-Request-Id", crypto.randomBytes(8).toString("hex").toUpperCase());
        res.setHeader("X-RateLimit-Limit", "5000");
        res.setHeader("X-RateLimit-Remaining", "4999");
        res.setHeader("X-RateLimit-Used", "1");
        res.setHeader("X-RateLimit-Reset", String(reset));
        res.setHeader("X-RateLimit-Resource", "core");
        for (const [k, v] of Object.entries(out.headers ?? {})) {
            res.setHeader(k, v);
        }
        if (out.status === 204 || out.status === 304) {
            res.end();
            return;
        }
        res.setHeader("Content-Type", "application/json; charset=utf-8");
        res.end(text);
    }

    private fail(method: string, p: string, reason: string): void {
        this.failures.push({ method, path: p, reason });
    }

    private answer(method: string, u: URL, hasBody: boolean, parsed: boolean, body: unknown, headers: http.IncomingHttpHeaders, entry: StandInRequest, raw: string): Answer | Promise<Answer> {
        const full = u.pathname;
        if (!full.startsWith("/api/v3/")) {
            const reason = full.startsWith("/api/graphql")
                ? "GraphQL is not served: none of the provider's resources served here makes a GraphQL call"
                : "not under /api/v3/, where GitHub Enterprise Server serves REST";
            this.fail(method, full, reason);
            return { status: 404, body: { message: `stand-in: ${reason}`, documentation_url: "https://docs.github.com/rest" } };
        }
        const rawPath = full.slice("/api/v3".length);
        if (hasBody && !parsed) {
            this.fail(method, full, "the body is not JSON");
            // GitHub's answer to a body it cannot parse.
            return { status: 400, body: { message: "Problems parsing JSON", documentation_url: "https://docs.github.com/rest" } };
        }
        const m = this.description.match(method, rawPath);
        if ("error" in m) {
            this.fail(method, full, m.error);
            return { status: 404, body: { message: `stand-in: ${m.error}`, documentation_url: "https://docs.github.com/rest" } };
        }
        const op = m.operation.op;
        entry.operation = `${method} ${m.operation.template} (${op.operationId})`;
        const docs = op.externalDocs?.url ?? "https://docs.github.com/rest";
        const check = this.description.checkRequest(m, u.searchParams, body, hasBody, String(headers["content-type"] ?? ""));
        for (const x of check.extras) {
            this.undocumentedBodyProperties.push(`${method} ${rawPath}: ${x}`);
        }
        if (check.errors.length > 0) {
            const reason = `${m.operation.template} (${op.operationId}): ${check.errors.join("; ")}`;
            this.fail(method, full, reason);
            return { status: 400, body: { message: `stand-in: the request does not match GitHub's OpenAPI description: ${reason}`, documentation_url: docs } };
        }
        this.validated++;
        if (this.forward?.operations.includes(`${method} ${m.operation.template}`)) {
            return this.handOn(method, `${rawPath}${u.search}`, headers, raw);
        }

        // Authentication (docs.github.com/en/rest/authentication/authenticating-to-the-rest-api: "Authorization:
        // Bearer" or "token"; a bad or revoked token is answered 401 "Bad credentials", none 401 "Requires authentication").
        const auth = /^(bearer|token)\s+(\S+)\s*$/i.exec(String(headers.authorization ?? ""));
        if (!auth) {
            return { status: 401, body: { message: "Requires authentication", documentation_url: docs, status: "401" } };
        }
        if (!this.tokens.has(auth[2]) || this.revoked.has(auth[2])) {
            return { status: 401, body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" } };
        }

        const handler = this.routes.get(`${method} ${m.operation.template}`);
        if (!handler) {
            const reason = `${m.operation.template} (${op.operationId}) is documented but the stand-in does not serve it`;
            this.fail(method, full, reason);
            return { status: 404, body: { message: `stand-in: ${reason}`, documentation_url: docs } };
        }
        let out = handler({ method, params: m.params, query: u.searchParams, body, login: this.login, op, rawPath });
        if (out.body !== undefined && isObject(out.body) && "message" in out.body && !("documentation_url" in out.body)) {
            out = { ...out, body: { ...out.body, documentation_url: docs, status: String(out.status) } };
        }
        // The answer, completed to the operation's response schema and checked against it.
        const schema = this.description.responseSchema(op, out.status);
        if (schema && out.body !== undefined) {
            const filled = this.description.fill(schema, out.body);
            const errors: string[] = [];
            this.description.check(schema, filled, "response", errors);
            for (const e of errors) {
                this.responseFailures.push({ method, path: full, reason: `${out.status} ${op.operationId}: ${e}` });
            }
            out = { ...out, body: filled };
        }
        return out;
    }

    /** A forwarded request's answer, from the other stand-in, as it gave it. */
    private handOn(method: string, pathAndQuery: string, headers: http.IncomingHttpHeaders, raw: string): Promise<Answer> {
        const target = new URL(`${this.forward!.base.replace(/\/$/, "")}${pathAndQuery}`);
        return new Promise((resolve, reject) => {
            const out = http.request(target, {
                method, headers: {
                    ...(headers.authorization ? { authorization: headers.authorization } : {}),
                    ...(raw ? { "content-type": "application/json" } : {}), accept: "application/vnd.github+json",
                },
            }, res => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    resolve({ status: res.statusCode ?? 502, body: text.trim() ? JSON.parse(text) : undefined });
                });
            });
            out.on("error", reject);
            out.end(raw);
        });
    }

    // ---- JSON shapes ------------------------------------------------------------------------------------------------

    private get api(): string {
        return this.url;
    }

    private get web(): string {
        return `${this.origin}/`;
    }

    private orgAccount(): Obj {
        return {
            login: this.org, id: this.orgId, node_id: nodeId("Organization", this.orgId), type: "Organization", site_admin: false,
            url: `${this.api}users/${this.org}`, html_url: `${this.web}${this.org}`, avatar_url: `${this.web}avatars/${this.org}`,
            gravatar_id: "", repos_url: `${this.api}users/${this.org}/repos`,
        };
    }

    private user(login: string): Obj {
        return {
            login, id: 9100001, node_id: nodeId("User", 9100001), type: "User", site_admin: false,
            url: `${this.api}users/${login}`, html_url: `${this.web}${login}`, avatar_url: `${this.web}avatars/${login}`, gravatar_id: "",
        };
    }

    private repoJson(r: RepoState): Obj {
        const full = `${this.org}/${r.name}`;
        const api = `${this.api}repos/${full}`;
        return {
            id: r.id, node_id: nodeId("Repository", r.id), name: r.name, full_name: full, owner: this.orgAccount(),
            private: r.private, visibility: r.private ? "private" : "public", html_url: `${this.web}${full}`, description: null,
            fork: false, url: api, default_branch: r.defaultBranch, archived: false, disabled: false,
            // The data source calls the Pages and license endpoints only when has_pages / license are set
            // (data_source_github_repository.go): neither is.
            has_pages: false, license: null, has_issues: true, has_projects: true, has_wiki: true, has_downloads: true,
            has_discussions: false, is_template: false, topics: [], allow_forking: true, web_commit_signoff_required: false,
            allow_merge_commit: true, allow_squash_merge: true, allow_rebase_merge: true, allow_auto_merge: false,
            delete_branch_on_merge: false, allow_update_branch: false,
            permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
            created_at: r.createdAt, updated_at: r.createdAt, pushed_at: r.createdAt,
            clone_url: `${this.web}${full}.git`, git_url: `git://127.0.0.1/${full}.git`, ssh_url: `git@127.0.0.1:${full}.git`,
            svn_url: `${this.web}${full}`, homepage: null, language: null, mirror_url: null,
            contents_url: `${api}/contents/{+path}`, branches_url: `${api}/branches{/branch}`, commits_url: `${api}/commits{/sha}`,
            pulls_url: `${api}/pulls{/number}`, git_refs_url: `${api}/git/refs{/sha}`,
        };
    }

    private commitJson(r: RepoState, c: CommitState, withFiles: boolean): Obj {
        const full = `${this.org}/${r.name}`;
        const out: Obj = {
            sha: c.sha, node_id: nodeId("Commit", c.sha.slice(0, 12)), url: `${this.api}repos/${full}/commits/${c.sha}`,
            html_url: `${this.web}${full}/commit/${c.sha}`, comments_url: `${this.api}repos/${full}/commits/${c.sha}/comments`,
            commit: {
                url: `${this.api}repos/${full}/git/commits/${c.sha}`, author: c.author, committer: c.committer, message: c.message,
                comment_count: 0, tree: { sha: this.treeSha(c), url: `${this.api}repos/${full}/git/trees/${this.treeSha(c)}` },
                verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
            },
            author: this.user(c.login), committer: this.user(c.login),
            parents: c.parents.map(p => ({ sha: p, url: `${this.api}repos/${full}/commits/${p}`, html_url: `${this.web}${full}/commit/${p}` })),
        };
        if (withFiles) {
            const parent = c.parents[0] ? r.commits.get(c.parents[0]) : undefined;
            out.files = c.files.map(f => {
                const content = f.status === "removed" ? parent?.tree.get(f.filename) ?? "" : c.tree.get(f.filename) ?? "";
                const lines = content === "" ? 0 : content.split("\n").length;
                return {
                    sha: blobSha(Buffer.from(content)), filename: f.filename, status: f.status,
                    additions: f.status === "removed" ? 0 : lines, deletions: f.status === "removed" ? lines : 0, changes: lines,
                    blob_url: `${this.web}${full}/blob/${c.sha}/${f.filename}`, raw_url: `${this.web}${full}/raw/${c.sha}/${f.filename}`,
                    contents_url: `${this.api}repos/${full}/contents/${f.filename}?ref=${c.sha}`,
                };
            });
            out.stats = { total: 0, additions: 0, deletions: 0 };
        }
        return out;
    }

    private treeSha(c: CommitState): string {
        return sha1([...c.tree.entries()].sort().map(([p, v]) => `${p}\0${blobSha(Buffer.from(v))}`).join("\n"));
    }

    private contentJson(r: RepoState, filePath: string, content: string | undefined, ref: string): Obj {
        const full = `${this.org}/${r.name}`;
        const sha = blobSha(Buffer.from(content ?? ""));
        // GitHub's content url carries the ref asked for; the provider reads it back
        // (resource_github_repository_file.go Read: parsedQuery["ref"][0]).
        const self = `${this.api}repos/${full}/contents/${encodePath(filePath)}?ref=${encodeURIComponent(ref)}`;
        const git = `${this.api}repos/${full}/git/blobs/${sha}`;
        const html = `${this.web}${full}/blob/${ref}/${encodePath(filePath)}`;
        const out: Obj = {
            type: content === undefined ? "dir" : "file", name: path.posix.basename(filePath), path: filePath, sha,
            size: content === undefined ? 0 : Buffer.byteLength(content), url: self, git_url: git, html_url: html,
            download_url: content === undefined ? null : `${this.web}${full}/raw/${ref}/${encodePath(filePath)}`,
            _links: { self, git, html },
        };
        if (content !== undefined) {
            // As GitHub sends it: base64 in lines of 60 characters, each ended by a newline.
            out.encoding = "base64";
            out.content = (Buffer.from(content).toString("base64").match(/.{1,60}/g) ?? []).map(l => `${l}\n`).join("");
        }
        return out;
    }

    private groupJson(g: RunnerGroupState): Obj {
        const base = `${this.api}orgs/${this.org}/actions/runner-groups/${g.id}`;
        const out: Obj = {
            id: g.id, name: g.name, visibility: g.visibility, default: g.default, runners_url: `${base}/runners`,
            hosted_runners_url: `${base}/hosted-runners`, inherited: false,
            allows_public_repositories: g.allowsPublicRepositories, restricted_to_workflows: g.restrictedToWorkflows,
            selected_workflows: g.selectedWorkflows, workflow_restrictions_read_only: false,
        };
        if (g.visibility === "selected") {
            out.selected_repositories_url = `${base}/repositories`;
        }
        return out;
    }

    private pullJson(r: RepoState, p: PullState): Obj {
        const full = `${this.org}/${r.name}`;
        const api = `${this.api}repos/${full}`;
        const branch = (name: string): Obj => ({
            label: `${this.org}:${name}`, ref: name, sha: r.branches.get(name) ?? "", user: this.orgAccount(), repo: this.repoJson(r),
        });
        const link = (href: string): Obj => ({ href });
        return {
            url: `${api}/pulls/${p.number}`, id: p.id, node_id: nodeId("PullRequest", p.id), number: p.number,
            html_url: `${this.web}${full}/pull/${p.number}`, diff_url: `${this.web}${full}/pull/${p.number}.diff`,
            patch_url: `${this.web}${full}/pull/${p.number}.patch`, issue_url: `${api}/issues/${p.number}`,
            commits_url: `${api}/pulls/${p.number}/commits`, review_comments_url: `${api}/pulls/${p.number}/comments`,
            review_comment_url: `${api}/pulls/comments{/number}`, comments_url: `${api}/issues/${p.number}/comments`,
            statuses_url: `${api}/statuses/${r.branches.get(p.head) ?? ""}`,
            state: p.state, locked: false, title: p.title, user: this.user(p.login), body: p.body, labels: [], milestone: null,
            active_lock_reason: null, created_at: p.createdAt, updated_at: p.updatedAt, closed_at: p.closedAt, merged_at: null,
            merge_commit_sha: null, assignee: null, assignees: [], requested_reviewers: [], requested_teams: [],
            head: branch(p.head), base: branch(p.base),
            _links: {
                self: link(`${api}/pulls/${p.number}`), html: link(`${this.web}${full}/pull/${p.number}`),
                issue: link(`${api}/issues/${p.number}`), comments: link(`${api}/issues/${p.number}/comments`),
                review_comments: link(`${api}/pulls/${p.number}/comments`), review_comment: link(`${api}/pulls/comments{/number}`),
                commits: link(`${api}/pulls/${p.number}/commits`), statuses: link(`${api}/statuses/${r.branches.get(p.head) ?? ""}`),
            },
            author_association: "MEMBER", auto_merge: null, draft: p.draft, merged: false, mergeable: null, rebaseable: null,
            mergeable_state: "unknown", merged_by: null, comments: 0, review_comments: 0, maintainer_can_modify: p.maintainerCanModify,
            commits: this.ahead(r, p.head, p.base).length, additions: 0, deletions: 0, changed_files: 0,
        };
    }

    // ---- git model ------------------------------------------------------------------------------------------------

    private commit(r: RepoState, parent: string | undefined, message: string, tree: Map<string, string>,
        files: CommitState["files"], login: string, author?: Partial<Person>, committer?: Partial<Person>): CommitState {
        const date = this.stamp();
        const who = (p?: Partial<Person>): Person => ({
            name: p?.name ?? login, email: p?.email ?? `${login}@users.noreply.127.0.0.1`, date: p?.date ?? date,
        });
        const sha = sha1(`${parent ?? ""}\n${message}\n${date}\n${++this.commitCounter}\n${[...tree.keys()].join(",")}`);
        const c: CommitState = { sha, parents: parent ? [parent] : [], message, tree, files, author: who(author ?? committer), committer: who(committer), login };
        r.commits.set(sha, c);
        return c;
    }

    /** The commits reachable from `head` and not from `base`. */
    private ahead(r: RepoState, head: string, base: string): string[] {
        const reach = (sha: string | undefined): string[] => {
            const out: string[] = [];
            for (let s = sha; s; s = r.commits.get(s)?.parents[0]) {
                out.push(s);
            }
            return out;
        };
        const baseSet = new Set(reach(r.branches.get(base)));
        return reach(r.branches.get(head)).filter(s => !baseSet.has(s));
    }

    /** A ref as the contents and commits APIs take it: a branch name (or heads/…, refs/heads/…) or a commit sha (7+ hex). */
    private resolveRef(r: RepoState, ref: string): string | undefined {
        const name = ref.replace(/^refs\//, "").replace(/^heads\//, "");
        if (r.branches.has(name)) {
            return r.branches.get(name);
        }
        if (/^[0-9a-f]{7,40}$/.test(ref)) {
            return [...r.commits.keys()].find(s => s.startsWith(ref));
        }
        return undefined;
    }

    // ---- helpers for handlers ---------------------------------------------------------------------------------------

    private notFound(): Answer {
        return { status: 404, body: { message: "Not Found" } };
    }

    private isOrg(login: string): boolean {
        return login.toLowerCase() === this.org.toLowerCase();
    }

    private repoOf(c: Call): RepoState | undefined {
        return this.isOrg(c.params.owner) ? this.repos.get(c.params.repo.toLowerCase()) : undefined;
    }

    /** Lists paginated as GitHub paginates: per_page (default 30, at most 100), page from 1, a Link header with next/last/prev/first. */
    private page<T>(c: Call, items: readonly T[]): { items: T[]; headers: Record<string, string> } {
        const perPage = Math.min(100, Math.max(1, Number(c.query.get("per_page") ?? 30)));
        const pageNo = Math.max(1, Number(c.query.get("page") ?? 1));
        const last = Math.max(1, Math.ceil(items.length / perPage));
        const link = (n: number): string => {
            const q = new URLSearchParams(c.query);
            q.set("per_page", String(perPage));
            q.set("page", String(n));
            return `<${this.origin}/api/v3${c.rawPath}?${q}>`;
        };
        const links: string[] = [];
        if (pageNo < last) {
            links.push(`${link(pageNo + 1)}; rel="next"`, `${link(last)}; rel="last"`);
        }
        if (pageNo > 1) {
            links.push(`${link(pageNo - 1)}; rel="prev"`, `${link(1)}; rel="first"`);
        }
        return { items: items.slice((pageNo - 1) * perPage, pageNo * perPage), headers: links.length ? { Link: links.join(", ") } : {} };
    }

    /** Repository ids of the organization, or the 422 for ids it does not have. */
    private repositoryIds(ids: unknown): number[] | Answer {
        const list = (Array.isArray(ids) ? ids : []).map(x => Number(x));
        const unknown = list.filter(id => ![...this.repos.values()].some(r => r.id === id));
        if (unknown.length > 0) {
            // ASSUMPTION (not confirmed from GitHub's docs or the provider): GitHub refuses ids of repositories the
            // organization does not have with 422; the message is the stand-in's.
            return { status: 422, body: { message: `Repository ids not found in ${this.org}: ${unknown.join(", ")}` } };
        }
        return [...new Set(list)];
    }

    private reposList(c: Call, ids: readonly number[]): Answer {
        const repos = ids.map(id => [...this.repos.values()].find(r => r.id === id)!).filter(Boolean);
        const { items, headers } = this.page(c, repos);
        return { status: 200, headers, body: { total_count: repos.length, repositories: items.map(r => this.repoJson(r)) } };
    }

    // ---- routes -------------------------------------------------------------------------------------------------

    private route(key: string, h: Handler): void {
        this.routes.set(key, h);
    }

    private defineRoutes(): void {
        // At configure time (provider.go configureProviderMeta, legacy client, the default): GET /orgs/{owner} when
        // owner is set (200: an organization, IsOrganization; 404: a user), GET /user when only a token is given.
        this.route("GET /orgs/{org}", c => {
            if (!this.isOrg(c.params.org)) {
                return this.notFound();
            }
            return {
                status: 200, body: {
                    ...this.orgAccount(), description: null, name: this.org, company: "", blog: "", location: "", email: "",
                    twitter_username: null, is_verified: false, has_organization_projects: true, has_repository_projects: true,
                    public_repos: [...this.repos.values()].filter(r => !r.private).length, public_gists: 0, followers: 0, following: 0,
                    total_private_repos: [...this.repos.values()].filter(r => r.private).length,
                    owned_private_repos: [...this.repos.values()].filter(r => r.private).length,
                    plan: { name: this.plan === "enterprise" ? "enterprise" : this.plan, space: 976562499, private_repos: 999999, filled_seats: 1, seats: 5 },
                    events_url: `${this.api}orgs/${this.org}/events`, hooks_url: `${this.api}orgs/${this.org}/hooks`,
                    issues_url: `${this.api}orgs/${this.org}/issues`, members_url: `${this.api}orgs/${this.org}/members{/member}`,
                    public_members_url: `${this.api}orgs/${this.org}/public_members{/member}`,
                    created_at: "2020-01-01T00:00:00Z", updated_at: "2020-01-01T00:00:00Z", archived_at: null,
                },
            };
        });
        this.route("GET /user", c => ({ status: 200, body: { ...this.user(c.login), name: c.login, created_at: "2020-01-01T00:00:00Z", updated_at: "2020-01-01T00:00:00Z" } }));

        // ---- org Actions secrets: resource_github_actions_organization_secret.go, ..._secret_repositories.go;
        // docs.github.com/en/rest/actions/secrets.
        this.route("GET /orgs/{org}/actions/secrets/public-key", c => this.isOrg(c.params.org)
            ? { status: 200, body: { key_id: this.publicKey.keyId, key: this.publicKey.key } }
            : this.notFound());
        this.route("GET /orgs/{org}/actions/secrets", c => {
            if (!this.isOrg(c.params.org)) {
                return this.notFound();
            }
            const all = [...this.secretsByName.values()];
            const { items, headers } = this.page(c, all);
            return { status: 200, headers, body: { total_count: all.length, secrets: items.map(s => this.secretJson(s)) } };
        });
        this.route("GET /orgs/{org}/actions/secrets/{secret_name}", c => {
            const s = this.isOrg(c.params.org) ? this.secret(c.params.secret_name) : undefined;
            return s ? { status: 200, body: this.secretJson(s) } : this.notFound();
        });
        this.route("PUT /orgs/{org}/actions/secrets/{secret_name}", c => {
            if (!this.isOrg(c.params.org)) {
                return this.notFound();
            }
            const b = c.body as { encrypted_value?: string; key_id?: string; visibility: string; selected_repository_ids?: unknown[] };
            const existing = this.secretsByName.get(c.params.secret_name.toUpperCase());
            if (b.selected_repository_ids?.length && b.visibility !== "selected") {
                // The description of selected_repository_ids: "You can only provide a list of repository ids when the
                // visibility is set to selected" (status and message are the stand-in's).
                return { status: 422, body: { message: "selected_repository_ids can only be given with visibility selected" } };
            }
            if (b.encrypted_value !== undefined || b.key_id !== undefined) {
                if (b.key_id !== this.publicKey.keyId) {
                    // ASSUMPTION: a value sealed to another key cannot be opened; status and message are the stand-in's.
                    return { status: 422, body: { message: `key_id ${String(b.key_id)} is not the organization's public key (${this.publicKey.keyId})` } };
                }
                if (Buffer.from(b.encrypted_value ?? "", "base64").length < 48) {
                    // A libsodium sealed box is at least 48 bytes (32-byte ephemeral key + 16-byte MAC); ASSUMPTION on the answer.
                    return { status: 422, body: { message: "encrypted_value is not a libsodium sealed box" } };
                }
            } else if (!existing) {
                // ASSUMPTION: a new secret needs a value; status and message are the stand-in's.
                return { status: 422, body: { message: "encrypted_value and key_id are required to create a secret" } };
            }
            const ids = this.repositoryIds(b.selected_repository_ids ?? []);
            if (!Array.isArray(ids)) {
                return ids;
            }
            const now = this.stamp();
            // Secret names are not case-sensitive (docs.github.com/en/actions/security-for-github-actions/security-guides/
            // using-secrets-in-github-actions, "Naming your secrets"); GitHub lists them upper-case.
            const name = c.params.secret_name.toUpperCase();
            if (!existing) {
                this.secretsByName.set(name, {
                    name, createdAt: now, updatedAt: now, visibility: b.visibility, repositories: b.visibility === "selected" ? ids : [],
                    encryptedValue: b.encrypted_value!, keyId: b.key_id!,
                });
                // 201 with {} when created, 204 when updated (the operation's responses).
                return { status: 201, body: {} };
            }
            // updated_at moves with every write of the value (each sealed box differs) and with a change of the
            // visibility or of the repositories: integrations/terraform-provider-github#1924 ("changing
            // selected_repository_ids on github results in a change of update_at") and #974.
            const selection = b.visibility === "selected" ? (b.selected_repository_ids ? ids : existing.repositories) : [];
            const changed = b.encrypted_value !== undefined || b.visibility !== existing.visibility || !sameSet(selection, existing.repositories);
            existing.visibility = b.visibility;
            existing.repositories = selection;
            if (b.encrypted_value !== undefined) {
                existing.encryptedValue = b.encrypted_value;
                existing.keyId = b.key_id!;
            }
            if (changed) {
                existing.updatedAt = now;
            }
            return { status: 204 };
        });
        this.route("DELETE /orgs/{org}/actions/secrets/{secret_name}", c => {
            const s = this.isOrg(c.params.org) ? this.secret(c.params.secret_name) : undefined;
            if (!s) {
                return this.notFound();
            }
            this.secretsByName.delete(s.name);
            return { status: 204 };
        });
        this.route("GET /orgs/{org}/actions/secrets/{secret_name}/repositories", c => {
            const s = this.isOrg(c.params.org) ? this.secret(c.params.secret_name) : undefined;
            return s ? this.reposList(c, s.repositories) : this.notFound();
        });
        this.route("PUT /orgs/{org}/actions/secrets/{secret_name}/repositories", c => {
            const s = this.isOrg(c.params.org) ? this.secretsByName.get(c.params.secret_name.toUpperCase()) : undefined;
            if (!s) {
                return this.notFound();
            }
            const ids = this.repositoryIds(c.body.selected_repository_ids);
            if (!Array.isArray(ids)) {
                return ids;
            }
            // A change of the repositories moves updated_at (terraform-provider-github#1924, #974). Whether setting the
            // same list again moves it is not confirmed; here it does not.
            if (!sameSet(ids, s.repositories)) {
                s.repositories = ids;
                s.updatedAt = this.stamp();
            }
            return { status: 204 };
        });
        for (const method of ["PUT", "DELETE"] as const) {
            this.route(`${method} /orgs/{org}/actions/secrets/{secret_name}/repositories/{repository_id}`, c => {
                const s = this.isOrg(c.params.org) ? this.secretsByName.get(c.params.secret_name.toUpperCase()) : undefined;
                if (!s) {
                    return this.notFound();
                }
                if (s.visibility !== "selected") {
                    // Documented: 409 "Conflict when visibility type is not set to selected".
                    return { status: 409 };
                }
                const ids = this.repositoryIds([c.params.repository_id]);
                if (!Array.isArray(ids)) {
                    return ids;
                }
                const next = method === "PUT" ? [...new Set([...s.repositories, ids[0]])] : s.repositories.filter(x => x !== ids[0]);
                if (!sameSet(next, s.repositories)) {
                    s.repositories = next;
                    s.updatedAt = this.stamp();
                }
                return { status: 204 };
            });
        }

        // ---- org Actions variables: resource_github_actions_organization_variable.go; docs.github.com/en/rest/actions/variables.
        this.route("GET /orgs/{org}/actions/variables", c => {
            if (!this.isOrg(c.params.org)) {
                return this.notFound();
            }
            const all = [...this.variablesByName.values()];
            const { items, headers } = this.page(c, all);
            return { status: 200, headers, body: { total_count: all.length, variables: items.map(v => this.variableJson(v)) } };
        });
        this.route("POST /orgs/{org}/actions/variables", c => {
            if (!this.isOrg(c.params.org)) {
                return this.notFound();
            }
            const b = c.body as { name: string; value: string; visibility: string; selected_repository_ids?: unknown[] };
            const name = b.name.toUpperCase();
            if (this.variablesByName.has(name)) {
                // ASSUMPTION: creating an existing variable is refused with 409 (not in the operation's responses).
                return { status: 409, body: { message: "Already exists - Variable already exists" } };
            }
            if (b.selected_repository_ids?.length && b.visibility !== "selected") {
                // "You can only provide a list of repository ids when the visibility is set to selected" (the description).
                return { status: 422, body: { message: "selected_repository_ids can only be given with visibility selected" } };
            }
            // The provider always sends selected_repository_ids, [] for visibility all/private (go-github ActionsVariable
            // SelectedRepositoryIDs is a pointer: omitempty keeps the empty list), so an empty list is accepted.
            const ids = this.repositoryIds(b.selected_repository_ids ?? []);
            if (!Array.isArray(ids)) {
                return ids;
            }
            const now = this.stamp();
            this.variablesByName.set(name, { name, value: b.value, createdAt: now, updatedAt: now, visibility: b.visibility, repositories: b.visibility === "selected" ? ids : [] });
            return { status: 201, body: {} };
        });
        this.route("GET /orgs/{org}/actions/variables/{name}", c => {
            const v = this.isOrg(c.params.org) ? this.variable(c.params.name) : undefined;
            return v ? { status: 200, body: this.variableJson(v) } : this.notFound();
        });
        this.route("PATCH /orgs/{org}/actions/variables/{name}", c => {
            const v = this.isOrg(c.params.org) ? this.variablesByName.get(c.params.name.toUpperCase()) : undefined;
            if (!v) {
                return this.notFound();
            }
            const b = c.body as { name?: string; value?: string; visibility?: string; selected_repository_ids?: unknown[] };
            const visibility = b.visibility ?? v.visibility;
            if (b.selected_repository_ids?.length && visibility !== "selected") {
                return { status: 422, body: { message: "selected_repository_ids can only be given with visibility selected" } };
            }
            const ids = this.repositoryIds(b.selected_repository_ids ?? []);
            if (!Array.isArray(ids)) {
                return ids;
            }
            const selection = visibility === "selected" ? (b.selected_repository_ids ? ids : v.repositories) : [];
            const name = (b.name ?? v.name).toUpperCase();
            const changed = name !== v.name || (b.value !== undefined && b.value !== v.value) || visibility !== v.visibility || !sameSet(selection, v.repositories);
            if (name !== v.name) {
                if (this.variablesByName.has(name)) {
                    return { status: 409, body: { message: "Already exists - Variable already exists" } };
                }
                this.variablesByName.delete(v.name);
                v.name = name;
                this.variablesByName.set(name, v);
            }
            v.value = b.value ?? v.value;
            v.visibility = visibility;
            v.repositories = selection;
            if (changed) {
                v.updatedAt = this.stamp();
            }
            return { status: 204 };
        });
        this.route("DELETE /orgs/{org}/actions/variables/{name}", c => {
            const v = this.isOrg(c.params.org) ? this.variable(c.params.name) : undefined;
            if (!v) {
                return this.notFound();
            }
            this.variablesByName.delete(v.name);
            return { status: 204 };
        });
        const variableRepos = (c: Call): VariableState | Answer => {
            const v = this.isOrg(c.params.org) ? this.variablesByName.get(c.params.name.toUpperCase()) : undefined;
            if (!v) {
                return this.notFound();
            }
            // Documented: 409 "Response when the visibility of the variable is not set to selected".
            return v.visibility === "selected" ? v : { status: 409, body: { message: "The visibility of the variable is not set to selected" } };
        };
        this.route("GET /orgs/{org}/actions/variables/{name}/repositories", c => {
            const v = variableRepos(c);
            return "status" in v ? v : this.reposList(c, v.repositories);
        });
        this.route("PUT /orgs/{org}/actions/variables/{name}/repositories", c => {
            const v = variableRepos(c);
            if ("status" in v) {
                return v;
            }
            const ids = this.repositoryIds(c.body.selected_repository_ids);
            if (!Array.isArray(ids)) {
                return ids;
            }
            if (!sameSet(ids, v.repositories)) {
                v.repositories = ids;
                v.updatedAt = this.stamp();
            }
            return { status: 204 };
        });
        for (const method of ["PUT", "DELETE"] as const) {
            this.route(`${method} /orgs/{org}/actions/variables/{name}/repositories/{repository_id}`, c => {
                const v = variableRepos(c);
                if ("status" in v) {
                    return v;
                }
                const ids = this.repositoryIds([c.params.repository_id]);
                if (!Array.isArray(ids)) {
                    return ids;
                }
                const next = method === "PUT" ? [...new Set([...v.repositories, ids[0]])] : v.repositories.filter(x => x !== ids[0]);
                if (!sameSet(next, v.repositories)) {
                    v.repositories = next;
                    v.updatedAt = this.stamp();
                }
                return { status: 204 };
            });
        }

        // ---- runner groups: resource_github_actions_runner_group.go; docs.github.com/en/rest/actions/self-hosted-runner-groups.
        const workflowRestriction = (b: { restricted_to_workflows?: boolean; selected_workflows?: string[] }): Answer | undefined => {
            if (this.plan !== "enterprise" && (b.restricted_to_workflows === true || (b.selected_workflows?.length ?? 0) > 0)) {
                // Restricting a runner group to workflows is a GitHub Enterprise feature (github.blog changelog
                // 2022-03-21 "GitHub Actions: Restrict self-hosted runner groups to specific workflows"; github/roadmap#220
                // is labelled "github enterprise"). ASSUMPTION: how GitHub answers a Free/Team organization that asks for
                // it was not found; the stand-in refuses with 422 and this message.
                return { status: 422, body: { message: `Workflow restrictions on runner groups need GitHub Enterprise; ${this.org} is on the ${this.plan} plan` } };
            }
            // The provider always sends restricted_to_workflows (false by default) and selected_workflows only when set.
            return undefined;
        };
        // "A value of `private` is not currently supported due to limitations in the GitHub API" (the provider's
        // docs/resources/actions_runner_group.md, v6.13.0): GitHub keeps such a group as `all`.
        const groupVisibility = (v: string | undefined, fallback: string): string => (v === undefined ? fallback : v === "private" ? "all" : v);
        this.route("GET /orgs/{org}/actions/runner-groups", c => {
            if (!this.isOrg(c.params.org)) {
                return this.notFound();
            }
            const all = [...this.groups.values()];
            const { items, headers } = this.page(c, all);
            return { status: 200, headers, body: { total_count: all.length, runner_groups: items.map(g => this.groupJson(g)) } };
        });
        this.route("POST /orgs/{org}/actions/runner-groups", c => {
            if (!this.isOrg(c.params.org)) {
                return this.notFound();
            }
            const b = c.body as { name: string; visibility?: string; selected_repository_ids?: unknown[]; allows_public_repositories?: boolean; restricted_to_workflows?: boolean; selected_workflows?: string[] };
            const refused = workflowRestriction(b);
            if (refused) {
                return refused;
            }
            const ids = this.repositoryIds(b.selected_repository_ids ?? []);
            if (!Array.isArray(ids)) {
                return ids;
            }
            const g: RunnerGroupState = {
                id: this.nextGroupId++, name: b.name, visibility: groupVisibility(b.visibility, "all"), default: false,
                allowsPublicRepositories: b.allows_public_repositories ?? false, restrictedToWorkflows: b.restricted_to_workflows ?? false,
                selectedWorkflows: b.selected_workflows ?? [], repositories: ids,
            };
            this.groups.set(g.id, g);
            return { status: 201, body: this.groupJson(g) };
        });
        const group = (c: Call): RunnerGroupState | undefined => (this.isOrg(c.params.org) ? this.groups.get(Number(c.params.runner_group_id)) : undefined);
        this.route("GET /orgs/{org}/actions/runner-groups/{runner_group_id}", c => {
            const g = group(c);
            return g ? { status: 200, body: this.groupJson(g) } : this.notFound();
        });
        this.route("PATCH /orgs/{org}/actions/runner-groups/{runner_group_id}", c => {
            const g = group(c);
            if (!g) {
                return this.notFound();
            }
            const b = c.body as { name: string; visibility?: string; allows_public_repositories?: boolean; restricted_to_workflows?: boolean; selected_workflows?: string[] };
            const refused = workflowRestriction(b);
            if (refused) {
                return refused;
            }
            g.name = b.name;
            g.visibility = groupVisibility(b.visibility, g.visibility);
            g.allowsPublicRepositories = b.allows_public_repositories ?? g.allowsPublicRepositories;
            g.restrictedToWorkflows = b.restricted_to_workflows ?? g.restrictedToWorkflows;
            // ASSUMPTION: turning the restriction off clears the list (the provider then sends no selected_workflows,
            // go-github omits an empty list); GitHub's behaviour here was not confirmed.
            g.selectedWorkflows = b.selected_workflows ?? (b.restricted_to_workflows === false ? [] : g.selectedWorkflows);
            return { status: 200, body: this.groupJson(g) };
        });
        this.route("DELETE /orgs/{org}/actions/runner-groups/{runner_group_id}", c => {
            const g = group(c);
            if (!g) {
                return this.notFound();
            }
            this.groups.delete(g.id);
            return { status: 204 };
        });
        this.route("GET /orgs/{org}/actions/runner-groups/{runner_group_id}/repositories", c => {
            const g = group(c);
            return g ? this.reposList(c, g.repositories) : this.notFound();
        });
        this.route("PUT /orgs/{org}/actions/runner-groups/{runner_group_id}/repositories", c => {
            const g = group(c);
            if (!g) {
                return this.notFound();
            }
            // The provider's Update sets the list whatever the visibility ([] unless selected).
            const ids = this.repositoryIds(c.body.selected_repository_ids);
            if (!Array.isArray(ids)) {
                return ids;
            }
            g.repositories = ids;
            return { status: 204 };
        });
        for (const method of ["PUT", "DELETE"] as const) {
            this.route(`${method} /orgs/{org}/actions/runner-groups/{runner_group_id}/repositories/{repository_id}`, c => {
                const g = group(c);
                if (!g) {
                    return this.notFound();
                }
                const ids = this.repositoryIds([c.params.repository_id]);
                if (!Array.isArray(ids)) {
                    return ids;
                }
                g.repositories = method === "PUT" ? [...new Set([...g.repositories, ids[0]])] : g.repositories.filter(x => x !== ids[0]);
                return { status: 204 };
            });
        }

        // ---- repositories: data_source_github_repository.go (GET /repos/{owner}/{repo}; 404 clears the id).
        this.route("GET /repos/{owner}/{repo}", c => {
            const r = this.repoOf(c);
            return r ? { status: 200, body: this.repoJson(r) } : this.notFound();
        });
        // data_source_github_repository_branches.go (ListBranches, only_protected_branches: protected=true):
        // "Setting to true returns only branches protected by branch protections or rulesets" (the OpenAPI
        // description of repos/list-branches); paginated.
        this.route("GET /repos/{owner}/{repo}/branches", c => {
            const r = this.repoOf(c);
            if (!r) {
                return this.notFound();
            }
            const want = c.query.get("protected");
            const names = [...r.branches.keys()].sort()
                .filter(b => want === null || (want === "true") === r.protectedBranches.has(b));
            const full = `${this.org}/${r.name}`;
            const { items, headers } = this.page(c, names);
            return {
                status: 200, headers, body: items.map(b => ({
                    name: b, commit: { sha: r.branches.get(b)!, url: `${this.api}repos/${full}/commits/${r.branches.get(b)}` },
                    protected: r.protectedBranches.has(b),
                    protection_url: `${this.api}repos/${full}/branches/${encodeURIComponent(b)}/protection`,
                })),
            };
        });
        // util_repo.go checkRepositoryBranchExists (GetBranch): 404 "Branch not found" for a missing branch.
        this.route("GET /repos/{owner}/{repo}/branches/{branch}", c => {
            const r = this.repoOf(c);
            if (!r) {
                return this.notFound();
            }
            const head = r.branches.get(c.params.branch);
            if (!head) {
                return { status: 404, body: { message: "Branch not found" } };
            }
            const full = `${this.org}/${r.name}`;
            const prot = r.protectedBranches.has(c.params.branch);
            return {
                status: 200, body: {
                    name: c.params.branch, commit: this.commitJson(r, r.commits.get(head)!, false), protected: prot,
                    protection: { enabled: prot, required_status_checks: { enforcement_level: "off", contexts: [], checks: [] } },
                    protection_url: `${this.api}repos/${full}/branches/${encodeURIComponent(c.params.branch)}/protection`,
                    _links: { html: `${this.web}${full}/tree/${c.params.branch}`, self: `${this.api}repos/${full}/branches/${encodeURIComponent(c.params.branch)}` },
                },
            };
        });
        // resource_github_repository_file.go resourceGithubRepositoryFileCreateBranch (autocreate_branch): GetRef, CreateRef.
        this.route("GET /repos/{owner}/{repo}/git/ref/{ref}", c => {
            const r = this.repoOf(c);
            const m = /^heads\/(.+)$/.exec(c.params.ref);
            const sha = r && m ? r.branches.get(m[1]) : undefined;
            return r && sha ? { status: 200, body: this.refJson(r, `refs/${c.params.ref}`, sha) } : this.notFound();
        });
        this.route("POST /repos/{owner}/{repo}/git/refs", c => {
            const r = this.repoOf(c);
            if (!r) {
                return this.notFound();
            }
            const b = c.body as { ref: string; sha: string };
            const m = /^refs\/heads\/(.+)$/.exec(b.ref);
            if (!m) {
                // ASSUMPTION: only branches are modelled; the message is the stand-in's.
                return { status: 422, body: { message: "Reference name is invalid (the stand-in creates refs/heads/* only)" } };
            }
            if (r.branches.has(m[1])) {
                return { status: 422, body: { message: "Reference already exists" } };
            }
            if (!r.commits.has(b.sha)) {
                return { status: 422, body: { message: "Object does not exist" } };
            }
            r.branches.set(m[1], b.sha);
            return { status: 201, body: this.refJson(r, b.ref, b.sha) };
        });

        // ---- repository files: resource_github_repository_file.go (GetContents, CreateFile/UpdateFile, DeleteFile,
        // GetCommit, util_repo.go getFileCommit: ListCommits + GetCommit); docs.github.com/en/rest/repos/contents.
        this.route("GET /repos/{owner}/{repo}/contents/{path}", c => {
            const r = this.repoOf(c);
            if (!r) {
                return this.notFound();
            }
            const ref = c.query.get("ref") ?? r.defaultBranch;
            const sha = this.resolveRef(r, ref);
            if (!sha) {
                return { status: 404, body: { message: `No commit found for the ref ${ref}` } };
            }
            const tree = r.commits.get(sha)!.tree;
            const p = c.params.path.replace(/\/+$/, "");
            const content = tree.get(p);
            if (content !== undefined) {
                return { status: 200, body: this.contentJson(r, p, content, ref) };
            }
            const under = [...tree.keys()].filter(f => f.startsWith(`${p}/`));
            if (under.length === 0) {
                return this.notFound();
            }
            const names = [...new Set(under.map(f => f.slice(p.length + 1).split("/")[0]))].sort();
            return {
                status: 200, body: names.map(n => {
                    const child = `${p}/${n}`;
                    const entry = this.contentJson(r, child, tree.get(child), ref);
                    delete entry.content;
                    delete entry.encoding;
                    return entry;
                }),
            };
        });
        this.route("PUT /repos/{owner}/{repo}/contents/{path}", c => this.writeFile(c, "put"));
        this.route("DELETE /repos/{owner}/{repo}/contents/{path}", c => this.writeFile(c, "delete"));
        this.route("GET /repos/{owner}/{repo}/commits", c => {
            const r = this.repoOf(c);
            if (!r) {
                return this.notFound();
            }
            const start = this.resolveRef(r, c.query.get("sha") ?? r.defaultBranch);
            if (!start) {
                return this.notFound();
            }
            const p = c.query.get("path");
            const list: CommitState[] = [];
            for (let s: string | undefined = start; s; s = r.commits.get(s)?.parents[0]) {
                const commit = r.commits.get(s)!;
                if (!p || commit.files.some(f => f.filename === p || f.filename.startsWith(`${p}/`))) {
                    list.push(commit);
                }
            }
            const { items, headers } = this.page(c, list);
            return { status: 200, headers, body: items.map(x => this.commitJson(r, x, false)) };
        });
        this.route("GET /repos/{owner}/{repo}/commits/{ref}", c => {
            const r = this.repoOf(c);
            if (!r) {
                return this.notFound();
            }
            const sha = this.resolveRef(r, c.params.ref);
            if (!sha) {
                return { status: 422, body: { message: `No commit found for SHA: ${c.params.ref}` } };
            }
            return { status: 200, body: this.commitJson(r, r.commits.get(sha)!, true) };
        });

        // ---- pull requests: resource_github_repository_pull_request.go (PullRequests.Create, Get, Edit; Delete closes
        // an open one with state closed); docs.github.com/en/rest/pulls/pulls.
        this.route("POST /repos/{owner}/{repo}/pulls", c => {
            const r = this.repoOf(c);
            if (!r) {
                return this.notFound();
            }
            const b = c.body as { title?: string; head: string; base: string; body?: string; maintainer_can_modify?: boolean; draft?: boolean };
            const head = b.head.includes(":") ? b.head.split(":")[1] : b.head;
            const invalid = (field: string): Answer => ({ status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", field, code: "invalid" }] } });
            if (b.head.includes(":") && !this.isOrg(b.head.split(":")[0])) {
                return invalid("head");
            }
            if (!r.branches.has(b.base)) {
                return invalid("base");
            }
            if (!r.branches.has(head)) {
                return invalid("head");
            }
            const custom = (message: string): Answer => ({ status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "custom", message }] } });
            if ([...r.pulls.values()].some(p => p.state === "open" && p.head === head && p.base === b.base)) {
                return custom(`A pull request already exists for ${this.org}:${head}.`);
            }
            if (this.ahead(r, head, b.base).length === 0) {
                return custom(`No commits between ${b.base} and ${head}`);
            }
            const now = this.stamp();
            const number = Math.max(0, ...r.pulls.keys()) + 1;
            const p: PullState = {
                number, id: this.nextPullId++, title: b.title ?? head, body: b.body ?? null, state: "open", head, base: b.base,
                draft: b.draft ?? false, maintainerCanModify: b.maintainer_can_modify ?? false, createdAt: now, updatedAt: now, closedAt: null, login: c.login,
            };
            r.pulls.set(number, p);
            return { status: 201, headers: { Location: `${this.api}repos/${this.org}/${r.name}/pulls/${number}` }, body: this.pullJson(r, p) };
        });
        this.route("GET /repos/{owner}/{repo}/pulls/{pull_number}", c => {
            const r = this.repoOf(c);
            const p = r?.pulls.get(Number(c.params.pull_number));
            return r && p ? { status: 200, body: this.pullJson(r, p) } : this.notFound();
        });
        this.route("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", c => {
            const r = this.repoOf(c);
            const p = r?.pulls.get(Number(c.params.pull_number));
            if (!r || !p) {
                return this.notFound();
            }
            const b = c.body as { title?: string; body?: string; state?: "open" | "closed"; base?: string; maintainer_can_modify?: boolean };
            if (b.base !== undefined && (b.state ?? p.state) === "closed") {
                // go-github pulls.go Edit: "Cannot change base branch of closed pull request" (422 Validation Failed).
                return { status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "custom", field: "base", message: "Cannot change base branch of closed pull request." }] } };
            }
            if (b.base !== undefined && !r.branches.has(b.base)) {
                return { status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", field: "base", code: "invalid" }] } };
            }
            p.title = b.title ?? p.title;
            p.body = b.body ?? p.body;
            p.maintainerCanModify = b.maintainer_can_modify ?? p.maintainerCanModify;
            p.base = b.base ?? p.base;
            if (b.state && b.state !== p.state) {
                p.state = b.state;
                p.closedAt = b.state === "closed" ? this.stamp() : null;
            }
            p.updatedAt = this.stamp();
            return { status: 200, body: this.pullJson(r, p) };
        });
    }

    private secretJson(s: SecretState): Obj {
        const out: Obj = { name: s.name, created_at: s.createdAt, updated_at: s.updatedAt, visibility: s.visibility };
        if (s.visibility === "selected") {
            out.selected_repositories_url = `${this.api}orgs/${this.org}/actions/secrets/${s.name}/repositories`;
        }
        return out;
    }

    private variableJson(v: VariableState): Obj {
        const out: Obj = { name: v.name, value: v.value, created_at: v.createdAt, updated_at: v.updatedAt, visibility: v.visibility };
        if (v.visibility === "selected") {
            out.selected_repositories_url = `${this.api}orgs/${this.org}/actions/variables/${v.name}/repositories`;
        }
        return out;
    }

    private refJson(r: RepoState, ref: string, sha: string): Obj {
        const full = `${this.org}/${r.name}`;
        return {
            ref, node_id: nodeId("Ref", `${r.id}:${ref}`), url: `${this.api}repos/${full}/git/${ref}`,
            object: { type: "commit", sha, url: `${this.api}repos/${full}/git/commits/${sha}` },
        };
    }

    /** PUT (create or update) and DELETE of a file through the contents API. */
    private writeFile(c: Call, kind: "put" | "delete"): Answer {
        const r = this.repoOf(c);
        if (!r) {
            return this.notFound();
        }
        const b = c.body as { message: string; content?: string; sha?: string; branch?: string; committer?: Partial<Person>; author?: Partial<Person> };
        const p = c.params.path;
        const branch = (b.branch ?? r.defaultBranch).replace(/^refs\/heads\//, "");
        const head = r.branches.get(branch);
        if (!head) {
            // ASSUMPTION: the status and message for a branch that does not exist were not confirmed.
            return { status: 404, body: { message: `Branch ${branch} not found` } };
        }
        if (r.protectedBranches.has(branch)) {
            // A direct commit to a protected branch ("Require a pull request before merging") through the contents
            // API: 409 {"message":"Could not update file: Changes must be made through a pull request."}, with
            // documentation_url https://docs.github.com/articles/about-protected-branches (reported in
            // BobAnkh/auto-generate-changelog#78, "409 ... Could not update file: ... Changes must be made through a
            // pull request."). For a delete the verb is assumed to be "delete".
            return {
                status: 409, body: {
                    message: `Could not ${kind === "put" ? "update" : "delete"} file: Changes must be made through a pull request.`,
                    documentation_url: "https://docs.github.com/articles/about-protected-branches", status: "409",
                },
            };
        }
        const tree = new Map(r.commits.get(head)!.tree);
        const current = tree.get(p);
        const currentSha = current === undefined ? undefined : blobSha(Buffer.from(current));
        let status: "added" | "modified" | "removed";
        if (kind === "put") {
            const text = (b.content ?? "").replace(/[\r\n]/g, "");
            if (!BASE64.test(text)) {
                return { status: 422, body: { message: "content is not valid Base64" } };
            }
            if (current !== undefined && b.sha === undefined) {
                // GitHub: 422 Invalid request. "sha" wasn't supplied. (updating an existing file needs its blob sha)
                return { status: 422, body: { message: "Invalid request.\n\n\"sha\" wasn't supplied." } };
            }
            if (current !== undefined && b.sha !== currentSha) {
                // GitHub: 409 "<path> does not match <sha>" for a stale blob sha.
                return { status: 409, body: { message: `${p} does not match ${b.sha}` } };
            }
            tree.set(p, Buffer.from(text, "base64").toString("utf8"));
            status = current === undefined ? "added" : "modified";
        } else {
            if (current === undefined) {
                return this.notFound();
            }
            if (b.sha !== currentSha) {
                return { status: 409, body: { message: `${p} does not match ${b.sha}` } };
            }
            tree.delete(p);
            status = "removed";
        }
        const commit = this.commit(r, head, b.message, tree, [{ filename: p, status }], c.login, b.author, b.committer);
        r.branches.set(branch, commit.sha);
        const full = `${this.org}/${r.name}`;
        const cj = this.commitJson(r, commit, false);
        const fileCommit = {
            content: kind === "delete" ? null : (() => {
                const x = this.contentJson(r, p, tree.get(p), branch);
                delete x.content;
                delete x.encoding;
                return x;
            })(),
            commit: {
                sha: commit.sha, node_id: cj.node_id, url: `${this.api}repos/${full}/git/commits/${commit.sha}`, html_url: cj.html_url,
                author: commit.author, committer: commit.committer, message: commit.message,
                tree: { sha: this.treeSha(commit), url: `${this.api}repos/${full}/git/trees/${this.treeSha(commit)}` },
                parents: cj.parents, verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
            },
        };
        // 201 for a new file, 200 for an update or a delete (the operations' responses).
        return { status: kind === "put" && status === "added" ? 201 : 200, body: fileCommit };
    }
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
    const x = new Set(a);
    return x.size === new Set(b).size && [...b].every(v => x.has(v));
}

function encodePath(p: string): string {
    return p.split("/").map(encodeURIComponent).join("/");
}
