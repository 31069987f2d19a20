#!/usr/bin/env bash
# Rewrites docs/configuration.md from the settings in FleetConfig (ConfigurationDocTest fails while it is stale).
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(./evalfleet config)
python3 - "$table" <<'PY'
import sys
path = "docs/configuration.md"
doc = open(path, encoding="utf-8").read()
start = doc.index("| key | default |")
open(path, "w", encoding="utf-8").write(doc[:start] + sys.argv[1].rstrip("\n") + "\n")
PY
echo "wrote docs/configuration.md"
