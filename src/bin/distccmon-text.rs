//! The `distccmon-text` program: see [`distcc::monitor`].

fn main() -> std::process::ExitCode {
    distcc::monitor::main()
}
