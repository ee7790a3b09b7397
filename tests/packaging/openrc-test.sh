#!/usr/bin/env bash
# Run init/openrc/distccd.initd with the real openrc-run, the way Gentoo
# does, inside the namespaces tests/packaging/openrc.rs creates (private
# mounts, pids and network): nothing here reaches the host's /etc, /run,
# /tmp or network.
#
#   openrc-test.sh SCRATCH CHECKOUT DISTCCD
#
# /etc becomes an overlay (the host's /etc below, SCRATCH above), and its
# init.d and runlevels empty tmpfs, so that no host service is seen. A
# stand-in `net` service (Gentoo's net.lo) brings the loopback up when
# distccd's `need net` asks for it. Prints KEY: value lines for the test.
set -euo pipefail
scratch=$1 checkout=$2 distccd=$3

# The checkout, our distccd and SCRATCH may all live under /tmp, which is
# about to be replaced by an empty tmpfs: stage what is needed first, on a
# tmpfs of this namespace (never seen by the host).
stage=/mnt/distcc-openrc
mount -t tmpfs -o mode=0755 tmpfs /mnt
mkdir -p "$stage"
install -m 0755 "$checkout/init/openrc/distccd.initd" "$stage/distccd.initd"
install -m 0644 "$checkout/init/openrc/distccd.confd" "$stage/distccd.confd"
install -m 0755 "$distccd" "$stage/distccd"
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
