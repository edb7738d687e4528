#!/usr/bin/env bash
# Runs a command in a private network + mount namespace with its own test-host state, so several
# end-to-end suites (or several checkouts) can bring up the default test hosts (nkbr0, 10.88.0.0/24,
# nkh1..) at the same time without seeing each other.
#
# usage: sandbox.sh NAME -- CMD...
#   state: /var/lib/nokube-sandbox/NAME (mounted over /var/lib/nokube-testhosts inside)
#   inside: loopback up, /run/netns private; hosts made by testhosts.sh live only in this sandbox.
# Root only. The sandbox ends with CMD (its hosts' namespaces are killed with it).
set -euo pipefail
name=${1:-}; shift || true
[ "${1:-}" = -- ] && shift
[[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,20}$ ]] && [ $# -gt 0 ] || { echo "usage: sandbox.sh NAME -- CMD..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "sandbox.sh: must run as root (network namespaces)" >&2; exit 1; }
state=/var/lib/nokube-sandbox/$name
mkdir -p "$state" /var/lib/nokube-testhosts /run/netns
export NOKUBE_SANDBOX=$name
exec unshare --net --mount --fork --propagation private -- bash -uc '
  state=$1; shift
  mount -t tmpfs -o mode=755 tmpfs /run/netns
  mount --bind "$state" /var/lib/nokube-testhosts
  ip link set lo up
  rc=0; "$@" || rc=$?
  # hosts left up by CMD would outlive the sandbox: remove them (NOKUBE_KEEP_HOSTS=1 keeps them)
  if [ "${NOKUBE_KEEP_HOSTS:-}" != 1 ]; then
    "$0" down >/dev/null 2>&1 || true
    # and every pool (NOKUBE_TESTHOSTS_POOL) brought up in here
    for d in /var/lib/nokube-testhosts/pool-*/; do
      [ -d "$d" ] || continue
      p=${d%/}; NOKUBE_TESTHOSTS_POOL=${p##*/pool-} "$0" down >/dev/null 2>&1 || true
    done
  fi
  exit $rc
' "$(dirname "$(readlink -f "$0")")/testhosts.sh" "$state" "$@"
