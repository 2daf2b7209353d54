//! The emulator's clock: what the expiry of issued tokens is measured by.
//!
//! It is injected through [`EmulatorConfig::clock`](super::EmulatorConfig)
//! so that a test moves time by hand ([`Clock::manual`], then
//! [`Clock::advance`]) instead of sleeping for a token to expire. A paused
//! tokio clock does not fit here: the emulator serves real sockets in the
//! test's own runtime, and a paused runtime jumps to its next timer whenever
//! it waits on a socket, which would fire the emulator's read time-outs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Real time ([`Clock::system`], the default) or a clock that moves only
/// when told to ([`Clock::manual`]). Clones share the same time.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<Instant>>>);

impl Clock {
    /// Real time ([`Instant::now`]).
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock stopped at the present moment, moved only by
    /// [`Clock::advance`].
    pub fn manual() -> Self {
        Self(Some(Arc::new(Mutex::new(Instant::now()))))
    }

    /// The present moment by this clock.
    pub fn now(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(now) => *now.lock(),
        }
    }

    /// Moves a manual clock forward by `by`.
    ///
    /// # Panics
    /// On the system clock, which no one can move.
    pub fn advance(&self, by: Duration) {
        let now = self
            .0
            .as_ref()
            .expect("only a manual clock can be advanced");
        *now.lock() += by;
    }
}
