//! The access-log view's state: a bounded ring of parsed lines from one pod's proxy,
//! filters by status class and path, follow (keep the newest line in view) or paused,
//! and the selected row. Pure: the runtime follows the log and sends [`LogEvent`]s.

use std::collections::VecDeque;
use std::time::Duration;

use super::action::Action;
use super::effect::Effect;
use super::update::FindKey;
use crate::mesh::access_log::{LogLine, StatusClass};
use crate::source::logs::{LogEvent, PodRef};

/// Rows of the view besides its lines: the title, the filters and counts, the column
/// names, and the selected line in full at the bottom.
pub const VIEW_CHROME_ROWS: u16 = 4;

/// Lines the view shows at once on a screen this high (between meshtui's header and
/// status bar), which is how far a page scrolls.
pub fn page_rows(screen_height: u16) -> u16 {
    screen_height
        .saturating_sub(super::state::HEADER_ROWS + super::state::FOOTER_ROWS + VIEW_CHROME_ROWS)
        .max(1)
}

/// How much of a log is kept: the oldest lines go first when either bound is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    pub max_lines: usize,
    pub max_bytes: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_lines: 5_000,
            // Lines are at most a few KB each (the parser cuts fields), so this holds the
            // 5,000 lines of a normal log and bounds a log of unusually long ones.
            max_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Which responses are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    All,
    Success,
    Redirect,
    ClientError,
    ServerError,
}

impl StatusFilter {
    pub fn next(self) -> Self {
        match self {
            StatusFilter::All => StatusFilter::Success,
            StatusFilter::Success => StatusFilter::Redirect,
            StatusFilter::Redirect => StatusFilter::ClientError,
            StatusFilter::ClientError => StatusFilter::ServerError,
            StatusFilter::ServerError => StatusFilter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Success => "2xx",
            StatusFilter::Redirect => "3xx",
            StatusFilter::ClientError => "4xx",
            StatusFilter::ServerError => "5xx",
        }
    }

    fn admits(self, line: &LogLine) -> bool {
        let class = match (self, line) {
            (StatusFilter::All, _) => return true,
            (_, LogLine::Raw(_)) => return false,
            (_, LogLine::Access(entry)) => entry.class(),
        };
        class
            == match self {
                StatusFilter::Success | StatusFilter::All => StatusClass::Success,
                StatusFilter::Redirect => StatusClass::Redirect,
                StatusFilter::ClientError => StatusClass::ClientError,
                StatusFilter::ServerError => StatusClass::ServerError,
            }
    }
}

/// How the stream is doing, for the view's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Connecting,
    Following,
    Interrupted { reason: String, retry_in: Duration },
    Failed(String),
}

/// One pod's log as the view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessLogState {
    /// Which follow this is: events of an earlier one are ignored.
    pub id: u64,
    pub pod: PodRef,
    lines: VecDeque<LogLine>,
    /// Sequence number of `lines[0]`; every line keeps its number while held.
    first_seq: u64,
    bytes: usize,
    limits: LogLimits,
    /// Lines let go to stay within the limits.
    pub dropped: u64,
    /// Keep the newest line selected and in view.
    pub follow: bool,
    /// Lines that arrived while paused.
    pub unseen: u64,
    pub status_filter: StatusFilter,
    /// Case-insensitive substring of the path (or of a raw line).
    pub path_filter: String,
    /// The path filter is being typed.
    pub editing_filter: bool,
    /// The selected line's sequence number while paused.
    selected: Option<u64>,
    pub stream: StreamState,
}

/// A line that passes the filters, with its sequence number.
pub type VisibleLine<'a> = (u64, &'a LogLine);

impl AccessLogState {
    pub fn new(id: u64, pod: PodRef, limits: LogLimits) -> Self {
        AccessLogState {
            id,
            pod,
            lines: VecDeque::new(),
            first_seq: 0,
            bytes: 0,
            limits,
            dropped: 0,
            follow: true,
            unseen: 0,
            status_filter: StatusFilter::All,
            path_filter: String::new(),
            editing_filter: false,
            selected: None,
            stream: StreamState::Connecting,
        }
    }

    /// Lines held now.
    pub fn held(&self) -> usize {
        self.lines.len()
    }

    /// Bytes the held lines take.
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }

    /// Adds lines at the end, letting the oldest go beyond the limits.
    pub fn push(&mut self, lines: Vec<LogLine>) {
        if !self.follow {
            self.unseen += lines.len() as u64;
        }
        for line in lines {
            self.bytes += line.size();
            self.lines.push_back(line);
        }
        while self.lines.len() > self.limits.max_lines.max(1)
            || (self.bytes > self.limits.max_bytes && self.lines.len() > 1)
        {
            let Some(oldest) = self.lines.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(oldest.size());
            self.first_seq += 1;
            self.dropped += 1;
        }
        if self.selected.is_some_and(|seq| seq < self.first_seq) {
            self.selected = self.visible().first().map(|(seq, _)| *seq);
        }
    }

    /// The lines that pass the filters, oldest first.
    pub fn visible(&self) -> Vec<VisibleLine<'_>> {
        let needle = self.path_filter.to_lowercase();
        (self.first_seq..)
            .zip(self.lines.iter())
            .filter(|(_, line)| self.status_filter.admits(line))
            .filter(|(_, line)| needle.is_empty() || path_matches(line, &needle))
            .collect()
    }

    /// The selected row of `visible`: the newest while following.
    pub fn selected_row(&self, visible: &[VisibleLine<'_>]) -> Option<usize> {
        if visible.is_empty() {
            return None;
        }
        let last = visible.len() - 1;
        match (self.follow, self.selected) {
            (false, Some(seq)) => Some(visible.iter().position(|(s, _)| *s >= seq).unwrap_or(last)),
            _ => Some(last),
        }
    }

    /// Folds a follower's news in; whether the screen changes.
    pub fn on_event(&mut self, event: LogEvent) -> bool {
        match event {
            LogEvent::Connected => self.set_stream(StreamState::Following),
            LogEvent::Lines(lines) => {
                let any = !lines.is_empty();
                self.push(lines);
                if self.stream != StreamState::Following {
                    self.stream = StreamState::Following;
                }
                any
            }
            LogEvent::Interrupted { reason, retry_in } => {
                self.set_stream(StreamState::Interrupted { reason, retry_in })
            }
            LogEvent::Failed(reason) => self.set_stream(StreamState::Failed(reason)),
        }
    }

    fn set_stream(&mut self, stream: StreamState) -> bool {
        let changed = self.stream != stream;
        self.stream = stream;
        changed
    }

    /// A key's action in the view; `None` when the view does not use it (the caller
    /// handles it, e.g. quit, help, back). `page` is the rows a page scrolls.
    pub fn on_action(&mut self, action: Action, page: usize) -> Option<bool> {
        match action {
            Action::SelectUp => Some(self.move_selection(-1)),
            Action::SelectDown => Some(self.move_selection(1)),
            Action::PageUp => Some(self.move_selection(-(page.max(1) as i64))),
            Action::PageDown => Some(self.move_selection(page.max(1) as i64)),
            Action::ToggleFollow => {
                if self.follow {
                    self.pause_at_selection();
                } else {
                    self.follow = true;
                    self.selected = None;
                    self.unseen = 0;
                }
                Some(true)
            }
            Action::CycleStatusFilter => {
                let kept = self.selected_seq();
                self.status_filter = self.status_filter.next();
                self.reselect(kept);
                Some(true)
            }
            Action::Find => {
                self.editing_filter = true;
                Some(true)
            }
            // Esc clears a path or status filter before it leaves the log.
            Action::Back
                if !self.path_filter.is_empty()
                    || self.status_filter != StatusFilter::default() =>
            {
                let kept = self.selected_seq();
                self.path_filter.clear();
                self.status_filter = StatusFilter::default();
                self.reselect(kept);
                Some(true)
            }
            _ => None,
        }
    }

    /// Typing the path filter; whether the screen changes.
    pub fn on_filter_key(&mut self, key: FindKey) -> bool {
        let kept = self.selected_seq();
        match key {
            FindKey::Char(c) if !c.is_control() => self.path_filter.push(c),
            FindKey::Char(_) => return false,
            FindKey::Backspace => {
                if self.path_filter.pop().is_none() {
                    return false;
                }
            }
            FindKey::Accept => self.editing_filter = false,
            FindKey::Cancel => {
                self.editing_filter = false;
                self.path_filter.clear();
            }
            FindKey::NextMatch | FindKey::PreviousMatch => return false,
        }
        self.reselect(kept);
        true
    }

    fn selected_seq(&self) -> Option<u64> {
        let visible = self.visible();
        self.selected_row(&visible)
            .and_then(|row| visible.get(row))
            .map(|(seq, _)| *seq)
    }

    /// After a filter change: the same line when it is still shown, else the next one.
    fn reselect(&mut self, kept: Option<u64>) {
        if !self.follow {
            self.selected = kept;
        }
    }

    fn pause_at_selection(&mut self) {
        self.selected = self.selected_seq();
        self.follow = false;
    }

    fn move_selection(&mut self, by: i64) -> bool {
        let visible = self.visible();
        let Some(row) = self.selected_row(&visible) else {
            return false;
        };
        let last = visible.len() as i64 - 1;
        let next = (row as i64 + by).clamp(0, last) as usize;
        if self.follow && next == row {
            return false;
        }
        let changed = next != row || self.follow;
        let seq = visible.get(next).map(|(seq, _)| *seq);
        self.follow = false;
        self.selected = seq;
        changed
    }
}

fn path_matches(line: &LogLine, needle: &str) -> bool {
    match line {
        LogLine::Access(entry) => entry.path.to_lowercase().contains(needle),
        LogLine::Raw(text) => text.to_lowercase().contains(needle),
    }
}

/// The access-log view's slot: at most one log open, each follow with a new id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogViewer {
    pub open: Option<AccessLogState>,
    follows: u64,
    pub limits: LogLimits,
}

impl LogViewer {
    /// Opens the view on `pod`'s log (closing any other): the effect starts following it.
    pub fn open(&mut self, pod: PodRef) -> Effect {
        self.follows += 1;
        self.open = Some(AccessLogState::new(self.follows, pod.clone(), self.limits));
        Effect::FollowLog {
            id: self.follows,
            pod,
        }
    }

    /// Closes the view; the effect stops the follower.
    pub fn close(&mut self) -> Option<Effect> {
        self.open.take().map(|_| Effect::StopLog)
    }

    /// A follower's news; ignored unless it is about the log open now.
    pub fn on_event(&mut self, id: u64, event: LogEvent) -> bool {
        match &mut self.open {
            Some(log) if log.id == id => log.on_event(event),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::access_log::parse_line;

    fn line(status: u16, path: &str) -> LogLine {
        parse_line(&format!(
            r#"[2026-01-01T00:00:00.000Z] "GET {path} HTTP/1.1" {status} - via_upstream - "-" 0 10 5 4 "-" "curl" "id" "svc" "10.0.0.1:80" inbound|80|| 127.0.0.6:1 10.0.0.1:80 10.0.0.2:2 - default"#
        ))
    }

    fn log_with(lines: Vec<LogLine>, limits: LogLimits) -> AccessLogState {
        let mut log = AccessLogState::new(1, PodRef::proxy("c", "ns", "pod"), limits);
        log.push(lines);
        log
    }

    fn paths(log: &AccessLogState) -> Vec<String> {
        log.visible()
            .iter()
            .map(|(_, l)| match l {
                LogLine::Access(e) => e.path.clone(),
                LogLine::Raw(text) => text.clone(),
            })
            .collect()
    }

    fn selected_path(log: &AccessLogState) -> Option<String> {
        let visible = log.visible();
        let row = log.selected_row(&visible)?;
        match visible[row].1 {
            LogLine::Access(e) => Some(e.path.clone()),
            LogLine::Raw(text) => Some(text.clone()),
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_lines_within_both_limits_and_counts_the_rest() {
        let limits = LogLimits {
            max_lines: 3,
            max_bytes: usize::MAX,
        };
        let log = log_with(
            (0..5).map(|i| line(200, &format!("/{i}"))).collect(),
            limits,
        );
        assert_eq!(paths(&log), ["/2", "/3", "/4"]);
        assert_eq!(log.dropped, 2);

        let one = line(200, "/0").size();
        let limits = LogLimits {
            max_lines: 100,
            max_bytes: one * 2 + one / 2,
        };
        let log = log_with(
            (0..5).map(|i| line(200, &format!("/{i}"))).collect(),
            limits,
        );
        assert_eq!(paths(&log), ["/3", "/4"]);
        assert!(log.held_bytes() <= limits.max_bytes);
        assert_eq!(log.dropped, 3);
    }

    #[test]
    fn the_status_filter_cycles_through_the_classes() {
        let mut log = log_with(
            vec![
                line(200, "/ok"),
                line(301, "/moved"),
                line(404, "/missing"),
                line(503, "/down"),
                LogLine::Raw("proxy says hi".into()),
            ],
            LogLimits::default(),
        );
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push((log.status_filter.label(), paths(&log)));
            log.on_action(Action::CycleStatusFilter, 10);
        }
        assert_eq!(
            seen,
            [
                (
                    "all",
                    vec!["/ok", "/moved", "/missing", "/down", "proxy says hi"]
                ),
                ("2xx", vec!["/ok"]),
                ("3xx", vec!["/moved"]),
                ("4xx", vec!["/missing"]),
                ("5xx", vec!["/down"]),
            ]
            .map(|(l, p)| (l, p.into_iter().map(String::from).collect::<Vec<_>>()))
        );
        assert_eq!(log.status_filter, StatusFilter::All);
    }

    #[test]
    fn the_path_filter_is_typed_and_esc_clears_it() {
        let mut log = log_with(
            vec![
                line(200, "/reviews/1"),
                line(200, "/ratings/1"),
                line(500, "/Reviews/2"),
            ],
            LogLimits::default(),
        );
        assert_eq!(log.on_action(Action::Find, 10), Some(true));
        assert!(log.editing_filter);
        for c in "review".chars() {
            log.on_filter_key(FindKey::Char(c));
        }
        assert_eq!(paths(&log), ["/reviews/1", "/Reviews/2"]);
        log.on_filter_key(FindKey::Accept);
        assert!(!log.editing_filter);
        assert_eq!(log.path_filter, "review");
        log.on_action(Action::Find, 10);
        log.on_filter_key(FindKey::Cancel);
        assert_eq!(paths(&log).len(), 3);
    }

    #[test]
    fn following_keeps_the_newest_line_selected_and_scrolling_up_pauses() {
        let mut log = log_with(
            (0..4).map(|i| line(200, &format!("/{i}"))).collect(),
            LogLimits::default(),
        );
        assert_eq!(selected_path(&log).as_deref(), Some("/3"));
        log.push(vec![line(200, "/4")]);
        assert_eq!(selected_path(&log).as_deref(), Some("/4"));

        assert_eq!(log.on_action(Action::SelectUp, 10), Some(true));
        assert!(!log.follow);
        assert_eq!(selected_path(&log).as_deref(), Some("/3"));
        log.push(vec![line(200, "/5"), line(200, "/6")]);
        assert_eq!(
            selected_path(&log).as_deref(),
            Some("/3"),
            "paused stays put"
        );
        assert_eq!(log.unseen, 2);

        log.on_action(Action::PageUp, 10);
        assert_eq!(selected_path(&log).as_deref(), Some("/0"));
        log.on_action(Action::ToggleFollow, 10);
        assert!(log.follow);
        assert_eq!(log.unseen, 0);
        assert_eq!(selected_path(&log).as_deref(), Some("/6"));
        assert_eq!(
            log.on_action(Action::SelectDown, 10),
            Some(false),
            "already at the newest line"
        );
    }

    #[test]
    fn a_paused_selection_that_scrolls_out_of_the_ring_moves_to_the_oldest_line() {
        let limits = LogLimits {
            max_lines: 3,
            max_bytes: usize::MAX,
        };
        let mut log = log_with(
            (0..3).map(|i| line(200, &format!("/{i}"))).collect(),
            limits,
        );
        log.on_action(Action::PageUp, 10);
        assert_eq!(selected_path(&log).as_deref(), Some("/0"));
        log.push(vec![line(200, "/3")]);
        assert_eq!(selected_path(&log).as_deref(), Some("/1"));
    }

    #[test]
    fn the_viewer_follows_one_log_at_a_time_and_ignores_news_of_an_earlier_one() {
        let mut viewer = LogViewer::default();
        let first = viewer.open(PodRef::proxy("c", "ns", "a"));
        let second = viewer.open(PodRef::proxy("c", "ns", "b"));
        let (Effect::FollowLog { id: old, .. }, Effect::FollowLog { id: new, pod }) =
            (first, second)
        else {
            panic!("opening follows the log");
        };
        assert_eq!(pod.pod, "b");
        assert!(!viewer.on_event(old, LogEvent::Lines(vec![line(200, "/old")])));
        assert!(viewer.on_event(new, LogEvent::Lines(vec![line(200, "/new")])));
        let log = viewer.open.as_ref().unwrap();
        assert_eq!(paths(log), ["/new"]);
        assert!(viewer.on_event(new, LogEvent::Failed("pods \"b\" not found".into())));
        assert_eq!(viewer.close(), Some(Effect::StopLog));
        assert_eq!(viewer.close(), None);
    }
}
