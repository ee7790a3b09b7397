//! One token of a host list (spec §2.2-2.3): a global keyword, `localhost`,
//! a TCP host or an SSH host, parsed the way distcc 3.4 parses it.
//!
//! Observed 3.4 rules that shape this code (each has a row in `tests.rs`):
//! * `MULT` is `/N` or `=N`; `=` can only follow `]`, a port-less `/N` or
//!   `localhost`... except that the host name itself swallows `=`, so
//!   `h=3` is the host `h=3` (warned about).
//! * TCP takes `MULT` before and after the port; the later one wins.
//!   SSH and `localhost` take one `MULT`.
//! * After a `MULT` (and after the options) anything left is ignored:
//!   `h/3x`, `h,lzox` parse (warned about). A port must be followed by
//!   the end, `/` or `,`.
//! * `--localslots=0` is not a keyword but a host name; `--localslots_cpp=0`
//!   is swallowed by the `--localslots` prefix and ignored.

use super::lexer::Token;
use super::{
    DEFAULT_LOCAL_SLOTS, DEFAULT_PORT, DEFAULT_REMOTE_SLOTS, HostError, HostErrorKind, HostKind,
    HostList, HostSpec, HostWarning, line_column,
};

/// Error and warning construction for one token.
struct Ctx<'a> {
    full: &'a str,
    tok: Token<'a>,
}

impl Ctx<'_> {
    fn locate(&self, at: usize) -> (usize, usize, usize) {
        let byte = self.tok.start + at;
        let position = self.full[..byte].chars().count() + 1;
        let (line, column) = line_column(self.full, byte);
        (position, line, column)
    }

    fn error(&self, at: usize, message: String) -> HostError {
        let (position, line, column) = self.locate(at);
        HostError {
            token: self.tok.text.to_owned(),
            position,
            line,
            column,
            message,
            kind: HostErrorKind::Malformed,
        }
    }

    fn warn(&self, list: &mut HostList, at: usize, message: String) {
        let (position, line, column) = self.locate(at);
        list.warnings.push(HostWarning {
            token: self.tok.text.to_owned(),
            position,
            line,
            column,
            message,
        });
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.tok.text.as_bytes().get(i).copied()
    }

    /// Warn about text 3.4 ignores at the end of a token.
    fn trailing(&self, list: &mut HostList, i: usize) {
        if i < self.tok.text.len() {
            let rest = &self.tok.text[i..];
            self.warn(list, i, format!("{rest:?} is ignored (as distcc 3.4 does)"));
        }
    }
}

/// C `strtol`/`atoi` on a prefix: optional sign, decimal digits. Returns the
/// value (`None` on overflow of i64) and the bytes used (0 without digits,
/// as `strtol` leaves its end pointer at the start then).
fn leading_int(s: &str) -> (Option<i64>, usize) {
    let b = s.as_bytes();
    let sign = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = b[sign..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return (Some(0), 0);
    }
    let value = s[..sign + digits].parse::<i64>().ok();
    (value, sign + digits)
}

/// Parse `N` of a `MULT` starting after the `/` or `=` at `i`. Returns the
/// slot count and the index after the digits.
fn multiplier(ctx: &Ctx, i: usize) -> Result<(u32, usize), HostError> {
    let (value, used) = leading_int(&ctx.tok.text[i + 1..]);
    let shown = &ctx.tok.text[i..i + 1 + used];
    match value {
        Some(0) => Err(ctx.error(
            i,
            format!("bad slot count {shown:?}: it must be a positive number"),
        )),
        // 3.4 takes negative and overflowing counts and sums them into -j.
        Some(n) if n > 0 && n <= i64::from(i32::MAX) => Ok((n as u32, i + 1 + used)),
        _ => Err(ctx.error(
            i,
            format!(
                "bad slot count {shown:?}: it must be between 1 and {}",
                i32::MAX
            ),
        )),
    }
}

fn is_mult(b: Option<u8>) -> bool {
    matches!(b, Some(b'/' | b'='))
}

pub(crate) fn parse_token(full: &str, tok: Token, list: &mut HostList) -> Result<(), HostError> {
    let ctx = Ctx { full, tok };
    let text = tok.text;
    if text.starts_with("--randomize") {
        list.randomize = true;
        ctx.trailing(list, "--randomize".len());
        return Ok(());
    }
    if text == "+zeroconf" {
        list.zeroconf = true;
        list.zeroconf_at = list.hosts.len();
        return Ok(());
    }
    if let Some(n) = keyword(&ctx, list, "--localslots_cpp")? {
        list.local_slots_cpp = n;
        return Ok(());
    }
    if text.starts_with("--localslots_cpp") {
        // N was 0: 3.4 then matches the `--localslots` prefix, finds no
        // number after it and ignores the token.
        ctx.warn(
            list,
            0,
            "--localslots_cpp needs a positive number; the token is ignored".to_owned(),
        );
        return Ok(());
    }
    if let Some(n) = keyword(&ctx, list, "--localslots")? {
        list.local_slots = n;
        return Ok(());
    }
    if text.starts_with("--localslots") {
        ctx.warn(
            list,
            0,
            "--localslots needs a positive number; as in distcc 3.4 this token is taken as a host name".to_owned(),
        );
    }
    let spec = if text.contains('@') {
        ssh(&ctx, list)?
    } else if text == "localhost" || text.starts_with("localhost/") {
        local(&ctx, list)?
    } else {
        tcp(&ctx, list)?
    };
    list.hosts.push(spec);
    Ok(())
}

/// A `--localslots`-style keyword. `Ok(Some(n))`: consumed with a count;
/// `Ok(None)` with `name` matched means N was 0 (not consumed). Without a
/// `/N` or `=N` the keyword is consumed and changes nothing, as in 3.4.
fn keyword(ctx: &Ctx, list: &mut HostList, name: &str) -> Result<Option<u32>, HostError> {
    let Some(rest) = ctx.tok.text.strip_prefix(name) else {
        return Ok(None);
    };
    let at = name.len();
    if !is_mult(rest.bytes().next()) {
        ctx.warn(list, 0, format!("{name} without /N or =N changes nothing"));
        let unchanged = match name {
            "--localslots_cpp" => list.local_slots_cpp,
            _ => list.local_slots,
        };
        return Ok(Some(unchanged));
    }
    let (value, used) = leading_int(&rest[1..]);
    match value {
        Some(0) => Ok(None),
        Some(n) if n > 0 && n <= i64::from(i32::MAX) => {
            ctx.trailing(list, at + 1 + used);
            Ok(Some(n as u32))
        }
        _ => Err(ctx.error(
            at,
            format!(
                "bad {name} value {:?}: it must be between 1 and {}",
                &rest[..1 + used],
                i32::MAX
            ),
        )),
    }
}

fn new_spec(ctx: &Ctx, kind: HostKind, slots: u32) -> HostSpec {
    HostSpec {
        text: ctx.tok.text.to_owned(),
        position: ctx.locate(0).0,
        kind,
        slots,
        protover: 1,
        lzo: false,
        cpp: false,
        down: false,
        auth: None,
        tls: false,
    }
}

fn local(ctx: &Ctx, list: &mut HostList) -> Result<HostSpec, HostError> {
    let mut slots = DEFAULT_LOCAL_SLOTS;
    let mut i = "localhost".len();
    if is_mult(ctx.byte(i)) {
        (slots, i) = multiplier(ctx, i)?;
    }
    // 3.4 ignores options after localhost: `localhost/2,cpp` is local.
    ctx.trailing(list, i);
    Ok(new_spec(ctx, HostKind::Local, slots))
}

/// The host part at `i`: `[IPv6]` or a name up to `/`, `:` or `,`.
/// Returns the host and the index after it.
fn host_id<'a>(
    ctx: &Ctx<'a>,
    list: &mut HostList,
    i: usize,
) -> Result<(&'a str, usize), HostError> {
    let text = ctx.tok.text;
    let rest = &text[i..];
    if rest.starts_with('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| ctx.error(i, "an IPv6 address needs a closing ']'".to_owned()))?;
        if close == 1 {
            return Err(ctx.error(i, "a host name is required".to_owned()));
        }
        return Ok((&rest[1..close], i + close + 1));
    }
    let end = rest.find(['/', ':', ',']).unwrap_or(rest.len());
    let host = &rest[..end];
    if host.is_empty() {
        return Err(ctx.error(i, "a host name is required".to_owned()));
    }
    if host.contains('=') {
        ctx.warn(
            list,
            i,
            format!("{host:?} is taken as the host name; write /N to set the slot count"),
        );
    }
    Ok((host, i + end))
}

/// The prefix of a TLS host (`tls+HOST[:PORT][/N][,opts]`).
pub const TLS_PREFIX: &str = "tls+";

fn tcp(ctx: &Ctx, list: &mut HostList) -> Result<HostSpec, HostError> {
    let tls = ctx.tok.text.starts_with(TLS_PREFIX);
    let start = if tls { TLS_PREFIX.len() } else { 0 };
    let (host, mut i) = host_id(ctx, list, start)?;
    let mut slots = DEFAULT_REMOTE_SLOTS;
    let mut port = DEFAULT_PORT;
    if is_mult(ctx.byte(i)) {
        (slots, i) = multiplier(ctx, i)?;
    }
    if ctx.byte(i) == Some(b':') {
        (port, i) = parse_port(ctx, list, i)?;
    }
    if is_mult(ctx.byte(i)) {
        (slots, i) = multiplier(ctx, i)?;
    }
    let kind = HostKind::Tcp {
        host: host.to_owned(),
        port,
    };
    let mut spec = new_spec(ctx, kind, slots);
    spec.tls = tls;
    i = options(ctx, i, &mut spec)?;
    ctx.trailing(list, i);
    Ok(spec)
}

/// The port after the `:` at `i`: decimal, followed by the end, `/` or `,`.
fn parse_port(ctx: &Ctx, list: &mut HostList, i: usize) -> Result<(u16, usize), HostError> {
    let digits = &ctx.tok.text[i + 1..];
    let (value, used) = leading_int(digits);
    let end = i + 1 + used;
    if !matches!(ctx.byte(end), None | Some(b'/' | b',')) {
        return Err(ctx.error(i + 1, format!("invalid port {digits:?}")));
    }
    match value {
        Some(0) => {
            ctx.warn(
                list,
                i,
                "an empty or zero port means port 0 (as in distcc 3.4): the host can never be reached"
                    .to_owned(),
            );
            Ok((0, end))
        }
        Some(n @ 1..=65535) => Ok((n as u16, end)),
        // 3.4 keeps the low 16 bits and connects to some other port.
        _ => Err(ctx.error(
            i + 1,
            format!(
                "invalid port {:?}: it must be between 1 and 65535",
                &digits[..used]
            ),
        )),
    }
}

fn ssh(ctx: &Ctx, list: &mut HostList) -> Result<HostSpec, HostError> {
    let text = ctx.tok.text;
    let at = text.find('@').expect("caller checked for '@'");
    let user = (at > 0).then(|| text[..at].to_owned());
    let (host, mut i) = host_id(ctx, list, at + 1)?;
    if host.contains('@') {
        ctx.warn(list, at + 1, format!("the host name {host:?} contains '@'"));
    }
    let mut slots = DEFAULT_REMOTE_SLOTS;
    if is_mult(ctx.byte(i)) {
        (slots, i) = multiplier(ctx, i)?;
    }
    let mut command = None;
    if ctx.byte(i) == Some(b':') {
        let rest = &text[i + 1..];
        let end = rest.find(',').unwrap_or(rest.len());
        command = (end > 0).then(|| rest[..end].to_owned());
        i += 1 + end;
    }
    let kind = HostKind::Ssh {
        user,
        host: host.to_owned(),
        command,
    };
    let mut spec = new_spec(ctx, kind, slots);
    i = options(ctx, i, &mut spec)?;
    ctx.trailing(list, i);
    Ok(spec)
}

/// `(",lzo" | ",cpp" | ",down" | ",auth" ["=" NAME])*` at `i`; each option
/// is matched as a prefix, as in 3.4. Returns the index after the last.
fn options(ctx: &Ctx, mut i: usize, spec: &mut HostSpec) -> Result<usize, HostError> {
    let text = ctx.tok.text;
    let mut cpp_at = 0;
    while ctx.byte(i) == Some(b',') {
        i += 1;
        let rest = &text[i..];
        if rest.starts_with("lzo") {
            spec.lzo = true;
            i += 3;
        } else if rest.starts_with("cpp") {
            spec.cpp = true;
            cpp_at = i - 1;
            i += 3;
        } else if rest.starts_with("down") {
            spec.down = true;
            i += 4;
        } else if rest.starts_with("auth") {
            i += 4;
            let mut name = None;
            if ctx.byte(i) == Some(b'=') {
                let rest = &text[i + 1..];
                let end = rest.find(',').unwrap_or(rest.len());
                name = (end > 0).then(|| rest[..end].to_owned());
                i += 1 + end;
            }
            spec.auth = Some(name);
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            return Err(ctx.error(
                i - 1,
                format!(
                    "unknown option \",{}\" (the options are lzo, cpp, down and auth)",
                    &rest[..end]
                ),
            ));
        }
    }
    if spec.cpp && !spec.lzo {
        return Err(ctx.error(
            cpp_at,
            "pump mode (\",cpp\") requires compression (\",lzo\")".to_owned(),
        ));
    }
    spec.protover = match (spec.lzo, spec.cpp) {
        (true, true) => 3,
        (true, false) => 2,
        _ => 1,
    };
    Ok(i)
}
