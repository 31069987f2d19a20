#!/usr/bin/env bash
# Rewrites the topology at the end of docs/topology.md from the code (TopologyDocTest fails while it is stale).
set -euo pipefail
cd "$(dirname "$0")/.."
topology=$(./evalfleet dispatcher --print-topology)
python3 - "$topology" <<'PY'
import sys
path = "docs/topology.md"
doc = open(path, encoding="utf-8").read()
start = doc.index("```text\n") + len("```text\n")
open(path, "w", encoding="utf-8").write(doc[:start] + sys.argv[1].rstrip("\n") + "\n```\n")
PY
echo "wrote docs/topology.md"
