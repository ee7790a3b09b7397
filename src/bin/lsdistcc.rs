//! The `lsdistcc` program: see [`distcc::pump`].

fn main() -> std::process::ExitCode {
    distcc::pump::lsdistcc_main()
}
