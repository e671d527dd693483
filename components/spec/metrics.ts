// The fleet's metrics: what every host's node exporter serves through its
// textfile collector, written by a root timer on the host. One catalog that
// the monitoring files the package ships (monitoring/alerts.yml,
// monitoring/dashboard.json) are checked against: they may name only these
// series (and Prometheus's own `up`), and every one of these appears in one
// of them. Pure data; no Pulumi resources here.
//
// The scrape job is named `runner-fleet`; `up{job="runner-fleet"}` tells a
// host that does not answer. Runner-less hosts (actuated) have no runner_*
// or jobs_* series.

/** A Prometheus metric type, as the exposition format's `# TYPE` line names it. */
export type FleetMetricType = "gauge" | "counter" | "histogram";

/** One series family the fleet's hosts export. */
export interface FleetMetric {
    /** The metric's name; a histogram's series add _bucket, _sum and _count to it. */
    readonly name: string;
    readonly type: FleetMetricType;
    /** The labels beyond FLEET_METRIC_LABELS, which every series carries. A histogram's `le` is not listed. */
    readonly labels: readonly string[];
    /** The `# HELP` text. */
    readonly help: string;
}

/** The labels every fleet series carries: the host's name, its arch (arm64|amd64) and its kind (github-runner|actuated). */
export const FLEET_METRIC_LABELS = ["host", "arch", "kind"] as const;

/** The name of the Prometheus scrape job the shipped rules and dashboard expect. */
export const FLEET_SCRAPE_JOB = "runner-fleet";

/** The buckets of runner_fleet_job_duration_seconds, in seconds: 10 s to 6 h. */
export const JOB_DURATION_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600] as const;

/** Every metric the fleet's hosts export, with its type, its own labels and its help text. */
export const FLEET_METRICS: readonly FleetMetric[] = [
    // The runner instances (github-runner hosts only).
    { name: "runner_fleet_runner_registered", type: "gauge", labels: ["runner"], help: "1 when the runner instance holds a GitHub registration" },
    { name: "runner_fleet_runner_online", type: "gauge", labels: ["runner"], help: "1 when the runner's listener runs with a registration" },
    { name: "runner_fleet_runner_busy", type: "gauge", labels: ["runner"], help: "1 while the runner runs a job" },
    { name: "runner_fleet_runner_info", type: "gauge", labels: ["runner", "version"], help: "1, with the installed actions/runner version" },
    { name: "runner_fleet_runner_support_days_left", type: "gauge", labels: ["runner"], help: "days before GitHub stops sending the runner jobs (+Inf when no newer release is known)" },
    // Its jobs.
    { name: "runner_fleet_jobs_started_total", type: "counter", labels: ["runner"], help: "jobs the runner started" },
    { name: "runner_fleet_jobs_completed_total", type: "counter", labels: ["runner", "result"], help: "jobs the runner completed, by its own result: succeeded, failed, canceled, abandoned" },
    { name: "runner_fleet_jobs_lost_total", type: "counter", labels: ["runner"], help: "jobs started that never completed (listener stopped or killed, host rebooted): the fleet's fault" },
    { name: "runner_fleet_job_setup_failures_total", type: "counter", labels: ["runner", "check"], help: "jobs whose job-started hook found the runner's own Docker not answering (check=\"docker\")" },
    { name: "runner_fleet_job_duration_seconds", type: "histogram", labels: ["runner"], help: "job durations in seconds" },
    // The services.
    { name: "runner_fleet_agent_up", type: "gauge", labels: ["unit"], help: "1 when the agent's systemd unit is active (runner-fleet-runner@N with its own runner-fleet-docker@N, actuated)" },
    { name: "runner_fleet_mirror_up", type: "gauge", labels: ["unit"], help: "1 when the mirror's systemd unit is active (runner-fleet-mirror, registry-mirror on actuated)" },
    // The Docker Hub mirror (distribution 3's proxy expvar figures).
    { name: "runner_fleet_mirror_requests_total", type: "counter", labels: ["type"], help: "requests the mirror served, by type (blob, manifest)" },
    { name: "runner_fleet_mirror_hits_total", type: "counter", labels: ["type"], help: "requests the mirror served from its cache" },
    { name: "runner_fleet_mirror_misses_total", type: "counter", labels: ["type"], help: "requests the mirror fetched from the upstream" },
    { name: "runner_fleet_mirror_pulled_bytes_total", type: "counter", labels: ["type"], help: "bytes the mirror fetched from the upstream" },
    { name: "runner_fleet_mirror_pushed_bytes_total", type: "counter", labels: ["type"], help: "bytes the mirror served to clients" },
    // The host.
    { name: "runner_fleet_disk_free_bytes", type: "gauge", labels: ["path"], help: "bytes free on the filesystem where jobs and images live" },
    { name: "runner_fleet_disk_size_bytes", type: "gauge", labels: ["path"], help: "size of the filesystem where jobs and images live" },
    { name: "runner_fleet_microvms_running", type: "gauge", labels: [], help: "actuated: Firecracker microVMs running (one per job)" },
    { name: "runner_fleet_metrics_updated_timestamp_seconds", type: "gauge", labels: [], help: "when the timer last wrote these figures (Unix seconds)" },
];

/**
 * The series names a metric is queried by: its own name, or for a histogram
 * its _bucket, _sum and _count series (and the bare name, which the
 * exposition format's # TYPE line uses).
 */
export function seriesNamesOf(metric: FleetMetric): readonly string[] {
    return metric.type === "histogram"
        ? [metric.name, `${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`]
        : [metric.name];
}

/** The metric a series name belongs to (a histogram's _bucket/_sum/_count included), or undefined when it is none of the fleet's. */
export function fleetMetricOf(series: string): FleetMetric | undefined {
    return FLEET_METRICS.find(m => seriesNamesOf(m).includes(series));
}
