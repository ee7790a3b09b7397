//! The `pump` program: see [`distcc::pump`].

fn main() -> std::process::ExitCode {
    distcc::pump::main()
}
