//! The compiler-name patterns of masquerade/compilers.toml: which
//! executables get a masquerade link. The file's format is documented in
//! the file itself; the packaged copy is built in as the default.

use serde::Deserialize;

use super::glob::Glob;

/// masquerade/compilers.toml as shipped; used when no copy is installed.
pub const BUILTIN: &str = include_str!("../../masquerade/compilers.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    group: Vec<GroupFile>,
    #[serde(default)]
    exclude: Option<ExcludeFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    name: String,
    include: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExcludeFile {
    patterns: Vec<String>,
}

/// Compiled patterns.
#[derive(Clone, Debug)]
pub struct Patterns {
    groups: Vec<(String, Vec<Glob>)>,
    exclude: Vec<Glob>,
}

impl Patterns {
    /// Parse the TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        let compile = |list: &[String]| -> Result<Vec<Glob>, String> {
            list.iter()
                .map(|p| Glob::new(p).map_err(|e| format!("{origin}: {e}")))
                .collect()
        };
        let mut groups = Vec::new();
        for g in &file.group {
            groups.push((g.name.clone(), compile(&g.include)?));
        }
        let exclude = match &file.exclude {
            Some(e) => compile(&e.patterns)?,
            None => Vec::new(),
        };
        Ok(Self { groups, exclude })
    }

    /// The built-in copy (a unit test guarantees it parses).
    pub fn builtin() -> Self {
        Self::parse(BUILTIN, "built-in compilers.toml").expect("built-in patterns parse")
    }

    /// The group a compiler name belongs to, if it should be linked.
    pub fn group_of(&self, name: &str) -> Option<&str> {
        if self.exclude.iter().any(|g| g.matches(name)) {
            return None;
        }
        self.groups
            .iter()
            .find(|(_, globs)| globs.iter().any(|g| g.matches(name)))
            .map(|(n, _)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_file_parses_and_covers_the_usual_names() {
        let p = Patterns::builtin();
        for name in [
            "gcc",
            "g++",
            "cc",
            "c++",
            "c89",
            "c99",
            "cpp",
            "clang",
            "clang++",
            "gcc-12",
            "clang-15",
            "c89-gcc",
            "c99-g++",
            "x86_64-pc-linux-gnu-gcc",
            "x86_64-pc-linux-gnu-gcc-13",
            "aarch64-linux-gnu-g++-12",
            "x86_64-linux-gnu-cpp-12",
            "nvcc",
            "llvm-clang",
        ] {
            assert!(p.group_of(name).is_some(), "{name} should be linked");
        }
        for name in [
            "distcc",
            "ccache",
            "gcc-ar",
            "x86_64-linux-gnu-gcc-ar-12",
            "gcc-nm",
            "clangd",
            "c++filt",
            "gcov",
            "ld",
            "cpp-fmt",
        ] {
            assert_eq!(p.group_of(name), None, "{name} should not be linked");
        }
        assert_eq!(p.group_of("x86_64-linux-gnu-gcc-12"), Some("gcc"));
        assert_eq!(p.group_of("cc"), Some("posix"));
    }

    #[test]
    fn errors_name_the_file() {
        let e = Patterns::parse("[[group]]\nname = 1", "x.toml").unwrap_err();
        assert!(e.starts_with("x.toml:"), "{e}");
        let e =
            Patterns::parse("[[group]]\nname = \"a\"\ninclude = [\"{x\"]", "y.toml").unwrap_err();
        assert!(e.contains("bad pattern"), "{e}");
        let e =
            Patterns::parse("[[group]]\nname = \"a\"\ninclude = []\nextra = 1", "z").unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }
}
