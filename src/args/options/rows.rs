//! The explicit rows of the option table, grouped by what they do. Order
//! within the source does not matter: [`candidates`] finds the longest row
//! that is a prefix of an argument (an index sorted at compile time).
//!
//! To add an option: find its group, add `row(name, arity, class)`, and
//! add a case to `tests.rs`. Canonical spellings only; long spellings go
//! in `spelling.rs`. gcc's spellings come from `gcc --completion=-`, clang's
//! from `clang --autocomplete=-`, and the arities were checked by running
//! `cc -### -c x.c OPTION value` for each (the completeness tests repeat
//! that check against the installed compilers).

use super::Arity::{Flag, Joined, JoinedOrSeparate, Prefix, Separate};
use super::Class::{
    Assemble, Assembler, Compile, Cpp, Cpu, Dist, Dump, Language, Link, Local, Output,
    Preprocessor, Refused,
};
use super::Cpp::{Deps, DepsFile, DepsTarget, Macro, Name, Path, Switch};
use super::Why::*;
use super::{Arity, Class, Row};

const fn row(name: &'static str, arity: Arity, class: Class) -> Row {
    Row { name, arity, class }
}

/// What a compile job is: the stage it stops at, its output, its language.
const JOB: &[Row] = &[
    row("-c", Flag, Compile),
    row("-S", Flag, Assemble),
    row("-E", Flag, Local(PreprocessOnly)),
    row("-o", JoinedOrSeparate, Output),
    row("-x", JoinedOrSeparate, Language),
    // gcc and clang accept -x values joined; 3.4's quirk (the *next*
    // element is checked even for -xc) is the scanner's business.
    row("-pipe", Flag, Dist),
    row("-v", Flag, Dist),
    row("-quiet", Flag, Dist),
    row("-w", Flag, Dist),
    row("-Q", Flag, Dist),
    row("-Qn", Flag, Dist),
    row("-Qy", Flag, Dist),
    row("-pass-exit-codes", Flag, Dist),
    row("-no-canonical-prefixes", Flag, Dist),
    row("-canonical-prefixes", Flag, Dist),
    row("-no-integrated-cpp", Flag, Dist),
    row("-save-temps", Flag, Dist),
    row("-save-temps=", Joined, Dist),
    row("--save-temps", Flag, Dist),
    row("--save-temps=", Joined, Dist),
    row("--save-stats", Flag, Dist),
    row("--save-stats=", Joined, Dist),
    row("-save-stats", Flag, Dist),
    row("-save-stats=", Joined, Dist),
    row("--via-file-asm", Flag, Dist),
    row("-via-file-asm", Flag, Dist),
    row("-time", Flag, Dist),
    row("-time=", Joined, Refused(WritesFile)),
    row("--start-no-unused-arguments", Flag, Dist),
    row("--end-no-unused-arguments", Flag, Dist),
    row("-Qunused-arguments", Flag, Dist),
];

/// The language and its dialect, optimisation and code generation.
const CODE: &[Row] = &[
    row("-ansi", Flag, Dist),
    row("-std=", Joined, Dist),
    row("--std=", Joined, Dist),
    row("-pedantic", Flag, Dist),
    row("-pedantic-errors", Flag, Dist),
    row("--pedantic", Flag, Dist),
    row("--pedantic-errors", Flag, Dist),
    row("-no-pedantic", Flag, Dist),
    row("--no-pedantic", Flag, Dist),
    row("-p", Flag, Dist),
    row("-pg", Flag, Dist),
    row("-pthread", Flag, Dist),
    row("-no-pthread", Flag, Dist),
    row("-traditional", Flag, Dist),
    row("--param", Separate, Dist),
    row("--param=", Joined, Dist),
    row("-march=", Joined, Cpu),
    row("-mtune=", Joined, Cpu),
    row("-mcpu=", Joined, Cpu),
    // clang: a target triple, an architecture.
    row("-target", Separate, Dist),
    row("--target=", Joined, Dist),
    row("-arch", Separate, Dist),
    row("-mthread-model", Separate, Dist),
    row("-gz=", Joined, Dist),
    row("-gsplit-dwarf=", Joined, Dist),
    row("-Rpass=", Joined, Dist),
    row("-Rpass-missed=", Joined, Dist),
    row("-Rpass-analysis=", Joined, Dist),
    row("-emit-llvm", Flag, Dist),
    row("-cl-std=", Joined, Dist),
    row("-sycl-std=", Joined, Dist),
    row("-inline-asm=", Joined, Dist),
    row("-cuid=", Joined, Dist),
];

/// `-f...=VALUE` options whose value is a number, a keyword, a list of
/// names or a path *mapping*: nothing is read or written through them.
/// (`-f` switches without a value are a family: see `families.rs`.)
const F_VALUES: &[Row] = &[
    row("-fabi-compat-version=", Joined, Dist),
    row("-fabi-version=", Joined, Dist),
    row("-fada-spec-parent=", Joined, Dist),
    row("-falign-functions=", Joined, Dist),
    row("-falign-jumps=", Joined, Dist),
    row("-falign-labels=", Joined, Dist),
    row("-falign-loops=", Joined, Dist),
    row("-faligned-new=", Joined, Dist),
    row("-fanalyzer-checker=", Joined, Dist),
    row("-fanalyzer-verbosity=", Joined, Dist),
    row("-fasan-shadow-offset=", Joined, Dist),
    row("-fbinutils-version=", Joined, Dist),
    row("-fbracket-depth=", Joined, Dist),
    row("-fcallgraph-info=", Joined, Dist),
    row("-fcf-protection=", Joined, Dist),
    row("-fchecking=", Joined, Dist),
    row("-fclang-abi-compat=", Joined, Dist),
    row("-fcoarray=", Joined, Dist),
    row("-fcomplex-arithmetic=", Joined, Dist),
    row("-fconcepts-diagnostics-depth=", Joined, Dist),
    row("-fconstant-string-class=", Joined, Dist),
    row("-fconstexpr-backtrace-limit=", Joined, Dist),
    row("-fconstexpr-cache-depth=", Joined, Dist),
    row("-fconstexpr-depth=", Joined, Dist),
    row("-fconstexpr-loop-limit=", Joined, Dist),
    row("-fconstexpr-ops-limit=", Joined, Dist),
    row("-fconstexpr-steps=", Joined, Dist),
    row("-fcoverage-compilation-dir=", Joined, Dist),
    row("-fcoverage-prefix-map=", Joined, Dist),
    row("-fcs-profile-generate=", Joined, Dist),
    row("-fdbg-cnt=", Joined, Dist),
    row("-fdebug-compilation-dir=", Joined, Dist),
    row("-fdebug-default-version=", Joined, Dist),
    row("-fdebug-prefix-map=", Joined, Dist),
    row("-fdenormal-fp-math=", Joined, Dist),
    row("-fdiagnostics-color=", Joined, Dist),
    row("-fdiagnostics-column-origin=", Joined, Dist),
    row("-fdiagnostics-column-unit=", Joined, Dist),
    row("-fdiagnostics-escape-format=", Joined, Dist),
    row("-fdiagnostics-format=", Joined, Dist),
    row("-fdiagnostics-hotness-threshold=", Joined, Dist),
    row("-fdiagnostics-minimum-margin-width=", Joined, Dist),
    row("-fdiagnostics-path-format=", Joined, Dist),
    row("-fdiagnostics-show-category=", Joined, Dist),
    row("-fdiagnostics-show-location=", Joined, Dist),
    row("-fdiagnostics-urls=", Joined, Dist),
    // -fdisable-tree-NAME=RANGES, -fenable-...: pass toggles.
    row("-fdisable-", Joined, Dist),
    row("-fenable-", Joined, Dist),
    row("-feliminate-unused-debug-types=", Joined, Dist),
    row("-fembed-bitcode=", Joined, Dist),
    row("-femit-struct-debug-detailed=", Joined, Dist),
    row("-ferror-limit=", Joined, Dist),
    row("-fexcess-precision=", Joined, Dist),
    row("-fexec-charset=", Joined, Dist),
    row("-fextend-arguments=", Joined, Dist),
    row("-ffile-prefix-map=", Joined, Dist),
    row("-ffp-contract=", Joined, Dist),
    row("-ffp-eval-method=", Joined, Dist),
    row("-ffp-exception-behavior=", Joined, Dist),
    row("-ffp-model=", Joined, Dist),
    row("-fgnat-encodings=", Joined, Dist),
    row("-fgnuc-version=", Joined, Dist),
    row("-fgo-debug-escape-hash=", Joined, Dist),
    row("-fgo-pkgpath=", Joined, Dist),
    row("-fgo-prefix=", Joined, Dist),
    row("-finline-limit=", Joined, Dist),
    row("-finput-charset=", Joined, Dist),
    row("-finstrument-functions-exclude-file-list=", Joined, Dist),
    row(
        "-finstrument-functions-exclude-function-list=",
        Joined,
        Dist,
    ),
    row("-fira-algorithm=", Joined, Dist),
    row("-fira-region=", Joined, Dist),
    row("-fira-verbose=", Joined, Dist),
    row("-flang-info-include-translate=", Joined, Dist),
    row("-flang-info-module-cmi=", Joined, Dist),
    row("-flifetime-dse=", Joined, Dist),
    row("-flinker-output=", Joined, Dist),
    row("-flive-patching=", Joined, Dist),
    row("-flto=", Joined, Dist),
    row("-flto-compression-level=", Joined, Dist),
    row("-flto-partition=", Joined, Dist),
    row("-flax-vector-conversions=", Joined, Dist),
    row("-fmacro-backtrace-limit=", Joined, Dist),
    row("-fmacro-prefix-map=", Joined, Dist),
    row("-fmax-errors=", Joined, Dist),
    row("-fmax-include-depth=", Joined, Dist),
    row("-fmax-tokens=", Joined, Dist),
    row("-fmax-type-align=", Joined, Dist),
    row("-fmessage-length=", Joined, Dist),
    row("-fms-compatibility-version=", Joined, Dist),
    row("-fmsc-version=", Joined, Dist),
    row("-fno-sanitize=", Joined, Dist),
    row("-fno-sanitize-coverage=", Joined, Dist),
    row("-fno-sanitize-recover=", Joined, Dist),
    row("-fno-sanitize-trap=", Joined, Dist),
    row("-fivar-visibility=", Joined, Dist),
    row("-fobjc-abi-version=", Joined, Dist),
    row("-fobjc-arc-cxxlib=", Joined, Dist),
    row("-fobjc-dispatch-method=", Joined, Dist),
    row("-fobjc-runtime=", Joined, Dist),
    row("-fobjc-std=", Joined, Dist),
    row("-foffload-abi=", Joined, Dist),
    row("-fopenacc-dim=", Joined, Dist),
    row("-fopenmp=", Joined, Dist),
    row("-fopenmp-version=", Joined, Dist),
    row("-fpack-struct=", Joined, Dist),
    row("-fpass-by-value-is-noalias=", Joined, Dist),
    row("-fpatchable-function-entry=", Joined, Dist),
    row("-fpermitted-flt-eval-methods=", Joined, Dist),
    row("-fprofile-dir=", Joined, Dist),
    row("-fprofile-exclude-files=", Joined, Dist),
    row("-fprofile-filter-files=", Joined, Dist),
    row("-fprofile-info-section=", Joined, Dist),
    row("-fprofile-instr-generate=", Joined, Dist),
    row("-fprofile-prefix-map=", Joined, Dist),
    row("-fprofile-prefix-path=", Joined, Dist),
    row("-fprofile-reproducible=", Joined, Dist),
    row("-fprofile-update=", Joined, Dist),
    row("-frandom-seed=", Joined, Dist),
    row("-freorder-blocks-algorithm=", Joined, Dist),
    row("-fsanitize=", Joined, Dist),
    row("-fsanitize-address-field-padding=", Joined, Dist),
    row("-fsanitize-address-use-after-return=", Joined, Dist),
    row("-fsanitize-coverage=", Joined, Dist),
    row("-fsanitize-hwaddress-abi=", Joined, Dist),
    row("-fsanitize-memory-track-origins=", Joined, Dist),
    row("-fsanitize-recover=", Joined, Dist),
    row("-fsanitize-sections=", Joined, Dist),
    row("-fsanitize-trap=", Joined, Dist),
    row("-fsave-optimization-record=", Joined, Dist),
    row("-fsched-stalled-insns=", Joined, Dist),
    row("-fsched-stalled-insns-dep=", Joined, Dist),
    row("-fsched-verbose=", Joined, Dist),
    row("-fsimd-cost-model=", Joined, Dist),
    row("-fspell-checking-limit=", Joined, Dist),
    row("-fsso-struct=", Joined, Dist),
    row("-fstack-check=", Joined, Dist),
    row("-fstack-limit-register=", Joined, Dist),
    row("-fstack-limit-symbol=", Joined, Dist),
    row("-fstack-reuse=", Joined, Dist),
    row("-fstrong-eval-order=", Joined, Dist),
    row("-fswift-async-fp=", Joined, Dist),
    row("-ftabstop=", Joined, Dist),
    row("-ftail-call-workaround=", Joined, Dist),
    row("-ftemplate-backtrace-limit=", Joined, Dist),
    row("-ftemplate-depth=", Joined, Dist),
    row("-fthin-link-bitcode=", Joined, Refused(WritesFile)),
    row("-ftime-trace-granularity=", Joined, Dist),
    row("-ftls-model=", Joined, Dist),
    row("-ftrack-macro-expansion=", Joined, Dist),
    row("-ftree-parallelize-loops=", Joined, Dist),
    row("-ftree-vectorizer-verbose=", Joined, Dist),
    row("-ftrivial-auto-var-init=", Joined, Dist),
    row("-ftrivial-auto-var-init-stop-after=", Joined, Dist),
    row("-fuse-cxa-atexit=", Joined, Dist),
    row("-fvect-cost-model=", Joined, Dist),
    row("-fveclib=", Joined, Dist),
    row("-fvisibility=", Joined, Dist),
    row("-fvtable-verify=", Joined, Dist),
    row("-fwchar-type=", Joined, Dist),
    row("-fwide-exec-charset=", Joined, Dist),
    row("-fxray-instruction-threshold=", Joined, Dist),
    row("-fxray-instrumentation-bundle=", Joined, Dist),
    row("-fxray-function-groups=", Joined, Dist),
    row("-fxray-selected-function-group=", Joined, Dist),
    row("-fzero-call-used-regs=", Joined, Dist),
    row("-fcomment-block-commands=", Joined, Dist),
    row("-ffile-compilation-dir=", Joined, Dist),
    row("-flimited-precision=", Joined, Dist),
    row("-fmemory-profile=", Joined, Dist),
    row("-fmodules-ignore-macro=", Joined, Dist),
    row("-fopenmp-cuda-blocks-per-sm=", Joined, Dist),
    row("-fopenmp-cuda-number-of-sm=", Joined, Dist),
    row("-fopenmp-cuda-teams-reduction-recs-num=", Joined, Dist),
    row("-fopenmp-target-debug=", Joined, Dist),
    row("-foptimization-record-passes=", Joined, Dist),
    row("--rsp-quoting=", Joined, Dist),
    // OpenCL's code-generation switches.
    row("-cl-fast-relaxed-math", Flag, Dist),
    row("-cl-finite-math-only", Flag, Dist),
    row("-cl-fp32-correctly-rounded-divide-sqrt", Flag, Dist),
    row("-cl-kernel-arg-info", Flag, Dist),
    row("-cl-mad-enable", Flag, Dist),
    row("-cl-no-signed-zeros", Flag, Dist),
    row("-cl-opt-disable", Flag, Dist),
    row("-cl-single-precision-constant", Flag, Dist),
    row("-cl-strict-aliasing", Flag, Dist),
    row("-cl-uniform-work-group-size", Flag, Dist),
    row("-cl-unsafe-math-optimizations", Flag, Dist),
    row("-fuse-ld=", Joined, Link),
    row("-fhelp=", Joined, Refused(Query)),
];

/// Dumps: gcc writes them next to the output (the job's directory) unless
/// `=FILE` names another place; the value is checked by the scanner.
const DUMPS: &[Row] = &[
    row("-fdump-", Joined, Dump),
    row("-fopt-info", Prefix, Dump),
    row("-dr", Prefix, Local(RtlDump)),
    row("-aux-info", Separate, Refused(WritesFile)),
    row("-aux-info=", Joined, Refused(WritesFile)),
    row("-dumpbase", Separate, Refused(WritesFile)),
    row("-dumpbase-ext", Separate, Refused(WritesFile)),
    row("-dumpdir", Separate, Refused(WritesFile)),
    row("-fprofile-note=", Joined, Refused(WritesFile)),
    row("-fgo-c-header=", Joined, Refused(WritesFile)),
    row("-fltrans-output-list=", Joined, Refused(WritesFile)),
    row("-foptimization-record-file=", Joined, Refused(WritesFile)),
    row("-fcrash-diagnostics-dir=", Joined, Refused(WritesFile)),
    row("-ftime-trace=", Joined, Refused(WritesFile)),
    row("-fstack-usage=", Joined, Refused(WritesFile)),
    row("-MJ", JoinedOrSeparate, Refused(WritesFile)),
    row("-serialize-diagnostics", Separate, Refused(WritesFile)),
    row("--serialize-diagnostics", Separate, Refused(WritesFile)),
    row("-dependency-file", Separate, Refused(WritesFile)),
    row("-dependency-dot", Separate, Refused(WritesFile)),
    row("-gen-cdb-fragment-path", Separate, Refused(WritesFile)),
    row("-gen-reproducer", Flag, Refused(WritesFile)),
    row("-dsym-dir", Separate, Refused(WritesFile)),
    row("-J", JoinedOrSeparate, Refused(WritesFile)),
];

/// Profiling and coverage: 3.4 keeps these local (the data files live on
/// the client), and so do options that read a profile.
const PROFILE: &[Row] = &[
    row("--coverage", Flag, Local(Profile)),
    row("-coverage", Flag, Local(Profile)),
    row("-fprofile-arcs", Flag, Local(Profile)),
    row("-ftest-coverage", Flag, Local(Profile)),
    row("-fprofile-correction", Flag, Local(Profile)),
    row("-fprofile-generate", Prefix, Local(Profile)),
    row("-fprofile-use", Prefix, Local(Profile)),
    row("-fauto-profile", Prefix, Local(Profile)),
    row("-fprofile-instr-use", Prefix, Refused(ReadsFile)),
    row("-fprofile-sample-use", Prefix, Refused(ReadsFile)),
    row("-fprofile-remapping-file=", Joined, Refused(ReadsFile)),
    row("-fprofile-list=", Joined, Refused(ReadsFile)),
    row("-frepo", Flag, Local(Repo)),
    row("-flto", Flag, Local(Lto)),
];

/// What makes the compiler read a file it names, other than sources and
/// headers.
const READS: &[Row] = &[
    row("-fsanitize-blacklist=", Joined, Refused(ReadsFile)),
    row("-fsanitize-ignorelist=", Joined, Refused(ReadsFile)),
    row("-fsanitize-system-blacklist=", Joined, Refused(ReadsFile)),
    row("-fsanitize-system-ignorelist=", Joined, Refused(ReadsFile)),
    row("-fsanitize-coverage-allowlist=", Joined, Refused(ReadsFile)),
    row(
        "-fsanitize-coverage-ignorelist=",
        Joined,
        Refused(ReadsFile),
    ),
    row("-fsanitize-coverage-whitelist=", Joined, Refused(ReadsFile)),
    row("-fsanitize-coverage-blacklist=", Joined, Refused(ReadsFile)),
    row("-fxray-attr-list=", Joined, Refused(ReadsFile)),
    row("-fxray-always-instrument=", Joined, Refused(ReadsFile)),
    row("-fxray-never-instrument=", Joined, Refused(ReadsFile)),
    row("-fthinlto-index=", Joined, Refused(ReadsFile)),
    row("-fembed-offload-object=", Joined, Refused(ReadsFile)),
    row("-fgo-embedcfg=", Joined, Refused(ReadsFile)),
    row("-fgo-relative-import-path=", Joined, Refused(ReadsFile)),
    row("-fself-test=", Joined, Refused(ReadsFile)),
    row("-fresolution=", Joined, Refused(ReadsFile)),
    row("-specs=", Joined, Local(Specs)),
    row("-specs", Separate, Local(Specs)),
    row("--specs=", Joined, Local(Specs)),
    row("--config", Separate, Refused(ReadsFile)),
    row("--config=", Joined, Refused(ReadsFile)),
    row("--config-system-dir=", Joined, Refused(ReadsFile)),
    row("--config-user-dir=", Joined, Refused(ReadsFile)),
    row("-ivfsoverlay", JoinedOrSeparate, Refused(ReadsFile)),
];

/// What makes the compiler load or run another program, or hand options
/// to a stage this table cannot check.
const RUNS: &[Row] = &[
    row("-B", JoinedOrSeparate, Refused(RunsProgram)),
    row("-wrapper", Separate, Refused(RunsProgram)),
    row("-fplugin=", Joined, Refused(RunsProgram)),
    row("-fplugin-arg-", Joined, Refused(RunsProgram)),
    row("-fpass-plugin=", Joined, Refused(RunsProgram)),
    row("-iplugindir=", Joined, Refused(RunsProgram)),
    row("-fmodule-mapper=", Joined, Refused(RunsProgram)),
    row("-foffload=", Joined, Refused(RunsProgram)),
    row("-foffload-options=", Joined, Refused(PassesThrough)),
    row("-fcompare-debug=", Joined, Refused(PassesThrough)),
    row("--gcc-toolchain=", Joined, Refused(RunsProgram)),
    row("-gcc-toolchain", Separate, Refused(RunsProgram)),
    row("--ld-path=", Joined, Link),
    row("--amdgpu-arch-tool=", Joined, Refused(RunsProgram)),
    row("--ptxas-path=", Joined, Refused(RunsProgram)),
    row("--hipspv-pass-plugin=", Joined, Refused(RunsProgram)),
    row("-ccc-", Prefix, Refused(MovesDriver)),
    row("--driver-mode=", Joined, Refused(MovesDriver)),
    row("-resource-dir", Separate, Refused(MovesDriver)),
    row("-resource-dir=", Joined, Refused(MovesDriver)),
    row("-working-directory", JoinedOrSeparate, Refused(MovesDriver)),
    row("-Xclang", Separate, Refused(PassesThrough)),
    row("-mllvm", Separate, Refused(PassesThrough)),
    row("-Xanalyzer", Separate, Refused(PassesThrough)),
    row("-Xarch_", Prefix, Refused(PassesThrough)),
    row("-Xopenmp-target", Separate, Refused(PassesThrough)),
    row("-Xopenmp-target=", Joined, Refused(PassesThrough)),
    row("-Xcuda-fatbinary", Separate, Refused(PassesThrough)),
    row("-Xcuda-ptxas", Separate, Refused(PassesThrough)),
    row("-Xoffload-linker", Prefix, Refused(PassesThrough)),
    row("-Xflang", Separate, Refused(PassesThrough)),
    row("--offload=", Joined, Refused(PassesThrough)),
    row("--offload-arch=", Joined, Refused(PassesThrough)),
    row("--no-offload-arch=", Joined, Refused(PassesThrough)),
];

/// Modules and precompiled headers: the files they name are the client's.
const MODULES: &[Row] = &[
    row("-fmodule-file=", Joined, Refused(Modules)),
    row("-fmodule-map-file=", Joined, Refused(Modules)),
    row("-fmodules-cache-path=", Joined, Refused(Modules)),
    row("-fprebuilt-module-path=", Joined, Refused(Modules)),
    row("-fmodule-header=", Joined, Refused(Modules)),
    row("-fmodule-name=", Joined, Dist),
    row("-fbuild-session-file=", Joined, Refused(Modules)),
    row("-fmodule-header", Flag, Refused(Modules)),
    row("-include-pch", Separate, Refused(Modules)),
    row("--precompile", Flag, Refused(Modules)),
    row("--relocatable-pch", Flag, Refused(Modules)),
    row("-relocatable-pch", Flag, Refused(Modules)),
    row("--output-pch=", Joined, Refused(WritesFile)),
    row("-output-pch=", Joined, Refused(WritesFile)),
];

/// Questions to the compiler: nothing to compile on a server.
const QUERIES: &[Row] = &[
    row("-###", Flag, Refused(Query)),
    row("--help", Flag, Refused(Query)),
    row("--help=", Joined, Refused(Query)),
    row("-help", Flag, Refused(Query)),
    row("--help-hidden", Flag, Refused(Query)),
    row("--target-help", Flag, Refused(Query)),
    row("--version", Flag, Refused(Query)),
    row("-version", Flag, Refused(Query)),
    row("--completion=", Joined, Refused(Query)),
    row("-dumpmachine", Flag, Refused(Query)),
    row("-dumpversion", Flag, Refused(Query)),
    row("-dumpfullversion", Flag, Refused(Query)),
    row("-dumpspecs", Flag, Refused(Query)),
    row("-print-", Prefix, Refused(Query)),
    row("--print-", Prefix, Refused(Query)),
    row("--analyze", Flag, Refused(Query)),
    row("--analyzer-output", Separate, Refused(Query)),
    row("--migrate", Flag, Refused(Query)),
    row("--verify-debug-info", Flag, Refused(Query)),
    row("-verify-pch", Flag, Refused(Query)),
    row("-emit-ast", Flag, Refused(Query)),
    row("-emit-interface-stubs", Flag, Refused(Query)),
    row("-emit-merged-ifs", Flag, Refused(Query)),
    row("-extract-api", Flag, Refused(Query)),
];

/// The preprocessor's options. In plain mode the client's preprocessor
/// reads them (and 3.4 strips most before sending); in pump mode the
/// server's does, with paths rooted in the job's copy of the client's tree.
const PREPROCESSOR: &[Row] = &[
    row("-D", JoinedOrSeparate, Cpp(Macro)),
    row("-U", JoinedOrSeparate, Cpp(Macro)),
    row("-A", JoinedOrSeparate, Cpp(Macro)),
    row("-I", JoinedOrSeparate, Cpp(Path)),
    row("-I-", Flag, Cpp(Switch)),
    row("-F", JoinedOrSeparate, Cpp(Path)),
    row("-include", JoinedOrSeparate, Cpp(Path)),
    row("-imacros", JoinedOrSeparate, Cpp(Path)),
    row("-idirafter", JoinedOrSeparate, Cpp(Path)),
    row("-iprefix", JoinedOrSeparate, Cpp(Path)),
    row("-iquote", JoinedOrSeparate, Cpp(Path)),
    row("-isysroot", JoinedOrSeparate, Cpp(Path)),
    row("-isystem", JoinedOrSeparate, Cpp(Path)),
    row("-isystem-after", JoinedOrSeparate, Cpp(Path)),
    row("-iwithprefix", JoinedOrSeparate, Cpp(Path)),
    row("-iwithprefixbefore", JoinedOrSeparate, Cpp(Path)),
    row("-iwithsysroot", JoinedOrSeparate, Cpp(Path)),
    row("-iframework", JoinedOrSeparate, Cpp(Path)),
    row("-iframeworkwithsysroot", JoinedOrSeparate, Cpp(Path)),
    row("-cxx-isystem", JoinedOrSeparate, Cpp(Path)),
    row("-stdlib++-isystem", JoinedOrSeparate, Cpp(Path)),
    row("--sysroot=", Joined, Cpp(Path)),
    row("--sysroot", Separate, Cpp(Path)),
    row("-imultiarch", JoinedOrSeparate, Cpp(Name)),
    row("-imultilib", JoinedOrSeparate, Cpp(Name)),
    row("-stdlib=", Joined, Cpp(Name)),
    row("--stdlib=", Joined, Cpp(Name)),
    row("--system-header-prefix=", Joined, Cpp(Name)),
    row("--no-system-header-prefix=", Joined, Cpp(Name)),
    row("-index-header-map", Flag, Cpp(Switch)),
    row("-nostdinc", Flag, Cpp(Switch)),
    row("-nostdinc++", Flag, Cpp(Switch)),
    row("-nobuiltininc", Flag, Cpp(Switch)),
    row("-nostdlibinc", Flag, Cpp(Switch)),
    row("-ibuiltininc", Flag, Cpp(Switch)),
    row("-undef", Flag, Cpp(Switch)),
    row("-trigraphs", Flag, Cpp(Switch)),
    row("--trigraphs", Flag, Cpp(Switch)),
    row("-traditional-cpp", Flag, Cpp(Switch)),
    row("--traditional-cpp", Flag, Cpp(Switch)),
    row("-remap", Flag, Cpp(Switch)),
    row("-H", Flag, Cpp(Switch)),
    row("-P", Flag, Cpp(Switch)),
    row("-C", Flag, Cpp(Switch)),
    row("-CC", Flag, Cpp(Switch)),
    // Dependency output beside the compile (3.4 allows these; any other
    // `-M...` only lists dependencies and stays local).
    row("-M", Prefix, Local(DependencyOnly)),
    row("-MD", Flag, Cpp(Deps)),
    row("-MMD", Flag, Cpp(Deps)),
    row("-MG", Flag, Cpp(Deps)),
    row("-MP", Flag, Cpp(Deps)),
    row("-MF", JoinedOrSeparate, Cpp(DepsFile)),
    row("-MT", JoinedOrSeparate, Cpp(DepsTarget)),
    row("-MQ", JoinedOrSeparate, Cpp(DepsTarget)),
    row("-Wp,", Joined, Preprocessor),
    row("-Xpreprocessor", Separate, Preprocessor),
];

/// The assembler and the linker. Linker options are inert when the driver
/// stops at `-c` or `-S`.
const STAGES: &[Row] = &[
    row("-Wa,", Joined, Assembler),
    row("-Xassembler", Separate, Assembler),
    row("-Wl,", Joined, Link),
    row("-Xlinker", Separate, Link),
    row("-l", JoinedOrSeparate, Link),
    row("-L", JoinedOrSeparate, Link),
    row("-T", JoinedOrSeparate, Link),
    row("-Tbss", Separate, Link),
    row("-Tdata", Separate, Link),
    row("-Ttext", Separate, Link),
    row("-Tbss=", Joined, Link),
    row("-Tdata=", Joined, Link),
    row("-Ttext=", Joined, Link),
    row("-u", JoinedOrSeparate, Link),
    row("-e", JoinedOrSeparate, Link),
    row("-z", Separate, Link),
    row("-rpath", Separate, Link),
    row("-static", Flag, Link),
    row("--static", Flag, Link),
    row("-shared", Flag, Link),
    row("--shared", Flag, Link),
    row("-static-pie", Flag, Link),
    row("-static-libgcc", Flag, Link),
    row("-shared-libgcc", Flag, Link),
    row("-static-libstdc++", Flag, Link),
    row("-static-libasan", Flag, Link),
    row("-static-libtsan", Flag, Link),
    row("-static-liblsan", Flag, Link),
    row("-static-libubsan", Flag, Link),
    row("-static-libhwasan", Flag, Link),
    row("-static-libsan", Flag, Link),
    row("-shared-libsan", Flag, Link),
    row("-static-openmp", Flag, Link),
    row("-pie", Flag, Link),
    row("-no-pie", Flag, Link),
    row("-rdynamic", Flag, Link),
    row("-export-dynamic", Flag, Link),
    row("-symbolic", Flag, Link),
    row("-nostdlib", Flag, Link),
    row("-nostdlib++", Flag, Link),
    row("-nodefaultlibs", Flag, Link),
    row("-nostartfiles", Flag, Link),
    row("-nolibc", Flag, Link),
    row("-r", Flag, Link),
    row("-s", Flag, Link),
    row("-t", Flag, Link),
    row("-rtlib=", Joined, Link),
    row("--rtlib=", Joined, Link),
    row("-unwindlib=", Joined, Link),
    row("--unwindlib=", Joined, Link),
    row("--emit-static-lib", Flag, Link),
    // Passed to the linker by some targets' specs.
    row("-N", Flag, Link),
    row("-n", Flag, Link),
    row("-Z", Flag, Link),
    row("-R", Separate, Link),
    row("-h", Separate, Link),
    row("-posix", Flag, Link),
    row("-tno-android-cc", Flag, Link),
    row("-tno-android-ld", Flag, Link),
    // Other languages' runtimes (Go, D, the retired MPX).
    row("-static-libgo", Flag, Link),
    row("-static-libmpx", Flag, Link),
    row("-static-libmpxwrappers", Flag, Link),
    row("-static-libphobos", Flag, Link),
    row("-shared-libphobos", Flag, Link),
    row("-nophoboslib", Flag, Link),
    row("-debuglib=", Joined, Link),
    row("-defaultlib=", Joined, Link),
];

/// Options gcc's driver accepts that no C build needs: gcc's `lto-dump`
/// options and target oddities. Refused rather than guessed at.
const RARE: &[Row] = &[
    row("-k8", Flag, Refused(Rare)),
    row("-profile", Flag, Refused(Rare)),
    row("-callgraph", Flag, Refused(Rare)),
    row("-tree-stats", Flag, Refused(Rare)),
    row("-type-stats", Flag, Refused(Rare)),
    row("-name-sort", Flag, Refused(Rare)),
    row("-reverse-sort", Flag, Refused(Rare)),
    row("-size-sort", Flag, Refused(Rare)),
    row("-defined-only", Flag, Refused(Rare)),
    row("-symbol=", Joined, Refused(Rare)),
    row("-dump-body=", Joined, Refused(Rare)),
    row("-dump-level=", Joined, Refused(Rare)),
    // D's and Fortran's run-time checks (gcc accepts `-fno-check=bounds`).
    row("-fcheck=", Joined, Refused(Rare)),
    // GPU offloading (CUDA, HIP, ROCm): finds toolkits on the machine.
    row("--cuda-compile-host-device", Flag, Refused(Rare)),
    row("--cuda-host-only", Flag, Refused(Rare)),
    row("--cuda-path-ignore-env", Flag, Refused(Rare)),
    row("--cuda-path=", Joined, Refused(Rare)),
    row("--gpu-bundle-output", Flag, Refused(Rare)),
    row("--no-gpu-bundle-output", Flag, Refused(Rare)),
    row("--gpu-use-aux-triple-only", Flag, Refused(Rare)),
    row("--hip-path=", Joined, Refused(Rare)),
    row("--rocm-device-lib-path=", Joined, Refused(Rare)),
    row("--rocm-path=", Joined, Refused(Rare)),
    row("-nogpulib", Flag, Refused(Rare)),
    row("-nogpuinc", Flag, Refused(Rare)),
    row("-nohipwrapperinc", Flag, Refused(Rare)),
];

/// Every group; the order does not matter.
const GROUPS: &[&[Row]] = &[
    JOB,
    CODE,
    F_VALUES,
    DUMPS,
    PROFILE,
    READS,
    RUNS,
    MODULES,
    QUERIES,
    PREPROCESSOR,
    STAGES,
    RARE,
];

/// Every row, in source order.
pub fn all() -> impl Iterator<Item = &'static Row> {
    GROUPS.iter().flat_map(|g| g.iter())
}

/// How many rows the groups hold.
const COUNT: usize = {
    let mut n = 0;
    let mut g = 0;
    while g < GROUPS.len() {
        n += GROUPS[g].len();
        g += 1;
    }
    n
};

/// `a < b` by bytes, in a constant context (`Ord` is not `const`).
const fn less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// The rows sorted by name, at compile time: sorting them at every start
/// cost each `distcc` process about 0.25 M instructions (8 % of a pump
/// job's client, callgrind), for a table that never changes.
static SORTED: [Row; COUNT] = {
    let mut out = [JOB[0]; COUNT];
    let mut n = 0;
    let mut g = 0;
    while g < GROUPS.len() {
        let mut r = 0;
        while r < GROUPS[g].len() {
            // Insertion sort: a few hundred rows, once, in the compiler.
            let row = GROUPS[g][r];
            let mut i = n;
            while i > 0 && less(row.name, out[i - 1].name) {
                out[i] = out[i - 1];
                i -= 1;
            }
            out[i] = row;
            n += 1;
            r += 1;
        }
        g += 1;
    }
    out
};

/// The rows sorted by name.
pub(super) fn sorted() -> &'static [Row] {
    &SORTED
}

/// The rows whose name is a prefix of `arg`, longest first.
///
/// Every such row sorts at or before `arg`, and a longer prefix sorts after
/// a shorter one, so walking back from the last row `<= arg` meets them
/// longest first; once the first two bytes differ no earlier row can match.
pub fn candidates(arg: &[u8]) -> impl Iterator<Item = &'static Row> + '_ {
    let rows = sorted();
    let end = rows.partition_point(|r| r.name.as_bytes() <= arg);
    let head = arg.get(..2).unwrap_or(arg);
    rows[..end]
        .iter()
        .rev()
        .take_while(move |r| &r.name.as_bytes()[..2] >= head)
        .filter(move |r| arg.starts_with(r.name.as_bytes()))
}

/// The row named exactly `name`, if any.
pub fn named(name: &[u8]) -> Option<&'static Row> {
    let rows = sorted();
    rows.binary_search_by(|r| r.name.as_bytes().cmp(name))
        .ok()
        .map(|i| &rows[i])
}
