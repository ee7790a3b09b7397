//! Table tests for the scanner: one named case per rule of spec §3.3-3.6.
//! Every bug fix adds a row.

use super::*;

use std::ffi::OsStr;

fn argv(cmd: &str) -> Vec<OsString> {
    os::words(cmd)
}

/// `name: "cmd" => local(Pattern)` or `name: "cmd" => dist(input, output, StopAt)`.
macro_rules! scan_cases {
    ($($name:ident: $cmd:expr => $kind:ident ($($rest:tt)*);)*) => {
        $( scan_cases!(@one $name, $cmd, $kind $($rest)*); )*
    };
    (@one $name:ident, $cmd:expr, local $pat:pat) => {
        #[test]
        fn $name() {
            let got = scan(&argv($cmd));
            assert!(matches!(got, Scan::Local($pat)), "{}: got {got:?}", $cmd);
        }
    };
    (@one $name:ident, $cmd:expr, dist $input:expr, $output:expr, $stop:ident) => {
        #[test]
        fn $name() {
            match scan(&argv($cmd)) {
                Scan::Distribute(job) => {
                    assert_eq!(job.input, $input, "input of {}", $cmd);
                    assert_eq!(job.output, $output, "output of {}", $cmd);
                    assert_eq!(job.stop_at, StopAt::$stop, "stop of {}", $cmd);
                    assert_eq!(job.argv[job.input_index], job.input);
                }
                other => panic!("{}: expected Distribute, got {other:?}", $cmd),
            }
        }
    };
}

use LocalReason as L;

scan_cases! {
    plain_compile: "gcc -c x.c -o x.o" => dist("x.c", "x.o", Compile);
    output_derived_from_basename: "gcc -c src/x.c" => dist("src/x.c", "x.o", Compile);
    dash_s_derives_dot_s: "gcc -S x.c" => dist("x.c", "x.s", Assemble);
    dash_s_beats_dash_c: "gcc -c -S x.cc" => dist("x.cc", "x.s", Assemble);
    joined_output: "gcc -c x.c -oout/x.o" => dist("x.c", "out/x.o", Compile);
    bare_object_is_the_output: "gcc -c x.c y.o" => dist("x.c", "y.o", Compile);
    cplusplus: "g++ -O2 -g -c a.cpp -o a.o" => dist("a.cpp", "a.o", Compile);
    preprocessed_input: "gcc -c x.i" => dist("x.i", "x.o", Compile);
    objc_input: "gcc -c x.m" => dist("x.m", "x.o", Compile);
    md_allowed: "gcc -MD -c x.c" => dist("x.c", "x.o", Compile);
    mmd_mf_allowed: "gcc -MMD -MF x.d -c x.c" => dist("x.c", "x.o", Compile);
    mf_value_is_skipped: "gcc -c x.c -MF y.c" => dist("x.c", "x.o", Compile);
    mt_mq_joined_allowed: "gcc -MD -MTx.o -MQy.o -MFz.d -c x.c" => dist("x.c", "x.o", Compile);
    mg_mp_allowed: "gcc -MD -MG -MP -c x.c" => dist("x.c", "x.o", Compile);
    x_c_distributed: "gcc -x c -c x.c" => dist("x.c", "x.o", Compile);
    x_cplusplus_distributed: "gcc -x c++ -c x.c" => dist("x.c", "x.o", Compile);
    save_temps_distributed: "gcc -save-temps -c x.c" => dist("x.c", "x.o", Compile);
    flto_auto_distributed: "gcc -flto=auto -c x.c" => dist("x.c", "x.o", Compile);
    wa_other_distributed: "gcc -Wa,--noexecstack -c x.c" => dist("x.c", "x.o", Compile);
    march_explicit_distributed: "gcc -march=haswell -c x.c" => dist("x.c", "x.o", Compile);

    dash_e_local: "gcc -E x.c" => local(L::PreprocessOnly);
    dash_m_local: "gcc -M x.c" => local(L::DependencyOnly(_));
    dash_mm_local: "gcc -MM -c x.c" => local(L::DependencyOnly(_));
    dash_md_with_suffix_local: "gcc -MDx -c x.c" => local(L::DependencyOnly(_));
    march_native_local: "gcc -march=native -c x.c" => local(L::Native(_));
    mtune_native_local: "gcc -mtune=native -c x.c" => local(L::Native(_));
    flto_local: "gcc -flto -c x.c" => local(L::Lto);
    wa_listing_local: "gcc -Wa,-alh=x.lst -c x.c" => local(L::AssemblerListing(_));
    wa_later_listing_local: "gcc -Wa,--64,-adhln -c x.c" => local(L::AssemblerListing(_));
    wa_md_local: "gcc -Wa,--MD,x.d -c x.c" => local(L::AssemblerListing(_));
    xassembler_md_pair_local: "gcc -Xassembler --MD -Xassembler x.d -c x.c" => local(L::AssemblerListing(_));
    specs_local: "gcc -specs=my.specs -c x.c" => local(L::Specs(_));
    profile_arcs_local: "gcc -fprofile-arcs -c x.c" => local(L::Profile(_));
    test_coverage_local: "gcc -ftest-coverage -c x.c" => local(L::Profile(_));
    coverage_local: "gcc --coverage -c x.c" => local(L::Profile(_));
    profile_generate_local: "gcc -fprofile-generate=dir -c x.c" => local(L::Profile(_));
    profile_use_local: "gcc -fprofile-use -c x.c" => local(L::Profile(_));
    auto_profile_local: "gcc -fauto-profile=p -c x.c" => local(L::Profile(_));
    profile_correction_local: "gcc -fprofile-correction -c x.c" => local(L::Profile(_));
    frepo_local: "g++ -frepo -c x.cc" => local(L::Repo);
    x_assembler_local: "gcc -x assembler -c x.c" => local(L::Language(_));
    xc_joined_checks_next_arg: "gcc -xc -c x.c" => local(L::Language(_));
    xc_joined_last_is_local: "gcc x.c -c -xc" => local(L::Language(_));
    dr_local: "gcc -drtl -c x.c" => local(L::RtlDump(_));
    link_local: "gcc x.c -o x" => local(L::NotCompiling);
    link_objects_is_two_outputs_like_3_4: "gcc a.o b.o -o prog" => local(L::TwoOutputs(..));
    no_input_local: "gcc -c" => local(L::NoInput);
    assembler_input_local: "gcc -c x.s" => local(L::NoInput);
    assembler_cpp_input_local: "gcc -c x.S" => local(L::NoInput);
    stdin_input_local: "gcc -x c -c -" => local(L::NoInput);
    two_inputs_local: "gcc -c a.c b.c" => local(L::TwoInputs(..));
    two_outputs_local: "gcc -c a.c -o a.o b.o" => local(L::TwoOutputs(..));
    dash_o_without_value_local: "gcc -c a.c -o" => local(L::MissingOutput);
    conftest_local: "gcc -c conftest.c" => local(L::Conftest(_));
    tmp_conftest_local: "gcc -c sub/tmp.conftest.c" => local(L::Conftest(_));
    output_stdout_local: "gcc -S x.c -o -" => local(L::OutputToStdout);
    e_wins_even_after_c: "gcc -c x.c -E" => local(L::PreprocessOnly);
}

#[test]
fn commands_beyond_the_daemons_caps_stay_local() {
    let mut argv = argv("gcc -c x.c");
    argv.extend(std::iter::repeat_n(OsString::from("-DX"), 300_000));
    assert!(matches!(scan(&argv), Scan::Local(L::TooLarge(_))));
    let mut argv = os::words("gcc -c x.c");
    argv.push(format!("-DBIG={}", "x".repeat(2 << 20)).into());
    assert!(matches!(scan(&argv), Scan::Local(L::TooLarge(_))));
}

#[test]
fn derived_output_is_appended_as_dash_o() {
    let Scan::Distribute(job) = scan(&argv("gcc -c sub/x.cpp")) else {
        panic!()
    };
    assert_eq!(job.argv, argv("gcc -c sub/x.cpp -o x.o"));
    assert_eq!(job.output_index, 4);
    assert_eq!(job.output_form, OutputForm::Derived);
}

#[test]
fn with_input_output_keeps_the_form() {
    let cases: &[(&str, &str)] = &[
        ("gcc -c x.c -o x.o", "gcc -c /t/in.i -o /t/out.o"),
        ("gcc -c x.c -ox.o", "gcc -c /t/in.i -o/t/out.o"),
        ("gcc -c x.c", "gcc -c /t/in.i -o /t/out.o"),
        ("gcc -o x.o -c x.c", "gcc -o /t/out.o -c /t/in.i"),
    ];
    for &(cmd, want) in cases {
        let Scan::Distribute(job) = scan(&argv(cmd)) else {
            panic!("{cmd}")
        };
        assert_eq!(
            job.with_input_output(OsStr::new("/t/in.i"), OsStr::new("/t/out.o")),
            argv(want),
            "{cmd}"
        );
    }
}

#[test]
fn expand_wp_follows_spec_3_3() {
    let cases: &[(&str, &str)] = &[
        ("gcc -Wp,-MD,x.d -c x.c", "gcc -MD -MF x.d -c x.c"),
        (
            "gcc -Wp,-MMD,d/x.d,-DA=1 -c x.c",
            "gcc -MMD -MF d/x.d -DA=1 -c x.c",
        ),
        ("gcc -Wp,-DA,-UB -c x.c", "gcc -DA -UB -c x.c"),
        ("gcc -Wp,-MD", "gcc -MD"),
        ("gcc -Wl,-O1 x.o", "gcc -Wl,-O1 x.o"),
    ];
    for &(from, to) in cases {
        assert_eq!(expand_wp(&argv(from)), argv(to), "{from}");
    }
}

#[test]
fn wp_md_is_distributed_after_expansion() {
    let expanded = expand_wp(&argv("gcc -Wp,-MD,.x.o.d -c x.c -o x.o"));
    assert!(matches!(scan(&expanded), Scan::Distribute(_)));
}

#[test]
fn strip_local_args_follows_spec_3_6() {
    let cases: &[(&str, &str)] = &[
        (
            "gcc -DA -D B -IX -I Y -UC -U D -c x.c -o x.o",
            "gcc -c x.c -o x.o",
        ),
        (
            "gcc -include a.h -imacros m.h -isystem s -isystemt -idirafter d -iprefix p -iwithprefix w -iwithprefixbefore wb -c x.c",
            "gcc -c x.c",
        ),
        (
            "gcc -MD -MMD -MG -MP -MF a -MT b -MQ c -MFd -MTe -MQf -c x.c",
            "gcc -c x.c",
        ),
        (
            "gcc -L l -Ll -l m -lm -Wl,-x -Wp,-y -stdlib=libc++ -c x.c",
            "gcc -c x.c",
        ),
        ("gcc -undef -nostdinc -nostdinc++ -c x.c", "gcc -c x.c"),
        (
            "gcc -O2 -g -Wall -iquote q -fPIC -c x.c -o x.o",
            "gcc -O2 -g -Wall -iquote q -fPIC -c x.c -o x.o",
        ),
        // 3.4 kept the joined form (it matched `-include` exactly); the
        // server ignores it either way.
        ("gcc -includefoo.h -c x.c", "gcc -c x.c"),
        // An option goes with its value: 3.4 left `-Xpreprocessor` and
        // `-Xassembler` without theirs.
        (
            "gcc -Xpreprocessor -DA -Xassembler -DB -c x.c",
            "gcc -Xassembler -DB -c x.c",
        ),
        ("gcc -Xlinker -Lx -c x.c", "gcc -Xlinker -Lx -c x.c"),
    ];
    for &(from, to) in cases {
        assert_eq!(strip_local_args(&argv(from)), argv(to), "{from}");
    }
}

#[test]
fn cpp_argv_strips_output_and_adds_gcc_dependency_names() {
    let cases: &[(&str, &str)] = &[
        ("gcc -c x.c -o x.o", "gcc -E x.c"),
        ("gcc -S x.c", "gcc -E x.c"),
        ("gcc -c x.c -ox.o -O2", "gcc -E x.c -O2"),
        ("gcc -c x.c y.o", "gcc -E x.c y.o"),
        // distcc issue #62: the .d goes where gcc -c would put it.
        (
            "gcc -MD -c x.c -o sub/y.o",
            "gcc -MD -E x.c -MF sub/y.d -MQ sub/y.o",
        ),
        (
            "gcc -MMD -c x.c -osub/y.o",
            "gcc -MMD -E x.c -MF sub/y.d -MQ sub/y.o",
        ),
        (
            "gcc -MD -MF a.d -c x.c -o y.o",
            "gcc -MD -MF a.d -E x.c -MQ y.o",
        ),
        (
            "gcc -MD -MT t -c x.c -o y.o",
            "gcc -MD -MT t -E x.c -MF y.d",
        ),
        (
            "gcc -MD -MQt -MFa.d -c x.c -o y.o",
            "gcc -MD -MQt -MFa.d -E x.c",
        ),
        // Without -o gcc -E already picks the same name and target.
        ("gcc -MD -c sub/x.c", "gcc -MD -E sub/x.c"),
    ];
    for &(from, to) in cases {
        let Scan::Distribute(job) = scan(&argv(from)) else {
            panic!("{from}")
        };
        assert_eq!(
            cpp_argv(&job, has_driver_deps(&argv(from))),
            argv(to),
            "{from}"
        );
    }
}

#[test]
fn wp_md_keeps_the_preprocessors_own_target() {
    let original = argv("gcc -Wp,-MD,.x.o.d -c x.c -o sub/x.o");
    let Scan::Distribute(job) = scan(&expand_wp(&original)) else {
        panic!()
    };
    assert!(!has_driver_deps(&original));
    assert_eq!(cpp_argv(&job, false), argv("gcc -MD -MF .x.o.d -E x.c"));
}

#[test]
fn every_local_reason_reads_after_running_locally_because() {
    for reason in [
        L::PreprocessOnly,
        L::NotCompiling,
        L::TwoInputs("a.c".into(), "b.c".into()),
        L::Refused {
            arg: "-B/x".into(),
            why: Why::RunsProgram,
        },
        L::ExtraWord("libx.a".into()),
        L::Native("-march=native".into()),
    ] {
        let text = reason.to_string();
        assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
        assert!(text.chars().next().unwrap().is_lowercase() || text.starts_with('-'));
    }
}

#[test]
fn x_languages_become_cpp_output_after_preprocessing() {
    let cases: &[(&str, &str)] = &[
        ("gcc -x c -c x.c", "gcc -x cpp-output -c x.c"),
        ("g++ -x c++ -c x.c", "g++ -x c++-cpp-output -c x.c"),
        (
            "gcc -x objective-c -c x.m",
            "gcc -x objective-c-cpp-output -c x.m",
        ),
        ("gcc -x go -c x.c", "gcc -x go -c x.c"),
        ("gcc -c x.c", "gcc -c x.c"),
    ];
    for &(from, to) in cases {
        let out = preprocessed_languages(&argv(from));
        assert_eq!(out, argv(to), "{from}");
        if let Scan::Local(r) = scan(&out) {
            panic!("{to} must still be distributable: {r}");
        }
    }
}
