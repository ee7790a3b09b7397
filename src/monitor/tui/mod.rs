//! `distccmon-tui`: a full-screen live view of the farm (issue 15), for a
//! headless build box or an ssh session where `distccmon-gnome` cannot
//! run. It shows, once a second:
//!
//! * every host of the host list: slots in use of its limit (the
//!   3.4-compatible `cpu_*` locks), jobs done and failures in the window,
//!   average compile time and jobs in the last minute, backoff (the
//!   `backoff_*` files), and the daemon's own figures where its `--stats`
//!   page answers;
//! * the throughput, as a sparkline of jobs done per 5 seconds;
//! * the running jobs of every client of this user, ours and distcc 3.4's
//!   (their state files, as `distccmon-text` reads them);
//! * the fallbacks to a local compile, with their reasons (from our
//!   client's records, [`crate::client::stats`]).
//!
//! Keys: `q` quits, `p` (or space) pauses, `s` changes the host order. It
//! fits 80x24, honours `NO_COLOR`, and never writes a file.
//!
//! Its own program rather than a mode of `distccmon-text`, whose command
//! line is 3.4's (anything but one DELAY is a usage error), like 3.4's
//! `distccmon-gnome` beside it. Parts: [`sources`] reads, [`daemon`]
//! fetches stats pages, [`model`] and [`layout`] decide (pure, tested),
//! [`view`] draws, this file runs the terminal.

pub mod daemon;
pub mod layout;
pub mod model;
pub mod sources;
pub mod view;

use std::io::{self, Write};
use std::time::{Duration, Instant};

use clap::Parser;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::tty::IsTty;

use crate::env::Vars;
use crate::error::ExitCode;
use layout::Action;
use model::Model;
use sources::{Sources, StatsPorts};
use view::ViewOpts;

/// `distccmon-tui`'s options.
#[derive(Debug, Parser)]
#[command(
    name = "distccmon-tui",
    version = crate::version::VERSION,
    about = "distccmon-tui: a live view of the distcc farm (distcc-rs)",
    after_help = "Reads $DISTCC_DIR (default ~/.distcc): the jobs of every distcc client of \
                  this user (ours and distcc 3.4's), the slot locks and backoff files, and \
                  our client's per-job records; the host list as distcc finds it. Keys: q \
                  quit, p pause, s sort. Never writes anything. NO_COLOR turns colours off."
)]
pub struct Args {
    /// Seconds between looks (fractions allowed).
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    pub interval: f64,

    /// Count jobs done, failures and fallbacks over the last MINUTES.
    #[arg(long, value_name = "MINUTES", default_value_t = 10)]
    pub window: u64,

    /// The --stats port of every TCP host's daemon (0: do not ask).
    #[arg(long, value_name = "PORT", default_value_t = 3633)]
    pub stats_port: u16,

    /// The --stats port of one host of the host list (HOST:PORT as listed,
    /// or HOST for port 3632); may be repeated.
    #[arg(long = "stats", value_name = "HOST:PORT=STATSPORT")]
    pub stats: Vec<String>,

    /// Print one screen as text and exit (the terminal's size, else 80x24).
    #[arg(long)]
    pub once: bool,
}

/// Entry point of the program.
pub fn main() -> std::process::ExitCode {
    let vars = Vars::from_process();
    let args = Args::parse();
    std::process::ExitCode::from(run(&vars, &args) as u8)
}

/// `HOST[:PORT]=STATSPORT` of `--stats`.
fn parse_stats(spec: &str) -> Result<(String, u16), String> {
    let (host, port) = spec
        .rsplit_once('=')
        .ok_or_else(|| format!("--stats wants HOST:PORT=STATSPORT, not {spec:?}"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("--stats {spec:?}: {port:?} is not a port"))?;
    let host = if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !host.ends_with(']')
    {
        host.to_owned()
    } else {
        format!("{host}:3632")
    };
    Ok((host, port))
}

/// The whole program; returns the exit code.
pub fn run(vars: &Vars, args: &Args) -> i32 {
    let Some(top) = vars.distcc_dir() else {
        eprintln!("distccmon-tui: neither DISTCC_DIR nor HOME is set");
        return ExitCode::BadArguments.code();
    };
    if !(args.interval.is_finite() && args.interval > 0.0) {
        eprintln!("distccmon-tui: --interval must be a positive number of seconds");
        return ExitCode::BadArguments.code();
    }
    let by_host = match args.stats.iter().map(|s| parse_stats(s)).collect() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("distccmon-tui: {e}");
            return ExitCode::BadArguments.code();
        }
    };
    let ports = StatsPorts {
        default: args.stats_port,
        by_host,
    };
    let opts = ViewOpts {
        color: !vars.no_color(),
        dir: top.display().to_string(),
    };
    let mut sources = Sources::new(top, vars.clone(), ports);
    let mut model = Model::new(args.window.max(1) * 60_000);
    let result = if args.once {
        once(&mut sources, &mut model, &opts)
    } else if !io::stdout().is_tty() {
        eprintln!("distccmon-tui: standard output is not a terminal (--once prints one screen)");
        return ExitCode::BadArguments.code();
    } else {
        live(
            &mut sources,
            &mut model,
            &opts,
            Duration::from_secs_f64(args.interval),
        )
    };
    match result {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("distccmon-tui: {e}");
            ExitCode::IoError.code()
        }
    }
}

/// `--once`: one screen as text.
fn once(sources: &mut Sources, model: &mut Model, opts: &ViewOpts) -> io::Result<()> {
    model.update(sources.sample());
    sources.fetch_daemons_now();
    model.update(sources.sample());
    let (w, h) = if io::stdout().is_tty() {
        ratatui::crossterm::terminal::size().unwrap_or((80, 24))
    } else {
        (80, 24)
    };
    let mut t = Terminal::new(TestBackend::new(w, h))?;
    t.draw(|f| view::draw(f, model, opts))?;
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    io::stdout().lock().write_all(out.as_bytes())
}

/// The full-screen loop: look, draw, wait for a key or the next look.
fn live(
    sources: &mut Sources,
    model: &mut Model,
    opts: &ViewOpts,
    interval: Duration,
) -> io::Result<()> {
    // Raw mode and the alternate screen, undone on return and on panic.
    let mut terminal = ratatui::try_init()?;
    let result = (|| {
        let mut next = Instant::now();
        loop {
            if !model.paused && Instant::now() >= next {
                model.update(sources.sample());
                next = Instant::now() + interval;
            }
            terminal.draw(|f| view::draw(f, model, opts))?;
            let wait = next.saturating_duration_since(Instant::now()).min(interval);
            if !event::poll(wait)? {
                continue;
            }
            let Event::Key(key) = event::read()? else {
                continue; // a resize: drawn again at once
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            let ch = match key.code {
                KeyCode::Char(c) => c,
                KeyCode::Esc => 'q',
                _ => continue,
            };
            match layout::action(ch, key.modifiers.contains(KeyModifiers::CONTROL)) {
                Action::Quit => return Ok(()),
                Action::Pause => {
                    model.paused = !model.paused;
                    next = Instant::now();
                }
                Action::Sort => model.sort = model.sort.next(),
                Action::None => {}
            }
        }
    })();
    ratatui::try_restore()?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn stats_specs() {
        for (spec, want) in [
            (
                "10.0.0.2:4000=4001",
                Ok(("10.0.0.2:4000".to_string(), 4001)),
            ),
            ("box=3633", Ok(("box:3632".to_string(), 3633))),
            ("[::1]:77=78", Ok(("[::1]:77".to_string(), 78))),
            ("[::1]=78", Ok(("[::1]:3632".to_string(), 78))),
            ("box:3632=0", Ok(("box:3632".to_string(), 0))),
        ] {
            assert_eq!(parse_stats(spec), want, "{spec}");
        }
        assert!(parse_stats("box").is_err());
        assert!(parse_stats("box=http").is_err());
    }
}
