#!/usr/bin/env bash
# Rewrites the table in docs/metrics.md from the catalogue in FleetMeter (FleetMeterTest fails while it is stale).
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(./evalfleet config --metrics)
python3 - "$table" <<'PY'
import sys
path = "docs/metrics.md"
doc = open(path, encoding="utf-8").read()
start = doc.index("| Prometheus name |")
end = doc.index("\n\n", start)
open(path, "w", encoding="utf-8").write(doc[:start] + sys.argv[1].rstrip("\n") + doc[end:])
PY
echo "wrote docs/metrics.md"
