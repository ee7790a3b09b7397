//! Pump mode on the client (protocol 3, spec §1.5, §3.7, §5): instead of
//! preprocessing here, send the source and every user header it can
//! reach; the server preprocesses and compiles in a copy of those files.
//!
//! 3.4 needs a separate include server (Python; broken on Debian 12) for
//! the header list. We work it out in-process ([`crate::pump::includes`]):
//! scanning a few dozen headers costs well under a millisecond, against
//! several milliseconds for `cc1 -E` on every job. Whenever the analysis
//! cannot be sure (an `#include MACRO` it cannot resolve, `-I-`, ...), the job is
//! preprocessed here as in plain mode, on the same host with protocol 2;
//! or compiled here when plain mode would not give a local compile's
//! object (`-O0`, `-g`: [`crate::args::plain`]).
//! What one job learns about the headers is kept for the build's next
//! ones ([`Cache`]; `DISTCC_PUMP_CACHE=0` turns that off).
//!
//! A dependency file (`-MD`, `-MMD`, with `-MF`/`-MT`/`-MQ`/`-MP`) comes
//! back from the server (DOTD) and is re-flowed as gcc would write it
//! here ([`crate::client::local::dotd`]), so it is byte-identical to a local one;
//! `-Wp,-MD,...` and `DEPENDENCIES_OUTPUT` keep the job in plain mode
//! ([`dotd_plan`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tracing::debug;

use crate::args::ext::replace_suffix;
use crate::args::os::{bytes, lossy, os};
use crate::args::{Job, OutputForm};
use crate::client::ctx::Ctx;
use crate::client::probe::cross::find_on_path;
use crate::client::probe::sysdirs;
use crate::env::Vars;
use crate::pump::includes::{Cache, ENV_GIVE_UP, Known, SearchPath, closure_cached};

/// Where the header analysis of a job stands (done once per job, however
/// many hosts are tried).
#[derive(Debug, Default)]
pub enum PumpState {
    /// Not needed yet.
    #[default]
    Untried,
    /// The job goes out in pump mode.
    Files(Pumped),
    /// Pump mode is not possible for this job: preprocess here.
    Plain,
    /// Pump mode is not possible, and plain mode would not give a local
    /// compile's object: compile here, for this reason.
    Here(String),
}

/// A job ready for pump mode.
#[derive(Debug)]
pub struct Pumped {
    /// The files to send, the source first.
    pub files: Vec<PathBuf>,
    /// For each of `files`, its digest and size if the include cache (or
    /// the analysis's own read) gave them: such a file is read only if
    /// the server's header cache lacks it.
    pub known: Vec<Option<Known>>,
    /// Directories the server must create although no file is sent into
    /// them (gcc steps out of them with `..`): each gets an empty
    /// [`FORCING_FILE`], as 3.4's include server does.
    pub dirs: Vec<PathBuf>,
    /// The compiler's default include directories: not sent, the server
    /// has its own (`distcc --scan-includes` shows them as SYSTEMDIR).
    pub system: Vec<PathBuf>,
    /// Every directory of its include path, in search order (`-iquote`,
    /// `-I`, `-isystem`, the compiler's, `-idirafter`): what the check of
    /// the server's system headers looks through
    /// ([`crate::client::sysheaders`]).
    pub search: Vec<PathBuf>,
    /// Its dependency file, if it writes one.
    pub dotd: Option<DotdPlan>,
    /// The working directory the paths were resolved against (CDIR).
    pub cwd: PathBuf,
    /// The host tried last got the job in this form (not preprocessed
    /// here): a failure there may be ours, not the host's.
    pub sent: bool,
}

/// Where a pump job's dependency file goes, and the `-MT` the request
/// needs (3.4's client adds one when there is no `-MT`/`-MQ`, spec §3.7,
/// so the server names our output, not its own, as the target).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DotdPlan {
    /// The file to write (relative to the working directory).
    pub path: OsString,
    /// `-MT <this>` to append.
    pub target: Option<OsString>,
}

/// The dependency file of a job in pump mode: `Ok(None)` when it writes
/// none, `Err` when pump mode cannot produce the file a local run would.
/// Handled: `-MD`/`-MMD` given to the driver with `-o`, optionally `-MF`,
/// `-MT`, `-MQ`, `-MP`. Not: `-Wp,-MD,...` (the server refuses
/// pass-through options), `-MG`, `DEPENDENCIES_OUTPUT`/`SUNPRO_DEPENDENCIES`
/// (the server does not get our environment), an output name gcc would
/// escape (`-MQ` and `-MT` differ then).
pub fn dotd_plan(job: &Job, driver_deps: bool, vars: &Vars) -> Result<Option<DotdPlan>, String> {
    for v in ["DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES"] {
        if vars.is_set(v) {
            return Err(format!("{v} is set"));
        }
    }
    let mut deps = false;
    let (mut mf, mut has_target) = (None, false);
    let mut args = job.argv.iter().skip(1);
    while let Some(a) = args.next() {
        match bytes(a) {
            b"-MD" | b"-MMD" => deps = true,
            b"-MP" => {}
            b"-MF" => mf = args.next().cloned(),
            b"-MT" | b"-MQ" => {
                has_target = true;
                args.next();
            }
            b if b.starts_with(b"-MF") => mf = Some(os(&b[3..]).to_os_string()),
            b if b.starts_with(b"-MT") || b.starts_with(b"-MQ") => has_target = true,
            b if b.starts_with(b"-M") => return Err(format!("of {}", lossy(a))),
            _ => {}
        }
    }
    if !deps {
        return if mf.is_some() || has_target {
            Err("of -MF/-MT without -MD".into())
        } else {
            Ok(None)
        };
    }
    if !driver_deps {
        return Err("its dependency file is asked for through -Wp,".into());
    }
    if !matches!(job.output_form, OutputForm::Separate | OutputForm::Joined) {
        return Err("a dependency file without -o is named by gcc's driver".into());
    }
    if bytes(&job.output).iter().any(|c| b" \t$#\\:%".contains(c)) {
        return Err("gcc would escape the output's name in the dependency file".into());
    }
    Ok(Some(DotdPlan {
        path: mf.unwrap_or_else(|| replace_suffix(&job.output, ".d")),
        target: (!has_target).then(|| job.output.clone()),
    }))
}

impl PumpState {
    /// The job in pump mode, worked out on first use; `None` means plain
    /// mode for it (the reason is logged for DISTCC_VERBOSE).
    pub fn get(&mut self, ctx: &Ctx, job: &Job, driver_deps: bool) -> Option<&Pumped> {
        if matches!(self, Self::Untried) {
            *self = match analyse(ctx, job, driver_deps) {
                Ok(p) => {
                    debug!(
                        "pump: {} needs {} files and {} directories",
                        lossy(&job.input),
                        p.files.len(),
                        p.dirs.len()
                    );
                    Self::Files(p)
                }
                Err(why) => match plain_differs(ctx, job) {
                    Some(differs) => Self::Here(format!(
                        "pump mode cannot send {} as it is ({why}), and {differs}",
                        lossy(&job.input)
                    )),
                    None => {
                        debug!(
                            "pump: preprocessing {} here because {why}",
                            lossy(&job.input)
                        );
                        Self::Plain
                    }
                },
            };
        }
        match self {
            Self::Files(p) => Some(p),
            _ => None,
        }
    }
}

/// Why plain mode would not give a local compile's object, when that
/// matters: in pump mode, and not once the build has switched to plain
/// mode after `DISTCC_MAX_DISCREPANCY` failures (3.4's switch, which the
/// log states for the whole build). In plain mode, a job that pump form
/// cannot send goes as plain mode sends every job (the `-g` jobs of
/// `src/client/attempt/upgrade.rs`): never here because of this.
pub(crate) fn plain_differs(ctx: &Ctx, job: &Job) -> Option<&'static str> {
    let demoted = ctx.discrepancies.as_ref().is_some_and(|c| c.demoted());
    crate::args::plain::differs(&job.argv).filter(|_| ctx.vars.pump() && !demoted)
}

fn analyse(ctx: &Ctx, job: &Job, driver_deps: bool) -> Result<Pumped, String> {
    if let Some(c) = ctx.discrepancies.as_ref().filter(|c| c.demoted()) {
        return Err(format!(
            "{} pump-mode job(s) of this build failed on a server but compiled here \
             (DISTCC_MAX_DISCREPANCY={})",
            c.count(),
            c.limit()
        ));
    }
    let cwd = std::env::current_dir().map_err(|e| format!("no working directory: {e}"))?;
    let dotd = dotd_plan(job, driver_deps, &ctx.vars)
        .map_err(|why| format!("pump mode cannot write its dependency file: {why}"))?;
    if let Some(d) = &dotd {
        // gcc fails when it cannot create the dependency file, and so does
        // the local preprocessor of plain mode; the server would write it
        // in its own tree and we would create the directory here. Keep the
        // job in plain mode so it fails as a local compile does (issue 11).
        let dir = Path::new(&d.path).parent().unwrap_or(Path::new(""));
        if !dir.as_os_str().is_empty() && !cwd.join(dir).is_dir() {
            return Err(format!(
                "the directory of its dependency file {} does not exist",
                lossy(&d.path)
            ));
        }
    }
    if let Some(v) = ENV_GIVE_UP
        .iter()
        .find(|v| ctx.vars.get(v).is_some_and(|s| !s.is_empty()))
    {
        return Err(format!(
            "{v} adds include directories the server would not get"
        ));
    }
    let compiler = find_on_path(&job.argv[0], &ctx.spawner.path)
        .ok_or_else(|| format!("{} is not on the PATH", lossy(&job.argv[0])))?;
    let lang = sysdirs::language(&job.argv, &job.input);
    let cache = ctx.topdir.as_deref().map(sysdirs::cache_dir);
    let system = sysdirs::system_dirs(
        &compiler,
        &job.argv,
        lang,
        cache.as_deref(),
        &ctx.spawner.safeguard,
    )
    .ok_or_else(|| {
        format!(
            "{} did not list its include directories",
            lossy(&job.argv[0])
        )
    })?;
    let search = SearchPath::from_args(&job.argv, &cwd, system).map_err(|e| e.to_string())?;
    let mut cache = ctx
        .vars
        .pump_cache()
        .then(|| Cache::dir_for(ctx.vars.pump_dir().as_deref(), ctx.topdir.as_deref()))
        .flatten()
        .map(Cache::new)
        .map(|c| match ctx.vars.pump_dir() {
            Some(_) => c.for_one_build(),
            None => c,
        });
    let found = closure_cached(Path::new(&job.input), &cwd, &search, cache.as_mut());
    if let Some(c) = &cache {
        let s = c.stats();
        debug!(
            "pump: include cache: {} hits, {} unchanged bytes, {} lexed, {} damaged, \
             {} stored, {} too recent to store",
            s.hits, s.same_bytes, s.lexed, s.corrupt, s.stored, s.racy
        );
    }
    let found = found.map_err(|e| e.to_string())?;
    if let Some((file, line, name)) = found.clock.first() {
        return Err(clock_reason(file, *line, name));
    }
    Ok(Pumped {
        files: found.files,
        known: found.known,
        dirs: found.dirs,
        search: [
            &search.quote[..],
            &search.bracket,
            &search.isystem,
            &search.system,
            &search.after,
        ]
        .concat(),
        system: search.system,
        dotd,
        cwd,
        sent: false,
    })
}

/// Why a job using `__DATE__`, `__TIME__` or `__TIMESTAMP__` is
/// preprocessed here: the server's preprocessor would expand them with
/// its own clock and time zone, without the client's `SOURCE_DATE_EPOCH`,
/// and `__TIMESTAMP__` to its copy's modification time, so the object
/// would differ from a local build's. Preprocessed here they expand as a
/// local compile would.
fn clock_reason(file: &Path, line: u32, name: &str) -> String {
    let what = if name == "__TIMESTAMP__" {
        "the modification time of the server's copy"
    } else {
        "the server's clock and time zone, without SOURCE_DATE_EPOCH"
    };
    format!("{name} at {}:{line} would expand to {what}", file.display())
}

/// The empty file that makes a directory exist on the server, named as
/// 3.4's include server names it (spec §5).
pub const FORCING_FILE: &str = "forcing_technique_271828";

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::os::words as v;

    fn plan(argv: &str, env: &[(&str, &str)]) -> Result<Option<DotdPlan>, String> {
        let argv = v(argv);
        let crate::args::Scan::Distribute(job) = crate::args::scan(&argv) else {
            panic!("not distributable: {argv:?}");
        };
        let driver = crate::args::has_driver_deps(&argv);
        dotd_plan(&job, driver, &Vars::from_pairs(env.iter().copied()))
    }

    #[test]
    fn dependency_files_in_pump_mode() {
        let p = |path: &str, target: Option<&str>| {
            Ok(Some(DotdPlan {
                path: path.into(),
                target: target.map(OsString::from),
            }))
        };
        assert_eq!(plan("gcc -O2 -c x.c -o x.o", &[]), Ok(None));
        assert_eq!(
            plan("gcc -MD -c x.c -o sub/x.o", &[]),
            p("sub/x.d", Some("sub/x.o"))
        );
        assert_eq!(
            plan("gcc -MMD -MP -MF .deps/x.Tpo -c x.c -o x.o", &[]),
            p(".deps/x.Tpo", Some("x.o"))
        );
        assert_eq!(
            plan("gcc -MD -MT t -MFy.d -c x.c -ox.o", &[]),
            p("y.d", None)
        );
        for (argv, env) in [
            ("gcc -MD -c x.c", &[][..]),
            ("gcc -MD -MG -c x.c -o x.o", &[]),
            ("gcc -MD -c x.c -o a$b.o", &[]),
            ("gcc -c x.c -o x.o", &[("DEPENDENCIES_OUTPUT", "x.d")]),
        ] {
            assert!(plan(argv, env).is_err(), "{argv} {env:?}");
        }
        // -Wp,-MD,file reaches the job expanded, without driver deps.
        let argv = crate::args::expand_wp(&v("gcc -Wp,-MD,.x.d -c x.c -o x.o"));
        let crate::args::Scan::Distribute(job) = crate::args::scan(&argv) else {
            panic!()
        };
        let none = Vars::from_pairs(Vec::<(String, String)>::new());
        assert!(dotd_plan(&job, false, &none).is_err());
    }
}
