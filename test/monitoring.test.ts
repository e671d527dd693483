// The monitoring files the package ships (monitoring/): the alerting rules
// and the Grafana dashboard name only the fleet's metrics (the catalog in
// components/spec/metrics.ts) and Prometheus's own `up`; every metric of the
// catalog is shown or alerted on somewhere; every alert says how long, how
// bad and what; every panel queries something, for the chosen hosts and
// arches. promtool's own checks of these files run in the host suite.

import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { FLEET_METRICS, FLEET_METRIC_LABELS, FLEET_SCRAPE_JOB, fleetMetricOf, seriesNamesOf } from "../components/spec/metrics";
import {
    ALERTS_FILE, DASHBOARD_FILE, asMeasurement, dashboardPanels, metricNamesOf, rangesOf, ruleGroupsOf, shippedQueries, substituteTemplateVariables,
} from "../scripts/lib/promql";
import { REPO_ROOT } from "./harness";

const read = (f: string) => fs.readFileSync(path.join(REPO_ROOT, f), "utf8");

/** The alerts the issue asks for (27). */
const ALERTS = [
    "RunnerFleetHostDown", "RunnerFleetMetricsStale", "RunnerFleetRunnerOffline", "RunnerFleetRunnerUnregistered", "RunnerFleetAgentDown",
    "RunnerFleetMirrorDown", "RunnerFleetDiskLow", "RunnerFleetRunnerVersionNearCutoff", "RunnerFleetMirrorHitRatioCollapsed",
    "RunnerFleetJobsFailingAtFleetFault",
];

describe("the fleet's metric catalog", () => {
    it("names each metric once, in Prometheus's naming conventions, with its type and help", () => {
        const names = FLEET_METRICS.map(m => m.name);
        expect(new Set(names).size).to.equal(names.length);
        for (const m of FLEET_METRICS) {
            expect(m.name, m.name).to.match(/^runner_fleet_[a-z0-9_]+$/);
            expect(m.help, m.name).to.not.equal("");
            expect(m.name.endsWith("_total"), `${m.name}: counters end in _total, nothing else does`).to.equal(m.type === "counter");
            expect(m.labels.filter(l => (FLEET_METRIC_LABELS as readonly string[]).includes(l) || l === "le"), m.name).to.deep.equal([]);
        }
        expect(FLEET_METRIC_LABELS).to.deep.equal(["host", "arch", "kind"]);
    });

    it("knows a histogram by its _bucket, _sum and _count series", () => {
        const histogram = FLEET_METRICS.find(m => m.type === "histogram");
        expect(histogram?.name).to.equal("runner_fleet_job_duration_seconds");
        expect(seriesNamesOf(histogram!)).to.include("runner_fleet_job_duration_seconds_bucket");
        expect(fleetMetricOf("runner_fleet_job_duration_seconds_count")).to.equal(histogram);
        expect(fleetMetricOf("runner_fleet_runner_online_bucket")).to.equal(undefined);
        expect(fleetMetricOf("up")).to.equal(undefined);
    });
});

describe("metricNamesOf", () => {
    const cases: [string, string[]][] = [
        ['up{job="runner-fleet"} == 0', ["up"]],
        ["time() - runner_fleet_metrics_updated_timestamp_seconds > 300", ["runner_fleet_metrics_updated_timestamp_seconds"]],
        ["runner_fleet_disk_free_bytes / runner_fleet_disk_size_bytes < 0.10", ["runner_fleet_disk_free_bytes", "runner_fleet_disk_size_bytes"]],
        ['sum by (host, runner) (increase(a_total{host=~"x", result="abandoned"}[1h])) or on (host) group_left (runner) 0 * b', ["a_total", "b"]],
        ['histogram_quantile(0.95, sum by (le) (rate(d_bucket{host=~".*"}[5m])))', ["d_bucket"]],
        ["sum(rate(x[5m] offset 1d)) without (instance) / ignoring (type) y unless z and bool_metric", ["x", "y", "z", "bool_metric"]],
        ['label_replace(m, "dst", "$1", "src", "(by)") > bool 1e3', ["m"]],
        ["max_over_time(deriv(g[30m:1m])[1h:]) + Inf - NaN + 0x1f", ["g"]],
        ['count(a{x="}"}) # a comment naming c', ["a"]],
        ["vector(1)", []],
    ];
    for (const [expr, names] of cases) {
        it(`${expr} selects ${names.length ? names.join(", ") : "no metric"}`, () => {
            expect(metricNamesOf(expr)).to.deep.equal(names);
        });
    }
});

describe("asMeasurement", () => {
    const cases: [string, string][] = [
        ['up{job="runner-fleet"} == 0', 'up{job="runner-fleet"} == bool 0'],
        ["a / b < 0.10", "a / b < bool 0.10"],
        ['x{r!="1"} >= -1 and y{t="<0"}>50', 'x{r!="1"} >= bool -1 and y{t="<0"}> bool 50'],
        ["a != .5 or b <= 1e3 or c == Inf", "a != bool .5 or b <= bool 1e3 or c == bool Inf"],
        ["a > bool 0", "a > bool 0"],
    ];
    for (const [expr, measured] of cases) {
        it(`measures ${expr} as ${measured}`, () => {
            expect(asMeasurement(expr)).to.equal(measured);
        });
    }

    it("refuses an expression that compares nothing with a number", () => {
        expect(() => asMeasurement('rate(x{a!="1"}[5m]) / y')).to.throw(/compares nothing with a number/);
    });

    it("gives every shipped alert's comparisons bool, so a condition that does not hold still returns its series", () => {
        for (const q of shippedQueries(REPO_ROOT).filter(q => q.source.startsWith("alerts.yml: "))) {
            const measured = asMeasurement(q.expr);
            expect(measured.match(/(==|!=|>=|<=|>|<)\s*(?!bool\b)[-+.\d]/g), q.source).to.equal(null);
            expect(measured.replace(/ bool\b/g, ""), q.source).to.equal(q.expr);
        }
    });
});

describe("template variables and ranges", () => {
    it("replaces Grafana's variables with what Prometheus can run, and refuses one it does not know", () => {
        expect(substituteTemplateVariables('rate(x{host=~"$host", arch=~"${arch}"}[$__rate_interval]) [${__range}] [$__interval]'))
            .to.equal('rate(x{host=~".*", arch=~".*"}[5m]) [1h] [1m]');
        expect(() => substituteTemplateVariables('x{job=~"$job"}', "panel P A")).to.throw(/panel P A: template variable \$job/);
    });

    it("reads range and subquery windows in seconds", () => {
        expect(rangesOf("rate(x[5m]) + increase(y[1h30m]) + max_over_time(z[1d:5m])")).to.deep.equal([300, 5400, 86400]);
        expect(() => rangesOf("rate(x[5])")).to.throw(/not a PromQL duration/);
    });
});

describe("the shipped monitoring files (monitoring/)", () => {
    const queries = shippedQueries(REPO_ROOT);
    const groups = ruleGroupsOf(read(ALERTS_FILE));
    const rules = groups.flatMap(g => g.rules);
    const dashboard = JSON.parse(read(DASHBOARD_FILE));
    const panels = dashboardPanels(dashboard);

    it("finds the rules' and the panels' expressions, each with where it comes from", () => {
        expect(queries.filter(q => q.source.startsWith("alerts.yml: ")).map(q => q.source.slice(12))).to.deep.equal(ALERTS);
        expect(queries.filter(q => q.source.startsWith("dashboard.json: ")).length).to.equal(panels.reduce((n, p) => n + (p.targets ?? []).length, 0));
        expect(queries.map(q => q.source)).to.include("dashboard.json: Job duration p50 / p95 A");
        for (const q of queries) {
            expect(q.expr, q.source).to.not.match(/\$/);
        }
    });

    it("names only the fleet's metrics (a histogram's _bucket, _sum, _count too) and up", () => {
        const wrong = queries.flatMap(q => metricNamesOf(q.expr).filter(n => n !== "up" && fleetMetricOf(n) === undefined).map(n => `${q.source}: ${n}`));
        expect(wrong).to.deep.equal([]);
        // A selector by __name__ would hide its metrics from metricNamesOf.
        expect(queries.filter(q => q.expr.includes("__name__")).map(q => q.source)).to.deep.equal([]);
    });

    it("shows or alerts on every metric of the catalog", () => {
        const used = new Set(queries.flatMap(q => metricNamesOf(q.expr)).map(n => fleetMetricOf(n)?.name));
        expect(FLEET_METRICS.map(m => m.name).filter(n => !used.has(n))).to.deep.equal([]);
        expect(used.has(undefined), "up is read too").to.equal(true);
    });

    it("keeps increase and rate windows at an hour or less", () => {
        const long = queries.flatMap(q => rangesOf(q.expr).filter(s => s > 3600).map(s => `${q.source}: ${s}s`));
        expect(long).to.deep.equal([]);
    });

    it("has one rule group, runner-fleet, whose alerts say for how long, how bad, and what, about which host", () => {
        expect(groups.map(g => g.name)).to.deep.equal(["runner-fleet"]);
        expect(rules.map(r => r.alert)).to.deep.equal(ALERTS);
        for (const r of rules) {
            const name = r.alert as string;
            expect(r.for, `${name}: for`).to.match(/^\d+[smh]$/);
            expect(r.labels?.severity, `${name}: severity`).to.be.oneOf(["critical", "warning", "info"]);
            expect(r.annotations?.summary, `${name}: summary`).to.be.a("string").and.not.equal("");
            expect(r.annotations?.description, `${name}: description`).to.be.a("string").and.not.equal("");
            expect(`${r.annotations?.summary} ${r.annotations?.description}`, `${name} names the host`).to.include("{{ $labels.host }}");
        }
    });

    it("alerts as the issue asks: a host down by the scrape job, the figures stale, the thresholds", () => {
        const expr = (alert: string) => String(rules.find(r => r.alert === alert)?.expr).replace(/\s+/g, " ").trim();
        const rule = (alert: string) => rules.find(r => r.alert === alert);
        expect(expr("RunnerFleetHostDown")).to.equal(`up{job="${FLEET_SCRAPE_JOB}"} == 0`);
        expect(rule("RunnerFleetHostDown")?.for).to.equal("5m");
        expect(expr("RunnerFleetMetricsStale")).to.equal("time() - runner_fleet_metrics_updated_timestamp_seconds > 300");
        expect(expr("RunnerFleetRunnerOffline")).to.equal("runner_fleet_runner_online == 0");
        expect(rule("RunnerFleetRunnerOffline")?.for).to.equal("5m");
        expect(expr("RunnerFleetRunnerUnregistered")).to.equal("runner_fleet_runner_registered == 0");
        expect(rule("RunnerFleetRunnerUnregistered")?.for).to.equal("10m");
        expect(expr("RunnerFleetDiskLow")).to.equal("runner_fleet_disk_free_bytes / runner_fleet_disk_size_bytes < 0.10");
        expect(rule("RunnerFleetDiskLow")?.for).to.equal("10m");
        expect(expr("RunnerFleetRunnerVersionNearCutoff")).to.equal("runner_fleet_runner_support_days_left < 7");
        expect(metricNamesOf(expr("RunnerFleetJobsFailingAtFleetFault"))).to.deep.equal(
            ["runner_fleet_jobs_lost_total", "runner_fleet_jobs_completed_total", "runner_fleet_job_setup_failures_total"]);
        expect(expr("RunnerFleetJobsFailingAtFleetFault")).to.include('result="abandoned"');
        expect(metricNamesOf(expr("RunnerFleetMirrorHitRatioCollapsed"))).to.deep.equal(["runner_fleet_mirror_hits_total", "runner_fleet_mirror_requests_total"]);
        expect(expr("RunnerFleetMirrorHitRatioCollapsed")).to.include('type="blob"');
    });

    it("parses as a Grafana dashboard with its data source, arch and host variables", () => {
        expect(dashboard.schemaVersion).to.equal(39);
        expect(dashboard.uid).to.be.a("string");
        const vars = dashboard.templating.list as { name: string; type: string; query: unknown; definition?: string }[];
        expect(vars.map(v => v.name)).to.have.members(["datasource", "host", "arch"]);
        expect(vars.find(v => v.name === "datasource")).to.include({ type: "datasource", query: "prometheus" });
        for (const name of ["host", "arch"]) {
            const v = vars.find(x => x.name === name);
            expect(v?.type, name).to.equal("query");
            expect(v?.definition, name).to.match(new RegExp(`^label_values\\(runner_fleet_metrics_updated_timestamp_seconds(\\{[^}]*\\})?, ${name}\\)$`));
        }
    });

    it("gives every panel a title, the chosen data source, and a query that keeps to the chosen hosts and arches", () => {
        expect(panels.length).to.be.greaterThan(10);
        const titles = panels.map(p => p.title);
        expect(new Set(titles).size, "titles are unique").to.equal(titles.length);
        for (const p of dashboard.panels as { type: string; title: string; targets?: { expr: string; refId: string; datasource?: { uid: string } }[]; datasource?: { uid: string } }[]) {
            if (p.type === "row") {
                continue;
            }
            expect(p.title, "a panel has a title").to.be.a("string").and.not.equal("");
            expect(p.datasource?.uid, `${p.title}: data source`).to.equal("${datasource}");
            expect(p.targets ?? [], `${p.title}: targets`).to.not.be.empty;
            for (const t of p.targets ?? []) {
                expect(t.expr, `${p.title} ${t.refId}`).to.be.a("string").and.not.equal("");
                // Every metric selector filters by both variables.
                const selectors = [...t.expr.matchAll(/\b([a-z_:][\w:]*)(\{[^}]*\})?/gi)].filter(m => metricNamesOf(t.expr).includes(m[1]));
                for (const s of selectors) {
                    expect(s[2] ?? "", `${p.title} ${t.refId}: ${s[1]}`).to.include('host=~"$host"').and.include('arch=~"$arch"');
                }
            }
        }
    });

    it("ships a scrape config with the runner-fleet job reading the stack's file_sd targets and loading the rules", () => {
        const config = parseYaml(read(path.join("monitoring", "prometheus.yml")));
        expect(config.global.scrape_interval).to.equal("15s");
        expect(config.rule_files).to.deep.equal(["alerts.yml"]);
        const job = (config.scrape_configs as { job_name: string; honor_labels?: boolean; file_sd_configs?: { files: string[] }[] }[])
            .find(j => j.job_name === FLEET_SCRAPE_JOB);
        expect(job?.honor_labels).to.equal(true);
        expect(job?.file_sd_configs?.[0].files).to.deep.equal(["runner-fleet-targets.json"]);
    });
});
