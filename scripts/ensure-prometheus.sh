#!/usr/bin/env bash
# Makes sure Prometheus and promtool (Debian package `prometheus`) are on this machine for the
# observability tests; installs them with apt when they are missing and we may. The package's own
# services are kept from starting while it installs (Debian's policy-rc.d), so there is nothing to
# stop afterwards: this script never stops a process, and the tests start their own server.
set -euo pipefail
if [[ -x /usr/bin/prometheus && -x /usr/bin/promtool ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "Prometheus is not installed and cannot be installed here (needs root and apt-get): the observability" \
       "tests are skipped; install the Debian package 'prometheus' (or put prometheus and promtool in /usr/bin)." >&2
  exit 0
fi
echo "installing Debian's prometheus package for the observability tests" >&2
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [[ -e $policy ]]; then
  echo "$policy exists; leaving it as it is" >&2
  own_policy=false
else
  printf '#!/bin/sh\n# evalfleet: no service starts while the build installs packages\nexit 101\n' > "$policy"
  chmod +x "$policy"
  own_policy=true
fi
cleanup() { if [[ $own_policy == true ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT
log=$(mktemp)
if ! { apt-get install -y -q prometheus >"$log" 2>&1 || { apt-get update -q >>"$log" 2>&1 && apt-get install -y -q prometheus >>"$log" 2>&1; }; }; then
  echo "could not install Debian's prometheus package: the observability tests that need it are skipped. apt said:" >&2
  tail -20 "$log" >&2
fi
rm -f "$log"
