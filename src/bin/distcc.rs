//! The `distcc` program: see [`distcc::client`].

fn main() -> std::process::ExitCode {
    distcc::client::main()
}
