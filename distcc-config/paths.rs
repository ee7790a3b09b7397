//! Where things are: Gentoo's file locations (packaging notes §1.2) under
//! `--root DIR` and `EPREFIX`, and which distribution the root holds.
//!
//! Two views of a path: `sys()` is where distcc-config reads and writes it
//! (`ROOT + EPREFIX + path`), `host()` is how the running system sees it
//! (`EPREFIX + path`: link targets, programs to run). With `--root`, files
//! are edited inside DIR while links still point to `/usr/bin/distcc`, as
//! Portage does for `ROOT`.

use std::path::{Path, PathBuf};

/// The distribution, which decides link style and the `bin` directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Distro {
    Gentoo,
    Arch,
    Debian,
    Other,
}

impl Distro {
    /// From /etc/os-release (`ID`, then `ID_LIKE`), else from marker
    /// files: /etc/portage, /etc/pacman.conf, /etc/debian_version.
    pub fn detect(os_release: Option<&str>, markers: [bool; 3]) -> Self {
        if let Some(text) = os_release {
            let field = |key: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                    .map(|v| v.trim_matches(['"', '\'']).to_owned())
            };
            let ids = [field("ID"), field("ID_LIKE")];
            for id in ids.iter().flatten().flat_map(|v| v.split_whitespace()) {
                match id {
                    "gentoo" | "funtoo" => return Self::Gentoo,
                    "arch" | "archarm" => return Self::Arch,
                    "debian" | "ubuntu" => return Self::Debian,
                    _ => {}
                }
            }
        }
        match markers {
            [true, _, _] => Self::Gentoo,
            [_, true, _] => Self::Arch,
            [_, _, true] => Self::Debian,
            _ => Self::Other,
        }
    }

    /// Relative links on Debian (update-distcc-symlinks) and Arch (its
    /// PKGBUILD since 3.3.3); absolute on Gentoo (shadowman, distcc-config).
    pub fn default_link_style(self) -> LinkStyle {
        match self {
            Self::Arch | Self::Debian => LinkStyle::Relative,
            Self::Gentoo | Self::Other => LinkStyle::Absolute,
        }
    }

    /// Whether `/usr/lib/distcc/bin` must exist (Portage, makepkg).
    pub fn wants_bin_dir(self) -> bool {
        matches!(self, Self::Gentoo | Self::Arch)
    }
}

/// How masquerade links name distcc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LinkStyle {
    Absolute,
    Relative,
}

/// The file locations of one installation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `--root` (default `/`).
    pub root: PathBuf,
    /// `EPREFIX`, absolute or empty.
    pub eprefix: PathBuf,
}

impl Layout {
    pub fn new(root: &Path, eprefix: &str) -> Self {
        Self {
            root: root.to_path_buf(),
            eprefix: PathBuf::from(eprefix.trim_end_matches('/')),
        }
    }

    /// Whether this is the running system itself (no --root, no EPREFIX):
    /// then changes need root, as in Gentoo's script.
    pub fn is_live_system(&self) -> bool {
        self.root == Path::new("/") && self.eprefix.as_os_str().is_empty()
    }

    /// `EPREFIX/rel`, as the running system sees it.
    pub fn host(&self, rel: &str) -> PathBuf {
        let mut p = if self.eprefix.as_os_str().is_empty() {
            PathBuf::from("/")
        } else {
            self.eprefix.clone()
        };
        p.push(rel);
        p
    }

    /// `ROOT/EPREFIX/rel`: where to read and write.
    pub fn sys(&self, rel: &str) -> PathBuf {
        self.reroot(&self.host(rel))
    }

    /// An absolute path of the running system, inside ROOT.
    pub fn reroot(&self, path: &Path) -> PathBuf {
        let rel = path.strip_prefix("/").unwrap_or(path);
        self.root.join(rel)
    }

    pub fn env_file(&self) -> PathBuf {
        self.sys("etc/env.d/02distcc")
    }
    pub fn sysconfdir(&self) -> PathBuf {
        self.sys("etc")
    }
    pub fn masq_dir(&self) -> PathBuf {
        self.sys("usr/lib/distcc")
    }
    pub fn masq_dir_host(&self) -> PathBuf {
        self.host("usr/lib/distcc")
    }
    pub fn distcc_host(&self) -> PathBuf {
        self.host("usr/bin/distcc")
    }
    pub fn bin_dir(&self) -> PathBuf {
        self.sys("usr/bin")
    }
    pub fn gcc_config(&self) -> PathBuf {
        self.host("usr/bin/gcc-config")
    }
    pub fn env_update(&self) -> PathBuf {
        self.host("usr/sbin/env-update")
    }
    /// Cross toolchain directories registered with --cross-links.
    pub fn cross_registry(&self) -> PathBuf {
        self.sys("etc/distcc/cross-toolchains")
    }
    /// compilers.toml: the administrator's copy, then the packaged one.
    pub fn compilers_toml(&self) -> [PathBuf; 2] {
        [
            self.sys("etc/distcc/compilers.toml"),
            self.sys("usr/share/distcc/compilers.toml"),
        ]
    }
    pub fn make_conf(&self) -> PathBuf {
        self.sys("etc/portage/make.conf")
    }
    pub fn makepkg_conf(&self) -> PathBuf {
        self.sys("etc/makepkg.conf")
    }
    pub fn makepkg_conf_d(&self) -> PathBuf {
        self.sys("etc/makepkg.conf.d")
    }
    pub fn confd(&self) -> PathBuf {
        self.sys("etc/conf.d/distccd")
    }
    pub fn debian_default(&self) -> PathBuf {
        self.sys("etc/default/distcc")
    }
    /// systemd drop-in directories for distccd.service, the administrator's
    /// first (a drop-in there replaces a packaged one of the same name).
    pub fn dropin_dirs(&self) -> [PathBuf; 3] {
        [
            self.sys("etc/systemd/system/distccd.service.d"),
            self.sys("usr/lib/systemd/system/distccd.service.d"),
            self.sys("lib/systemd/system/distccd.service.d"),
        ]
    }
    /// distccd.service: the administrator's full copy, then the packaged one.
    pub fn units(&self) -> [PathBuf; 3] {
        [
            self.sys("etc/systemd/system/distccd.service"),
            self.sys("usr/lib/systemd/system/distccd.service"),
            self.sys("lib/systemd/system/distccd.service"),
        ]
    }
    pub fn xinetd(&self) -> PathBuf {
        self.sys("etc/xinetd.d/distcc")
    }
    pub fn os_release(&self) -> [PathBuf; 2] {
        [self.sys("etc/os-release"), self.sys("usr/lib/os-release")]
    }
    pub fn distro_markers(&self) -> [PathBuf; 3] {
        [
            self.sys("etc/portage"),
            self.sys("etc/pacman.conf"),
            self.sys("etc/debian_version"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_eprefix_compose() {
        let l = Layout::new(Path::new("/tmp/r"), "/gentoo/");
        assert_eq!(l.env_file(), Path::new("/tmp/r/gentoo/etc/env.d/02distcc"));
        assert_eq!(l.distcc_host(), Path::new("/gentoo/usr/bin/distcc"));
        assert_eq!(
            l.reroot(Path::new("/opt/x/bin")),
            Path::new("/tmp/r/opt/x/bin")
        );
        assert!(!l.is_live_system());
        let l = Layout::new(Path::new("/"), "");
        assert_eq!(l.sysconfdir(), Path::new("/etc"));
        assert_eq!(l.masq_dir_host(), Path::new("/usr/lib/distcc"));
        assert!(l.is_live_system());
    }

    #[test]
    fn distro_detection() {
        let d = |t: &str| Distro::detect(Some(t), [false; 3]);
        assert_eq!(d("NAME=Gentoo\nID=gentoo\n"), Distro::Gentoo);
        assert_eq!(d("ID=\"archarm\"\n"), Distro::Arch);
        assert_eq!(d("ID=endeavouros\nID_LIKE=arch\n"), Distro::Arch);
        assert_eq!(
            d("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n"),
            Distro::Debian
        );
        assert_eq!(d("ID=fedora\n"), Distro::Other);
        assert_eq!(Distro::detect(None, [false, true, false]), Distro::Arch);
        assert_eq!(Distro::Gentoo.default_link_style(), LinkStyle::Absolute);
        assert_eq!(Distro::Debian.default_link_style(), LinkStyle::Relative);
        assert!(!Distro::Debian.wants_bin_dir());
    }
}
