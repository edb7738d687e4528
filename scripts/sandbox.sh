#!/usr/bin/env bash
# Runs a command in a private network + mount namespace with its own test-host state, so several
# end-to-end suites (or several checkouts) can bring up the usual test hosts (nkbr0, 10.88.0.0/24,
# nkh1.., and the bench's pools) at the same time without seeing each other.
#
# usage: sandbox.sh NAME -- CMD...
#   state: /var/lib/nokube-sandbox/NAME (NOKUBE_TESTHOSTS_BASE: every pool's state dir lives below it;
#          the paths must differ between sandboxes, since testhosts.sh finds a host's processes by them)
#   inside: loopback up, /run/netns private; hosts made by testhosts.sh live only in this sandbox and
#   are removed when CMD ends (NOKUBE_KEEP_HOSTS=1 keeps them for a later run of the same NAME).
# Root only.
set -euo pipefail
name=${1:-}; shift || true
[ "${1:-}" = -- ] && shift
[[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,20}$ ]] && [ $# -gt 0 ] || { echo "usage: sandbox.sh NAME -- CMD..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "sandbox.sh: must run as root (network namespaces)" >&2; exit 1; }
base=/var/lib/nokube-sandbox/$name
mkdir -p "$base" /run/netns
export NOKUBE_SANDBOX=$name NOKUBE_TESTHOSTS_BASE=$base
unset NOKUBE_TESTHOSTS_DIR
testhosts=$(dirname "$(readlink -f "$0")")/testhosts.sh
exec unshare --net --mount --fork --propagation private -- bash -uc '
  mount -t tmpfs -o mode=755 tmpfs /run/netns
  ip link set lo up
  rc=0; "$@" || rc=$?
  # hosts left up by CMD would outlive the sandbox (their namespaces hold them): remove every pool
  if [ "${NOKUBE_KEEP_HOSTS_AFTER_SANDBOX:-}" != 1 ]; then
    for d in "$NOKUBE_TESTHOSTS_BASE"/nokube-testhosts*; do
      [ -d "$d" ] || continue
      pool=${d##*/nokube-testhosts}; pool=${pool#-}
      NOKUBE_TESTHOSTS_POOL=$pool "$0" down >/dev/null 2>&1 || true
    done
  fi
  exit $rc
' "$testhosts" "$@"
