"""Check the distcc-rs ebuild with Portage's own Python library.

Usage: portage_check.py EBUILD CARGO_LOCK_CRATES_FILE

The ebuild is sourced by bash with `inherit` recording the eclasses and,
like cargo.eclass, turning CRATES into CARGO_CRATE_URIS (the eclasses
themselves are not available offline). Portage then parses every metadata
variable the way `emerge` does and checks metadata.xml. Exit 1 with a list
of problems, 0 when the ebuild is sound.
"""

import json
import os
import re
import subprocess
import sys

import portage
from portage.dep import Atom, use_reduce
from portage.versions import catpkgsplit
from portage.xml.metadata import MetaDataXML

VARS = ["EAPI", "DESCRIPTION", "HOMEPAGE", "SRC_URI", "LICENSE", "SLOT",
        "KEYWORDS", "IUSE", "REQUIRED_USE", "RESTRICT", "DEPEND", "RDEPEND",
        "BDEPEND", "IDEPEND", "PDEPEND", "CRATES", "INHERITED"]

SHIM = r'''
inherit() {
    INHERITED+=" $*"
    local c
    if [[ " $* " == *" cargo "* ]]; then
        for c in ${CRATES}; do
            CARGO_CRATE_URIS+="https://crates.io/api/v1/crates/${c%@*}/${c##*@}/download -> ${c%@*}-${c##*@}.crate "
        done
    fi
}
set -e
PN=$2 PV=$3 P=$2-$3
source "$1"
for v in VARS_HERE; do printf '%s\0%s\0' "$v" "${!v}"; done
'''.replace("VARS_HERE", " ".join(VARS))


def ebuild_vars(path, pn, pv):
    out = subprocess.run(["bash", "-c", SHIM, "shim", path, pn, pv], check=True,
                         capture_output=True).stdout.decode()
    parts = out.split("\0")
    return dict(zip(parts[0::2], parts[1::2]))


def main():
    path, lock_crates = sys.argv[1], sys.argv[2]
    problems = []

    pkgdir = os.path.dirname(os.path.abspath(path))
    pn = os.path.basename(pkgdir)
    category = os.path.basename(os.path.dirname(pkgdir))
    pf = os.path.basename(path)[:-len(".ebuild")]
    split = catpkgsplit(f"{category}/{pf}")
    if split is None or split[1] != pn:
        problems.append(f"bad package name/version: {category}/{pf}")
        split = (category, pn, "0", "r0")
    v = ebuild_vars(path, pn, split[2])

    if v["EAPI"] != "8" or not portage.eapi_is_supported(v["EAPI"]):
        problems.append(f"EAPI {v['EAPI']!r} is not 8")
    for eclass in ("cargo", "systemd"):
        if eclass not in v["INHERITED"].split():
            problems.append(f"does not inherit {eclass}")

    iuse = {f.lstrip("+-") for f in v["IUSE"].split()}
    for var in ("DEPEND", "RDEPEND", "BDEPEND", "IDEPEND", "PDEPEND"):
        try:
            atoms = use_reduce(v[var], matchall=True, eapi=v["EAPI"],
                               token_class=Atom, flat=True)
        except Exception as e:  # InvalidDependString, InvalidAtom
            problems.append(f"{var}: {e}")
            continue
        for flag in re.findall(r"!?([\w+-]+)\?", v[var]):
            if flag not in iuse:
                problems.append(f"{var} uses {flag}? not in IUSE {sorted(iuse)}")
        if var == "RDEPEND":
            names = {(a.cp, bool(a.blocker)) for a in atoms if isinstance(a, Atom)}
            for need in [("sys-devel/distcc", True), ("acct-user/distcc", False),
                         ("dev-util/shadowman", False)]:
                if need not in names:
                    problems.append(f"RDEPEND lacks {'!' if need[1] else ''}{need[0]}")

    for var in ("LICENSE", "RESTRICT", "REQUIRED_USE"):
        try:
            use_reduce(v[var], matchall=True, eapi=v["EAPI"], flat=True)
        except Exception as e:
            problems.append(f"{var}: {e}")
    if not v["LICENSE"].strip() or not v["SLOT"].strip():
        problems.append("LICENSE or SLOT empty")
    for kw in v["KEYWORDS"].split():
        if not re.fullmatch(r"[~-]?[a-z0-9_-]+|-\*", kw):
            problems.append(f"bad keyword {kw}")

    try:
        uris = use_reduce(v["SRC_URI"], is_src_uri=True, matchall=True,
                          eapi=v["EAPI"], flat=True)
    except Exception as e:
        problems.append(f"SRC_URI: {e}")
        uris = []
    # Every file Portage fetches: the name after "->", else the URI's last part.
    distfiles = []
    for i, t in enumerate(uris):
        if t == "->" or (i > 0 and uris[i - 1] == "->"):
            continue
        renamed = i + 2 < len(uris) and uris[i + 1] == "->"
        distfiles.append(uris[i + 2] if renamed else t.rsplit("/", 1)[-1])
    crate_files = sorted(f for f in distfiles if f.endswith(".crate"))
    with open(lock_crates) as f:
        wanted = sorted(f"{c.split('@')[0]}-{c.split('@')[1]}.crate"
                        for c in f.read().split())
    if crate_files != wanted:
        problems.append("SRC_URI crates differ from Cargo.lock: "
                        f"extra {sorted(set(crate_files) - set(wanted))}, "
                        f"missing {sorted(set(wanted) - set(crate_files))}")

    xml = MetaDataXML(os.path.join(pkgdir, "metadata.xml"), None)
    documented = {u.name for u in xml.use()}
    local = iuse  # cargo.eclass adds debug, documented by Gentoo globally
    if documented != local:
        problems.append(f"metadata.xml documents {sorted(documented)}, IUSE has {sorted(local)}")

    print(json.dumps({"crates": len(crate_files), "distfiles": sorted(distfiles),
                      "iuse": sorted(iuse),
                      "inherited": v["INHERITED"].split()}))
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
