//! The hostile compiles: what each attempts and how to tell it failed.

/// A server file a compiler must not read: its contents may not reach a
/// reply. World-readable, so only the sandbox stands in the way.
pub(super) const SECRET: &str = "secret.txt";
pub(super) const SECRET_TEXT: &str = "TOP-SECRET-0x5eb1";
/// Where hostile compilers try to write (outside any job directory).
pub(super) const OUTSIDE: &str = "outside";

/// What a hostile compile is.
#[derive(Clone, Copy, Debug)]
pub(super) enum Attack {
    /// gcc compiles C `source` (protocol 1); `{secret}` stands for the
    /// secret's path.
    Source(&'static str),
    /// A protocol 3 (pump) compile of `p.c` holding `source`, with extra
    /// arguments before `-c`.
    Pump(&'static str, &'static [&'static str]),
    /// A whitelisted "compiler" script (bash) with this body; `{secret}`,
    /// `{outside}`, `{port}` are filled in, `$out` is the `-o` argument.
    Script(&'static str),
}

/// How to tell the attack failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Check {
    /// Neither the secret nor /etc/passwd's first line reaches the reply.
    NoLeak,
    /// Nothing appears under `outside/`.
    NoWrite,
    /// The test's TCP and UDP listeners on 127.0.0.1 hear nothing.
    NoNetwork,
    /// The compiler reports (on stdout) at most this many things done.
    AtMost(u64),
    /// Nothing the compile started is still running after the reply.
    NothingLeftRunning,
}

pub struct Case {
    pub(super) name: &'static str,
    pub(super) attack: Attack,
    pub(super) check: Check,
    /// Extra daemon options.
    pub(super) args: &'static [&'static str],
    /// Stopped by Landlock/seccomp (so `--no-sandbox` lets it through);
    /// false for what resource limits stop.
    pub(super) confinement: bool,
}

pub(super) const PASSWD_HEAD: &str = "root:x:0:0:";

/// The hostile cases.
pub const CASES: &[Case] = &[
    Case {
        name: "incbin /etc/passwd",
        attack: Attack::Source(
            "asm(\".section .rodata\\n.incbin \\\"/etc/passwd\\\"\\n\");\nint x;\n",
        ),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "incbin of a server file beside the farm",
        attack: Attack::Source(
            "asm(\".section .rodata\\n.incbin \\\"{secret}\\\"\\n\");\nint x;\n",
        ),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "pump: #include \"/etc/passwd\"",
        attack: Attack::Pump("#include \"/etc/passwd\"\nint x;\n", &[]),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "pump: #include of the secret by its absolute path",
        attack: Attack::Pump("#include \"{secret}\"\nint x;\n", &[]),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "pump: #include \"../../../...\" out of the mirror",
        attack: Attack::Pump(
            "#include \"../../../../../../../../../../../../../../../../../../../../etc/passwd\"\nint x;\n",
            &[],
        ),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "pump: -I../.. out of the mirror",
        attack: Attack::Pump(
            "#include \"etc/passwd\"\nint x;\n",
            &["-I../../../../../../../../../../../../../../../../../../../.."],
        ),
        check: Check::NoLeak,
        args: &[],
        // The argument checks refuse a relative path that climbs above
        // the mirror's root before the sandbox is needed.
        confinement: false,
    },
    Case {
        name: "compiler copies a server file into its object",
        attack: Attack::Script("cat {secret} /etc/passwd > \"$out\""),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler runs /bin/sh to read a server file",
        attack: Attack::Script("/bin/sh -c \"cat {secret} > '$out'\""),
        check: Check::NoLeak,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler writes outside the job directory",
        attack: Attack::Script("echo pwned > {outside}/written; gcc -c -x c /dev/null -o \"$out\""),
        check: Check::NoWrite,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler makes a directory and a link outside",
        attack: Attack::Script("mkdir {outside}/dir; ln -s /etc/passwd {outside}/link"),
        check: Check::NoWrite,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler opens a TCP connection",
        attack: Attack::Script("exec 3<>/dev/tcp/127.0.0.1/{port} && echo hello >&3"),
        check: Check::NoNetwork,
        args: &[],
        confinement: true,
    },
    Case {
        name: "compiler sends a UDP datagram",
        attack: Attack::Script("echo hello > /dev/udp/127.0.0.1/{port}"),
        check: Check::NoNetwork,
        args: &[],
        confinement: true,
    },
    Case {
        name: "fork bomb",
        attack: Attack::Script(
            "python3 -c '
import os, time
n = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print(n)'",
        ),
        // 30 more processes than the daemon's user had at start-up: others
        // may exit meanwhile, hence the slack (3.4 and no limit: 300).
        check: Check::AtMost(120),
        args: &["--job-process-limit", "30"],
        confinement: false,
    },
    Case {
        name: "background processes outlive the compiler",
        attack: Attack::Script("(exec sleep 41.25) & (exec sleep 41.5) & echo started"),
        check: Check::NothingLeftRunning,
        args: &[],
        confinement: false,
    },
    Case {
        name: "memory hog",
        attack: Attack::Script(
            "python3 -c 'b = bytearray(1 << 30); print(1 << 30)' 2>/dev/null || echo 0",
        ),
        check: Check::AtMost(256 << 20),
        args: &["--job-memory-limit", "256"],
        confinement: false,
    },
    Case {
        name: "file-size hog",
        attack: Attack::Script(
            "python3 -c '
import os
n = 0
try:
    with open(os.environ[\"TMPDIR\"] + \"/big\", \"wb\") as f:
        for _ in range(64):
            f.write(b\"x\" * (1 << 20)); f.flush(); n += 1 << 20
except OSError:
    pass
print(n)'",
        ),
        check: Check::AtMost(1 << 20),
        args: &["--job-file-size-limit", "1"],
        confinement: false,
    },
];
