#!/usr/bin/env bash
# Checks the deployment files: alert rules and their unit tests (promtool), the Prometheus
# configuration, and that every YAML file parses. mvn verify runs the same checks as tests
# (PrometheusIT, DashboardStructureTest, DeploymentManifestTest).
set -euo pipefail
cd "$(dirname "$0")"
promtool check rules prometheus/alerts.yml
(cd prometheus && promtool test rules alerts.test.yml)
promtool check config --syntax-only prometheus/prometheus.yml
python3 - <<'PY'
import glob, yaml
for path in sorted(glob.glob("**/*.y*ml", recursive=True)):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    print(f"{path}: {len(docs)} document(s) parse")
PY
