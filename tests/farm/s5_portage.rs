//! Scenario 5: real Portage (PyPI `portage`, installed in the client image)
//! with `FEATURES=distcc` emerging a small ebuild from a minimal repository,
//! fully offline: a profile with only make.defaults, repos.conf naming the
//! repository, and an ebuild whose sources are in its `files/` directory.
//!
//! Checked: Portage puts the masquerade directory first in PATH and sets
//! `DISTCC_DIR=/var/tmp/portage/.distcc` (packaging notes §3.1-3.2); the
//! compile jobs reach the volunteers (their stats count every object); the
//! merged program prints the right line. Then once more with Portage's
//! network-sandbox, where the build has no network and only the SOCKS5 proxy
//! Portage hands over in `DISTCC_SOCKS_PROXY` (§3.4) leads out.

use super::harness::{Container, Impl, Net, serial};
use super::setup;
use super::{CLIENT_OURS, CONFIG, farm, prepare_as, project, two_volunteers};
use crate::support::TempDir;

const REPO: &str = "/var/db/repos/farm";

const EBUILD: &str = r#"# A self-contained test package: sources in files/, no SRC_URI.
EAPI=8
DESCRIPTION="distcc-rs container farm test package"
HOMEPAGE="https://example.invalid/distcc-rs-farm"
LICENSE="GPL-2"
SLOT="0"
KEYWORDS="amd64"
S="${WORKDIR}/proj"

src_unpack() {
	mkdir -p "${S}" && cp -r "${FILESDIR}"/proj/. "${S}"/ || die
}

src_compile() {
	echo "farm-env PATH=${PATH}"
	echo "farm-env DISTCC_DIR=${DISTCC_DIR}"
	echo "farm-env DISTCC_SOCKS_PROXY=${DISTCC_SOCKS_PROXY}"
	emake
}

src_install() {
	newbin prog farmhello
}
"#;

/// The minimal repository, profile and configuration Portage needs.
fn configure_portage(c: &Container) {
    let files = [
        (format!("{REPO}/profiles/repo_name"), "farm\n"),
        (format!("{REPO}/profiles/categories"), "app-misc\n"),
        (format!("{REPO}/profiles/farm/eapi"), "8\n"),
        (
            format!("{REPO}/profiles/farm/make.defaults"),
            "ARCH=\"amd64\"\nACCEPT_KEYWORDS=\"amd64\"\nCHOST=\"x86_64-pc-linux-gnu\"\n\
             ELIBC=\"glibc\"\nKERNEL=\"linux\"\nUSERLAND=\"GNU\"\n",
        ),
        (
            format!("{REPO}/metadata/layout.conf"),
            "masters =\nthin-manifests = true\nsign-manifests = false\nprofile-formats = portage-2\n",
        ),
        (
            format!("{REPO}/app-misc/farmhello/farmhello-1.ebuild"),
            EBUILD,
        ),
        (
            "/etc/portage/repos.conf/farm.conf".to_string(),
            "[DEFAULT]\nmain-repo = farm\n\n[farm]\nlocation = /var/db/repos/farm\n",
        ),
    ];
    for (path, text) in &files {
        c.write(path, text, "0644");
    }
    c.sh_ok(&format!(
        "ln -sfn {REPO}/profiles/farm /etc/portage/make.profile"
    ));
}

/// make.conf with FEATURES=distcc, with or without the network sandbox.
/// `sandbox`/`usersandbox` need Gentoo's sandbox program, which Debian
/// does not have; everything else is Portage's default (userpriv included).
fn make_conf(network_sandbox: bool) -> String {
    let ns = if network_sandbox {
        "network-sandbox"
    } else {
        "-network-sandbox"
    };
    format!(
        "FEATURES=\"distcc -sandbox -usersandbox {ns}\"\nMAKEOPTS=\"-j6\"\nCFLAGS=\"-O2\"\n\
         CXXFLAGS=\"-O2\"\nBINPKG_COMPRESS=\"bzip2\"\nPORTAGE_COMPRESS=\"bzip2\"\n"
    )
}

/// Emerge the package; returns emerge's output.
fn emerge(c: &Container) -> String {
    let run = c.sh(
        "PORTAGE_OVERRIDE_EPREFIX=/ emerge --oneshot --color=n app-misc/farmhello 2>&1; farmhello",
    );
    assert!(run.ok(), "emerge failed: {}", run.text());
    run.stdout
}

fn env_line<'a>(out: &'a str, var: &str) -> &'a str {
    let prefix = format!("farm-env {var}=");
    out.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("the ebuild did not print {var}:\n{out}"))
}

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s5");
    let (c, v1, v2) = two_volunteers(&mut farm);
    // Gentoo's layout: /usr/lib/distcc/bin -> . (Portage prefers bin/).
    prepare_as(&c, "gentoo");
    // Gentoo's hosts file, as root's `distcc-config --set-hosts` writes it.
    setup::set_hosts(
        &c,
        CONFIG,
        &format!("{}/4 {}/4", v1.ip(Net::A), v2.ip(Net::B)),
    );
    configure_portage(&c);
    let tmp = TempDir::new("farm-s5");
    let expect = project::write(tmp.path(), 6, 2, 10);
    c.copy_dir(tmp.path(), &format!("{REPO}/app-misc/farmhello/files/proj"));
    let objects = 6 + 2 + 1;
    let done = |c: &Container| {
        setup::compiles_ok(c, v1.ip(Net::A), setup::PORT + 1)
            + setup::compiles_ok(c, v2.ip(Net::B), setup::PORT + 1)
    };

    c.write("/etc/portage/make.conf", &make_conf(false), "0644");
    let out = emerge(&c);
    assert!(out.contains(&expect), "{out}");
    let path = env_line(&out, "PATH");
    assert!(
        path.starts_with("/usr/lib/distcc/bin:") || path.starts_with("/usr/lib/distcc:"),
        "Portage must put the masquerade directory first in PATH: {path}"
    );
    if CONFIG == Impl::Ours {
        // distcc-config --distro gentoo made Gentoo's `bin -> .` link, which
        // Portage prefers.
        assert!(path.starts_with("/usr/lib/distcc/bin:"), "{path}");
    }
    assert_eq!(env_line(&out, "DISTCC_DIR"), "/var/tmp/portage/.distcc");
    assert_eq!(
        done(&c),
        objects,
        "every compile job must reach a volunteer:\n{out}"
    );

    // The network sandbox: only Portage's SOCKS5 proxy leads out.
    c.write("/etc/portage/make.conf", &make_conf(true), "0644");
    let out = emerge(&c);
    assert!(out.contains(&expect), "{out}");
    let proxy = env_line(&out, "DISTCC_SOCKS_PROXY");
    assert!(
        proxy.starts_with('/') && proxy.ends_with(".net.sock"),
        "Portage must hand distcc its SOCKS5 proxy socket: {proxy:?}\n{out}"
    );
    if CLIENT_OURS.contains(&"distcc") {
        assert_eq!(
            done(&c),
            2 * objects,
            "through the SOCKS5 proxy every job must reach a volunteer:\n{out}"
        );
    } else {
        // Debian's 3.4 has no SOCKS support (a Gentoo patch): it can only
        // fall back to local compiles, which is what this must show.
        assert_eq!(done(&c), objects, "{out}");
        assert!(out.contains("failed to distribute"), "{out}");
    }
}
