//! Drawing `distccmon-tui`'s screen from the [`Model`], with the row and
//! column choices of [`super::layout`]. ratatui draws into an in-memory
//! buffer, so the screen is tested here without a terminal. With
//! `NO_COLOR` (no-color.org) no colour is used at all, only bold and
//! reverse video.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Sparkline, Table};

use super::layout::{self, Column, MAX_FALLBACK_EVENTS};
use super::model::{Daemon, HostRow, HostState, Model};
use crate::monitor::summary::duration;

/// The bucket of the throughput line.
pub const BUCKET_MS: u64 = 5_000;

/// How the screen is drawn.
#[derive(Clone, Debug)]
pub struct ViewOpts {
    /// Colours allowed (no `NO_COLOR`).
    pub color: bool,
    /// The state directory's parent, shown in the footer.
    pub dir: String,
}

impl ViewOpts {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn heading(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, model: &Model, opts: &ViewOpts) {
    let area = frame.area();
    let rows = model.rows();
    let fallbacks = model.fallbacks(MAX_FALLBACK_EVENTS as usize);
    // A host list problem takes a line of the hosts table.
    let lines = rows.len() + usize::from(model.sample.hostlist_problem.is_some());
    let h = layout::heights(area.height, lines, fallbacks.len());
    let parts = Layout::vertical([
        Constraint::Length(h.header),
        Constraint::Length(h.hosts),
        Constraint::Length(h.throughput),
        Constraint::Length(h.jobs),
        Constraint::Length(h.fallbacks),
        Constraint::Length(h.footer),
    ])
    .split(area);
    header(frame, parts[0], model, opts);
    hosts(frame, parts[1], model, &rows, opts);
    throughput(frame, parts[2], model, opts);
    jobs(frame, parts[3], model, opts);
    fallback_lines(frame, parts[4], model, &fallbacks, opts);
    footer(frame, parts[5], model, opts);
}

fn header(frame: &mut Frame, area: Rect, model: &Model, opts: &ViewOpts) {
    let totals = model.totals();
    let running = model.jobs().len();
    let window = duration(model.window_ms / 1000);
    let remote = match (totals.remote * 100).checked_div(totals.jobs) {
        Some(pct) => format!("{pct}% remote"),
        None => "- remote".into(),
    };
    let mut spans = vec![
        Span::styled(" distcc farm ", opts.heading().add_modifier(Modifier::BOLD)),
        Span::raw(format!(
            " {running} running | {} done in {window} | {remote} | {} fallbacks",
            model.done(),
            totals.fallback_count()
        )),
    ];
    if model.paused {
        spans.push(Span::styled(
            "  PAUSED",
            opts.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn cell(col: Column, r: &HostRow, opts: &ViewOpts) -> Cell<'static> {
    let text = match col {
        Column::Host => r.name.clone(),
        Column::Slots if r.limit == 0 => format!("{}/-", r.busy),
        Column::Slots => format!("{}/{}", r.busy, r.limit),
        Column::Done => r.done.to_string(),
        Column::Failed => r.failures.to_string(),
        Column::AvgMs => r.avg_ms.map_or("-".into(), |m| m.to_string()),
        Column::PerMin => r.per_min.to_string(),
        Column::State => match r.state {
            HostState::Up if r.limit == 0 && r.lock_id != "localhost" => "not listed".into(),
            HostState::Up => "up".into(),
            HostState::Backoff(s) => format!("backoff {s}s"),
            HostState::Down => "down".into(),
        },
        Column::Daemon => match &r.daemon {
            Daemon::NotAsked => "-".into(),
            Daemon::Unreachable => "no stats".into(),
            Daemon::Figures(f) => format!("{}/min {:.1}", f.compiles_1m, f.load1),
        },
    };
    let style = match (col, &r.state) {
        (Column::State, HostState::Backoff(_)) => {
            opts.fg(Color::Yellow).add_modifier(Modifier::BOLD)
        }
        (Column::State, HostState::Down) => opts.fg(Color::DarkGray),
        (Column::State, HostState::Up) => opts.fg(Color::Green),
        (Column::Failed, _) if r.failures > 0 => opts.fg(Color::Red).add_modifier(Modifier::BOLD),
        (Column::Slots, _) if r.limit > 0 && r.busy >= r.limit => opts.fg(Color::Cyan),
        _ => Style::default(),
    };
    Cell::from(text).style(style)
}

fn hosts(frame: &mut Frame, area: Rect, model: &Model, rows: &[HostRow], opts: &ViewOpts) {
    let cols = layout::columns(area.width);
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|c| match c {
            Column::Host => Constraint::Min(c.width()),
            c => Constraint::Length(c.width()),
        })
        .collect();
    let mut head = Some(Row::new(cols.iter().map(|c| Cell::from(c.title()))).style(opts.heading()));
    let mut body: Vec<Row> = rows
        .iter()
        .map(|r| Row::new(cols.iter().map(|c| cell(*c, r, opts))))
        .collect();
    // No usable host list: say why on the line under the heading, across
    // the columns; the rows (localhost) follow.
    let mut area = area;
    if let Some(problem) = &model.sample.hostlist_problem {
        if area.height >= 3 {
            let heading = head.take().expect("heading");
            let table = Table::new(Vec::<Row>::new(), widths.clone()).header(heading);
            frame.render_widget(table.column_spacing(1), Rect { height: 1, ..area });
            let line = Rect {
                y: area.y + 1,
                height: 1,
                ..area
            };
            let text = Paragraph::new(problem.clone()).style(opts.fg(Color::Red));
            frame.render_widget(text, line);
            area = Rect {
                y: area.y + 2,
                height: area.height - 2,
                ..area
            };
        }
    }
    let room = area.height.saturating_sub(u16::from(head.is_some())) as usize;
    if body.len() > room && room > 0 {
        let more = body.len() - room + 1;
        body.truncate(room - 1);
        body.push(Row::new([Cell::from(format!("... {more} more hosts"))]));
    }
    let mut table = Table::new(body, widths).column_spacing(1);
    if let Some(head) = head {
        table = table.header(head);
    }
    frame.render_widget(table, area);
}

fn throughput(frame: &mut Frame, area: Rect, model: &Model, opts: &ViewOpts) {
    if area.height == 0 {
        return;
    }
    let [label, bars] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let data = model.throughput(area.width as usize, BUCKET_MS);
    let max = data.iter().copied().max().unwrap_or(0);
    let per_min = data
        .iter()
        .rev()
        .take((60_000 / BUCKET_MS) as usize)
        .sum::<u64>();
    let text = format!(
        "throughput, jobs per {}s over {}: peak {max}, last minute {per_min}",
        BUCKET_MS / 1000,
        duration(area.width as u64 * BUCKET_MS / 1000)
    );
    frame.render_widget(Paragraph::new(text).style(opts.heading()), label);
    frame.render_widget(
        Sparkline::default()
            .data(&data)
            .max(max.max(1))
            .style(opts.fg(Color::Green)),
        bars,
    );
}

fn jobs(frame: &mut Frame, area: Rect, model: &Model, opts: &ViewOpts) {
    let jobs = model.jobs();
    let head = Row::new(["PID", "PHASE", "FILE", "HOST[SLOT]"]).style(opts.heading());
    let widths = [
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Min(12),
        Constraint::Length(26),
    ];
    let room = area.height.saturating_sub(1) as usize;
    let mut body: Vec<Row> = jobs
        .iter()
        .map(|j| {
            let host = model.host_of(j.cpid).unwrap_or_else(|| j.host.clone());
            Row::new([
                j.cpid.to_string(),
                j.phase.name().to_string(),
                j.file.clone(),
                format!("{host}[{}]", j.slot),
            ])
        })
        .collect();
    if body.is_empty() {
        body.push(Row::new(["", "", "no jobs running", ""]));
    }
    if body.len() > room && room > 0 {
        let more = body.len() - room + 1;
        body.truncate(room - 1);
        body.push(Row::new([
            String::new(),
            String::new(),
            format!("... {more} more jobs"),
            String::new(),
        ]));
    }
    frame.render_widget(
        Table::new(body, widths).header(head).column_spacing(1),
        area,
    );
}

fn fallback_lines(
    frame: &mut Frame,
    area: Rect,
    model: &Model,
    events: &[super::model::Fallback],
    opts: &ViewOpts,
) {
    let totals = model.totals();
    let mut reasons: Vec<(&String, &u64)> = totals.fallbacks.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let counts = if reasons.is_empty() {
        "none".to_string()
    } else {
        reasons
            .iter()
            .map(|(w, n)| format!("{w} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let window = duration(model.window_ms / 1000);
    let mut lines = vec![Line::from(Span::styled(
        format!("fallbacks to local in {window}: {counts}"),
        opts.heading(),
    ))];
    for e in events {
        let age = model.sample.now_ms.saturating_sub(e.end_ms) / 1000;
        lines.push(Line::from(vec![
            Span::raw(format!("{:>6} ago  ", duration(age))),
            Span::styled(e.why.clone(), opts.fg(Color::Yellow)),
            Span::raw(format!("  {}  {}", e.file, e.host)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn footer(frame: &mut Frame, area: Rect, model: &Model, opts: &ViewOpts) {
    let pause = if model.paused { "resume" } else { "pause" };
    let text = format!(
        " q quit  p {pause}  s sort: {}  | {}",
        model.sort.label(),
        opts.dir
    );
    frame.render_widget(Paragraph::new(text).style(opts.heading()), area);
}

#[cfg(test)]
mod tests;
