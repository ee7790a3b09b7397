//! `#include MACRO`: resolved from every definition of the macro in the
//! files sent and on the command line, or given up on with a reason.

use super::tests::Tree;

#[test]
fn freetype_style_header_macros_are_followed() {
    let t = Tree::new("macro-ft");
    t.file("main.c", "#include <ft2build.h>\n#include FT_FREETYPE_H\n");
    t.file("inc/ft2build.h", "#include <freetype/config/ftheader.h>\n");
    t.file(
        "inc/freetype/config/ftheader.h",
        "#ifndef FT_CONFIG_CONFIG_H\n#define FT_CONFIG_CONFIG_H <freetype/config/ftconfig.h>\n\
         #endif\n#define FT_FREETYPE_H <freetype/freetype.h>\n#define FT_UNUSED(x) (x)\n",
    );
    t.file("inc/freetype/freetype.h", "#include FT_CONFIG_CONFIG_H\n");
    t.file("inc/freetype/config/ftconfig.h", "");
    t.file("inc/freetype/ftunused.h", "");
    let got = t.run(".", "main.c", &["-Iinc"], &[]).unwrap();
    assert_eq!(
        got,
        [
            "main.c",
            "inc/ft2build.h",
            "inc/freetype/config/ftheader.h",
            "inc/freetype/freetype.h",
            "inc/freetype/config/ftconfig.h",
        ]
    );
}

#[test]
fn a_quoted_value_searches_from_the_including_file() {
    let t = Tree::new("macro-quote");
    t.file("src/main.c", "#include \"names.h\"\n#include CONFIG\n");
    t.file(
        "src/names.h",
        "#define CONFIG_NAME \"conf.h\"\n#define CONFIG CONFIG_NAME\n",
    );
    t.file("src/conf.h", "");
    t.file("conf.h", "");
    let got = t.run(".", "src/main.c", &[], &[]).unwrap();
    assert_eq!(got, ["src/main.c", "src/names.h", "src/conf.h"]);
}

#[test]
fn every_definition_is_followed() {
    let t = Tree::new("macro-all");
    t.file(
        "main.c",
        "#ifdef BIG\n#define IMPL <big.h>\n#else\n#define IMPL <small.h>\n#endif\n#include IMPL\n",
    );
    t.file("inc/big.h", "");
    t.file("inc/small.h", "");
    let got = t.run(".", "main.c", &["-Iinc"], &[]).unwrap();
    assert_eq!(got, ["main.c", "inc/big.h", "inc/small.h"]);
}

#[test]
fn command_line_definitions_count_and_reach_further_macros() {
    let t = Tree::new("macro-cmdline");
    t.file("main.c", "#include FIRST\n");
    t.file("inc/one.h", "#define SECOND <two.h>\n#include SECOND\n");
    t.file("inc/two.h", "#include_next THIRD\n");
    t.file("more/three.h", "");
    t.file("inc/three.h", "");
    for flags in [
        &["-DFIRST=<one.h>", "-DTHIRD=<three.h>", "-Iinc", "-Imore"][..],
        &[
            "-D",
            "FIRST=<one.h>",
            "-Wp,-DTHIRD=<three.h>",
            "-Iinc",
            "-Imore",
        ],
    ] {
        let got = t.run(".", "main.c", flags, &[]).unwrap();
        // two.h was found in inc: include_next goes on in more/.
        assert_eq!(
            got,
            ["main.c", "inc/one.h", "inc/two.h", "more/three.h"],
            "{flags:?}"
        );
    }
}

#[test]
fn macros_that_cannot_be_followed_give_up_with_a_reason() {
    let t = Tree::new("macro-giveup");
    t.file(
        "call.c",
        "#define PATH(x) <x.h>\n#define H PATH(a)\n#include H\n",
    );
    t.file("number.c", "#define H 1\n#include H\n");
    t.file("cmdline.c", "#include H\n");
    let cases: &[(&str, &[&str], &str)] = &[
        ("call.c", &[], "H is defined at"),
        ("number.c", &[], "as something other than a header name"),
        ("cmdline.c", &["-DH=x.h"], "H is defined at -DH=x.h"),
        ("cmdline.c", &["-DH"], "H is defined at -DH as"),
    ];
    for (src, flags, why) in cases {
        let err = t.run(".", src, flags, &[]).unwrap_err();
        assert!(err.contains("computed #include at"), "{src}: {err}");
        assert!(err.contains(why), "{src} {flags:?}: {err}");
    }
}

#[test]
fn a_macro_defined_nowhere_sent_names_nothing_to_send() {
    // lua.h: `#if defined(LUA_USER_H)` / `#include LUA_USER_H`.
    let t = Tree::new("macro-undefined");
    t.file(
        "main.c",
        "#if defined(USER_H)\n#include USER_H\n#endif\n#define A B\n#include A\n",
    );
    let got = t.run(".", "main.c", &[], &[]).unwrap();
    assert_eq!(got, ["main.c"]);
}
