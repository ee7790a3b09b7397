//! Scenario 2: cross-compiling to ARM through toolchain links (packaging
//! notes §7). The client calls `aarch64-linux-gnu-gcc` and
//! `arm-linux-gnueabihf-gcc` through its masquerade directory; the jobs land
//! on the volunteer that has only the cross toolchains; the programs linked
//! locally run under qemu-user and print what they should.
//!
//! Then the Arch-wiki variant (§7.4): on the cross volunteer a toolchain
//! directory gets unprefixed links (`gcc -> aarch64-linux-gnu-gcc`, ...) and a
//! second daemon runs with that directory first in its PATH, serving a client
//! that sends plain `gcc` (an ARM machine's native compiler, played here by
//! a directory where `gcc` is the aarch64 cross compiler).

use super::harness::{Container, Impl, Net, serial};
use super::setup::{self, Service};
use super::{CONFIG, client, cross, farm, prepare};

const HELLO: &str = "#include <stdio.h>\n#include \"util.h\"\n\
int main(void) { printf(\"hello from %s: %d\\n\", arch_name(), answer()); return 0; }\n";
const UTIL_H: &str = "const char *arch_name(void);\nint answer(void);\n";
const UTIL: &str = "#include \"util.h\"\n\
#if defined(__aarch64__)\nconst char *arch_name(void) { return \"aarch64\"; }\n\
#elif defined(__arm__)\nconst char *arch_name(void) { return \"arm\"; }\n\
#else\nconst char *arch_name(void) { return \"native\"; }\n#endif\n\
int answer(void) { int s = 0; for (int i = 1; i <= 8; i++) s += i; return s + 6; }\n";

fn write_sources(c: &Container, dir: &str) {
    for (name, text) in [("hello.c", HELLO), ("util.h", UTIL_H), ("util.c", UTIL)] {
        c.write(&format!("{dir}/{name}"), text, "0644");
    }
}

/// Compile the two files with `cc` (a name in PATH, via the masquerade
/// directory unless the script says otherwise), link locally with `link`,
/// run under `qemu`; prints the program's output.
fn build_and_run(c: &Container, env: &str, cc: &str, link: &str, qemu: &str, dir: &str) -> String {
    c.sh_ok(&format!(
        r#"
cd {dir}
M=/usr/lib/distcc; [ -d $M/bin ] && M=$M/bin
export PATH=$M:$PATH DISTCC_FALLBACK=0 {env}
{cc} -O2 -c hello.c -o hello.o
{cc} -O2 -c util.c -o util.o
{link} -o hello hello.o util.o
file hello
{qemu} ./hello
"#
    ))
}

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s2");
    let c = farm.start(&client());
    let x = farm.start(&cross("x1", Net::A, 21));
    let allow = vec![farm.subnet(Net::A), farm.subnet(Net::B)];
    prepare(&x);
    prepare(&c);
    let main = Service::main(&allow);
    setup::start_daemon(&x, &main);
    // The volunteer really has no native compiler.
    assert!(
        !x.sh("command -v gcc").ok(),
        "the cross volunteer must not have gcc"
    );
    setup::set_hosts(&c, CONFIG, &format!("{}/4", x.ip(Net::A)));

    write_sources(&c, "/work/cross");
    let out = build_and_run(
        &c,
        "",
        "aarch64-linux-gnu-gcc",
        "aarch64-linux-gnu-gcc",
        "qemu-aarch64 -L /usr/aarch64-linux-gnu",
        "/work/cross",
    );
    assert!(out.contains("ARM aarch64"), "{out}");
    assert!(out.contains("hello from aarch64: 42"), "{out}");
    let out = build_and_run(
        &c,
        "",
        "arm-linux-gnueabihf-gcc",
        "arm-linux-gnueabihf-gcc",
        "qemu-arm -L /usr/arm-linux-gnueabihf",
        "/work/cross",
    );
    assert!(out.contains("ARM, EABI5"), "{out}");
    assert!(out.contains("hello from arm: 42"), "{out}");
    assert_eq!(
        setup::compiles_ok(&c, x.ip(Net::A), main.stats_port),
        4,
        "all four cross compiles must have run on the cross volunteer"
    );

    // Arch-wiki variant: unprefixed links in a toolchain directory, a second
    // daemon with that directory first in its PATH and `gcc` whitelisted.
    let tools = "/opt/x-tools/aarch64-linux-gnu/bin";
    // The toolchain directory as a crosstool-ng x-tools dir would be.
    x.sh_ok(&format!(
        "mkdir -p {tools} && for f in /usr/bin/aarch64-linux-gnu-*; do ln -sf \"$f\" {tools}/; done"
    ));
    match CONFIG {
        Impl::Ours => {
            x.sh_ok(&format!("distcc-config --cross-links {tools}"));
        }
        // What the Arch wiki's loop does, plus the whitelist entries.
        Impl::Debian => {
            x.sh_ok(&format!(
                r#"
cd {tools}
for f in aarch64-linux-gnu-*; do ln -sf "$f" "${{f#aarch64-linux-gnu-}}"; done
ln -sf gcc cc
for n in gcc cc; do [ -e /usr/lib/distcc/$n ] || ln -s ../../bin/distcc /usr/lib/distcc/$n; done
"#
            ));
        }
    }
    let links = x.sh_ok(&format!(
        "readlink -f {tools}/gcc {tools}/cc; ls /usr/lib/distcc"
    ));
    assert!(
        links
            .lines()
            .take(2)
            .all(|l| l.contains("aarch64-linux-gnu-gcc")),
        "gcc and cc in {tools} must be the aarch64 compiler:\n{links}"
    );
    assert!(
        links.lines().skip(2).any(|l| l == "gcc"),
        "plain gcc must be whitelisted:\n{links}"
    );
    let arm = Service {
        name: "distccd-aarch64",
        port: 3642,
        stats_port: 3643,
        allow: allow.clone(),
        path: Some(format!("{tools}:/usr/bin:/bin")),
    };
    setup::start_daemon(&x, &arm);
    // The "ARM machine": its native gcc is the aarch64 compiler.
    c.sh_ok(
        "mkdir -p /opt/arm-native/bin && ln -sf /usr/bin/aarch64-linux-gnu-gcc /opt/arm-native/bin/gcc",
    );
    let out = build_and_run(
        &c,
        &format!(
            "DISTCC_HOSTS={}:3642/4 DISTCC_NO_REWRITE_CROSS=1 PATH=/opt/arm-native/bin:$PATH",
            x.ip(Net::A)
        ),
        "distcc gcc",
        "gcc",
        "qemu-aarch64 -L /usr/aarch64-linux-gnu",
        "/work/cross",
    );
    assert!(out.contains("ARM aarch64"), "{out}");
    assert!(out.contains("hello from aarch64: 42"), "{out}");
    assert_eq!(
        setup::compiles_ok(&c, x.ip(Net::A), arm.stats_port),
        2,
        "the plain-gcc jobs must have run on the cross volunteer's second daemon"
    );
    let log = setup::daemon_log(&x, &arm);
    assert!(log.contains("gcc"), "second daemon's log: {log}");
}
