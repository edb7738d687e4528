#!/usr/bin/env bash
# Test hosts for nokube/ray-deploy end-to-end tests (SPEC section 8).
#
# A "host" is a network namespace (veth into bridge nkbr0, 10.88.0.0/24) plus PID + mount + UTS
# namespaces, running Debian's sshd with its own config and host keys. Per host (private mounts):
# tmpfs /tmp (so /tmp/ray is private), tmpfs /dev/shm, tmpfs /run, /home, /opt/nokube and
# /var/spool/cron (crontabs) bind-mounted from /var/lib/nokube-testhosts/<name>/, /etc/hosts. The rest
# of the file system is shared, so the venv /opt/nokube-venv (Ray) serves every host. PID 1 of a host
# (init.py) runs its daemons (sshd; cron, redis-server when asked) and restarts them when they die.
#
# usage:
#   testhosts.sh up N [--no-ray NAME]... [--cron]
#                                          (re)create hosts nkh1..nkhN (N=0 allowed), fresh state;
#                                          --cron: every one of them runs cron (as add --cron)
#   testhosts.sh add NAME [--no-ray] [--no-sftp] [--no-forwarding] [--inner|--bastion] [--ipv6]
#                    [--cron] [--decoy-python] [--firewall] [--redis [--redis-password PW] [--redis-port P]]
#                                          add one host (keeps the others running):
#                                          --no-sftp        sshd without the sftp subsystem
#                                          --no-forwarding  sshd with AllowTcpForwarding no
#                                          --inner          only on the second bridge (nkbr0i, 10.87.0.0/24),
#                                                           which the test process cannot reach: behind a bastion
#                                          --bastion        on both bridges (the jump host to --inner hosts)
#                                          --ipv6           an IPv6 address too (fd00::<n>, bridge fd00::1)
#                                          --cron           Debian's cron daemon runs at boot (`crontab` of user
#                                                           nokube works, @reboot entries run at each boot)
#                                          --decoy-python   the login PATH (ssh exec and bash -l) has a pyenv-like
#                                                           shim dir first (~/.pyenv/shims: python, python3 =
#                                                           /usr/bin/python3, no Ray); Ray stays in /opt/nokube-venv
#                                          --firewall       an nftables table `inet nokube_test` (chain input,
#                                                           policy accept) at boot, for rules added by tests
#                                          --redis          Debian's redis-server at boot, bound to the host's IP
#                                                           and 127.0.0.1, port 6379 (--redis-port), no persistence,
#                                                           requirepass when --redis-password is given
#                    [--systemd]           a Debian bookworm root file system booted by systemd-nspawn (systemd as
#                                          PID 1, sshd, root login by key, /opt/nokube-venv bound read-only);
#                                          the rootfs: /var/cache/nokube-systemd-rootfs (testhosts.sh systemd-rootfs),
#                                          each host an overlay on it (its writes kept across reboots)
#   testhosts.sh reboot NAME [--hard]      reboot one host: every process killed (a systemd host is shut down
#                                          cleanly first, unless --hard), /tmp, /dev/shm and /run emptied, nft
#                                          rules gone, then its boot again (sshd, cron, redis); name, IP, host
#                                          keys, /home, /opt/nokube and the crontabs stay; waits for sshd
#   testhosts.sh poweroff NAME [--hard]    the first half of a reboot: the host stays down (in hosts.json,
#                                          `status` says powered-off) until
#   testhosts.sh boot NAME                 the second half: its boot again; waits for sshd
#   testhosts.sh systemd-rootfs            build the --systemd hosts' rootfs now (needs Debian's mirror: not
#                                          inside scripts/sandbox.sh); a no-op once built
#   testhosts.sh rm NAME                   remove one host
#   testhosts.sh down                      remove every host, the bridge and the veths (idempotent)
#   testhosts.sh status                    list hosts; exit 1 when none is up
#   testhosts.sh exec NAME [--user U] -- CMD...   run CMD inside the host's namespaces
#   testhosts.sh keys                      print client key paths and facts (KEY=VALUE lines)
#
# NOKUBE_TESTHOSTS_POOL=<p> selects a separate pool (hosts nk<p>N, bridge nkbr-<p>, its own /22 and
# state dir, veths nv<p>-*); unset = the default pool below. Benchmarks use pool "b". A pool holds up
# to 700 hosts (the default pool 80).
#
# Written: /var/lib/nokube-testhosts/hosts.json and client/known_hosts.
# Never run `ray stop` outside a host: use `testhosts.sh exec NAME -- ray stop`.
set -euo pipefail

# Pools: NOKUBE_TESTHOSTS_POOL=<p> (1-4 chars: a lowercase letter, then letters/digits) gives a
# separate, independent set of hosts: names nk<p>1..nk<p>N, bridge nkbr-<p>, subnet A.B.C.0/22 from
# NOKUBE_TESTHOSTS_SUBNET (A.B.C, C a multiple of 4; default 10.89.0 for pool "b", else from a checksum
# of the name), state /var/lib/nokube-testhosts-<p>, veths nv<p>-<name>. `up`/`down` of a pool touch
# only that pool.
# Unset: the default pool exactly as before (nkh*, nkbr0, 10.88.0.0/24, vnk* veths).
POOL=${NOKUBE_TESTHOSTS_POOL:-}
# NOKUBE_TESTHOSTS_BASE (set by scripts/sandbox.sh) moves every pool's state dir: state paths are how
# a host's processes are found, so two sandboxes must never share them.
BASE=${NOKUBE_TESTHOSTS_BASE:-/var/lib}
if [ -z "$POOL" ]; then
  STATE=${NOKUBE_TESTHOSTS_DIR:-$BASE/nokube-testhosts}
  BRIDGE=nkbr0
  PREFIX=10.88.0
  HOST_PREFIX=nkh
  VETH_PREFIX=vnk
else
  [[ "$POOL" =~ ^[a-z][a-z0-9]{0,3}$ ]] && [ "$POOL" != h ] || { echo "testhosts: bad NOKUBE_TESTHOSTS_POOL '$POOL' (1-4 chars: [a-z][a-z0-9]*, not 'h')" >&2; exit 2; }
  STATE=${NOKUBE_TESTHOSTS_DIR:-$BASE/nokube-testhosts-$POOL}
  BRIDGE=nkbr-$POOL
  # one /22 per pool (room for a few hundred hosts): 10.89.0 for pool "b", by default derived from the
  # pool name's checksum (10.89..10.120)
  PREFIX=${NOKUBE_TESTHOSTS_SUBNET:-10.$((89 + $(printf '%s' "$POOL" | cksum | cut -d' ' -f1) % 32)).0}
  [ "$POOL" = b ] && [ -z "${NOKUBE_TESTHOSTS_SUBNET:-}" ] && PREFIX=10.89.0
  [[ "$PREFIX" =~ ^[0-9]+\.[0-9]+\.([0-9]+)$ ]] && [ $((BASH_REMATCH[1] % 4)) = 0 ] && [ "${BASH_REMATCH[1]}" -le 252 ] ||
    { echo "testhosts: NOKUBE_TESTHOSTS_SUBNET must be A.B.C with C a multiple of 4 (the start of a /22)" >&2; exit 2; }
  [ "$PREFIX" != 10.88.0 ] || { echo "testhosts: 10.88.0 is the default pool's subnet" >&2; exit 2; }
  HOST_PREFIX=nk$POOL
  VETH_PREFIX=nv$POOL-   # never vnk*: the default pool's `down` removes stray vnk* veths
  PREFIX_LEN=22
  MAX_HOSTS=700
fi
PREFIX_LEN=${PREFIX_LEN:-24}
MAX_HOSTS=${MAX_HOSTS:-80}
CLIENT="$STATE/client"
BRIDGE_IP=$PREFIX.1
# The second bridge (--inner, --bastion): no address in the test process's namespace, so only a
# bastion reaches it. IPv6 (--ipv6): a ULA /64 on the main bridge.
BRIDGE2=${BRIDGE}i
if [ -z "$POOL" ]; then
  PREFIX2=10.87.0; V6_BASE=fd00
else
  second=$(cut -d. -f2 <<<"$PREFIX"); PREFIX2=10.$((second + 40)).0; V6_BASE=fd00:$second
fi
BRIDGE_IP6=$V6_BASE::1
# NOKUBE_TESTHOSTS_PAM=no: sshd without PAM (the bench's pools: a login then skips PAM's session
# modules, pam_motd running /etc/update-motd.d among them; password logins still work, from
# /etc/shadow). Only for the next `up`/`add`; the default is Debian's UsePAM yes.
SSHD_PAM=${NOKUBE_TESTHOSTS_PAM:-yes}
[[ "$SSHD_PAM" =~ ^(yes|no)$ ]] || { echo "testhosts: NOKUBE_TESTHOSTS_PAM must be yes or no" >&2; exit 2; }
VENV=${NOKUBE_VENV:-/opt/nokube-venv}
RAY_PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin"
PLAIN_PATH="/usr/local/bin:/usr/bin:/bin"
USER_NAME=nokube
USER_PW=nokube-test-pw
PW_USER=nokubepw
PW_USER_PW=nokube-pw-only
ECDSA_PASS=nokube-pass
SSHD=/usr/sbin/sshd
SELF=$(readlink -f "$0")
# --decoy-python: a pyenv-like shim dir, first on the login PATH of such a host
DECOY_DIR=/home/$USER_NAME/.pyenv/shims
# --firewall: the nftables table tests add their rules to (inside the host's network namespace)
NFT_TABLE="inet nokube_test"
# --systemd: the Debian root file system every systemd host starts from (built once, read-only lower
# layer of each host's overlay; shared by every pool and sandbox)
SYSTEMD_ROOTFS_CACHE=${NOKUBE_SYSTEMD_ROOTFS:-/var/cache/nokube-systemd-rootfs}
SYSTEMD_PACKAGES=systemd,systemd-sysv,dbus,libpam-systemd,openssh-server,iproute2,python3,procps

die() { echo "testhosts: $*" >&2; exit 1; }
# need_cmd CMD FLAG PACKAGE: a host flag needs a Debian package installed on the machine
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "$2 needs Debian's $3 (scripts/setup-test-env.sh installs it)"; }
log() { [ -n "${NOKUBE_TESTHOSTS_QUIET:-}" ] || echo "testhosts: $*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (network/PID namespaces)"; }

with_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 300 9 || die "could not lock $STATE/.lock"
}

valid_name() {
  [[ "$1" =~ ^[a-z][a-z0-9-]{0,10}$ ]] || die "bad host name '$1' (lowercase letters, digits, -; at most 11 chars)"
}

# PID (root namespace) of the host's namespace init, if alive.
host_pid() {
  local f="$STATE/$1/init.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  # make sure it is still our init (pid 1 of its own PID namespace)
  grep -qE "^NSpid:[[:space:]]+$pid[[:space:]]+1\$" "/proc/$pid/status" 2>/dev/null || return 1
  echo "$pid"
}

host_ip() { cat "$STATE/$1/ip"; }

# Host N: A.B.C.(10+N) for N <= 240 (the default pool: N <= 80, as before); a pool's /22 goes on
# in C+1 and C+2 (240 hosts each). Other names: the first free address of .100-.250 in C (the default
# pool) or of C+3 (a pool).
alloc_ip() {
  local name=$1 prefix=${2:-$PREFIX} n base=${PREFIX%.*} c=${PREFIX##*.}
  if [ "$prefix" != "$PREFIX" ]; then
    local used2
    used2=$(cat "$STATE"/*/ip "$STATE"/*/ip2 2>/dev/null || true)
    for n in $(seq 11 250); do
      if ! grep -qx "$prefix.$n" <<<"$used2"; then echo "$prefix.$n"; return; fi
    done
    die "no free address on $BRIDGE2"
  fi
  if [[ "$name" =~ ^$HOST_PREFIX([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le "$MAX_HOSTS" ]; then
    n=$((BASH_REMATCH[1] - 1))
    echo "$base.$((c + n / 240)).$((11 + n % 240))"; return
  fi
  local used net=$PREFIX
  [ "$PREFIX_LEN" = 24 ] || net=$base.$((c + 3))
  used=$(cat "$STATE"/*/ip 2>/dev/null || true)
  for n in $(seq 100 250); do
    if ! grep -qx "$net.$n" <<<"$used"; then echo "$net.$n"; return; fi
  done
  die "no free address"
}

ensure_users() {
  if ! getent passwd "$USER_NAME" >/dev/null; then
    useradd -M -d "/home/$USER_NAME" -s /bin/bash -U "$USER_NAME"
  fi
  if ! getent passwd "$PW_USER" >/dev/null; then
    useradd -M -d "/home/$PW_USER" -s /bin/bash -U "$PW_USER"
  fi
  # (re)set passwords every time: cheap and makes the facts in hosts.json true
  printf '%s:%s\n%s:%s\n' "$USER_NAME" "$USER_PW" "$PW_USER" "$PW_USER_PW" | chpasswd
}

ensure_client_keys() {
  mkdir -p "$CLIENT"; chmod 755 "$STATE" "$CLIENT"
  [ -f "$CLIENT/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C nokube-test-ed25519 -f "$CLIENT/id_ed25519"
  [ -f "$CLIENT/id_rsa" ] || ssh-keygen -q -t rsa -b 3072 -m PEM -N '' -C nokube-test-rsa -f "$CLIENT/id_rsa"
  [ -f "$CLIENT/id_ecdsa" ] || ssh-keygen -q -t ecdsa -b 256 -N "$ECDSA_PASS" -C nokube-test-ecdsa -f "$CLIENT/id_ecdsa"
  chmod 600 "$CLIENT"/id_ed25519 "$CLIENT"/id_rsa "$CLIENT"/id_ecdsa
}

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip addr replace "$BRIDGE_IP/$PREFIX_LEN" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

ensure_bridge2() {
  ip link show "$BRIDGE2" >/dev/null 2>&1 || ip link add "$BRIDGE2" type bridge
  ip link set "$BRIDGE2" up
}

ensure_bridge_ip6() {
  ip -6 addr replace "$BRIDGE_IP6/64" dev "$BRIDGE" nodad
}

has_flag() { [[ " $(cat "$STATE/$1/flags" 2>/dev/null) " == *" $2 "* ]]; }

# The PATH of a host's ssh sessions (sshd's SetEnv) and of `exec`: Ray's venv first unless --no-ray,
# and a decoy python's shims before everything on a --decoy-python host.
host_path() {
  local p=$RAY_PATH
  [ "$(cat "$STATE/$1/ray" 2>/dev/null)" = false ] && p=$PLAIN_PATH
  has_flag "$1" --decoy-python && p="$DECOY_DIR:$p"
  echo "$p"
}

write_sshd_config() {
  local d=$1 path=$2 flags=" ${3:-} " forwarding=yes subsystem="Subsystem sftp /usr/lib/openssh/sftp-server" listen6=""
  [[ "$flags" == *" --no-forwarding "* ]] && forwarding=no
  [[ "$flags" == *" --no-sftp "* ]] && subsystem="# no sftp subsystem (--no-sftp)"
  [[ "$flags" == *" --ipv6 "* ]] && listen6="ListenAddress ::"
  cat >"$d/sshd_config" <<EOF
# generated by testhosts.sh
Port 22
ListenAddress 0.0.0.0
$listen6
HostKey $d/ssh_host_ed25519_key
HostKey $d/ssh_host_ecdsa_key
HostKey $d/ssh_host_rsa_key
PidFile $d/sshd.pid
PasswordAuthentication yes
PubkeyAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM $SSHD_PAM
UseDNS no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
MaxStartups 500:30:1000
MaxSessions 200
MaxAuthTries 20
LoginGraceTime 60
ClientAliveInterval 0
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding $forwarding
AcceptEnv LANG LC_*
SetEnv PATH=$path
$subsystem
EOF
}

# Per-host state that is recreated on every start of the host: home, /opt/nokube, /etc/hosts.
seed_host_files() {
  local name=$1 ip=$2 d="$STATE/$1"
  rm -rf "$d/home" "$d/opt-nokube"
  mkdir -p "$d/home/$USER_NAME/.ssh" "$d/home/$PW_USER" "$d/opt-nokube/data"
  cat "$CLIENT/id_ed25519.pub" "$CLIENT/id_rsa.pub" "$CLIENT/id_ecdsa.pub" >"$d/home/$USER_NAME/.ssh/authorized_keys"
  printf '# %s: test host %s\n' "$name" "$ip" >"$d/home/$USER_NAME/.profile"
  cp "$d/home/$USER_NAME/.profile" "$d/home/$PW_USER/.profile"
  chmod 700 "$d/home/$USER_NAME/.ssh"; chmod 600 "$d/home/$USER_NAME/.ssh/authorized_keys"
  chown -R "$USER_NAME:$USER_NAME" "$d/home/$USER_NAME" "$d/opt-nokube/data"
  chown -R "$PW_USER:$PW_USER" "$d/home/$PW_USER"
  chmod 755 "$d/home" "$d/opt-nokube" "$d/home/$USER_NAME" "$d/home/$PW_USER"
  printf '127.0.0.1\tlocalhost\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$ip" "$name" >"$d/etc-hosts"
  printf '%s\n' "$name" >"$d/etc-hostname"
  # a private crontab spool (every host: `crontab` of one host never shows in another); cron's layout
  rm -rf "$d/spool-cron"; mkdir -p "$d/spool-cron/crontabs"; chmod 755 "$d/spool-cron"
  if getent group crontab >/dev/null; then chown root:crontab "$d/spool-cron/crontabs"; fi
  chmod 1730 "$d/spool-cron/crontabs"
  if has_flag "$name" --cron; then
    # the machine's own /etc/crontab and /etc/cron.d (daily jobs...) never run inside a host
    printf '# test host %s: no system crontab (testhosts.sh)\n' "$name" >"$d/etc-crontab"
    rm -rf "$d/etc-cron.d"; mkdir -p "$d/etc-cron.d"
  fi
  if has_flag "$name" --decoy-python; then
    # a pyenv-like shim dir with a python that has no Ray, first on the PATH of ssh sessions (sshd's
    # SetEnv) and of login shells (/etc/profile resets PATH, ~/.profile puts the shims back first)
    local shims="$d/home/$USER_NAME/.pyenv/shims" py
    mkdir -p "$shims"
    for py in python python3; do
      printf '#!/bin/sh\n# decoy %s (testhosts.sh --decoy-python): the system Python, without Ray\nexec /usr/bin/python3 "$@"\n' "$py" >"$shims/$py"
      chmod 755 "$shims/$py"
    done
    # shellcheck disable=SC2016
    printf 'export PATH="$HOME/.pyenv/shims:$PATH"\n' | tee -a "$d/home/$USER_NAME/.profile" >>"$d/home/$USER_NAME/.bashrc"
    chown -R "$USER_NAME:$USER_NAME" "$d/home/$USER_NAME"
  fi
  if has_flag "$name" --redis; then
    rm -rf "$d/redis"; mkdir -p "$d/redis"
    {
      echo "# generated by testhosts.sh: the Redis of test host $name"
      echo "bind $ip 127.0.0.1"
      echo "port $(cat "$d/redis-port")"
      echo "protected-mode no"
      echo "daemonize no"
      echo "save \"\""
      echo "appendonly no"
      echo "dir $d/redis"
      echo "logfile \"\""
      [ -s "$d/redis-password" ] && echo "requirepass $(cat "$d/redis-password")"
    } >"$d/redis.conf"
    chown redis:redis "$d/redis"; chown root:redis "$d/redis.conf"; chmod 640 "$d/redis.conf"
  fi
}

write_init() {
  local name=$1 d="$STATE/$1"
  cat >"$d/init.sh" <<EOF
#!/bin/bash
# PID 1 of test host $name (generated by testhosts.sh). Runs inside: netns $name, new PID/mount/UTS ns.
set -u
mount --make-rprivate /
hostname $name
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
# /run is fresh at each boot, as on a machine (cron's pid file and @reboot marker live there)
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mkdir -p /run/lock && chmod 1777 /run/lock
mkdir -p /var/spool/cron
mount --bind $d/spool-cron /var/spool/cron
mount --bind $d/home /home
mount --bind $d/opt-nokube /opt/nokube
mount --bind $d/etc-hosts /etc/hosts
mount --bind $d/etc-hostname /etc/hostname
mkdir -p /sys/fs/cgroup 2>/dev/null
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null || true
mkdir -p /run/sshd
EOF
  if has_flag "$name" --cron; then
    cat >>"$d/init.sh" <<EOF
[ -e /etc/crontab ] && mount --bind $d/etc-crontab /etc/crontab
mkdir -p /etc/cron.d && mount --bind $d/etc-cron.d /etc/cron.d
EOF
  fi
  if has_flag "$name" --firewall; then
    cat >>"$d/init.sh" <<EOF
nft add table $NFT_TABLE && nft add chain $NFT_TABLE input '{ type filter hook input priority 0; policy accept; }'
EOF
  fi
  echo "exec /usr/bin/python3 -S $d/init.py" >>"$d/init.sh"
  cat >"$d/init.py" <<EOF
# PID 1 of test host $name (generated by testhosts.sh): runs its daemons (sshd; cron, redis when
# asked), reaps every orphan (Ray daemonizes), restarts a daemon that dies, forwards SIGTERM to everything.
import os, signal, sys, time
DAEMONS = {"sshd": ["$SSHD", "-D", "-e", "-f", "$d/sshd_config"]}
EOF
  if has_flag "$name" --cron; then
    echo 'DAEMONS["cron"] = ["/usr/sbin/cron", "-f"]' >>"$d/init.py"
  fi
  if has_flag "$name" --redis; then
    echo "DAEMONS[\"redis\"] = [\"/usr/bin/setpriv\", \"--reuid=redis\", \"--regid=redis\", \"--init-groups\", \"--\", \"/usr/bin/redis-server\", \"$d/redis.conf\"]" >>"$d/init.py"
  fi
  cat >>"$d/init.py" <<EOF
def spawn(name):
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open("$d/%s.log" % name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(fd, 1); os.dup2(fd, 2)
            os.execv(DAEMONS[name][0], DAEMONS[name])
        finally:
            os._exit(127)
    return pid
def term(*_):
    try:
        os.kill(-1, signal.SIGTERM)
    finally:
        os._exit(0)
signal.signal(signal.SIGTERM, term)
signal.signal(signal.SIGINT, term)
running = {spawn(n): n for n in DAEMONS}
while True:
    try:
        pid, _ = os.wait()
    except ChildProcessError:
        time.sleep(0.5)
        continue
    if pid in running:
        name = running.pop(pid)
        time.sleep(0.5)
        running[spawn(name)] = name
EOF
  chmod 755 "$d/init.sh"
}

# 02:88 (locally administered) and the four bytes of an IPv4 address
mac_for() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  printf '02:88:%02x:%02x:%02x:%02x' "$a" "$b" "$c" "$d"
}

kill_host() {
  local name=$1 pid
  if pid=$(host_pid "$name"); then
    kill -KILL "$pid" 2>/dev/null || true   # PID 1 of the namespace: the kernel kills everything inside
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  fi
  rm -f "$STATE/$name/init.pid" "$STATE/$name/off"
  wait_nspawn_gone "$name"
  remove_host_cgroup "$name"
  if mountpoint -q "$STATE/$name/root" 2>/dev/null; then umount -l "$STATE/$name/root" 2>/dev/null || true; fi
  ip link del "$VETH_PREFIX$name" 2>/dev/null || true
  ip link del "${VETH_PREFIX}i$name" 2>/dev/null || true
  ip netns del "$name" 2>/dev/null || true
}

start_host() {
  local name=$1 noray=$2 flags=${3:-} d="$STATE/$1" ip ip2="" ip6="" pid
  valid_name "$name"
  kill_host "$name"
  mkdir -p "$d"
  rm -f "$d/ip2" "$d/ip6"
  echo "$flags" >"$d/flags"
  if [[ " $flags " == *" --inner "* ]]; then
    ensure_bridge2; ip=$(alloc_ip "$name" "$PREFIX2")
  else
    ip=$(alloc_ip "$name")
  fi
  echo "$ip" >"$d/ip"
  if [[ " $flags " == *" --bastion "* ]]; then ensure_bridge2; ip2=$(alloc_ip "$name" "$PREFIX2"); echo "$ip2" >"$d/ip2"; fi
  if [[ " $flags " == *" --ipv6 "* ]]; then ensure_bridge_ip6; ip6="$V6_BASE::${ip##*.}"; echo "$ip6" >"$d/ip6"; fi
  if [ "$noray" = 1 ]; then echo false >"$d/ray"; else echo true >"$d/ray"; fi
  rm -f "$d/redis-port" "$d/redis-password"
  if [[ " $flags " == *" --redis "* ]]; then
    echo "${REDIS_PORT:-6379}" >"$d/redis-port"
    (umask 077; printf '%s' "${REDIS_PASSWORD:-}" >"$d/redis-password")
  fi
  for t in ed25519 ecdsa rsa; do
    [ -f "$d/ssh_host_${t}_key" ] || ssh-keygen -q -t "$t" -N '' -C "root@$name" -f "$d/ssh_host_${t}_key"
  done
  write_sshd_config "$d" "$(host_path "$name")" "$flags"
  seed_host_files "$name" "$ip"
  write_init "$name"
  mkdir -p /opt/nokube
  : >"$d/sshd.log"

  ip netns add "$name"
  local br=$BRIDGE
  [[ " $flags " == *" --inner "* ]] && br=$BRIDGE2
  # the host's MAC follows from its address: a host added with an address another host had (removed
  # earlier in the run) must not be unreachable until every neighbour's ARP entry for the old MAC ages out
  ip link add "$VETH_PREFIX$name" type veth peer name eth0 address "$(mac_for "$ip")" netns "$name"
  ip link set "$VETH_PREFIX$name" master "$br" up
  ip -n "$name" link set lo up
  ip -n "$name" addr add "$ip/$PREFIX_LEN" dev eth0
  ip -n "$name" link set eth0 up
  # an --inner host has no way out: only hosts on its bridge (and the bastion) reach it
  [ "$br" = "$BRIDGE" ] && ip -n "$name" route add default via "$BRIDGE_IP"
  if [ -n "$ip2" ]; then
    ip link add "${VETH_PREFIX}i$name" type veth peer name eth1 address "$(mac_for "$ip2")" netns "$name"
    ip link set "${VETH_PREFIX}i$name" master "$BRIDGE2" up
    ip -n "$name" addr add "$ip2/24" dev eth1
    ip -n "$name" link set eth1 up
  fi
  if [ -n "$ip6" ]; then
    ip -n "$name" -6 addr add "$ip6/64" dev eth0 nodad
  fi
  [[ " $flags " == *" --systemd "* ]] && seed_systemd_root "$name" "$ip"
  boot_host "$name"
}

# --- systemd hosts ------------------------------------------------------------------------------
# A Debian bookworm rootfs (mmdebstrap, once, into $SYSTEMD_ROOTFS_CACHE) is the lower layer of an
# overlay per host ($d/root; its writes in $d/sd-upper: a disk that survives reboots). systemd-nspawn
# boots it in the host's network namespace with /opt/nokube-venv bound read-only.
ensure_systemd_rootfs() {
  need_cmd systemd-nspawn --systemd systemd-container
  need_cmd mmdebstrap --systemd mmdebstrap
  # the marker names what the rootfs was built with: another package list builds it again (a running
  # systemd host of another sandbox would lose its lower layer then: change the list between runs only)
  local marker="$SYSTEMD_PACKAGES bookworm"
  [ "$(cat "$SYSTEMD_ROOTFS_CACHE/.nokube-rootfs" 2>/dev/null)" = "$marker" ] && return 0
  mkdir -p "$(dirname "$SYSTEMD_ROOTFS_CACHE")"
  exec 8>"$SYSTEMD_ROOTFS_CACHE.lock"
  flock -w 600 8 || die "could not lock $SYSTEMD_ROOTFS_CACHE.lock"
  if [ "$(cat "$SYSTEMD_ROOTFS_CACHE/.nokube-rootfs" 2>/dev/null)" != "$marker" ]; then
    local tmp="$SYSTEMD_ROOTFS_CACHE.tmp.$$" want have u
    log "building the systemd hosts' rootfs (mmdebstrap bookworm, 1-2 minutes) into $SYSTEMD_ROOTFS_CACHE"
    rm -rf "$tmp"
    mmdebstrap --quiet --variant=minbase --include="$SYSTEMD_PACKAGES" bookworm "$tmp" >"$tmp.log" 2>&1 || {
      tail -20 "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"
      [ -z "${NOKUBE_SANDBOX:-}" ] || die "mmdebstrap failed: a sandbox has no network; build the rootfs outside first ($SELF systemd-rootfs, or scripts/setup-test-env.sh)"
      die "mmdebstrap failed (log above): it needs Debian's apt mirror"
    }
    rm -f "$tmp.log"
    # Ray's venv runs on the rootfs's /usr/bin/python3: same minor version as the venv's base interpreter
    want=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    have=$(chroot "$tmp" /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ "$want" = "$have" ] || { rm -rf "$tmp"; die "the rootfs has python $have, $VENV needs $want"; }
    # per host: host keys, machine id, hostname; no timers that would wake up in a test
    rm -f "$tmp"/etc/ssh/ssh_host_* "$tmp/etc/machine-id" "$tmp/var/lib/dbus/machine-id"
    for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
      systemd-tmpfiles-clean.timer console-getty.service getty@tty1.service; do
      ln -sf /dev/null "$tmp/etc/systemd/system/$u"
    done
    echo "$marker" >"$tmp/.nokube-rootfs"
    rm -rf "$SYSTEMD_ROOTFS_CACHE"
    mv "$tmp" "$SYSTEMD_ROOTFS_CACHE"
  fi
  exec 8>&-
}

# A fresh overlay for the host, then what makes it a test host: hostname, host keys, users with the
# client keys (root too), sshd settings, /opt/nokube.
seed_systemd_root() {
  local name=$1 ip=$2 d="$STATE/$1" r="$STATE/$1/root" uid gid pwuid pwgid
  ensure_systemd_rootfs
  rm -rf "$d/sd-upper" "$d/sd-work"
  mkdir -p "$d/sd-upper" "$d/sd-work" "$r"
  mount_systemd_root "$name"
  printf '%s\n' "$name" >"$r/etc/hostname"
  printf '127.0.0.1\tlocalhost\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$ip" "$name" >"$r/etc/hosts"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$r/etc/machine-id"; echo >>"$r/etc/machine-id"
  cp "$d"/ssh_host_*_key "$d"/ssh_host_*_key.pub "$r/etc/ssh/"
  chmod 600 "$r"/etc/ssh/ssh_host_*_key
  # the machine's uids: files under /opt/nokube-venv and `exec --user` agree inside and out
  uid=$(id -u "$USER_NAME"); gid=$(id -g "$USER_NAME"); pwuid=$(id -u "$PW_USER"); pwgid=$(id -g "$PW_USER")
  chroot "$r" groupadd -g "$gid" "$USER_NAME"
  chroot "$r" useradd -u "$uid" -g "$gid" -m -s /bin/bash "$USER_NAME"
  chroot "$r" groupadd -g "$pwgid" "$PW_USER"
  chroot "$r" useradd -u "$pwuid" -g "$pwgid" -m -s /bin/bash "$PW_USER"
  printf '%s:%s\n%s:%s\n' "$USER_NAME" "$USER_PW" "$PW_USER" "$PW_USER_PW" | chroot "$r" chpasswd
  mkdir -p "$r/home/$USER_NAME/.ssh" "$r/root/.ssh" "$r/opt/nokube/data" "$r$VENV"
  cat "$CLIENT/id_ed25519.pub" "$CLIENT/id_rsa.pub" "$CLIENT/id_ecdsa.pub" >"$r/home/$USER_NAME/.ssh/authorized_keys"
  cp "$r/home/$USER_NAME/.ssh/authorized_keys" "$r/root/.ssh/authorized_keys"
  chmod 700 "$r/home/$USER_NAME/.ssh" "$r/root/.ssh"; chmod 600 "$r/home/$USER_NAME/.ssh/authorized_keys" "$r/root/.ssh/authorized_keys"
  chown -R "$uid:$gid" "$r/home/$USER_NAME" "$r/opt/nokube/data"
  chmod 755 "$r/opt/nokube"
  # Debian's sshd_config reads sshd_config.d first (first value wins)
  cat >"$r/etc/ssh/sshd_config.d/nokube-test.conf" <<EOF
# generated by testhosts.sh: test host $name (systemd)
PermitRootLogin prohibit-password
PasswordAuthentication yes
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 500:30:1000
MaxSessions 200
MaxAuthTries 20
PrintMotd no
PrintLastLog no
# root deploys too: the sbin dirs on everyone's PATH
SetEnv PATH=$(host_path "$name"):/usr/local/sbin:/usr/sbin:/sbin
EOF
}

mount_systemd_root() {
  local d="$STATE/$1"
  mountpoint -q "$d/root" && return 0
  mount -t overlay overlay -o "lowerdir=$SYSTEMD_ROOTFS_CACHE,upperdir=$d/sd-upper,workdir=$d/sd-work" "$d/root" ||
    die "$1: could not mount its root file system (overlay on $SYSTEMD_ROOTFS_CACHE)"
}

nspawn_pid() { pgrep -f -x "systemd-nspawn -D $STATE/$1/root .*" | head -1; }

wait_nspawn_gone() {
  local pid
  pid=$(nspawn_pid "$1") || return 0
  [ -n "$pid" ] || return 0
  for _ in $(seq 100); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# The cgroup hierarchies systemd tracks units in (the machine's own: a sandbox does not unshare them):
# cgroup2 (alone, or at unified/ beside v1) and v1's name=systemd.
systemd_cgroup_roots() {
  if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then echo /sys/fs/cgroup; return; fi
  [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] && echo /sys/fs/cgroup/unified
  [ -e /sys/fs/cgroup/systemd/cgroup.procs ] && echo /sys/fs/cgroup/systemd
  return 0
}

# A systemd host's own cgroup, below every root: nspawn --keep-unit puts the container in <its own
# cgroup>/payload, so without one of its own every container of the machine (every sandbox's too) would
# share the root's payload/: one host's user@0.service or ssh.service would then wait, on stop, for
# processes of another host that it can neither see nor kill (a stop job stuck, a login hung behind it).
host_cgroup() { echo "nokube-testhosts/$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)-$1"; }

remove_host_cgroup() {
  local root cg
  cg=$(host_cgroup "$1")
  for root in $(systemd_cgroup_roots); do
    [ -d "$root/$cg" ] || continue
    # deepest first; a cgroup that still holds a process stays (rmdir refuses)
    find "$root/$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    rmdir "$root/nokube-testhosts" 2>/dev/null || true
  done
}

boot_systemd_host() {
  local name=$1 d="$STATE/$1" np="" pid="" c cgdirs=""
  mount_systemd_root "$name"
  remove_host_cgroup "$name"
  for c in $(systemd_cgroup_roots); do cgdirs="$cgdirs $c/$(host_cgroup "$name")"; done
  # --register=no --keep-unit: the machine itself runs no systemd (no machined to register with);
  # nspawn started from the host's own cgroup (see host_cgroup)
  setsid bash -c 'for g in $1; do mkdir -p "$g" && echo $$ >"$g/cgroup.procs" || exit 1; done; shift; exec "$@"' \
    cgroup "$cgdirs" systemd-nspawn -D "$d/root" --boot --register=no --keep-unit --machine="$name" \
    --network-namespace-path="/run/netns/$name" --bind-ro="$VENV" --link-journal=no \
    --resolv-conf=off --timezone=off --console=read-only </dev/null >>"$d/nspawn.log" 2>&1 9>&- 8>&- &
  # PID 1 of the container: systemd, a child of systemd-nspawn, pid 1 in its PID namespace
  for _ in $(seq 200); do
    np=$(nspawn_pid "$name" || true)
    for c in $( [ -n "$np" ] && pgrep -P "$np" || true); do
      if grep -qE "^NSpid:[[:space:]]+$c[[:space:]]+1\$" "/proc/$c/status" 2>/dev/null; then pid=$c; fi
    done
    [ -n "$pid" ] && break
    sleep 0.05
  done
  [ -n "$pid" ] || die "$name: systemd-nspawn did not start (see $d/nspawn.log)"
  echo "$pid" >"$d/init.pid"
}

# Runs the host's boot: its PID 1 (init.sh, then init.py) in new PID/mount/UTS namespaces inside its
# network namespace; a --systemd host's is systemd-nspawn's systemd. Used by start_host and by reboot
# (the network namespace outlives a reboot).
boot_host() {
  local name=$1 d="$STATE/$1" pid
  if has_flag "$name" --systemd; then boot_systemd_host "$name"; return; fi
  setsid ip netns exec "$name" unshare --pid --fork --mount --uts --mount-proc --propagation private \
    /bin/bash "$d/init.sh" </dev/null >>"$d/init.log" 2>&1 9>&- &
  # find the namespace init: runs $d/init.sh and is pid 1 in its own PID namespace
  pid=
  for _ in $(seq 100); do
    for p in $(pgrep -f "$d/init\\.(sh|py)\$" || true); do
      if grep -qE "^NSpid:[[:space:]]+$p[[:space:]]+1\$" "/proc/$p/status" 2>/dev/null; then pid=$p; fi
    done
    [ -n "$pid" ] && break
    sleep 0.05
  done
  [ -n "$pid" ] || die "$name: namespace init did not start (see $d/init.log)"
  echo "$pid" >"$d/init.pid"
}

wait_ssh() {
  local name=$1 ip tries=200 up=0
  ip=$(host_ip "$name")
  has_flag "$name" --systemd && tries=600   # a boot to multi-user takes seconds on a busy machine
  for _ in $(seq "$tries"); do
    # from inside the host: an --inner host is not reachable from here
    if ip netns exec "$name" timeout 1 bash -c "exec 3<>/dev/tcp/$ip/22" 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  [ "$up" = 1 ] || die "$name: sshd does not accept TCP on $ip:22 (see $STATE/$name/sshd.log or nspawn.log)"
  # and from here (where the tests run), as a user's ssh would reach it; an --inner host is not reachable
  has_flag "$name" --inner && return 0
  for _ in $(seq 50); do
    if timeout 1 bash -c "exec 3<>/dev/tcp/$ip/22" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name: sshd answers inside the host but not from the bridge ($ip:22): $(ip neigh show "$ip")"
}

running_hosts() {
  local d name
  for d in "$STATE"/*/; do
    name=$(basename "$d")
    [ "$name" = client ] && continue
    [ -f "$d/ip" ] || continue
    # a powered-off host keeps its place (its keys stay pinned)
    { host_pid "$name" >/dev/null || [ -f "$d/off" ]; } && echo "$(cat "$d/ip") $name"
  done | sort -t. -k3,3n -k4,4n | awk '{print $2}'
}

write_facts() {
  local names
  names=$(running_hosts | tr '\n' ' ')
  : >"$CLIENT/known_hosts.tmp"
  for n in $names; do
    for t in ed25519 ecdsa rsa; do
      for a in "$(host_ip "$n")" $(cat "$STATE/$n/ip6" "$STATE/$n/ip2" 2>/dev/null); do
        printf '%s %s\n' "$a" "$(cut -d' ' -f1,2 "$STATE/$n/ssh_host_${t}_key.pub")" >>"$CLIENT/known_hosts.tmp"
      done
    done
  done
  mv "$CLIENT/known_hosts.tmp" "$CLIENT/known_hosts"
  STATE="$STATE" CLIENT="$CLIENT" NAMES="$names" BRIDGE_IP="$BRIDGE_IP" USER_NAME="$USER_NAME" USER_PW="$USER_PW" \
    PW_USER="$PW_USER" PW_USER_PW="$PW_USER_PW" ECDSA_PASS="$ECDSA_PASS" /usr/bin/python3 - <<'EOF'
import json, os
st, cl = os.environ["STATE"], os.environ["CLIENT"]
hosts = []
for n in os.environ["NAMES"].split():
    d = os.path.join(st, n)
    keys = []
    for t in ("ed25519", "ecdsa", "rsa"):
        with open(os.path.join(d, "ssh_host_%s_key.pub" % t)) as f:
            keys.append(" ".join(f.read().split()[:2]))
    with open(os.path.join(d, "ip")) as f:
        ip = f.read().strip()
    with open(os.path.join(d, "ray")) as f:
        ray = f.read().strip() == "true"
    def opt(fn):
        try:
            with open(os.path.join(d, fn)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return ""
    flags = opt("flags").split()
    h = {"name": n, "ip": ip, "ssh_port": 22, "ray": ray, "host_keys": keys,
         "sftp": "--no-sftp" not in flags, "forwarding": "--no-forwarding" not in flags,
         "network": "inner" if "--inner" in flags else "bastion" if "--bastion" in flags else "main"}
    if opt("ip2"):
        h["inner_ip"] = opt("ip2")
    if opt("ip6"):
        h["ipv6"] = opt("ip6")
    h["cron"] = "--cron" in flags
    h["firewall"] = "--firewall" in flags
    if "--decoy-python" in flags:
        h["decoy_python"] = "/home/%s/.pyenv/shims" % os.environ["USER_NAME"]
    if "--redis" in flags:
        h["redis"] = {"port": int(opt("redis-port") or 6379)}
        if opt("redis-password"):
            h["redis"]["password"] = opt("redis-password")
    if "--systemd" in flags:
        h["systemd"] = True
        h["root_login"] = True
    hosts.append(h)
info = {
    "bridge_ip": os.environ["BRIDGE_IP"],
    "hosts": hosts,
    "client": {
        "dir": cl,
        "known_hosts": os.path.join(cl, "known_hosts"),
        "keys": {k: os.path.join(cl, "id_" + k) for k in ("ed25519", "rsa", "ecdsa")},
        "ecdsa_passphrase": os.environ["ECDSA_PASS"],
        "user": os.environ["USER_NAME"],
        "password": os.environ["USER_PW"],
        "password_only_user": os.environ["PW_USER"],
        "password_only_password": os.environ["PW_USER_PW"],
    },
}
tmp = os.path.join(st, "hosts.json.tmp")
with open(tmp, "w") as f:
    json.dump(info, f, indent=2)
    f.write("\n")
os.chmod(tmp, 0o644)
os.replace(tmp, os.path.join(st, "hosts.json"))
EOF
}

all_known_hosts() {
  local d
  for d in "$STATE"/*/; do
    [ "$(basename "$d")" = client ] && continue
    [ -f "$d/ip" ] && basename "$d"
  done
}

cmd_up() {
  local n=${1:-}; shift || true
  [[ "$n" =~ ^[0-9]+$ ]] || die "usage: up N [--no-ray NAME]... [--cron]"
  local noray=" " flags=""
  while [ $# -gt 0 ]; do
    case $1 in
      --no-ray) [ $# -ge 2 ] || die "--no-ray needs a NAME"; noray="$noray$2 "; shift 2 ;;
      --cron) need_cmd /usr/sbin/cron --cron cron; flags="--cron"; shift ;;
      *) die "up: unknown argument $1" ;;
    esac
  done
  need_root; with_lock
  for h in $(all_known_hosts); do kill_host "$h"; rm -f "$STATE/$h/ip"; done
  ensure_users; ensure_client_keys; ensure_bridge
  local i names=()
  [ "$n" -le "$MAX_HOSTS" ] || die "up: at most $MAX_HOSTS hosts in this pool"
  for i in $(seq 1 "$n"); do names+=("$HOST_PREFIX$i"); done
  for h in $noray; do
    [[ " ${names[*]} " == *" $h "* ]] || names+=("$h")
  done
  # a few hosts at a time (hundreds of hosts one by one take minutes)
  local pids=() k=0
  for h in "${names[@]}"; do
    if [[ "$noray" == *" $h "* ]]; then start_host "$h" 1 "$flags" & else start_host "$h" 0 "$flags" & fi
    pids+=($!)
    if [ $((++k % 16)) = 0 ]; then for p in "${pids[@]}"; do wait "$p" || die "up: a host did not start"; done; pids=(); fi
  done
  for p in "${pids[@]}"; do wait "$p" || die "up: a host did not start"; done
  for h in "${names[@]}"; do wait_ssh "$h"; done
  write_facts
  log "up: ${names[*]:-none} (facts: $STATE/hosts.json)"
}

cmd_add() {
  local name=${1:-} noray=0 flags=""; shift || true
  [ -n "$name" ] || die "usage: add NAME [--no-ray] [--no-sftp] [--no-forwarding] [--inner|--bastion] [--ipv6] [--cron] [--decoy-python] [--firewall] [--redis [--redis-password PW] [--redis-port P]] [--systemd]"
  REDIS_PASSWORD="" REDIS_PORT=6379
  while [ $# -gt 0 ]; do
    case $1 in
      --no-ray) noray=1; shift ;;
      --no-sftp|--no-forwarding|--inner|--bastion|--ipv6|--decoy-python) flags="$flags $1"; shift ;;
      --cron) need_cmd /usr/sbin/cron "$1" cron; flags="$flags $1"; shift ;;
      --firewall) need_cmd nft "$1" nftables; flags="$flags $1"; shift ;;
      --redis) need_cmd /usr/bin/redis-server "$1" redis-server; flags="$flags $1"; shift ;;
      --redis-password) [ $# -ge 2 ] && [[ "$2" =~ ^[A-Za-z0-9._+=-]+$ ]] || die "--redis-password needs a password of [A-Za-z0-9._+=-]"
        REDIS_PASSWORD=$2; shift 2 ;;
      --redis-port) [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 65535 ] || die "--redis-port needs a port"
        REDIS_PORT=$2; shift 2 ;;
      --systemd) flags="$flags $1"; shift ;;
      *) die "add: unknown argument $1" ;;
    esac
  done
  [[ "$flags" == *--inner* && "$flags" == *--bastion* ]] && die "add: --inner and --bastion exclude each other"
  [[ "$flags" == *--systemd* ]] && [[ "$flags" =~ --cron|--redis|--decoy-python ]] &&
    die "add: --systemd runs the rootfs's own systemd: --cron, --redis and --decoy-python are for the other hosts"
  { [ -n "$REDIS_PASSWORD" ] || [ "$REDIS_PORT" != 6379 ]; } && [[ "$flags" != *--redis* ]] && die "add: --redis-password and --redis-port need --redis"
  export REDIS_PASSWORD REDIS_PORT
  need_root; with_lock
  ensure_users; ensure_client_keys; ensure_bridge
  rm -f "$STATE/$name/ip"
  start_host "$name" "$noray" "${flags# }"
  wait_ssh "$name"
  write_facts
  log "added $name ($(host_ip "$name"))"
}

# Power off: PID 1 of the host's PID namespace killed takes every process of the host with it; its
# mount namespace (tmpfs /tmp, /dev/shm, /run) goes with the last of them. The network namespace, the
# state dir and the host's place in hosts.json stay ($d/off marks it).
poweroff_host() {
  local name=$1 hard=$2 pid
  if pid=$(host_pid "$name"); then
    if has_flag "$name" --systemd && [ "$hard" = 0 ]; then
      # systemd's poweroff (SIGRTMIN+4): units stopped in order, as `systemctl poweroff` would; at most 30 s
      kill -s SIGRTMIN+4 "$pid" 2>/dev/null || true
      for _ in $(seq 300); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    fi
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ ! -d "/proc/$pid" ] || die "$name: PID 1 ($pid) did not die"
  fi
  rm -f "$STATE/$name/init.pid"
  wait_nspawn_gone "$name"
  remove_host_cgroup "$name"
  # packet filter rules are runtime state: gone at a reboot (a --firewall host's boot makes its table again)
  if command -v nft >/dev/null 2>&1; then ip netns exec "$name" nft flush ruleset 2>/dev/null || true; fi
  touch "$STATE/$name/off"
}

power_on_host() {
  local name=$1
  has_flag "$name" --systemd || write_init "$name"
  boot_host "$name"
  rm -f "$STATE/$name/off"
  wait_ssh "$name"
}

# NAME [--hard]: the host's name and an optional --hard; dies unless the host exists
power_args() {
  local what=$1; shift
  POWER_NAME=${1:-}; POWER_HARD=0; shift || true
  [ -n "$POWER_NAME" ] || die "usage: $what NAME [--hard]"
  while [ $# -gt 0 ]; do
    case $1 in
      --hard) POWER_HARD=1; shift ;;
      *) die "$what: unknown argument $1" ;;
    esac
  done
  need_root; with_lock
  [ -f "$STATE/$POWER_NAME/ip" ] && ip netns list | grep -qw "^$POWER_NAME" || die "no test host $POWER_NAME"
}

cmd_reboot() {
  power_args reboot "$@"
  host_pid "$POWER_NAME" >/dev/null || die "host $POWER_NAME is not up (boot it: $SELF boot $POWER_NAME)"
  poweroff_host "$POWER_NAME" "$POWER_HARD"
  power_on_host "$POWER_NAME"
  log "rebooted $POWER_NAME ($(host_ip "$POWER_NAME"))"
}

cmd_poweroff() {
  power_args poweroff "$@"
  poweroff_host "$POWER_NAME" "$POWER_HARD"
  log "powered off $POWER_NAME ($(host_ip "$POWER_NAME")); '$SELF boot $POWER_NAME' starts it again"
}

cmd_boot() {
  power_args boot "$@"
  [ "$POWER_HARD" = 0 ] || die "boot: no --hard"
  host_pid "$POWER_NAME" >/dev/null && die "host $POWER_NAME is up (reboot it: $SELF reboot $POWER_NAME)"
  power_on_host "$POWER_NAME"
  log "booted $POWER_NAME ($(host_ip "$POWER_NAME"))"
}

cmd_rm() {
  local name=${1:-}
  [ -n "$name" ] || die "usage: rm NAME"
  need_root; with_lock
  kill_host "$name"; rm -f "$STATE/$name/ip"
  [ -d "$CLIENT" ] && write_facts
  return 0
}

cmd_down() {
  need_root; with_lock
  for h in $(all_known_hosts); do kill_host "$h"; rm -f "$STATE/$h/ip"; done
  # stray veths of hosts whose state is gone
  for l in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$VETH_PREFIX" || true); do
    ip link del "$l" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$BRIDGE2" 2>/dev/null || true
  if [ -d "$CLIENT" ]; then write_facts; fi
  log "down"
}

cmd_status() {
  local any=0 name pid ip ok
  for name in $(all_known_hosts); do
    ip=$(host_ip "$name")
    if pid=$(host_pid "$name"); then
      ok=down
      timeout 1 bash -c "exec 3<>/dev/tcp/$ip/22" 2>/dev/null && ok=ssh-ok
      printf '%-10s %-12s pid=%-8s ray=%-5s %s\n' "$name" "$ip" "$pid" "$(cat "$STATE/$name/ray")" "$ok"
      any=1
    elif [ -f "$STATE/$name/off" ]; then
      printf '%-10s %-12s %-12s ray=%-5s %s\n' "$name" "$ip" "" "$(cat "$STATE/$name/ray")" "powered-off"
    fi
  done
  [ "$any" = 1 ] || { echo "no test hosts up"; return 1; }
}

cmd_exec() {
  local name=${1:-} user=root; shift || true
  [ -n "$name" ] || die "usage: exec NAME [--user U] -- CMD..."
  while [ $# -gt 0 ]; do
    case $1 in
      --user) user=$2; shift 2 ;;
      --user=*) user=${1#--user=}; shift ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  [ $# -gt 0 ] || die "exec: no command"
  need_root
  local pid path home
  pid=$(host_pid "$name") || die "host $name is not up"
  path=$(host_path "$name")
  if [ "$user" = root ]; then
    # root's PATH has the sbin dirs too (nft, ip, sshd)
    exec nsenter -t "$pid" -n -p -m -u -- \
      env -i -C /root HOME=/root USER=root LOGNAME=root SHELL=/bin/bash PATH="$path:/usr/local/sbin:/usr/sbin:/sbin" LANG=C.UTF-8 \
      ${TERM:+TERM=$TERM} "$@"
  fi
  home=$(getent passwd "$user" | cut -d: -f6) || die "no user $user"
  exec nsenter -t "$pid" -n -p -m -u -- \
    setpriv --reuid="$user" --regid="$user" --init-groups --reset-env -- \
    env -i -C "$home" HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash PATH="$path" LANG=C.UTF-8 "$@"
}

cmd_keys() {
  [ -f "$CLIENT/id_ed25519" ] || die "no client keys yet: run '$SELF up N' first"
  printf 'HOSTS_JSON=%s\nKNOWN_HOSTS=%s\nED25519=%s\nRSA=%s\nECDSA=%s\nECDSA_PASSPHRASE=%s\nUSER=%s\nPASSWORD=%s\nPASSWORD_ONLY_USER=%s\nPASSWORD_ONLY_PASSWORD=%s\n' \
    "$STATE/hosts.json" "$CLIENT/known_hosts" "$CLIENT/id_ed25519" "$CLIENT/id_rsa" "$CLIENT/id_ecdsa" \
    "$ECDSA_PASS" "$USER_NAME" "$USER_PW" "$PW_USER" "$PW_USER_PW"
}

cmd=${1:-}; shift || true
case $cmd in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  add) cmd_add "$@" ;;
  rm) cmd_rm "$@" ;;
  reboot) cmd_reboot "$@" ;;
  poweroff) cmd_poweroff "$@" ;;
  boot) cmd_boot "$@" ;;
  systemd-rootfs) need_root; ensure_systemd_rootfs ;;
  status) cmd_status ;;
  exec) cmd_exec "$@" ;;
  keys) cmd_keys ;;
  *) sed -n '2,51p' "$SELF" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
