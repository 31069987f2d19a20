#!/usr/bin/env bash
# Makes sure a Debian package that an integration test needs is on this machine; installs it with apt
# when it is missing and we may (root, apt-get). The package's own services are kept from starting
# while it installs (Debian's policy-rc.d), so there is nothing to stop afterwards: this script never
# stops a process, and the tests start what they use themselves. When it cannot install, it says so
# and the tests that need the package are skipped.
#
#   scripts/ensure-debian-package.sh PACKAGE "WHAT FOR" FILE...
#   e.g. scripts/ensure-debian-package.sh prometheus "the observability tests" /usr/bin/prometheus /usr/bin/promtool
#        scripts/ensure-debian-package.sh python3-kafka "the client matrix" /usr/lib/python3/dist-packages/kafka/__init__.py
# The package counts as present when every FILE exists (an executable, or a library's file).
set -euo pipefail
package=$1
purpose=$2
shift 2
present=true
for file in "$@"; do
  [[ -e $file ]] || present=false
done
if [[ $present == true ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "$package is not installed and cannot be installed here (needs root and apt-get): $purpose are skipped;" \
       "install the Debian package '$package'." >&2
  exit 0
fi
echo "installing Debian's $package package for $purpose" >&2
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
if ! { apt-get install -y -q "$package" >"$log" 2>&1 || { apt-get update -q >>"$log" 2>&1 && apt-get install -y -q "$package" >>"$log" 2>&1; }; }; then
  echo "could not install Debian's $package package: $purpose are skipped. apt said:" >&2
  tail -20 "$log" >&2
fi
rm -f "$log"
