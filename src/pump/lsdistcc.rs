//! `lsdistcc`: list the distcc servers that answer (spec §1.11).
//!
//! Options follow distcc 3.4's `lsdistcc` (single-letter, value joined:
//! `-t7`, `-pgcc`). Hosts come from the command line, or from a name
//! format (`distcc%d` by default) tried for 1, 2, ... until names stop
//! resolving. Output lines are what a `DISTCC_HOSTS` list wants:
//! `name[:port][,lzo[,cpp]][,down] [latency-ms]`.
//!
//! Parsing and formatting are pure; the probing lives in [`super::probe`].

use std::fmt;
use std::time::Duration;

use crate::version::DEFAULT_PORT;

/// Everything `lsdistcc` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `-l`: print latency in milliseconds after each host.
    pub latency: bool,
    /// `-n`: print the IP address rather than the name.
    pub numeric: bool,
    /// `-x`: also list hosts that did not answer, marked `,down`.
    pub show_down: bool,
    /// `-t`: stop searching after this long.
    pub overall: Duration,
    /// `-h`: wait between name-lookup retries.
    pub dns_retry: Duration,
    /// `-c`: connect timeout; `None` (`-c0`) = do not connect.
    pub connect: Option<Duration>,
    /// `-k`: compile timeout; `None` (`-k0`) = do not compile.
    pub compile: Option<Duration>,
    /// `-m`: leading address bits that must match the first host found.
    pub match_bits: u8,
    /// `-o`: extra names looked up ahead (format mode).
    pub overlap: u32,
    /// `-g`: missing names tolerated before stopping (format mode).
    pub dns_gap: u32,
    /// `-r`: port.
    pub port: u16,
    /// `-P`: protocol version of the probe job (1-3).
    pub protocol: u32,
    /// `-p`: compiler for the probe job; without it no job is sent.
    pub compiler: Option<String>,
    /// `-d`: append the DNS domain to the format.
    pub domain: bool,
    /// `-v`: verbose progress on stderr.
    pub verbose: bool,
    /// `-z` (ours; 3.4's lsdistcc has no zeroconf option): list the
    /// daemons announcing themselves by mDNS instead of probing names.
    pub zeroconf: bool,
    /// What to probe.
    pub targets: Targets,
}

/// Hosts named on the command line, or a name format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// Explicit host names or addresses.
    Hosts(Vec<String>),
    /// A printf-style format with one `%d`.
    Format(String),
}

impl Default for Options {
    fn default() -> Self {
        Self {
            latency: false,
            numeric: false,
            show_down: false,
            overall: Duration::from_secs(7),
            dns_retry: Duration::from_millis(500),
            connect: Some(Duration::from_millis(900)),
            compile: Some(Duration::from_millis(1500)),
            match_bits: 0,
            overlap: 1,
            dns_gap: 0,
            port: DEFAULT_PORT,
            protocol: 1,
            compiler: None,
            domain: false,
            verbose: false,
            zeroconf: false,
            targets: Targets::Format("distcc%d".into()),
        }
    }
}

/// What the command line asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Probe with these options.
    Run(Options),
    /// Print usage (and exit 1, as 3.4 does).
    Help,
}

/// A command line `lsdistcc` cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn number<T: std::str::FromStr>(flag: char, value: &str) -> Result<T, UsageError> {
    value
        .parse()
        .map_err(|_| UsageError(format!("-{flag} needs a number, not {value:?}")))
}

fn millis(flag: char, value: &str) -> Result<Option<Duration>, UsageError> {
    let ms: u64 = number(flag, value)?;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}

/// Parse `lsdistcc`'s arguments (without `argv[0]`).
pub fn parse_args(args: &[String]) -> Result<Command, UsageError> {
    let mut o = Options::default();
    let mut rest = Vec::new();
    for arg in args {
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            rest.push(arg.clone());
            continue;
        };
        if arg == "--help" {
            return Ok(Command::Help);
        }
        if arg == "--zeroconf" {
            o.zeroconf = true;
            continue;
        }
        let mut chars = flags.chars();
        while let Some(flag) = chars.next() {
            let value = chars.as_str();
            match flag {
                'l' => o.latency = true,
                'n' => o.numeric = true,
                'x' => o.show_down = true,
                'd' => o.domain = true,
                'v' => o.verbose = true,
                'z' => o.zeroconf = true,
                't' => o.overall = Duration::from_secs(number(flag, value)?),
                'h' => o.dns_retry = Duration::from_millis(number(flag, value)?),
                'c' => o.connect = millis(flag, value)?,
                'k' => o.compile = millis(flag, value)?,
                'm' => o.match_bits = number(flag, value)?,
                'o' => o.overlap = number(flag, value)?,
                'g' => o.dns_gap = number(flag, value)?,
                'r' => o.port = number(flag, value)?,
                'P' => o.protocol = number(flag, value)?,
                'p' => o.compiler = Some(value.to_string()).filter(|v| !v.is_empty()),
                _ => return Err(UsageError(format!("unknown option -{flag}"))),
            }
            if "thckmogrPp".contains(flag) {
                break; // the rest of this word was the value
            }
        }
    }
    if !(1..=3).contains(&o.protocol) {
        return Err(UsageError(format!(
            "-P must be 1, 2 or 3, not {}",
            o.protocol
        )));
    }
    if o.match_bits > 128 {
        return Err(UsageError(format!(
            "-m must be at most 128, not {}",
            o.match_bits
        )));
    }
    o.targets = match rest.as_slice() {
        [] => Targets::Format("distcc%d".into()),
        [one] if one.contains("%d") => Targets::Format(one.clone()),
        many => Targets::Hosts(many.to_vec()),
    };
    Ok(Command::Run(o))
}

/// The name a format gives for number `i` (`distcc%d` → `distcc3`).
pub fn format_name(format: &str, i: u32, domain: Option<&str>) -> String {
    let name = format.replacen("%d", &i.to_string(), 1);
    match domain {
        Some(d) if !d.is_empty() => format!("{name}.{d}"),
        _ => name,
    }
}

/// What probing found out about one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Name as given (or generated).
    pub name: String,
    /// The address it resolved to, if it did.
    pub addr: Option<String>,
    /// Whether it answered (connect, and the job if one was sent).
    pub up: bool,
    /// Milliseconds the connect (or the probe job) took.
    pub latency_ms: u64,
}

/// The output line for one host, or `None` when it is down and `-x` was
/// not given.
pub fn format_line(o: &Options, f: &Found) -> Option<String> {
    if !f.up && !o.show_down {
        return None;
    }
    let shown = match (&f.addr, o.numeric) {
        (Some(a), true) => a.clone(),
        _ => f.name.clone(),
    };
    let mut line = shown;
    if o.port != DEFAULT_PORT {
        line.push_str(&format!(":{}", o.port));
    }
    match o.protocol {
        2 => line.push_str(",lzo"),
        3 => line.push_str(",lzo,cpp"),
        _ => {}
    }
    if !f.up {
        line.push_str(",down");
    }
    if o.latency {
        line.push_str(&format!(" {}", f.latency_ms));
    }
    Some(line)
}

/// Usage text.
pub const USAGE: &str = "\
Usage: lsdistcc [-tTIMEOUT] [-mBITS] [-nvd] [format | host...]
List the distcc servers that answer on distcc's port.
With host names, only those are checked; otherwise names are made from
FORMAT (default distcc%d) for 1, 2, ... until names stop resolving.
Options:
  -l          print latency in milliseconds after each host
  -n          print the IP address rather than the name
  -x          also list hosts that do not answer, as HOST,down
  -tTIMEOUT   stop searching after TIMEOUT seconds [7]
  -hHTIMEOUT  milliseconds between name-lookup retries [500]
  -cCTIMEOUT  milliseconds before giving up on connect [900] (0: no connect)
  -kKTIMEOUT  milliseconds before giving up on the probe compile [1500]
              (0: no compile)
  -mBITS      address bits that must match the first host found [0]
  -oOVERLAP   extra names looked up ahead [1]
  -gDNSGAP    missing names tolerated before stopping [0]
  -rPORT      port to connect to [3632]
  -PPROTOCOL  protocol version of the probe job, 1-3 [1]
  -pCOMPILER  compiler for a probe job (none: connect only)
  -d          append the DNS domain name to FORMAT
  -v          verbose
  -z, --zeroconf
              list the distccd servers announcing themselves by mDNS
              (distccd --zeroconf, or 3.4's with Avahi) whose compiler
              matches cc's, as host-list lines (addr:port/N[,lzo]), and
              refresh the cache +zeroconf reads (DISTCC_DIR/zeroconf/hosts);
              not in distcc 3.4's lsdistcc
Example:
  lsdistcc -l -pgcc hosta hostb
";

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse_args(&args).unwrap() {
            Command::Run(o) => o,
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults_match_3_4() {
        let o = run(&[]);
        assert_eq!(o.targets, Targets::Format("distcc%d".into()));
        assert_eq!((o.port, o.protocol, o.overall.as_secs()), (3632, 1, 7));
        assert_eq!(o.compiler, None);
    }

    #[test]
    fn joined_values_and_grouped_flags() {
        let o = run(&["-lx", "-r3711", "-P2", "-pgcc", "-c0", "a", "b"]);
        assert!(o.latency && o.show_down);
        assert_eq!((o.port, o.protocol), (3711, 2));
        assert_eq!(o.compiler.as_deref(), Some("gcc"));
        assert_eq!(o.connect, None);
        assert_eq!(o.targets, Targets::Hosts(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn a_single_word_with_percent_d_is_a_format() {
        assert_eq!(run(&["node%d"]).targets, Targets::Format("node%d".into()));
        assert_eq!(format_name("node%d", 3, None), "node3");
        assert_eq!(format_name("node%d", 3, Some("lan")), "node3.lan");
    }

    #[test]
    fn bad_options_are_usage_errors() {
        for bad in [&["-q"][..], &["-rabc"], &["-P4"], &["-m200"]] {
            let args: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            assert!(parse_args(&args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lines_look_like_debian_lsdistcc() {
        let up = Found {
            name: "h".into(),
            addr: Some("10.0.0.1".into()),
            up: true,
            latency_ms: 37,
        };
        let down = Found {
            up: false,
            latency_ms: 0,
            ..up.clone()
        };
        let mut o = run(&[]);
        assert_eq!(format_line(&o, &up).as_deref(), Some("h"));
        assert_eq!(format_line(&o, &down), None);
        o.show_down = true;
        o.port = 3711;
        assert_eq!(format_line(&o, &down).as_deref(), Some("h:3711,down"));
        o.protocol = 2;
        o.latency = true;
        assert_eq!(format_line(&o, &up).as_deref(), Some("h:3711,lzo 37"));
        o.protocol = 3;
        o.numeric = true;
        o.latency = false;
        assert_eq!(
            format_line(&o, &up).as_deref(),
            Some("10.0.0.1:3711,lzo,cpp")
        );
    }
}
