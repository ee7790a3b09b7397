//! Tests of the -march=native expansion with real gcc 12 output.

use super::*;
use std::collections::BTreeMap;

const GCC12: &str = r#"Using built-in specs.
COLLECT_GCC=gcc
Target: x86_64-linux-gnu
 /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet -imultiarch x86_64-linux-gnu - "-march=znver3" -mmmx -mpopcnt -mno-fma4 -mfma --param "l1-cache-size=48" --param "l1-cache-line-size=64" --param "l2-cache-size=1024" "-mtune=znver3" -quiet -dumpdir a- -dumpbase - -O2 -fasynchronous-unwind-tables -o /tmp/cciJl0OS.s
 as --64 -o /tmp/x.o /tmp/cciJl0OS.s
"#;

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn cc1_line_is_found_and_unquoted() {
    let w = cc1_words(GCC12).unwrap();
    assert!(w[0].ends_with("/cc1"));
    assert!(w.contains(&"-march=znver3".to_owned()));
    assert!(w.contains(&"l1-cache-size=48".to_owned()));
    assert!(cc1_words("no\nsuch").is_err());
}

#[test]
fn march_native_expands_to_cpu_features_caches_and_tune() {
    let cc1 = cc1_words(GCC12).unwrap();
    let e = expansion(&cc1, &words("-O2 -march=native -pipe")).unwrap();
    assert_eq!(
        e.march.join(" "),
        "-march=znver3 -mmmx -mpopcnt -mno-fma4 -mfma --param=l1-cache-size=48 \
         --param=l1-cache-line-size=64 --param=l2-cache-size=1024 -mtune=znver3"
    );
    assert_eq!(e.mtune, None);
    let e = expansion(&cc1, &words("-march=native -mtune=native")).unwrap();
    assert_eq!(
        e.march.last().map(String::as_str),
        Some("--param=l2-cache-size=1024")
    );
    assert_eq!(e.mtune.as_deref(), Some("-mtune=znver3"));
    let e = expansion(&cc1, &words("-O2 -mtune=native")).unwrap();
    assert!(e.march.is_empty());
    assert_eq!(e.mtune.as_deref(), Some("-mtune=znver3"));
}

#[test]
fn unresolved_native_is_an_error() {
    let cc1 = words("/x/cc1 -march=native");
    assert!(expansion(&cc1, &words("-march=native")).is_err());
}

#[test]
fn rewriting_keeps_the_rest_of_the_text() {
    let e = Expansion {
        march: words("-march=k8 -msse3"),
        mtune: Some("-mtune=k8".into()),
    };
    assert_eq!(
        rewrite_raw("\"-O2 -march=native -mtune=native -pipe\"", &e),
        "\"-O2 -march=k8 -msse3 -mtune=k8 -pipe\""
    );
    assert_eq!(rewrite_raw("-march=nativex", &e), "-march=nativex");
    assert_eq!(rewrite_raw("-march=native", &e), "-march=k8 -msse3");
    assert_eq!(
        expand_words(&words("-O2 -march=native"), &e),
        words("-O2 -march=k8 -msse3")
    );
}

#[test]
fn finds_native_assignments_in_make_conf() {
    let text = "COMMON_FLAGS=\"-O2 -march=native -pipe\"\nCFLAGS=\"${COMMON_FLAGS}\"\n\
                CXXFLAGS=\"${COMMON_FLAGS}\"\nMAKEOPTS=\"-j8\"\n";
    let all = super::super::shvars::assignments(text, &BTreeMap::new());
    let hits = native_assignments(text, &all);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].name, "COMMON_FLAGS");
    assert_eq!(hits[0].line, 1);
}

#[test]
fn help_differences_show_both_sides() {
    let d = help_differences(
        "  -mavx [enabled]\n  -msse [enabled]\n",
        "  -mavx [disabled]\n  -msse [enabled]\n",
    );
    assert_eq!(d, ["- -mavx [enabled]", "+ -mavx [disabled]"]);
    assert!(help_differences("a\n", "a\n").is_empty());
}

/// clang 14's -### for `-march=native -mtune=native` (shortened).
const CLANG14: &str = r#"Debian clang version 14.0.6
Target: x86_64-pc-linux-gnu
InstalledDir: /usr/bin
 (in-process)
 "/usr/lib/llvm-14/bin/clang" "-cc1" "-triple" "x86_64-pc-linux-gnu" "-emit-obj" "-target-cpu" "znver3" "-target-feature" "-avx512pf" "-target-feature" "+cx16" "-target-feature" "+64bit" "-target-feature" "+sse4.2" "-tune-cpu" "znver3" "-o" "/dev/null" "-x" "c" "/dev/null"
"#;

#[test]
fn clang_cc1_line_becomes_march_and_m_options() {
    assert!(cc1_words(CLANG14).is_err(), "no gcc cc1 line");
    let t = clang_target(&clang_cc1(CLANG14).unwrap());
    assert_eq!(t.cpu.as_deref(), Some("znver3"));
    assert_eq!(t.tune.as_deref(), Some("znver3"));
    assert_eq!(t.features.len(), 4);
    let rejected: BTreeSet<String> = ["-m64bit".to_owned()].into();
    let e = clang_expansion(&t, &words("-O2 -march=native -mtune=native"), &rejected).unwrap();
    assert_eq!(
        e.march.join(" "),
        "-march=znver3 -mno-avx512pf -mcx16 -msse4.2"
    );
    assert_eq!(e.mtune.as_deref(), Some("-mtune=znver3"));
    let e = clang_expansion(&t, &words("-mtune=native"), &BTreeSet::new()).unwrap();
    assert!(e.march.is_empty());
    assert_eq!(e.mtune.as_deref(), Some("-mtune=znver3"));
    let none = ClangTarget::default();
    assert!(clang_expansion(&none, &words("-march=native"), &BTreeSet::new()).is_err());
}

#[test]
fn refused_options_are_read_from_the_driver() {
    let err = "clang: error: unknown argument: '-m64bit'\n\
               clang: error: unknown argument '-mcx8'; did you mean '-mcx16'?\n\
               clang: error: no input files\n";
    assert_eq!(
        unknown_arguments(err),
        ["-m64bit".to_owned(), "-mcx8".to_owned()].into()
    );
}
