//! The `distccmon-tui` program: see [`distcc::monitor::tui`].

fn main() -> std::process::ExitCode {
    distcc::monitor::tui::main()
}
