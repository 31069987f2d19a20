#!/usr/bin/env bash
# Makes sure Prometheus and promtool (Debian package `prometheus`) are on this machine for the
# observability tests; installs them with apt when they are missing and we may. The package's own
# service is stopped: the tests start their own server.
set -euo pipefail
if [[ -x /usr/bin/prometheus && -x /usr/bin/promtool ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "Prometheus is not installed and cannot be installed here (needs root and apt-get): the observability" \
       "test will fail; install the Debian package 'prometheus' (or put prometheus and promtool in /usr/bin)." >&2
  exit 0
fi
echo "installing Debian's prometheus package for the observability tests" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get install -y -q prometheus >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q prometheus >/dev/null 2>&1; }; }; then
  echo "could not install Debian's prometheus package: the observability tests that need it are skipped" >&2
  exit 0
fi
(systemctl stop prometheus prometheus-node-exporter 2>/dev/null || true)
(pkill -x prometheus 2>/dev/null || true)
(pkill -f prometheus-node-exporter 2>/dev/null || true)
