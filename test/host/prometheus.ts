// The host suite's Prometheus: Debian's `prometheus` (the release a team runs
// from its distribution), started on the test bridge, scraping the test hosts'
// node exporters with the scrape settings and the alert rules the package ships
// (monitoring/prometheus.yml, monitoring/alerts.yml). Two things differ from the
// shipped files, both for time: every interval is 5 s instead of 15 s, and each
// alert's `for` is 10 s instead of minutes; the expressions are the shipped ones.
// Queries go through its HTTP API (prometheus.io/docs/prometheus/latest/querying/api/).

import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { ALERTS_FILE } from "../../scripts/lib/promql";
import { FLEET_METRICS, FLEET_METRIC_LABELS, FleetMetric, seriesNamesOf } from "../../components/spec/metrics";

const ROOT = path.resolve(__dirname, "..", "..", "..");

/** One series of an instant query's answer. */
export interface Sample {
    readonly metric: Record<string, string>;
    readonly value: number;
}

/** An alert as /api/v1/alerts lists it. */
export interface ActiveAlert {
    readonly labels: Record<string, string>;
    readonly state: "pending" | "firing";
}

/** promtool's verdict on a file the package ships: its exit code and what it said. */
export function promtool(...args: string[]): { code: number; output: string } {
    const r = spawnSync("promtool", args, { cwd: ROOT, encoding: "utf8" });
    return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
}

export class SuitePrometheus {
    private proc?: ChildProcess;
    private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-fleet-prometheus-"));
    private readonly targets = new Map<string, { targets: string[]; labels: Record<string, string> }>();
    private log = "";

    constructor(public readonly listen: string) {}

    get url(): string {
        return `http://${this.listen}`;
    }

    /** Starts Prometheus with the shipped config and rules (intervals shortened), and waits until it is ready. */
    async start(): Promise<void> {
        const shipped = parseYaml(fs.readFileSync(path.join(ROOT, "monitoring", "prometheus.yml"), "utf8")) as {
            global: Record<string, string>; scrape_configs: { file_sd_configs?: { files: string[]; refresh_interval?: string }[] }[];
        };
        shipped.global.scrape_interval = "5s";
        shipped.global.evaluation_interval = "5s";
        for (const job of shipped.scrape_configs) {
            for (const sd of job.file_sd_configs ?? []) {
                sd.refresh_interval = "5s";
            }
        }
        fs.writeFileSync(path.join(this.dir, "prometheus.yml"), toYaml(shipped));
        const rules = parseYaml(fs.readFileSync(path.join(ROOT, ALERTS_FILE), "utf8")) as { groups: { rules: { for?: string }[] }[] };
        for (const g of rules.groups) {
            for (const r of g.rules) {
                if (r.for !== undefined) {
                    r.for = "10s";
                }
            }
        }
        fs.writeFileSync(path.join(this.dir, "alerts.yml"), toYaml(rules));
        this.writeTargets();
        this.proc = spawn("prometheus", [
            `--config.file=${path.join(this.dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(this.dir, "data")}`,
            `--web.listen-address=${this.listen}`, "--web.enable-lifecycle", "--log.level=warn",
        ], { stdio: ["ignore", "pipe", "pipe"] });
        this.proc.stdout?.on("data", d => { this.log += d; });
        this.proc.stderr?.on("data", d => { this.log += d; });
        for (let i = 0; i < 120; i++) {
            if (this.proc.exitCode !== null) {
                throw new Error(`prometheus exited (${this.proc.exitCode}): ${this.log.slice(-2000)}`);
            }
            if (await this.get("/-/ready").then(r => r.status === 200, () => false)) {
                return;
            }
            await sleep(500);
        }
        throw new Error(`prometheus did not get ready: ${this.log.slice(-2000)}`);
    }

    async stop(): Promise<void> {
        if (this.proc && this.proc.exitCode === null) {
            this.proc.kill("SIGTERM");
            await new Promise(resolve => this.proc?.once("exit", resolve));
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** Adds (or replaces) a scrape target as the stack output's file_sd entry gives it. */
    scrape(entry: { targets: string[]; labels: Record<string, string> }): void {
        this.targets.set(entry.labels.host, entry);
        this.writeTargets();
    }

    private writeTargets(): void {
        const file = path.join(this.dir, "runner-fleet-targets.json");
        fs.writeFileSync(`${file}.tmp`, JSON.stringify([...this.targets.values()]));
        fs.renameSync(`${file}.tmp`, file);
    }

    /** An instant query, at `time` (seconds) or now. */
    async query(expr: string, time?: number): Promise<Sample[]> {
        const q = new URLSearchParams({ query: expr, ...(time === undefined ? {} : { time: String(time) }) });
        const r = await this.get(`/api/v1/query?${q}`);
        const body = JSON.parse(r.body) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] | [number, string] } };
        if (body.status !== "success" || !body.data) {
            throw new Error(`query ${expr}: ${body.error ?? r.body}`);
        }
        if (body.data.resultType === "scalar") {
            const [, v] = body.data.result as [number, string];
            return [{ metric: {}, value: Number(v) }];
        }
        return (body.data.result as { metric: Record<string, string>; value: [number, string] }[]).map(s => ({ metric: s.metric, value: Number(s.value[1]) }));
    }

    /** Waits (at most `ms`) until `expr` returns a series for which `ok` holds; returns the answer. */
    async until(expr: string, ok: (s: Sample[]) => boolean, ms = 120_000): Promise<Sample[]> {
        const end = Date.now() + ms;
        let last: Sample[] = [];
        while (Date.now() < end) {
            last = await this.query(expr);
            if (ok(last)) {
                return last;
            }
            await sleep(1000);
        }
        throw new Error(`${expr} did not get there within ${ms / 1000}s; last answer ${JSON.stringify(last)}`);
    }

    /** The alerts pending or firing. */
    async alerts(): Promise<ActiveAlert[]> {
        const r = await this.get("/api/v1/alerts");
        return (JSON.parse(r.body) as { data: { alerts: ActiveAlert[] } }).data.alerts;
    }

    /** The scrape targets and their health. */
    async targetHealth(): Promise<{ labels: Record<string, string>; health: string; lastError: string }[]> {
        const r = await this.get("/api/v1/targets");
        return (JSON.parse(r.body) as { data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] } }).data.activeTargets;
    }

    private get(p: string): Promise<{ status: number; body: string }> {
        return new Promise((resolve, reject) => {
            http.get(`${this.url}${p}`, res => {
                let body = "";
                res.on("data", d => { body += d; });
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            }).on("error", reject);
        });
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}

/**
 * Where what an exporter serves differs from the fleet's catalog (components/spec/metrics.ts), for the
 * runner_fleet_ families it should serve (`expected`): a family missing or extra, another type or help text,
 * a series with other labels than host, arch, kind and the metric's own (le for a histogram's buckets).
 */
export function catalogMismatches(exposition: string, expected: readonly FleetMetric[]): string[] {
    const out: string[] = [];
    const helps = new Map<string, string>();
    const types = new Map<string, string>();
    for (const m of exposition.matchAll(/^# (HELP|TYPE) (runner_fleet_\w+) (.*)$/gm)) {
        (m[1] === "HELP" ? helps : types).set(m[2], m[3]);
    }
    for (const metric of expected) {
        if (types.get(metric.name) !== metric.type) {
            out.push(`${metric.name}: type ${types.get(metric.name) ?? "missing"}, the catalog says ${metric.type}`);
        }
        if (helps.get(metric.name) !== metric.help.replace(/\\/g, "\\\\")) {
            out.push(`${metric.name}: help "${helps.get(metric.name) ?? ""}", the catalog says "${metric.help}"`);
        }
    }
    for (const name of types.keys()) {
        if (!expected.some(m => m.name === name)) {
            out.push(`${name}: served, not expected here`);
        }
    }
    for (const m of exposition.matchAll(/^(runner_fleet_\w+)\{([^}]*)\} \S+$/gm)) {
        const metric = FLEET_METRICS.find(f => seriesNamesOf(f).includes(m[1]));
        const labels = [...m[2].matchAll(/(\w+)="/g)].map(l => l[1]).sort();
        const want = [...FLEET_METRIC_LABELS, ...(metric?.labels ?? []), ...(m[1].endsWith("_bucket") ? ["le"] : [])].sort();
        if (JSON.stringify(labels) !== JSON.stringify(want)) {
            out.push(`${m[1]}{${m[2]}}: labels ${labels.join(",")}, the catalog says ${want.join(",")}`);
        }
    }
    return out;
}
