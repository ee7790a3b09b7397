//! Scenario 6: real makepkg (Debian's `makepkg` 6.0.2) with
//! `BUILDENV=(distcc ...)`: makepkg puts `/usr/lib/distcc/bin` first in PATH
//! and exports `DISTCC_HOSTS` from makepkg.conf (packaging notes §5.3); a
//! sample PKGBUILD is compiled through the farm by an unprivileged user and
//! the package holds a program that prints the right line.

use super::harness::{Net, serial};
use super::setup;
use super::{farm, prepare_as, project, two_volunteers};
use crate::support::TempDir;

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s6");
    let (c, v1, v2) = two_volunteers(&mut farm);
    // makepkg only uses distcc when /usr/lib/distcc/bin is a directory.
    prepare_as(&c, "arch");
    let hosts = format!("{}/4 {}/4", v1.ip(Net::A), v2.ip(Net::B));
    c.sh_ok(&format!(
        r#"
sed -i -e 's/^BUILDENV=.*/BUILDENV=(distcc color !ccache check !sign)/' \
       -e 's|^#DISTCC_HOSTS=.*|DISTCC_HOSTS="{hosts}"|' \
       -e 's/^#MAKEFLAGS=.*/MAKEFLAGS="-j8"/' /etc/makepkg.conf
grep -q '^BUILDENV=(distcc' /etc/makepkg.conf
grep -q '^DISTCC_HOSTS="{hosts}"' /etc/makepkg.conf
"#
    ));
    let tmp = TempDir::new("farm-s6");
    let (c_files, cpp_files) = (8, 2);
    let expect = project::write(tmp.path(), c_files, cpp_files, 10);
    let mut sources: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    sources.sort();
    let sums = vec!["SKIP"; sources.len()].join(" ");
    let pkgbuild = format!(
        r#"# A sample package compiled through the farm.
pkgname=farmhello
pkgver=1
pkgrel=1
pkgdesc="distcc-rs container farm test package"
arch=(x86_64)
license=(GPL)
source=({sources})
sha256sums=({sums})

build() {{
	echo "farm-env PATH=$PATH"
	echo "farm-env DISTCC_HOSTS=$DISTCC_HOSTS"
	make
}}

package() {{
	install -Dm755 prog "$pkgdir/usr/bin/farmhello"
}}
"#,
        sources = sources.join(" ")
    );
    std::fs::write(tmp.path().join("PKGBUILD"), pkgbuild).unwrap();
    c.copy_dir(tmp.path(), "/home/builder/pkg");
    let run = c.sh(
        "chown -R builder /home/builder/pkg && cd /home/builder/pkg && \
         su builder -c 'makepkg --nodeps --noconfirm' 2>&1 && \
         bsdtar -tf farmhello-1-1-x86_64.pkg.tar.gz && \
         bsdtar -xOf farmhello-1-1-x86_64.pkg.tar.gz usr/bin/farmhello > /tmp/farmhello && \
         chmod +x /tmp/farmhello && /tmp/farmhello",
    );
    assert!(run.ok(), "makepkg failed: {}", run.text());
    let out = run.stdout;
    assert!(out.contains(&expect), "{out}");
    assert!(
        out.contains("farm-env PATH=/usr/lib/distcc/bin:"),
        "makepkg must put /usr/lib/distcc/bin first in PATH:\n{out}"
    );
    assert!(
        out.contains(&format!("farm-env DISTCC_HOSTS={hosts}")),
        "{out}"
    );
    let done: Vec<u64> = [(&v1, Net::A), (&v2, Net::B)]
        .iter()
        .map(|(v, net)| setup::compiles_ok(&c, v.ip(*net), setup::PORT + 1))
        .collect();
    assert_eq!(
        done.iter().sum::<u64>(),
        (c_files + cpp_files + 1) as u64,
        "every compile job must reach a volunteer: {done:?}\n{out}"
    );
}
