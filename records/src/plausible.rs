//! Plausibility checks of a record: what no run the lab's writer produced
//! can show, so that a record that shows it was edited, corrupted or
//! written by a broken build. `report` warns of each, naming the run; it
//! does not drop the run (the record is still what the file says).

use std::time::Duration;

use crate::run::{Outcome, RunResult};

impl RunResult {
    /// What is implausible about this record, one sentence each; empty
    /// when nothing is. Checked: an `ok` run has its measurements, a page
    /// load time and a time to first byte; the first byte comes no later
    /// than the page's end; neither comes sooner than one round trip of the
    /// run's network (its faster path, if it changes paths) (a request and its answer cross the path at least
    /// once each way); a run that is not `ok` says why.
    pub fn implausible(&self) -> Vec<String> {
        let mut found = Vec::new();
        if self.outcome != Outcome::Ok {
            if self.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                found.push(format!("{} with no reason", self.outcome.label()));
            }
            return found;
        }
        let Some(m) = &self.measurements else {
            found.push("ok with no measurements".to_owned());
            return found;
        };
        // The shortest round trip the run had: a path change may move it
        // to a faster path.
        let rtt_ns = match &self.network.path_change {
            Some(change) => self.network.path.rtt_ns().min(change.path.rtt_ns()),
            None => self.network.path.rtt_ns(),
        };
        let rtt = Duration::from_nanos(rtt_ns);
        let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
        if let Some(missing) = m.missing_figure() {
            found.push(format!("ok with {missing}"));
        }
        match m.plt {
            Some(plt) if plt < rtt => found.push(format!(
                "a page load time of {} is shorter than one round trip of its network ({})",
                ms(plt),
                ms(rtt)
            )),
            _ => {}
        }
        match m.ttfb {
            Some(ttfb) if ttfb < rtt => found.push(format!(
                "a time to first byte of {} is shorter than one round trip of its network ({})",
                ms(ttfb),
                ms(rtt)
            )),
            _ => {}
        }
        if let (Some(plt), Some(ttfb)) = (m.plt, m.ttfb) {
            if ttfb > plt {
                found.push(format!(
                    "its time to first byte ({}) is later than its page load time ({})",
                    ms(ttfb),
                    ms(plt)
                ));
            }
        }
        found
    }
}
