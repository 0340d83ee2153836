//! A stop flag that signals and the control plane raise and poll loops check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cheap, clonable stop request shared by the control plane and every lcore.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    flag: Arc<AtomicBool>,
}

impl Stop {
    /// A flag nobody has raised.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// A flag that SIGTERM and SIGINT raise (async-signal-safe: the handler only
    /// stores to the atomic).
    pub fn on_signals() -> std::io::Result<Stop> {
        let stop = Stop::new();
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&stop.flag))?;
        }
        Ok(stop)
    }

    /// Asks every holder to stop.
    pub fn request(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// True once stopping was requested; a Relaxed load, cheap enough for every poll
    /// iteration.
    #[inline]
    pub fn is_requested(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_seen_by_clones() {
        let a = Stop::new();
        let b = a.clone();
        assert!(!b.is_requested());
        a.request();
        assert!(b.is_requested());
    }

    #[test]
    fn sigterm_raises_the_flag() {
        let stop = Stop::on_signals().unwrap();
        // SAFETY: raising a signal that has a handler installed.
        unsafe { libc::raise(libc::SIGTERM) };
        assert!(stop.is_requested());
    }
}
