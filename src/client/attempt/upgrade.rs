//! Plain mode's `-g` jobs in pump form (issue 12, item 3). The server of
//! a plain-mode job compiles the preprocessed text, in which gcc has
//! expanded macros and joined lines, so the debug information follows
//! that text's lines and columns, not the source's: liblzma's `-O2 -g
//! -gsplit-dwarf` objects and `.dwo` files come back 2/73 identical to a
//! local build's (bench/RESULTS.md, "Side outputs"). In pump form the
//! server compiles the source itself and they are 73/73 identical.
//!
//! So in plain mode (no `DISTCC_PUMP`), a job with debug information
//! whose host is known to be a daemon of ours offering `OUTPUTS`,
//! `PUMP_OUTPUTS` and `SYSTEM_HEADERS` (docs/extension.md §8, §13) goes
//! in pump form, whatever the host's `,cpp`: the header analysis of pump
//! mode (`src/pump/`), its files in protocol 3, its side outputs back. A
//! job the analysis cannot vouch for, and a host of another kind (a 3.4
//! daemon, ours without those capabilities, an ssh host, the extension
//! off), get what plain mode sends today, the text preprocessed here; a
//! job that fails in pump form is sent again preprocessed here
//! (`job/distribute.rs`), so nothing is compiled here because of this.
//!
//! In pump form the server compiles against its own system headers (they
//! are neither scanned nor sent), where a plain-mode user expects this
//! machine's: the server lists those its compile read and the object is
//! used only if they are this machine's (`src/client/sysheaders.rs`);
//! else that job is compiled here and the host's next `-g` jobs are
//! preprocessed here. On by default; `DISTCC_PUMP_DEBUG_INFO=0` turns it
//! off (distcc 3.4's plain mode).
//!
//! Jobs without `-g` are unchanged: their objects are identical in plain
//! mode already (optimised code); deciding costs them one pass over the
//! arguments.

use tracing::debug;

use crate::args::os::lossy;
use crate::args::plain::debug_info;
use crate::args::{Job, side_outputs};
use crate::client::ctx::Ctx;
use crate::client::extension::{self, Offer, Opening};
use crate::hosts::HostSpec;
use crate::protocol::ext::cap;

use super::connect::probe;

/// What a daemon of ours must offer for a plain-mode job in pump form:
/// side outputs back, from protocol 3 too, and the list of the system
/// headers its compile read, which must be this machine's
/// (docs/extension.md §13).
pub(super) const NEEDED: u32 = cap::OUTPUTS | cap::PUMP_OUTPUTS | cap::SYSTEM_HEADERS;

/// Whether `job` (in plain mode, not preprocessed yet) goes to `host` in
/// pump form. A host of unknown kind is probed first, as for a job with
/// side outputs (docs/extension.md §3).
pub(super) fn wanted(ctx: &Ctx, host: &HostSpec, job: &Job) -> bool {
    // The pure checks first: the switch, then one pass over the
    // arguments.
    if ctx.vars.pump() || !ctx.vars.pump_debug_info() || !debug_info(&job.argv) {
        return false;
    }
    if side_outputs(job).is_ok_and(|s| s.keeps_preprocessed) {
        // -save-temps keeps the text preprocessed here (pump mode alike).
        return false;
    }
    let mut opening = extension::opening(ctx, host);
    if opening == Opening::PlainThenProbe {
        probe(ctx, host);
        opening = extension::opening(ctx, host);
    }
    let able = matches!(opening, Opening::Hello(Some(Offer { caps, .. })) if caps & NEEDED == NEEDED)
        && super::pump::system_headers_need_plain(ctx, host, job).is_none();
    if able {
        debug!(
            "{} has -g: sending it to {} in pump form, so that its debug information is a \
             local compile's (its system headers checked)",
            lossy(&job.input),
            host.text
        );
    } else {
        debug!(
            "{} has -g, but {} is not known to be a daemon of ours that takes it in pump \
             form: preprocessing it here",
            lossy(&job.input),
            host.text
        );
    }
    able
}
