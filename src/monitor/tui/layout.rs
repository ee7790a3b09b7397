//! Layout decisions of `distccmon-tui`, apart from the drawing so they
//! are tested as plain numbers: how many rows each part of the screen
//! gets, which host columns fit the width, and what each key does. The
//! screen must stay readable in 80x24 (an ssh session's default).

/// Rows of each part of the screen, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heights {
    /// The title line.
    pub header: u16,
    /// The hosts table, its heading included.
    pub hosts: u16,
    /// The throughput line: a label and the sparkline.
    pub throughput: u16,
    /// The running jobs, heading included.
    pub jobs: u16,
    /// The fallbacks: a line of counts and the latest events.
    pub fallbacks: u16,
    /// The keys line.
    pub footer: u16,
}

/// The throughput part: a label line and two rows of bars.
const THROUGHPUT: u16 = 3;
/// The fewest rows for the running jobs (heading and one job).
const MIN_JOBS: u16 = 2;
/// The most fallback events listed.
pub const MAX_FALLBACK_EVENTS: u16 = 3;

/// Share `height` rows for `hosts` host rows and `fallbacks` recent
/// fallback events; the running jobs get the rest (at least a heading
/// and one row while the screen has them). The hosts come first (they
/// are the point of the screen) but leave room for the throughput, the
/// fallbacks and two rows of jobs.
pub fn heights(height: u16, hosts: usize, fallbacks: usize) -> Heights {
    let mut left = height;
    let take = |left: &mut u16, want: u16| {
        let got = want.min(*left);
        *left -= got;
        got
    };
    let header = take(&mut left, 1);
    let footer = take(&mut left, 1);
    let want_hosts = 1 + hosts.max(1) as u16;
    let want_fallbacks = 1 + (fallbacks as u16).min(MAX_FALLBACK_EVENTS);
    // Keep room for the parts below: the jobs down to their smallest.
    let below = THROUGHPUT + want_fallbacks + MIN_JOBS;
    let room = left.saturating_sub(below).max(2);
    let hosts = take(&mut left, want_hosts.min(room));
    let throughput = take(&mut left, THROUGHPUT);
    let room = left.saturating_sub(MIN_JOBS).max(1);
    let fallbacks = take(&mut left, want_fallbacks.min(room));
    // The jobs get the rest, even when there are fewer: the table then
    // ends in blank rows instead of the screen.
    let rest = left;
    let jobs = take(&mut left, rest);
    Heights {
        header,
        hosts,
        throughput,
        jobs,
        fallbacks,
        footer,
    }
}

/// A column of the hosts table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// The host.
    Host,
    /// Slots in use / slots.
    Slots,
    /// Jobs done in the window.
    Done,
    /// Failures in the window.
    Failed,
    /// Average compile milliseconds.
    AvgMs,
    /// Jobs done in the last minute.
    PerMin,
    /// Up, backoff, down.
    State,
    /// The daemon's own figures.
    Daemon,
}

impl Column {
    /// The heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::Host => "HOST",
            Self::Slots => "SLOTS",
            Self::Done => "DONE",
            Self::Failed => "FAIL",
            Self::AvgMs => "AVG MS",
            Self::PerMin => "/MIN",
            Self::State => "STATE",
            Self::Daemon => "DAEMON 1m/load",
        }
    }

    /// Its width (the host column takes what is left, at least this).
    pub fn width(self) -> u16 {
        match self {
            Self::Host => 14,
            Self::Slots => 7,
            Self::Done => 6,
            Self::Failed => 5,
            Self::AvgMs => 7,
            Self::PerMin => 5,
            Self::State => 12,
            Self::Daemon => 14,
        }
    }
}

/// The columns that fit in `width`, most useful first to stay.
pub fn columns(width: u16) -> Vec<Column> {
    use Column::*;
    let all = [Host, Slots, Done, Failed, AvgMs, PerMin, State, Daemon];
    // Dropped in this order when the width runs out.
    let drop_order = [Daemon, PerMin, AvgMs, Failed];
    let mut cols = all.to_vec();
    let need = |cols: &[Column]| cols.iter().map(|c| c.width() + 1).sum::<u16>();
    for d in drop_order {
        if need(&cols) <= width {
            break;
        }
        cols.retain(|c| *c != d);
    }
    cols
}

/// What a key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Leave.
    Quit,
    /// Stop or resume sampling.
    Pause,
    /// Next host order.
    Sort,
    /// Nothing.
    None,
}

/// The action of a key press (`ctrl`: with Control held).
pub fn action(key: char, ctrl: bool) -> Action {
    match (key, ctrl) {
        ('c', true) => Action::Quit,
        ('q' | 'Q', false) => Action::Quit,
        ('p' | 'P' | ' ', false) => Action::Pause,
        ('s' | 'S', false) => Action::Sort,
        _ => Action::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(h: &Heights) -> u16 {
        h.header + h.hosts + h.throughput + h.jobs + h.fallbacks + h.footer
    }

    #[test]
    fn an_ssh_terminal_fits_everything() {
        let h = heights(24, 4, 2);
        assert_eq!(
            h,
            Heights {
                header: 1,
                hosts: 5,
                throughput: 3,
                jobs: 11,
                fallbacks: 3,
                footer: 1,
            }
        );
        assert_eq!(total(&h), 24);
    }

    #[test]
    fn many_hosts_leave_room_for_the_rest() {
        let h = heights(24, 40, 9);
        assert_eq!(total(&h), 24);
        assert_eq!(h.throughput, 3);
        assert_eq!((h.hosts, h.fallbacks, h.jobs), (13, 4, 2), "{h:?}");
        let roomy = heights(40, 40, 9);
        assert_eq!(roomy.fallbacks, 1 + MAX_FALLBACK_EVENTS);
        assert_eq!(total(&roomy), 40);
    }

    #[test]
    fn tiny_terminals_never_overflow() {
        for height in 0..30 {
            for (hosts, fb) in [(0, 0), (1, 1), (50, 50)] {
                let h = heights(height, hosts, fb);
                assert!(total(&h) <= height, "{height}: {h:?}");
            }
        }
    }

    #[test]
    fn columns_drop_from_the_right_as_width_shrinks() {
        use Column::*;
        assert_eq!(
            columns(80),
            [Host, Slots, Done, Failed, AvgMs, PerMin, State, Daemon]
        );
        assert_eq!(
            columns(70),
            [Host, Slots, Done, Failed, AvgMs, PerMin, State]
        );
        assert_eq!(columns(60), [Host, Slots, Done, Failed, AvgMs, State]);
        assert_eq!(columns(40), [Host, Slots, Done, State]);
        for w in [80, 70, 60] {
            let need: u16 = columns(w).iter().map(|c| c.width() + 1).sum();
            assert!(need <= w, "{w}");
        }
    }

    #[test]
    fn keys() {
        for (key, ctrl, want) in [
            ('q', false, Action::Quit),
            ('c', true, Action::Quit),
            ('c', false, Action::None),
            ('p', false, Action::Pause),
            (' ', false, Action::Pause),
            ('s', false, Action::Sort),
            ('x', false, Action::None),
        ] {
            assert_eq!(action(key, ctrl), want, "{key:?} ctrl={ctrl}");
        }
    }
}
