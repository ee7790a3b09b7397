#!/usr/bin/env bash
# Run the ebuild's src_install with Portage's own ebuild helpers (dobin,
# doins, newinitd, newenvd, keepdir, dosym, doman, ... from `pip install
# portage`), then pkg_postinst and pkg_prerm, and print the image.
#
#   portage-install.sh WORKDIR CHECKOUT EBUILD BINDIR USE
#
# Offline there are no eclasses: `inherit` is a no-op, and the four eclass
# functions the ebuild calls are defined here as their eclasses document
# them (cargo_target_dir -> BINDIR, where the test binary's programs are;
# systemd_dounit, systemd_install_serviced, dobashcomp -> doins into the
# directories systemd.eclass and bash-completion-r1.eclass use). `eselect`
# is replaced by a recorder, so the phase logic can be checked.
set -eo pipefail
work=$1 checkout=$2 ebuild=$3 bindir=$4 use=$5

PORTAGE_BIN_PATH=$(python3 -c 'import portage.const as c; print(c.PORTAGE_BIN_PATH)')
PORTAGE_PYM_PATH=$(python3 -c 'import os, portage; print(os.path.dirname(os.path.dirname(portage.__file__)))')
PORTAGE_PYTHON=$(command -v python3)
pf=$(basename "$ebuild" .ebuild)
export PORTAGE_BIN_PATH PORTAGE_PYM_PATH PORTAGE_PYTHON
export EAPI=8 D="$work/image/" ED="$work/image/" EPREFIX="" ROOT="" EROOT="/"
export T="$work/temp" WORKDIR="$work/work" S="$checkout" HOME="$work/home"
export PORTAGE_BUILDDIR="$work" PORTAGE_TMPDIR="$work" PORTAGE_INST_UID=0 PORTAGE_INST_GID=0
export CATEGORY=sys-devel PN=distcc-rs PF="$pf" P="$pf" PV="${pf#distcc-rs-}" SLOT=0
export EBUILD_PHASE=install EBUILD_PHASE_FUNC=src_install
export USE="$use" IUSE="xinetd" IUSE_EFFECTIVE="xinetd"
export PATH="$PORTAGE_BIN_PATH/ebuild-helpers:$PATH"
mkdir -p "$D" "$T" "$WORKDIR" "$HOME"

# shellcheck source=/dev/null
source "$PORTAGE_BIN_PATH/isolated-functions.sh"
# shellcheck source=/dev/null
source "$PORTAGE_BIN_PATH/phase-helpers.sh"
inherit() { :; }
cargo_target_dir() { echo "$bindir"; }
systemd_dounit() { (insopts -m 0644 && insinto /usr/lib/systemd/system && doins "$@"); }
systemd_install_serviced() {
    (insopts -m 0644 && insinto "/etc/systemd/system/$2.d" && newins "$1" 00gentoo.conf)
}
dobashcomp() { (insopts -m 0644 && insinto /usr/share/bash-completion/completions && doins "$@"); }
eselect() { echo "ESELECT: $*"; }

# shellcheck source=/dev/null
source "$ebuild"
cd "$S"
src_install
(cd "$D" && find . -mindepth 1 | LC_ALL=C sort | sed 's/^\.\//IMAGE: /')
echo "BIN_LINK: $(readlink "$D/usr/lib/distcc/bin")"
echo "SHADOWMAN: $(cat "$D/usr/share/shadowman/tools/distcc")"

pkg_postinst 2>/dev/null | grep '^ESELECT' || true
REPLACED_BY_VERSION="" pkg_prerm | grep '^ESELECT' || true
echo "UPGRADE_PRERM: $(REPLACED_BY_VERSION=0.1.1 pkg_prerm | grep -c '^ESELECT' || true)"
echo "ROOTED_POSTINST: $(ROOT=/mnt pkg_postinst 2>/dev/null | grep -c '^ESELECT' || true)"
