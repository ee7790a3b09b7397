//! The shared libraries an ELF program names (`DT_NEEDED`) and where it
//! asks for them first (`DT_RUNPATH`, `DT_RPATH`): clang linked against
//! `libLLVM` and `libclang-cpp` compiles with their code, so a different
//! build of them is a different compiler (docs/extension.md §7). Pure:
//! the caller reads the bytes asked for.
//!
//! Only 64-bit little-endian ELF (x86-64, aarch64, riscv64, ...) is read;
//! anything else names no library, and is hashed as before: the binary
//! alone.

/// What an ELF program's dynamic section says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dynamic {
    /// `DT_NEEDED`: the libraries, as named (`libLLVM-14.so.1`).
    pub needed: Vec<String>,
    /// `DT_RUNPATH` or else `DT_RPATH`, split at `:` (`$ORIGIN` as is).
    pub runpath: Vec<String>,
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;
/// More program headers or dynamic entries than any real program has.
const MAX_ENTRIES: u64 = 4096;

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The dynamic section of the ELF file whose bytes `read(offset, len)`
/// gives (None past its end); None if it is not a 64-bit little-endian
/// ELF file or has no dynamic section (a static program).
pub fn dynamic(read: impl Fn(u64, u64) -> Option<Vec<u8>>) -> Option<Dynamic> {
    let head = read(0, 64)?;
    if head.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let (phoff, phentsize, phnum) = (
        u64_at(&head, 0x20)?,
        u16_at(&head, 0x36)?,
        u16_at(&head, 0x38)?,
    );
    if phentsize < 56 || phnum > MAX_ENTRIES {
        return None;
    }
    let table = read(phoff, phentsize * phnum)?;
    // (type, offset, vaddr, filesz) of each program header.
    let headers: Vec<(u32, u64, u64, u64)> = (0..phnum as usize)
        .filter_map(|i| {
            let h = i * phentsize as usize;
            Some((
                u32_at(&table, h)?,
                u64_at(&table, h + 8)?,
                u64_at(&table, h + 16)?,
                u64_at(&table, h + 32)?,
            ))
        })
        .collect();
    let &(_, dyn_off, _, dyn_size) = headers.iter().find(|h| h.0 == PT_DYNAMIC)?;
    let entries = read(dyn_off, dyn_size.min(16 * MAX_ENTRIES))?;
    let mut tags = Vec::new();
    for e in entries.chunks_exact(16) {
        let (tag, val) = (u64_at(e, 0)?, u64_at(e, 8)?);
        if tag == 0 {
            break;
        }
        tags.push((tag, val));
    }
    let find = |want: u64| tags.iter().find(|(t, _)| *t == want).map(|(_, v)| *v);
    // DT_STRTAB is an address: the loaded segment holding it says where
    // it is in the file.
    let strtab = find(DT_STRTAB)?;
    let strsz = find(DT_STRSZ)?.min(1 << 24);
    let &(_, seg_off, seg_vaddr, _) = headers.iter().find(|(t, _, vaddr, filesz)| {
        *t == PT_LOAD && (*vaddr..vaddr.saturating_add(*filesz)).contains(&strtab)
    })?;
    let strings = read(strtab - seg_vaddr + seg_off, strsz)?;
    let text = |at: u64| -> Option<String> {
        let rest = strings.get(at as usize..)?;
        let end = rest.iter().position(|&c| c == 0)?;
        String::from_utf8(rest[..end].to_vec()).ok()
    };
    let needed = tags
        .iter()
        .filter(|(t, _)| *t == DT_NEEDED)
        .filter_map(|(_, v)| text(*v))
        .collect();
    let runpath = find(DT_RUNPATH)
        .or_else(|| find(DT_RPATH))
        .and_then(text)
        .map(|p| {
            p.split(':')
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some(Dynamic { needed, runpath })
}

/// The libraries whose code compiles for clang, by identity key: those
/// `needed` names starting with `libLLVM` or `libclang-cpp`.
pub fn compiler_libraries(needed: &[String]) -> Vec<(&'static str, &str)> {
    needed
        .iter()
        .filter_map(|n| {
            ["libLLVM", "libclang-cpp"]
                .into_iter()
                .find(|k| n.starts_with(k))
                .map(|k| (k, n.as_str()))
        })
        .collect()
}

/// The directories to look for a library in, in order: the program's
/// run path (`$ORIGIN` is `origin`, the program's directory), then
/// `system` (ld.so's: its configuration, then the defaults).
pub fn search_dirs(runpath: &[String], origin: &str, system: &[String]) -> Vec<String> {
    runpath
        .iter()
        .map(|d| d.replace("${ORIGIN}", origin).replace("$ORIGIN", origin))
        .chain(system.iter().cloned())
        .collect()
}

/// The directories `/etc/ld.so.conf`'s text names (an `include` line's
/// files are read by `include(pattern)`), then the defaults.
pub fn ld_so_dirs(conf: &str, include: &dyn Fn(&str) -> Vec<String>) -> Vec<String> {
    let mut dirs = conf_dirs(conf, include);
    for d in ["/lib64", "/usr/lib64", "/lib", "/usr/lib"] {
        dirs.push(d.to_owned());
    }
    dirs
}

fn conf_dirs(conf: &str, include: &dyn Fn(&str) -> Vec<String>) -> Vec<String> {
    let mut dirs = Vec::new();
    for line in conf.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(pattern) = line.strip_prefix("include") {
            for text in include(pattern.trim()) {
                dirs.extend(conf_dirs(&text, &|_| Vec::new()));
            }
        } else if line.starts_with('/') {
            dirs.push(line.to_owned());
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &std::path::Path) -> Option<Dynamic> {
        let bytes = std::fs::read(path).ok()?;
        dynamic(|at, len| {
            bytes
                .get(at as usize..(at + len) as usize)
                .map(<[u8]>::to_vec)
        })
    }

    #[test]
    fn a_dynamic_program_names_its_libraries() {
        // This test program: linked against the C library.
        let me = file(&std::env::current_exe().unwrap()).expect("an ELF program");
        assert!(me.needed.iter().any(|n| n.starts_with("libc.so")), "{me:?}");
        // Debian's clang 14: libclang-cpp and libLLVM, no run path.
        if let Some(clang) = file(std::path::Path::new("/usr/lib/llvm-14/bin/clang")) {
            let libs = compiler_libraries(&clang.needed);
            assert_eq!(
                libs,
                [
                    ("libclang-cpp", "libclang-cpp.so.14"),
                    ("libLLVM", "libLLVM-14.so.1")
                ]
            );
        }
    }

    #[test]
    fn other_bytes_name_nothing() {
        for bytes in [
            &b""[..],
            b"#!/bin/sh\n",
            b"\x7fELF\x01\x01\x01\0",
            &[0x7f; 64],
        ] {
            let got = dynamic(|at, len| {
                bytes
                    .get(at as usize..(at + len) as usize)
                    .map(<[u8]>::to_vec)
            });
            assert_eq!(got, None, "{bytes:?}");
        }
        // A truncated ELF header.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let cut = &me[..200];
        assert_eq!(
            dynamic(|at, len| cut
                .get(at as usize..(at + len) as usize)
                .map(<[u8]>::to_vec)),
            None
        );
    }

    #[test]
    fn libraries_are_looked_for_as_ld_so_does() {
        let conf = "# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/lib\n";
        let include = |p: &str| {
            assert_eq!(p, "/etc/ld.so.conf.d/*.conf");
            vec!["/usr/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu # multiarch\n".to_owned()]
        };
        let system = ld_so_dirs(conf, &include);
        assert_eq!(
            system,
            [
                "/usr/lib/x86_64-linux-gnu",
                "/lib/x86_64-linux-gnu",
                "/opt/lib",
                "/lib64",
                "/usr/lib64",
                "/lib",
                "/usr/lib"
            ]
        );
        let dirs = search_dirs(
            &["$ORIGIN/../lib".into(), "${ORIGIN}/x".into()],
            "/o/bin",
            &system[..1],
        );
        assert_eq!(
            dirs,
            ["/o/bin/../lib", "/o/bin/x", "/usr/lib/x86_64-linux-gnu"]
        );
        assert_eq!(
            compiler_libraries(&["libc.so.6".into(), "libLLVM-17.so".into()]),
            [("libLLVM", "libLLVM-17.so")]
        );
    }
}
