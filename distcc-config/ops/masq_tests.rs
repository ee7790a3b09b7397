//! Table tests of the masquerade plan.

use super::*;

fn entries(list: &[(&str, Entry)]) -> BTreeMap<String, Entry> {
    list.iter()
        .map(|(n, e)| ((*n).to_owned(), e.clone()))
        .collect()
}

fn link(t: &str) -> Entry {
    Entry::Link(t.to_owned())
}

fn targets() -> Targets {
    Targets {
        top: "/usr/bin/distcc".into(),
        bin: "/usr/bin/distcc".into(),
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn prefixed_names() {
    for (name, yes) in [
        ("x86_64-pc-linux-gnu-gcc", true),
        ("x86_64-pc-linux-gnu-gcc-13", true),
        ("aarch64-linux-gnu-g++-12", true),
        ("arm-none-eabi-cc", true),
        ("gcc", false),
        ("gcc-13", false),
        ("c89-gcc", false),
        ("clang++-15", false),
    ] {
        assert_eq!(is_prefixed(name), yes, "{name}");
    }
}

#[test]
fn wanted_filters_by_pattern_and_mode() {
    let p = Patterns::builtin();
    let found = [
        "gcc",
        "gcc-12",
        "ld",
        "x86_64-linux-gnu-gcc-12",
        "gcc-ar",
        "c89-gcc",
    ];
    assert_eq!(
        wanted(&p, found, Mode::All),
        set(&["c89-gcc", "gcc", "gcc-12", "x86_64-linux-gnu-gcc-12"])
    );
    assert_eq!(
        wanted(&p, found, Mode::PrefixedOnly),
        set(&["x86_64-linux-gnu-gcc-12"])
    );
}

#[test]
fn plan_creates_retargets_removes_and_leaves_others_alone() {
    let top = entries(&[
        ("gcc", link("/usr/bin/distcc")),
        ("g++", link("../../bin/distcc")),
        ("gcc-11", link("/usr/bin/distcc")),
        ("cc", link("x86_64-pc-linux-gnu-wrapper")),
        ("x86_64-pc-linux-gnu-wrapper", Entry::File),
        ("c++", Entry::File),
        ("clang", link("/usr/bin/ccache")),
        ("bin", link(".")),
    ]);
    let want = set(&["gcc", "g++", "cc", "c++", "clang", "cpp"]);
    let plan = plan(&want, &top, &Bin::LinkToSelf, &targets());
    assert_eq!(
        plan.ops,
        [
            Op::Create {
                sub: Sub::Top,
                name: "cpp".into(),
                target: "/usr/bin/distcc".into()
            },
            Op::Retarget {
                sub: Sub::Top,
                name: "g++".into(),
                old: "../../bin/distcc".into(),
                target: "/usr/bin/distcc".into()
            },
            Op::Remove {
                sub: Sub::Top,
                name: "gcc-11".into(),
                old: "/usr/bin/distcc".into()
            },
        ]
    );
    assert_eq!(plan.notes.len(), 3, "{:?}", plan.notes);
    assert!(plan.notes[0].contains("c++ left alone"), "{:?}", plan.notes);
}

#[test]
fn plan_is_idempotent_and_keeps_bin() {
    let top = entries(&[("gcc", link("/usr/bin/distcc")), ("bin", link("."))]);
    let p = plan(&set(&["gcc"]), &top, &Bin::LinkToSelf, &targets());
    assert_eq!(p, Plan::default());
    let p = plan(&set(&[]), &top, &Bin::LinkToSelf, &targets());
    assert_eq!(p.ops.len(), 1, "only gcc goes, never bin: {p:?}");
}

#[test]
fn bin_directory_is_managed_like_the_top() {
    let bin = Bin::Dir(entries(&[("cc", link("/usr/bin/distcc"))]));
    let t = Targets {
        top: "../../bin/distcc".into(),
        bin: "../../../bin/distcc".into(),
    };
    let p = plan(&set(&["gcc"]), &BTreeMap::new(), &bin, &t);
    assert_eq!(
        p.ops,
        [
            Op::Create {
                sub: Sub::Top,
                name: "gcc".into(),
                target: "../../bin/distcc".into()
            },
            Op::Create {
                sub: Sub::Bin,
                name: "gcc".into(),
                target: "../../../bin/distcc".into()
            },
            Op::Remove {
                sub: Sub::Bin,
                name: "cc".into(),
                old: "/usr/bin/distcc".into()
            },
        ]
    );
    let p = plan(
        &set(&[]),
        &BTreeMap::new(),
        &Bin::Missing { create: true },
        &t,
    );
    assert_eq!(p.ops, [Op::BinLink]);
    let p = plan(
        &set(&[]),
        &BTreeMap::new(),
        &Bin::Missing { create: false },
        &t,
    );
    assert!(p.ops.is_empty());
}

#[test]
fn gcc_config_output_is_split_at_the_version() {
    let out = "Using gcc-config info in /mnt/gentoo\n [1] x86_64-pc-linux-gnu-12 \n [2] x86_64-pc-linux-gnu-13 *\n\n [3] aarch64-unknown-linux-gnu-13 *\n [4] x86_64-pc-linux-gnu-11.0.0-pre9999\n";
    assert_eq!(
        gcc_config_profiles(out),
        [
            ("x86_64-pc-linux-gnu".to_owned(), "12".to_owned()),
            ("x86_64-pc-linux-gnu".to_owned(), "13".to_owned()),
            ("aarch64-unknown-linux-gnu".to_owned(), "13".to_owned()),
            (
                "x86_64-pc-linux-gnu".to_owned(),
                "11.0.0-pre9999".to_owned()
            ),
        ]
    );
    assert_eq!(
        profile_names("a-b-c", "13")[..2],
        ["a-b-c-gcc".to_owned(), "a-b-c-gcc-13".to_owned()]
    );
}

#[test]
fn relative_targets() {
    let r = |a: &str, b: &str| relative_target(Path::new(a), Path::new(b));
    assert_eq!(r("/usr/lib/distcc", "/usr/bin/distcc"), "../../bin/distcc");
    assert_eq!(
        r("/usr/lib/distcc/bin", "/usr/bin/distcc"),
        "../../../bin/distcc"
    );
    assert_eq!(
        r("/p/usr/lib/distcc", "/p/usr/bin/distcc"),
        "../../bin/distcc"
    );
    assert_eq!(r("/opt/x/bin", "/opt/x/bin/gcc"), "gcc");
}
