// A loopback stand-in for GitHub's REST API, for the unit tests of the operator script
// (scripts/operator/github-runners.js) and of status's runner list: it logs every request and
// answers what the test says, with helpers for the answers GitHub gives.

import * as http from "http";
import { AddressInfo } from "net";

export interface Asked {
    readonly method: string;
    readonly path: string;
    readonly query: URLSearchParams;
    readonly auth: string;
    /** When it arrived (ms since the epoch). */
    readonly at: number;
}

export interface Answer {
    readonly status: number;
    readonly headers?: Record<string, string>;
    readonly body?: unknown;
}

export class GithubStandIn {
    readonly asked: Asked[] = [];
    private server?: http.Server;
    private base = "";

    constructor(private readonly answer: (a: Asked) => Answer) { }

    get url(): string {
        return this.base;
    }

    async start(): Promise<this> {
        this.server = http.createServer((req, res) => {
            const u = new URL(req.url ?? "/", "http://stand-in");
            const a: Asked = { method: req.method ?? "", path: u.pathname, query: u.searchParams, auth: String(req.headers.authorization ?? ""), at: Date.now() };
            this.asked.push(a);
            req.resume();
            req.on("end", () => {
                let out: Answer;
                try {
                    out = this.answer(a);
                } catch (e) {
                    out = { status: 500, body: { message: `stand-in: ${(e as Error).message}` } };
                }
                res.statusCode = out.status;
                for (const [k, v] of Object.entries(out.headers ?? {})) {
                    res.setHeader(k, v);
                }
                if (out.status === 204) {
                    res.end();
                    return;
                }
                res.setHeader("Content-Type", "application/json; charset=utf-8");
                res.end(JSON.stringify(out.body ?? {}));
            });
        });
        await new Promise<void>(done => this.server!.listen(0, "127.0.0.1", done));
        this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this;
    }

    async close(): Promise<void> {
        this.server?.closeAllConnections();
        await new Promise<void>(done => (this.server ? this.server.close(() => done()) : done()));
    }
}

export interface StandInRunner {
    readonly id: number;
    readonly name: string;
    readonly status?: string;
    readonly busy?: boolean;
}

/**
 * GET /orgs/{org}/actions/runners as GitHub answers it (docs.github.com/en/rest/actions/self-hosted-runners,
 * "List self-hosted runners for an organization"): `name` keeps the runner of exactly that name, per_page
 * (default 30, at most 100) and page (from 1) paginate, total_count counts the (filtered) list.
 */
export function runnerList(all: readonly StandInRunner[], query: URLSearchParams, honourName = true): Answer {
    const name = query.get("name");
    const list = honourName && name !== null ? all.filter(r => r.name === name) : all;
    const perPage = Math.min(100, Number(query.get("per_page") ?? 30) || 30);
    const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
    const runners = list.slice((page - 1) * perPage, page * perPage)
        .map(r => ({ id: r.id, name: r.name, os: "Linux", status: r.status ?? "online", busy: r.busy ?? false, labels: [{ id: 1, name: "self-hosted", type: "read-only" }] }));
    return { status: 200, body: { total_count: list.length, runners } };
}

/** The primary rate limit, as GitHub answers it: 403, x-ratelimit-remaining 0, x-ratelimit-reset `inS` seconds ahead. */
export function primaryLimit(inS: number, status = 403): Answer & { reset: number } {
    const reset = Math.ceil(Date.now() / 1000) + inS;
    return {
        status, reset,
        headers: { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "x-ratelimit-reset": String(reset), "x-ratelimit-resource": "core" },
        body: { message: "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", status: String(status) },
    };
}

/** A secondary rate limit: 403 (or 429) with retry-after, and GitHub's message unless `message` says otherwise. */
export function secondaryLimit(retryAfterS: number, status = 403, message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."): Answer {
    return {
        status,
        headers: { "retry-after": String(retryAfterS), "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4990", "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3000) },
        body: { message, documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits" },
    };
}

/** A refusal: 403 without any rate-limit sign (a token without the permission). */
export function refused(status = 403): Answer {
    return status === 401
        ? { status, body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" } }
        : { status, headers: { "x-ratelimit-remaining": "4999", "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3000) }, body: { message: "Resource not accessible by personal access token", documentation_url: "https://docs.github.com/rest/actions/self-hosted-runners", status: "403" } };
}
