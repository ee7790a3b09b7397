#!/usr/bin/env bash
# Run init/openrc/distccd.initd with the real openrc-run, the way Gentoo
# does, inside the namespaces tests/packaging/openrc.rs creates (private
# mounts, pids and network): nothing here reaches the host's /etc, /run,
# /tmp or network.
#
#   openrc-test.sh SCRATCH CHECKOUT DISTCCD DISTCC-CONFIG
#
# /etc becomes an overlay (the host's /etc below, SCRATCH above), and its
# init.d and runlevels empty tmpfs, so that no host service is seen. A
# stand-in `net` service (Gentoo's net.lo) brings the loopback up when
# distccd's `need net` asks for it. Prints KEY: value lines for the test.
set -euo pipefail
scratch=$1 checkout=$2 distccd=$3 distcc_config=$4

# The checkout, our distccd and SCRATCH may all live under /tmp, which is
# about to be replaced by an empty tmpfs: stage what is needed first, on a
# tmpfs of this namespace (never seen by the host).
stage=/mnt/distcc-openrc
mount -t tmpfs -o mode=0755 tmpfs /mnt
mkdir -p "$stage"
install -m 0755 "$checkout/init/openrc/distccd.initd" "$stage/distccd.initd"
install -m 0644 "$checkout/init/openrc/distccd.confd" "$stage/distccd.confd"
install -m 0755 "$distccd" "$stage/distccd"
install -m 0755 "$distcc_config" "$stage/distcc-config"
distccd=$stage/distccd

mkdir -p "$scratch/upper" "$scratch/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$scratch/upper,workdir=$scratch/work" /etc
mount -t tmpfs tmpfs /etc/init.d
mount -t tmpfs tmpfs /etc/runlevels
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/log
mkdir -p /etc/conf.d
for d in started starting stopping inactive wasinactive failed hotplugged \
    daemons options exclusive scheduled tmp; do
    mkdir -p "/run/openrc/$d"
done
touch /run/openrc/softlevel

# The account Gentoo's acct-user/distcc creates.
grep -q '^distcc:' /etc/passwd ||
    echo 'distcc:x:240:240:distcc:/dev/null:/sbin/nologin' >>/etc/passwd
grep -q '^distcc:' /etc/group || echo 'distcc:x:240:' >>/etc/group

cat >/etc/init.d/net.lo <<'EOS'
#!/sbin/openrc-run
# Stand-in for Gentoo's net.lo: provides net by bringing the loopback up.
depend() {
	provide net
}
start() {
	ip link set lo up
}
EOS
chmod 0755 /etc/init.d/net.lo

install -m 0755 "$stage/distccd.initd" /etc/init.d/distccd
# The shipped conf.d, then what an admin appends: our daemon, a log file in
# root's /var/log (start_pre must create it for the distcc user), and
# loopback clients.
cp "$stage/distccd.confd" /etc/conf.d/distccd
cat >>/etc/conf.d/distccd <<EOS
DISTCCD_EXEC="$distccd"
DISTCCD_OPTS="\${DISTCCD_OPTS} --allow 127.0.0.1 --log-file /var/log/distccd.log --log-level info"
EOS

echo "LO_BEFORE: $(ip -o link show lo | grep -o "<[^>]*>")"
/etc/init.d/distccd start
echo "START: $?"
echo "NET_STATUS: $(/etc/init.d/net.lo status 2>&1 | tr -d '*' | xargs)"
echo "LO_AFTER: $(ip -o link show lo | grep -o "<[^>]*>")"
pid=$(cat /run/distccd.pid)
echo "PID: $pid"
echo "USER: $(ps -o user= -p "$pid")"
echo "ARGS: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
echo "TMPDIR: $(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^TMPDIR=//p')"
echo "LOG_OWNER: $(stat -c %U /var/log/distccd.log)"
echo "LOGDIR_OWNER: $(stat -c %U /var/log/distccd)"
for _ in $(seq 50); do
    ss -Hltn 'sport = :3632' | grep -q LISTEN && break
    sleep 0.1
done
echo "LISTENING: $(ss -Hltn 'sport = :3632' | grep -c LISTEN || true)"
echo "DEPTREE: $(grep -E "^depinfo_[0-9]+_(ineed|iuse)_[0-9]+=" /run/openrc/deptree |
    grep -F "$(grep -E "^depinfo_[0-9]+_service='distccd'" /run/openrc/deptree | cut -d_ -f2 |
        sed 's/^/depinfo_/; s/$/_/')" | cut -d= -f2 | tr -d "'" | xargs)"

# A compile through the OpenRC-started daemon, from distcc 3.4's client.
cd /tmp
printf 'int answer(void) { return 42; }\n' >hello.c
mkdir -p /tmp/dcc
if DISTCC_HOSTS=127.0.0.1 DISTCC_FALLBACK=0 DISTCC_DIR=/tmp/dcc HOME=/tmp \
    distcc gcc -c hello.c -o hello.o; then
    echo "COMPILE: ok"
else
    echo "COMPILE: failed"
fi
# The daemon writes its job summary after the client has its answer, so
# give the line a moment to arrive instead of racing it.
for _ in $(seq 50); do
    grep -q COMPILE_OK /var/log/distccd.log && break
    sleep 0.1
done
echo "LOG_COMPILE_OK: $(grep -c COMPILE_OK /var/log/distccd.log || true)"

# reload: logrotate has moved the file away; the daemon reopens its log.
mv /var/log/distccd.log /var/log/distccd.log.1
/etc/init.d/distccd reload
echo "RELOAD: $?"
for _ in $(seq 50); do
    grep -q 'log file reopened' /var/log/distccd.log 2>/dev/null && break
    sleep 0.1
done
echo "REOPENED: $(grep -c 'log file reopened' /var/log/distccd.log || true)"

/etc/init.d/distccd status && echo "STATUS: started"
/etc/init.d/distccd stop
echo "STOP: $?"
echo "STATUS_AFTER: $(/etc/init.d/distccd status 2>&1 | tr -d '*' | xargs)"
echo "RUNNING_AFTER: $(pgrep -c -f "^$distccd" || true)"

# A per-target instance, as an Arch Linux ARM volunteer runs one: a cross
# toolchain directory, made into distccd.aarch64-linux-gnu by distcc-config
# (which also fills the whitelist: a private one here, not the host's).
mount -t tmpfs tmpfs /usr/lib/distcc
tc=$stage/x-tools/bin
mkdir -p "$tc"
for t in gcc gcc-12 cpp g++; do
    if [[ -e /usr/bin/aarch64-linux-gnu-$t ]]; then
        ln -s "/usr/bin/aarch64-linux-gnu-$t" "$tc/"
    fi
done
td=0
"$stage/distcc-config" --target-daemon "$tc" --allow 127.0.0.1 >/tmp/td.out 2>&1 || td=$?
echo "TD_CONFIG: $td"
sed 's/^/TD_OUT: /' /tmp/td.out
inst=distccd.aarch64-linux-gnu
echo "TD_LINK: $(readlink "/etc/init.d/$inst")"
echo "TD_OPTS: $(sed -n 's/^DISTCCD_OPTS=//p' "/etc/conf.d/$inst" | tr -d '"')"
rc=0
/etc/init.d/$inst start || rc=$?
echo "TD_START: $rc"
pid=$(cat "/run/$inst.pid")
echo "TD_ARGS: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
echo "TD_PATH: $(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^DISTCCD_PATH=//p')"
echo "TD_LOG_OWNER: $(stat -c %U /var/log/distccd/aarch64-linux-gnu.log)"
for _ in $(seq 50); do
    ss -Hltn 'sport = :3634' | grep -q LISTEN && break
    sleep 0.1
done
# A client that sends plain gcc (no rewrite to the native triple), as an
# ARM machine's does: the instance's PATH makes it the cross compiler.
if DISTCC_HOSTS=127.0.0.1:3634 DISTCC_FALLBACK=0 DISTCC_NO_REWRITE_CROSS=1 \
    DISTCC_DIR=/tmp/dcc HOME=/tmp distcc gcc -c hello.c -o hello-arm.o; then
    echo "TD_COMPILE: ok"
    echo "TD_MACHINE: $(od -An -tu2 -j18 -N2 hello-arm.o | xargs)"
else
    echo "TD_COMPILE: failed"
fi
rc=0
/etc/init.d/$inst stop || rc=$?
echo "TD_STOP: $rc"

# Failed starts are failures, and say where the reason is. KEY is the
# case; the conf.d gets EXTRA appended for it.
fails() {
    local key=$1 extra=$2 out rc=0
    cp /etc/conf.d/distccd /tmp/confd.saved
    [[ -z $extra ]] || echo "DISTCCD_OPTS=\"\${DISTCCD_OPTS} $extra\"" >>/etc/conf.d/distccd
    out=$(/etc/init.d/distccd start 2>&1) || rc=$?
    cp /tmp/confd.saved /etc/conf.d/distccd
    echo "${key}_START: $rc"
    echo "${key}_STATUS: $(/etc/init.d/distccd status 2>&1 | tr -d '*' | xargs)"
    printf '%s\n' "$out" | sed "s/^/${key}_OUT: /"
}
# Another process holds port 3632.
# (SO_REUSEADDR: the compile above left connections in TIME_WAIT.)
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 3632)); s.listen(); time.sleep(30)' &
holder=$!
for _ in $(seq 50); do
    ss -Hltn 'sport = :3632' | grep -q LISTEN && break
    sleep 0.1
done
fails PORT ""
kill "$holder"
wait "$holder" 2>/dev/null || true
fails ALLOW "--allow 10.0.0.0/33"
echo "RUNNING_AFTER_FAILS: $(pgrep -c -f "^$distccd" || true)"
