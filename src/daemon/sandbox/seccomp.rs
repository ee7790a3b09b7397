//! The compiler's system-call filter (issue #10, part 2): a seccomp BPF
//! program, built once at start-up with `seccompiler` and installed in
//! each compiler just before `exec`.
//!
//! It is a short deny list on top of Landlock, for what Landlock does not
//! cover or covers only on newer kernels: no sockets of any family (TCP,
//! UDP, raw, netlink, and UNIX sockets, which could reach a local daemon
//! such as Docker's), no io_uring (its operations bypass seccomp), no
//! tracing or reading other processes' memory, no leaving the compiler's
//! process group (the daemon kills a job by its group), and none of the
//! kernel interfaces a compiler never uses (bpf, perf events, keyrings,
//! userfaultfd, namespaces, mounts). Everything else is allowed: a
//! compiler's needs vary (gcc, clang, cross toolchains, shells in
//! wrappers) and the file system is Landlock's job.
//!
//! On x86-64 a system call with the x32 bit set would slip past a deny
//! list keyed on x86-64 numbers, so those are refused first; system calls
//! of another architecture (32-bit `int 0x80`) kill the process, as
//! `seccompiler` does: a 32-bit compiler binary needs `--no-sandbox`.

use std::collections::BTreeMap;

use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch, sock_filter};

/// The refused system calls and the error each returns.
pub const DENIED: &[(&str, i64, i32)] = &[
    ("socket", libc::SYS_socket, libc::EACCES),
    ("io_uring_setup", libc::SYS_io_uring_setup, libc::EPERM),
    ("io_uring_enter", libc::SYS_io_uring_enter, libc::EPERM),
    (
        "io_uring_register",
        libc::SYS_io_uring_register,
        libc::EPERM,
    ),
    ("ptrace", libc::SYS_ptrace, libc::EPERM),
    ("process_vm_readv", libc::SYS_process_vm_readv, libc::EPERM),
    (
        "process_vm_writev",
        libc::SYS_process_vm_writev,
        libc::EPERM,
    ),
    ("setsid", libc::SYS_setsid, libc::EPERM),
    ("setpgid", libc::SYS_setpgid, libc::EPERM),
    ("bpf", libc::SYS_bpf, libc::EPERM),
    ("perf_event_open", libc::SYS_perf_event_open, libc::EPERM),
    ("userfaultfd", libc::SYS_userfaultfd, libc::EPERM),
    ("keyctl", libc::SYS_keyctl, libc::EPERM),
    ("add_key", libc::SYS_add_key, libc::EPERM),
    ("request_key", libc::SYS_request_key, libc::EPERM),
    ("unshare", libc::SYS_unshare, libc::EPERM),
    ("setns", libc::SYS_setns, libc::EPERM),
    ("mount", libc::SYS_mount, libc::EPERM),
    ("umount2", libc::SYS_umount2, libc::EPERM),
    ("pivot_root", libc::SYS_pivot_root, libc::EPERM),
    ("chroot", libc::SYS_chroot, libc::EPERM),
];

/// The filter for this machine's architecture; `Err` says why there is
/// none (an architecture `seccompiler` does not know).
pub fn program() -> Result<BpfProgram, String> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|_| format!("no seccomp filter for {}", std::env::consts::ARCH))?;
    // seccompiler applies one action to every match: one program per
    // error number, chained by `merge`.
    let mut by_errno: BTreeMap<i32, BTreeMap<i64, Vec<seccompiler::SeccompRule>>> = BTreeMap::new();
    for (_, nr, errno) in DENIED {
        by_errno.entry(*errno).or_default().insert(*nr, Vec::new());
    }
    let mut out: BpfProgram = Vec::new();
    for (errno, rules) in by_errno {
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(errno as u32),
            arch,
        )
        .map_err(|e| format!("seccomp filter: {e}"))?;
        let prog: BpfProgram = filter
            .try_into()
            .map_err(|e| format!("seccomp filter: {e}"))?;
        out = merge(out, prog);
    }
    Ok(guard_x32(out))
}

/// Chain two programs: where `first` would allow, run `second`. Both are
/// seccompiler output, whose every "allow" is a `RET ALLOW` instruction:
/// those in `first` become jumps to the start of `second`.
fn merge(first: BpfProgram, second: BpfProgram) -> BpfProgram {
    if first.is_empty() {
        return second;
    }
    let allow = libc::SECCOMP_RET_ALLOW;
    let n = first.len();
    let mut out: BpfProgram = first
        .into_iter()
        .enumerate()
        .map(|(i, ins)| {
            if ins.code == RET_K && ins.k == allow {
                // Unconditional jump forward to index n: offset n - i - 1.
                sock_filter {
                    code: JA,
                    jt: 0,
                    jf: 0,
                    k: (n - i - 1) as u32,
                }
            } else {
                ins
            }
        })
        .collect();
    out.extend(second);
    out
}

const RET_K: u16 = 0x06; // BPF_RET | BPF_K
const JA: u16 = 0x05; // BPF_JMP | BPF_JA
const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
/// `offsetof(struct seccomp_data, nr)`.
const NR_OFFSET: u32 = 0;
/// The x32 system-call bit.
const X32_BIT: u32 = 0x4000_0000;

/// On x86-64, refuse x32 system calls right after the architecture check
/// (the first three instructions of a seccompiler program).
fn guard_x32(prog: BpfProgram) -> BpfProgram {
    if std::env::consts::ARCH != "x86_64" || prog.len() < 3 {
        return prog;
    }
    let guard = [
        sock_filter {
            code: LD_W_ABS,
            jt: 0,
            jf: 0,
            k: NR_OFFSET,
        },
        sock_filter {
            code: JSET_K,
            jt: 0,
            jf: 1,
            k: X32_BIT,
        },
        sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        },
    ];
    let mut out = prog[..3].to_vec();
    out.extend(guard);
    out.extend_from_slice(&prog[3..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny classic-BPF interpreter, enough for seccompiler's output and
    /// our additions, to check the program's decisions without a kernel.
    fn run(prog: &[sock_filter], arch: u32, nr: u32) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let ins = &prog[pc];
            pc += 1;
            match ins.code {
                LD_W_ABS => {
                    acc = match ins.k {
                        0 => nr,
                        4 => arch,
                        other => panic!("load of offset {other}"),
                    }
                }
                RET_K => return ins.k,
                JA => pc += ins.k as usize,
                0x15 => pc += if acc == ins.k { ins.jt } else { ins.jf } as usize, // JEQ
                JSET_K => pc += if acc & ins.k != 0 { ins.jt } else { ins.jf } as usize,
                other => panic!("instruction {other:#x}"),
            }
        }
    }

    const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    const AUDIT_ARCH_AARCH64: u32 = 183 | 0x8000_0000 | 0x4000_0000;

    fn native() -> u32 {
        match std::env::consts::ARCH {
            "x86_64" => AUDIT_ARCH_X86_64,
            "aarch64" => AUDIT_ARCH_AARCH64,
            other => panic!("test for {other}"),
        }
    }

    #[test]
    fn denied_calls_get_their_errno_and_the_rest_is_allowed() {
        let prog = program().unwrap();
        for (name, nr, errno) in DENIED {
            let got = run(&prog, native(), *nr as u32);
            assert_eq!(got, libc::SECCOMP_RET_ERRNO | *errno as u32, "{name}");
        }
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_clone,
            libc::SYS_wait4,
            libc::SYS_socketpair,
            libc::SYS_exit_group,
        ] {
            assert_eq!(
                run(&prog, native(), nr as u32),
                libc::SECCOMP_RET_ALLOW,
                "{nr}"
            );
        }
    }

    #[test]
    fn other_architectures_are_killed_and_x32_refused() {
        let prog = program().unwrap();
        let got = run(&prog, 3 | 0x4000_0000, 41); // AUDIT_ARCH_I386
        assert_eq!(got, libc::SECCOMP_RET_KILL_PROCESS);
        if std::env::consts::ARCH == "x86_64" {
            let x32_socket = X32_BIT | libc::SYS_socket as u32;
            assert_eq!(
                run(&prog, native(), x32_socket),
                libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32
            );
        }
    }
}
