#!/usr/bin/env bash
# Idempotent installer of what the end-to-end tests need on a fresh Debian machine (run as root):
#   - packages: openssh-server iproute2 procps util-linux python3-venv rsync (apt-get update once, only when missing)
#     and what testhosts.sh's host kinds run: cron (--cron), nftables (--firewall), redis-server (--redis),
#     systemd-container + mmdebstrap (--systemd: systemd-nspawn and the rootfs builder; about 40 MB, 15 s
#     from a Debian mirror); none of their daemons is started on the machine itself;
#     chromium (headless, for the dashboard's browser test in day-two.test.ts)
#   - venv /opt/nokube-venv from /usr/bin/python3 with ray[default]==${RAY_VERSION:-2.60.0}
#   - a local package index of Ray wheels (2.51.2, 2.59.0, 2.60.0) for the install and old-Ray tests: scripts/prepare-wheels.sh
#   - /opt/nokube-ray-${OLD_RAY_VERSION:-2.48.0}: an interpreter whose Ray predates IPv6 (network e2e's preflight)
#   - the --systemd test hosts' Debian rootfs in /var/cache/nokube-systemd-rootfs (testhosts.sh systemd-rootfs)
#   - pytest for `python3 -m pytest` (the python3 first on PATH, e.g. pyenv's, else /usr/bin/python3)
# Quiet on success; prints what it does and fails loudly otherwise.
set -euo pipefail

RAY_VERSION=${RAY_VERSION:-2.60.0}
VENV=${NOKUBE_VENV:-/opt/nokube-venv}
say() { echo "setup-test-env: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

# --- packages -------------------------------------------------------------------------------
missing=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }
have /usr/sbin/sshd || missing+=(openssh-server)
have ip || missing+=(iproute2)
have pgrep || missing+=(procps)
{ have unshare && have nsenter && have setpriv && have flock; } || missing+=(util-linux)
have ssh-keygen || missing+=(openssh-client)
have rsync || missing+=(rsync)
have zsh || missing+=(zsh) # the CLI's zsh completion script is checked with zsh -n
/usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
have /usr/sbin/cron || missing+=(cron)
have /usr/sbin/nft || missing+=(nftables)
{ have /usr/bin/redis-server && have /usr/bin/redis-cli; } || missing+=(redis-server redis-tools)
have /usr/bin/systemd-nspawn || missing+=(systemd-container)
have /usr/bin/mmdebstrap || missing+=(mmdebstrap)
have /usr/bin/chromium || missing+=(chromium) # the dashboard forward's e2e test opens the printed URL in a real browser
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # the test hosts run cron and redis-server inside themselves: the packages must not start them on the
  # machine (a policy-rc.d that says no, for this install only, unless the machine has its own)
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
  fi
  rc=0
  { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || rc=$?
  [ -z "$policy" ] || rm -f "$policy"
  [ "$rc" = 0 ] || die "apt-get install ${missing[*]} failed"
fi
# Debian's sshd refuses to start without its privilege separation directory.
mkdir -p /run/sshd

# --- Ray venv -------------------------------------------------------------------------------
venv_ray_version() {
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("ray"))' 2>/dev/null || true
}
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  /usr/bin/python3 -m venv "$VENV"
fi
if [ "$(venv_ray_version)" != "$RAY_VERSION" ]; then
  say "installing ray[default]==$RAY_VERSION into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "ray[default]==$RAY_VERSION"
  [ "$(venv_ray_version)" = "$RAY_VERSION" ] || die "ray $RAY_VERSION not importable from $VENV"
fi
chmod -R a+rX "$VENV" 2>/dev/null || true

# --- a Ray that cannot run on IPv6 (the network suite's preflight test) ----------------------------
# Only the ray package itself, at the old version; its dependencies come from $VENV (a .pth after it).
OLD_RAY_VERSION=${OLD_RAY_VERSION:-2.48.0}
OLD_RAY=/opt/nokube-ray-$OLD_RAY_VERSION
if [ "$("$OLD_RAY/bin/python" -c 'import ray; print(ray.__version__)' 2>/dev/null || true)" != "$OLD_RAY_VERSION" ]; then
  say "installing ray==$OLD_RAY_VERSION (no dependencies) into $OLD_RAY"
  rm -rf "$OLD_RAY"
  /usr/bin/python3 -m venv --without-pip "$OLD_RAY"
  site=$("$OLD_RAY/bin/python" -c 'import site; print(site.getsitepackages()[0])')
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --target "$site" "ray==$OLD_RAY_VERSION"
  "$VENV/bin/python" -c 'import site; print(site.getsitepackages()[0])' >"$site/zz-nokube-venv-deps.pth"
  [ "$("$OLD_RAY/bin/python" -c 'import ray; print(ray.__version__)')" = "$OLD_RAY_VERSION" ] ||
    die "ray $OLD_RAY_VERSION not importable from $OLD_RAY"
fi
chmod -R a+rX "$OLD_RAY" 2>/dev/null || true

# --- Ray wheels for ray_spec.install tests (cached outside the repo; a no-op once complete) ---------
"$(dirname "$(readlink -f "$0")")/prepare-wheels.sh"

# --- the root file system of testhosts.sh's --systemd hosts (mmdebstrap from Debian's mirror, once:
# about 1-2 minutes and 260 MB; a no-op once built). A sandbox has no network: there, only a warning.
if ! "$(dirname "$(readlink -f "$0")")/testhosts.sh" systemd-rootfs; then
  [ -n "${NOKUBE_SANDBOX:-}" ] || die "could not build the systemd hosts' rootfs"
  say "WARNING: no rootfs for --systemd test hosts (build it outside the sandbox: scripts/testhosts.sh systemd-rootfs)"
fi

# --- pytest ---------------------------------------------------------------------------------
py=$(command -v python3 || echo /usr/bin/python3)
if ! "$py" -m pytest --version >/dev/null 2>&1; then
  say "installing pytest for $py"
  if [ "$py" = /usr/bin/python3 ] || [ "$py" = /bin/python3 ]; then
    if ! apt-get install -y -qq python3-pytest >/dev/null 2>&1; then
      apt-get update -qq >/dev/null && apt-get install -y -qq python3-pytest >/dev/null
    fi
  else
    "$py" -m pip install -q --disable-pip-version-check pytest
  fi
  "$py" -m pytest --version >/dev/null 2>&1 || die "pytest still missing for $py"
fi
