//! Landlock: the ABI to use on this kernel, and the ruleset the
//! trampoline enforces on itself from the plan's rules.

use std::path::Path;

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, Scope, path_beneath_rules,
};

use super::TESTED_ABI;
use super::rules::{self, Grant, Rule};

/// The Landlock ABI to use for the kernel's `kernel` ABI (negative or 0:
/// none) and a test cap, and the start-up warning when it is less than
/// [`TESTED_ABI`]. Pure, so every kernel case is tested here.
pub fn landlock_plan(kernel: i32, cap: Option<i32>) -> (i32, Option<String>) {
    let abi = kernel.min(cap.unwrap_or(i32::MAX)).clamp(0, TESTED_ABI);
    let what = |missing: &str| {
        format!(
            "Landlock ABI {abi} (wanted {TESTED_ABI}): {missing}; the seccomp filter, \
             no_new_privs and resource limits still apply"
        )
    };
    let warning = match abi {
        0 => Some(
            "this kernel has no Landlock (Linux 5.13 or later with landlock in lsm=): \
             compilers can read every file the daemon's user can, and write outside the \
             job directory; the seccomp filter (no network), no_new_privs and resource \
             limits still apply"
                .to_string(),
        ),
        1..=3 => Some(what(
            "no Landlock network rules and no signal scoping (sockets are refused by \
             seccomp)",
        )),
        4 | 5 => Some(what(
            "compilers may signal the daemon's other processes and reach abstract UNIX \
             sockets",
        )),
        _ => None,
    };
    (abi, warning)
}

/// A Landlock ruleset for ABI `abi` (1 or more) with `rules` and the job
/// directory; the trampoline enforces it on itself.
pub fn ruleset(abi: i32, rules: &[Rule], job_dir: Option<&Path>) -> Result<RulesetCreated, String> {
    let abi = ABI::from(abi);
    let err = |e: landlock::RulesetError| format!("cannot build the Landlock ruleset: {e}");
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(err)?;
    if abi >= ABI::V4 {
        // Handled and never granted: no TCP bind or connect.
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(err)?;
    }
    if abi >= ABI::V6 {
        ruleset = ruleset.scope(Scope::from_all(abi)).map_err(err)?;
    }
    let mut created = ruleset.create().map_err(err)?;
    let job = job_dir.map(rules::job_rule);
    for rule in rules.iter().chain(job.as_ref()) {
        created = created
            .add_rules(path_beneath_rules([&rule.path], access(rule.grant, abi)))
            .map_err(err)?;
    }
    Ok(created)
}

/// The Landlock rights of a grant.
fn access(grant: Grant, abi: ABI) -> BitFlags<AccessFs> {
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    match grant {
        Grant::ReadExec => read | AccessFs::Execute,
        Grant::Read => read,
        Grant::ReadWriteFile => AccessFs::ReadFile | AccessFs::WriteFile | truncate(abi),
        Grant::JobDir => AccessFs::from_all(abi) & !AccessFs::Execute,
        Grant::Full => AccessFs::from_all(abi),
    }
}

fn truncate(abi: ABI) -> BitFlags<AccessFs> {
    if abi >= ABI::V3 {
        AccessFs::Truncate.into()
    } else {
        BitFlags::EMPTY
    }
}

/// The running kernel's Landlock ABI version (0 or less: none).
pub(super) fn kernel_landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: landlock_create_ruleset with a null attribute, size 0 and
    // the VERSION flag only returns a number; no memory is touched.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    i32::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landlock_plan_for_every_kernel() {
        // (kernel ABI, test cap) -> (ABI used, warned?)
        const CASES: &[(i32, Option<i32>, i32, bool)] = &[
            (-38, None, 0, true), // ENOSYS: not built in
            (-95, None, 0, true), // EOPNOTSUPP: not enabled at boot
            (0, None, 0, true),
            (1, None, 1, true),
            (3, None, 3, true),
            (4, None, 4, true),
            (6, None, 6, false),
            (7, None, 6, false), // newer kernels get the tested rules
            (99, None, 6, false),
            (7, Some(0), 0, true), // the test knob
            (7, Some(4), 4, true),
        ];
        for &(kernel, cap, abi, warned) in CASES {
            let (got, warning) = landlock_plan(kernel, cap);
            assert_eq!(got, abi, "kernel {kernel} cap {cap:?}");
            assert_eq!(warning.is_some(), warned, "kernel {kernel} cap {cap:?}");
        }
        let (_, w) = landlock_plan(0, None);
        assert!(w.unwrap().contains("no Landlock"));
    }

    #[test]
    fn grants_map_to_landlock_rights() {
        let abi = ABI::V6;
        assert!(access(Grant::ReadExec, abi).contains(AccessFs::Execute));
        assert!(!access(Grant::Read, abi).contains(AccessFs::Execute));
        assert!(!access(Grant::Read, abi).contains(AccessFs::WriteFile));
        let job = access(Grant::JobDir, abi);
        assert!(job.contains(AccessFs::WriteFile | AccessFs::MakeReg | AccessFs::RemoveFile));
        assert!(!job.contains(AccessFs::Execute));
        assert!(access(Grant::Full, abi).contains(AccessFs::Execute | AccessFs::WriteFile));
        assert!(!access(Grant::ReadWriteFile, abi).contains(AccessFs::IoctlDev));
    }
}
