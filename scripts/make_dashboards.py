#!/usr/bin/env python3
"""Writes the Grafana dashboards in grafana/dashboards/ from the panel lists below.

    python3 scripts/make_dashboards.py           # write them
    python3 scripts/make_dashboards.py --check   # exit 1 when a committed dashboard differs (a test runs this)

Every query uses only metrics the fleet exports (docs/metrics.md); PrometheusIT evaluates each one
against a real Prometheus scraping a real fleet, and DashboardStructureTest checks the JSON.
"""
import json
import os
import sys

OUT = os.path.join(os.path.dirname(__file__), "..", "grafana", "dashboards")
DS = {"type": "prometheus", "uid": "${datasource}"}
RI = "$__rate_interval"
JOBS = 'topic="evalfleet.jobs"'
# Targets are told apart by the role label every evalfleet meter carries, and narrowed by the
# dashboard's templated job variable, so the panels work under any scrape configuration.
WORKERS = 'role="worker", job=~"$job"'
WORKER_TARGETS = 'max by (job, instance) (max_over_time(evalfleet_build_info{role="worker", job=~"$job"}[1h]))'


def panel(title, targets, unit="short", kind="timeseries", description="", w=12, h=8, stack=False):
    return {"title": title, "type": kind, "description": description, "unit": unit, "targets": targets,
            "w": w, "h": h, "stack": stack}


def t(expr, legend=""):
    return {"expr": expr, "legendFormat": legend}


def build(uid, title, description, panels, variables=()):
    out, x, y, row_h, pid = [], 0, 0, 0, 1
    for p in panels:
        if x + p["w"] > 24:
            x, y, row_h = 0, y + row_h, 0
        targets = [{"refId": chr(ord("A") + i), "datasource": DS, "expr": tg["expr"],
                    "legendFormat": tg["legendFormat"] or "__auto", "range": True, "instant": p["type"] != "timeseries"}
                   for i, tg in enumerate(p["targets"])]
        defaults = {"unit": p["unit"]}
        if p["type"] == "timeseries":
            defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                                  "stacking": {"mode": "normal" if p["stack"] else "none"}}
        out.append({"id": pid, "type": p["type"], "title": p["title"], "description": p["description"],
                    "datasource": DS, "gridPos": {"x": x, "y": y, "w": p["w"], "h": p["h"]},
                    "fieldConfig": {"defaults": defaults, "overrides": []},
                    "options": {"legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"},
                                "tooltip": {"mode": "multi", "sort": "desc"}} if p["type"] == "timeseries"
                    else {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
                    "targets": targets})
        pid += 1
        x += p["w"]
        row_h = max(row_h, p["h"])
    templating = [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus",
                   "current": {"text": "Prometheus", "value": "prometheus"}, "hide": 0}]
    templating.append(job_variable())
    templating += list(variables)
    return {"uid": uid, "title": title, "description": description, "tags": ["evalfleet"], "schemaVersion": 39,
            "version": 1, "editable": True, "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
            "timezone": "utc", "graphTooltip": 1, "templating": {"list": templating}, "annotations": {"list": []},
            "panels": out}


def job_variable():
    """Grafana's convention: the scrape job is a variable, so any job name works."""
    return {"name": "job", "type": "query", "label": "job", "datasource": DS,
            "query": {"query": "label_values(evalfleet_build_info, job)", "refId": "jobs"},
            "definition": "label_values(evalfleet_build_info, job)", "multi": True, "includeAll": True,
            "allValue": ".*", "current": {"text": "All", "value": "$__all"}, "refresh": 2, "hide": 0}


def model_variable():
    return {"name": "model", "type": "query", "label": "model", "datasource": DS,
            "query": {"query": "label_values(evalfleet_flags_total, model)", "refId": "models"},
            "definition": "label_values(evalfleet_flags_total, model)", "multi": True, "includeAll": True,
            "allValue": ".*", "current": {"text": "All", "value": "$__all"}, "refresh": 2, "hide": 0}


overview = build("evalfleet-fleet-overview", "evalfleet / fleet overview",
                 "Queue depth and lag, produce vs consume, workers and capacity, throughput, job latency, rebalances, dead letters.", [
    panel("Queue depth by topic", [t("sum by (topic) (evalfleet_queue_lag)", "{{topic}}")],
          description="Records not yet committed by the group that drains each topic (jobs: workers; staged events: the dispatcher)."),
    panel("Lag in seconds (oldest unprocessed record)", [t("max by (topic) (evalfleet_queue_lag_seconds)", "{{topic}}")], unit="s",
          description="Age of the oldest record not yet done. Healthy: near 0 between bursts; a steady climb means the queue is not draining."),
    panel("Jobs queue depth by partition", [t(f"sum by (partition) (evalfleet_queue_lag{{{JOBS}}})", "partition {{partition}}")],
          stack=True, description="Uneven partitions point at a stuck or slow worker holding them."),
    panel("Produce vs consume rate (jobs)", [
        t(f"sum(rate(evalfleet_queue_end_offset{{{JOBS}}}[{RI}]))", "produced"),
        t(f"sum(rate(evalfleet_queue_committed_offset{{{JOBS}}}[{RI}]))", "consumed")], unit="ops",
          description="Jobs published vs jobs completed per second. Consumed below produced for long: add workers."),
    panel("Time to drain", [t(f"sum by (topic) (evalfleet_queue_lag) / clamp_min(sum by (topic) (rate(evalfleet_queue_committed_offset[{RI}])), 0.001)", "{{topic}}")],
          unit="s", description="Queue depth divided by the consume rate: how long the backlog lasts at the current pace."),
    panel("Workers up", [t(f"sum(up * on(job, instance) {WORKER_TARGETS})", "up"),
                         t(f"count({WORKER_TARGETS})", "seen in the last hour")], kind="stat", w=6,
          description="Worker targets Prometheus scrapes successfully, of those it knows."),
    panel("Runs in progress", [t("sum(evalfleet_dispatcher_runs_active)", "runs")], kind="stat", w=6),
    panel("Worker jobs in flight vs capacity", [
        t("sum(evalfleet_worker_jobs_in_flight)", "in flight"), t("sum(evalfleet_worker_capacity)", "capacity")],
          description="Jobs held by workers (running or queued in their executors) vs what they run at once. A worker holds up to 2x its capacity before pausing."),
    panel("Dispatcher jobs in flight vs limit", [
        t("sum(evalfleet_dispatcher_jobs_in_flight)", "in flight"), t("max(evalfleet_dispatcher_jobs_limit)", "limit")],
          description="Published and unanswered jobs against dispatcher.max-jobs-in-flight: at the limit, the dispatcher waits for answers."),
    panel("Paused partitions", [t("sum(evalfleet_worker_partitions_paused)", "paused")], kind="stat", w=6,
          description="Partitions paused by workers whose executor is full: backpressure at work."),
    panel("Dead letters (per interval)", [t(f"sum by (source) (increase(evalfleet_dead_letters_total[{RI}]))", "{{source}}")], w=6,
          description="Records copied to evalfleet.dlq, by the topic they came from."),
    panel("Throughput: rows/s", [t(f"sum by (task) (rate(evalfleet_rows_scored_total[{RI}]))", "{{task}}")], unit="rows/s"),
    panel("Throughput: tokens/s (perplexity)", [t(f"sum(rate(evalfleet_tokens_scored_total[{RI}]))", "tokens/s")], unit="short"),
    panel("Job latency percentiles", [
        t(f"histogram_quantile(0.5, sum by (le) (rate(evalfleet_job_duration_seconds_bucket[{RI}])))", "p50"),
        t(f"histogram_quantile(0.95, sum by (le) (rate(evalfleet_job_duration_seconds_bucket[{RI}])))", "p95"),
        t(f"histogram_quantile(0.99, sum by (le) (rate(evalfleet_job_duration_seconds_bucket[{RI}])))", "p99")], unit="s"),
    panel("Jobs published by kind", [t(f"sum by (kind) (rate(evalfleet_jobs_published_total[{RI}]))", "{{kind}}")], unit="ops",
          description="first: new jobs; retry: after a transient failure; resent: unanswered past dispatcher.job-timeout."),
    panel("Rebalances", [t(f"sum by (kind) (increase(evalfleet_worker_rebalances_total[{RI}]))", "{{kind}}")],
          description="Partitions assigned, revoked or lost across workers. Frequent: workers joining and leaving (scaling) or missing heartbeats."),
    panel("Duplicate results ignored", [t(f"sum(rate(evalfleet_results_duplicate_total[{RI}]))", "duplicates")], unit="ops",
          description="Results for jobs already answered: redeliveries after a worker died, or re-sent jobs. Harmless; they are ignored."),
    panel("Results accepted by the dispatcher", [t(f"sum(rate(evalfleet_results_accepted_total[{RI}]))", "results/s")], unit="ops",
          description="First answers to jobs in flight, aggregated into their runs' state (all dispatcher instances)."),
    panel("Longest decision of a complete run", [t("max(evalfleet_dispatcher_decision_seconds_max)", "longest")], unit="s",
          description="Metric vector, paired bootstrap and archive writes of one run: seconds at a million rows; a run still deciding at its deadline ends INCOMPLETE."),
])

internals = build("evalfleet-worker-internals", "evalfleet / worker internals",
                  "Model cache, sessions and loads, execution providers, batching and padding, memory, storage resilience.", [
    panel("Model cache bytes vs limit", [
        t("max by (worker) (evalfleet_model_cache_bytes)", "{{worker}}"), t("max(evalfleet_model_cache_limit_bytes)", "limit")],
          unit="bytes"),
    panel("Model cache hits, fetches, evictions", [
        t(f"sum(rate(evalfleet_model_cache_hits_total[{RI}]))", "hits"),
        t(f"sum(rate(evalfleet_model_cache_fetches_total[{RI}]))", "fetches"),
        t(f"sum(rate(evalfleet_model_cache_evictions_total[{RI}]))", "evictions")], unit="ops"),
    panel("Sessions open", [t("sum by (worker) (evalfleet_model_sessions)", "{{worker}}")]),
    panel("Model loads by outcome", [t(f"sum by (outcome) (increase(evalfleet_model_loads_seconds_count[{RI}]))", "{{outcome}}")]),
    panel("Longest model load", [t("max by (worker) (evalfleet_model_loads_seconds_max)", "{{worker}}")], unit="s"),
    panel("Sessions by execution provider", [t("sum by (provider) (evalfleet_model_sessions_loaded_total)", "{{provider}}")], kind="stat", w=6),
    panel("CUDA fallbacks to CPU", [t(f"sum(increase(evalfleet_execution_provider_fallbacks_total[{RI}]))", "fallbacks")], kind="stat", w=6),
    panel("Padding ratio (causal LM)", [t(f"sum by (task) (rate(evalfleet_padding_ratio_sum[{RI}])) / clamp_min(sum by (task) (rate(evalfleet_padding_ratio_count[{RI}])), 1e-9)", "{{task}}")],
          unit="percentunit", description="Share of token slots that were padding; windows are bucketed by length, so it should stay near 1%."),
    panel("Rows/s per worker", [t(f"sum by (worker) (rate(evalfleet_rows_scored_total[{RI}]))", "{{worker}}")], unit="rows/s"),
    panel("Heap used vs max vs resident memory", [
        t(f"sum by (instance) (jvm_memory_used_bytes{{area=\"heap\", {WORKERS}}})", "heap used {{instance}}"),
        t(f"sum by (instance) (jvm_memory_max_bytes{{area=\"heap\", {WORKERS}}})", "heap max {{instance}}"),
        t(f"max by (instance) (evalfleet_process_resident_memory_bytes{{{WORKERS}}})", "RSS {{instance}}")], unit="bytes",
          description="RSS above heap max is native memory: ONNX Runtime's sessions and tensors."),
    panel("Worker CPU", [t(f"max by (instance) (process_cpu_usage{{{WORKERS}}})", "{{instance}}")], unit="percentunit"),
    panel("Storage calls (retry)", [t(f"sum by (kind) (rate(resilience4j_retry_calls_total{{name=\"storage\"}}[{RI}]))", "{{kind}}")], unit="ops"),
    panel("Storage circuit breaker state", [t("max by (state) (resilience4j_circuitbreaker_state{name=\"storage\"})", "{{state}}")], kind="stat"),
    panel("Model load slots free (bulkhead)", [t("min by (instance) (resilience4j_bulkhead_available_concurrent_calls{name=\"model-loads\"})", "{{instance}}")]),
])

flags = build("evalfleet-drift-flags", "evalfleet / drift flags",
              "Drift flags over time per model and flag value.", [
    panel("Flags over time by model and flag", [t(f"sum by (model, flag) (increase(evalfleet_flags_total{{model=~\"$model\"}}[{RI}]))", "{{model}} {{flag}}")],
          w=24, stack=True),
    panel("Flags in the time range by value", [t("sum by (flag) (increase(evalfleet_flags_total{model=~\"$model\"}[$__range]))", "{{flag}}")],
          kind="stat", w=12),
    panel("RED flags in the time range by model", [t("sum by (model) (increase(evalfleet_flags_total{flag=\"RED\", model=~\"$model\"}[$__range]))", "{{model}}")],
          kind="table", w=12, description="Versions judged worse than the policy's margin: do not promote; read their flags' evidence."),
    panel("Time from staged event to flag (p95) by flag", [t(f"histogram_quantile(0.95, sum by (le, flag) (rate(evalfleet_run_duration_seconds_bucket[{RI}])))", "{{flag}}")],
          unit="s"),
    panel("Runs in progress", [t("sum(evalfleet_dispatcher_runs_active)", "runs")]),
    panel("Reviews delivered and dead-lettered by target", [
        t(f"sum by (target, outcome) (increase(evalfleet_notifier_deliveries_total[{RI}]))", "{{target}} {{outcome}}")],
          stack=True, description="Each flag's review (comment, report link) per target: webhook, github, gitlab. "
          "dead_lettered: the target refused it or stayed down through every attempt; the flag is on evalfleet.dlq with the reason."),
    panel("Failed delivery attempts by target", [
        t(f"sum by (target) (increase(evalfleet_notifier_attempts_failed_total[{RI}]))", "{{target}}")],
          description="5xx, 429 and connection failures, each retried with backoff (Retry-After honoured) until the last attempt."),
    panel("Review delivery time (p95) by target", [
        t(f"histogram_quantile(0.95, sum by (le, target) (rate(evalfleet_notifier_delivery_seconds_bucket[{RI}])))", "{{target}}")],
          unit="s", description="From a flag read by the notifier to its review delivered or dead-lettered, retries included."),
    panel("Reviews in progress", [t("sum(evalfleet_notifier_reviews_in_flight)", "reviews")],
          description="Flags whose reviews are being written or delivered; the notifier stops reading flags at 64."),
    panel("Traffic drift: p-value of the latest check by model", [t("min by (model) (evalfleet_monitor_p_value{model=~\"$model\"})", "{{model}}")],
          description="The monitor's MMD² permutation test of the last traffic window against the reference window; below the spec's alpha is drift."),
    panel("Monitor checks by outcome", [
        t(f"sum by (model, outcome) (increase(evalfleet_monitor_checks_total{{model=~\"$model\"}}[{RI}]))", "{{model}} {{outcome}}")],
          stack=True, description="drift, no_drift, or too_little_traffic (fewer than 10 texts in the window: nothing tested)."),
    panel("Retraining requests by cause", [
        t("sum by (model, cause) (increase(evalfleet_retrain_requests_total{model=~\"$model\"}[$__range]))", "{{model}} {{cause}}")],
          kind="table", description="Requests on evalfleet.retrain-requests: one per drift episode and per expired cadence period."),
], variables=[model_variable()])

check = "--check" in sys.argv[1:]
stale = []
os.makedirs(OUT, exist_ok=True)
for dash in (overview, internals, flags):
    path = os.path.join(OUT, dash["uid"] + ".json")
    text = json.dumps(dash, indent=2) + "\n"
    if check:
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(path)
        continue
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote", dash["uid"], len(dash["panels"]), "panels")
if stale:
    print("stale (run python3 scripts/make_dashboards.py):", ", ".join(stale), file=sys.stderr)
    sys.exit(1)
