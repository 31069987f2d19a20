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
end = doc.find("\n\n", start)  # the sections after the table stay
rest = "" if end < 0 else doc[end + 1 :]
open(path, "w", encoding="utf-8").write(doc[:start] + sys.argv[1].rstrip("\n") + "\n" + rest)
PY
echo "wrote docs/configuration.md"
