//! The `distccd` program: see [`distcc::daemon`].

fn main() -> std::process::ExitCode {
    distcc::daemon::main()
}
