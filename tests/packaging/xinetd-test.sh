#!/usr/bin/env bash
# Run init/xinetd/distcc with the real xinetd, in the private mount, pid
# and network namespaces tests/packaging/xinetd.rs creates, and compile
# through it with distcc 3.4's client.
#
#   xinetd-test.sh SCRATCH CHECKOUT DISTCCD
#
# The shipped service is used as it is, except: enabled, our distccd as the
# server, and `nobody` as the user (this host has no distcc account).
# Prints KEY: value lines for the test.
set -euo pipefail
scratch=$1 checkout=$2 distccd=$3

ip link set lo up
mkdir -p "$scratch/xinetd.d"
sed -e 's/^\(\s*disable\s*=\s*\)yes/\1no/' \
    -e "s|^\(\s*server\s*=\s*\).*|\1$distccd|" \
    -e 's/^\(\s*user\s*=\s*\)distcc/\1nobody/' \
    "$checkout/init/xinetd/distcc" >"$scratch/xinetd.d/distcc"
printf 'defaults\n{\n}\nincludedir %s\n' "$scratch/xinetd.d" >"$scratch/xinetd.conf"

xinetd -f "$scratch/xinetd.conf" -pidfile "$scratch/xinetd.pid" -stayalive
for _ in $(seq 50); do
    ss -Hltn 'sport = :3632' | grep -q LISTEN && break
    sleep 0.1
done
echo "LISTENING: $(ss -Hltnp 'sport = :3632' | grep -c xinetd || true)"

cd "$scratch"
printf 'int answer(void) { return 42; }\n' >hello.c
mkdir -p dcc
if DISTCC_HOSTS=127.0.0.1 DISTCC_FALLBACK=0 DISTCC_DIR="$scratch/dcc" HOME="$scratch" \
    distcc gcc -c hello.c -o remote.o 2>"$scratch/distcc.err"; then
    echo "COMPILE: ok"
else
    echo "COMPILE: failed"
    cat "$scratch/distcc.err"
fi
gcc -c hello.c -o local.o
cmp -s remote.o local.o && echo "SAME_OBJECT: yes" || echo "SAME_OBJECT: no"
kill "$(cat "$scratch/xinetd.pid")"
