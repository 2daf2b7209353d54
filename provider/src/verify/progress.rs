//! Progress of a long run on stderr: how many interactions are done out of
//! how many, and how many failed so far. Short runs show nothing; stdout
//! stays the report.
//!
//! On a terminal one status line is redrawn in place (at most ten times a
//! second); otherwise (CI logs) one line is written as each pact finishes,
//! so that a log is not flooded.

use std::io::Write;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressStyle {
    /// One line per pact (stderr is a file or a pipe).
    #[default]
    Lines,
    /// A status line redrawn in place (stderr is a terminal).
    Terminal,
    /// Nothing.
    Off,
}

/// How long a run goes before it shows progress.
pub(crate) const QUIET_FOR: Duration = Duration::from_secs(2);
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// The progress of one run. Every method takes the time `now`, so that a
/// test can drive the clock.
#[derive(Debug)]
pub(crate) struct Progress {
    style: ProgressStyle,
    start: Instant,
    total: usize,
    done: usize,
    failed: usize,
    pact_done: usize,
    pact_failed: usize,
    drawn: Option<Instant>,
}

impl Progress {
    /// A run of `total` interactions starting at `start`.
    pub(crate) fn new(style: ProgressStyle, total: usize, start: Instant) -> Self {
        Self {
            style,
            start,
            total,
            done: 0,
            failed: 0,
            pact_done: 0,
            pact_failed: 0,
            drawn: None,
        }
    }

    fn showing(&self, now: Instant) -> bool {
        self.style != ProgressStyle::Off && now.duration_since(self.start) >= QUIET_FOR
    }

    fn status(&self, now: Instant) -> String {
        format!(
            "{}/{} interactions, {} failed so far ({:.0} s)",
            self.done,
            self.total,
            self.failed,
            now.duration_since(self.start).as_secs_f64()
        )
    }

    /// The number of interactions to verify is now known to be `total`.
    pub(crate) fn planned(&mut self, total: usize) {
        self.total = total;
    }

    /// One interaction finished, `failed` or not.
    pub(crate) fn interaction(&mut self, failed: bool, now: Instant, out: &mut dyn Write) {
        self.done += 1;
        self.pact_done += 1;
        if failed {
            self.failed += 1;
            self.pact_failed += 1;
        }
        if self.style == ProgressStyle::Terminal
            && self.showing(now)
            && self
                .drawn
                .is_none_or(|t| now.duration_since(t) >= REDRAW_EVERY)
        {
            let _ = write!(out, "\r\x1b[K{}", self.status(now));
            let _ = out.flush();
            self.drawn = Some(now);
        }
    }

    /// The pact `consumer -> provider` finished.
    pub(crate) fn pact(
        &mut self,
        consumer: &str,
        provider: &str,
        now: Instant,
        out: &mut dyn Write,
    ) {
        if self.style == ProgressStyle::Lines && self.showing(now) {
            let _ = writeln!(
                out,
                "verified {consumer} -> {provider}: {} interactions, {} failed; {}",
                self.pact_done,
                self.pact_failed,
                self.status(now)
            );
        }
        self.pact_done = 0;
        self.pact_failed = 0;
    }

    /// The run is over: the status line, if drawn, is cleared.
    pub(crate) fn finish(&mut self, out: &mut dyn Write) {
        if self.drawn.take().is_some() {
            let _ = write!(out, "\r\x1b[K");
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_short_run_shows_nothing() {
        for style in [ProgressStyle::Lines, ProgressStyle::Terminal] {
            let start = Instant::now();
            let mut p = Progress::new(style, 2, start);
            let mut out = Vec::new();
            p.interaction(false, at(start, 10), &mut out);
            p.interaction(true, at(start, 20), &mut out);
            p.pact("c", "p", at(start, 30), &mut out);
            p.finish(&mut out);
            assert!(
                out.is_empty(),
                "{style:?}: {}",
                String::from_utf8_lossy(&out)
            );
        }
    }

    #[test]
    fn a_long_run_off_a_terminal_writes_one_line_per_pact() {
        let start = Instant::now();
        let mut p = Progress::new(ProgressStyle::Lines, 3, start);
        let mut out = Vec::new();
        p.interaction(true, at(start, 2500), &mut out);
        p.interaction(false, at(start, 2600), &mut out);
        p.pact("a", "idp", at(start, 2700), &mut out);
        p.interaction(false, at(start, 3100), &mut out);
        p.pact("b", "idp", at(start, 3200), &mut out);
        p.finish(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "verified a -> idp: 2 interactions, 1 failed; 2/3 interactions, 1 failed so far (3 s)\n\
             verified b -> idp: 1 interactions, 0 failed; 3/3 interactions, 1 failed so far (3 s)\n"
        );
    }

    #[test]
    fn a_long_run_on_a_terminal_redraws_one_line_and_clears_it() {
        let start = Instant::now();
        let mut p = Progress::new(ProgressStyle::Terminal, 500, start);
        let mut out = Vec::new();
        p.interaction(false, at(start, 1000), &mut out);
        p.interaction(true, at(start, 2000), &mut out);
        p.interaction(false, at(start, 2050), &mut out); // too soon to redraw
        p.interaction(false, at(start, 2100), &mut out);
        p.pact("a", "idp", at(start, 2200), &mut out);
        p.finish(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\r\x1b[K2/500 interactions, 1 failed so far (2 s)\
             \r\x1b[K4/500 interactions, 1 failed so far (2 s)\
             \r\x1b[K"
        );
    }
}
