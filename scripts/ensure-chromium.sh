#!/usr/bin/env bash
# Makes sure Debian's Chromium is on this machine for the test that opens the HTML report in a headless
# browser; installs it with apt when it is missing and we may. Package services are kept from starting
# while it installs (Debian's policy-rc.d); this script never stops a process.
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "Chromium is not installed and cannot be installed here (needs root and apt-get): the report test in a" \
       "headless browser is skipped; install the Debian package 'chromium'." >&2
  exit 0
fi
echo "installing Debian's chromium package for the report test" >&2
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [[ -e $policy ]]; then
  own_policy=false
else
  printf '#!/bin/sh\n# evalfleet: no service starts while the build installs packages\nexit 101\n' > "$policy"
  chmod +x "$policy"
  own_policy=true
fi
cleanup() { if [[ $own_policy == true ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT
log=$(mktemp)
if ! { apt-get install -y -q chromium >"$log" 2>&1 || { apt-get update -q >>"$log" 2>&1 && apt-get install -y -q chromium >>"$log" 2>&1; }; }; then
  echo "could not install Debian's chromium package: the report test in a headless browser is skipped. apt said:" >&2
  tail -20 "$log" >&2
fi
rm -f "$log"
