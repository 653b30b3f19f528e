//! Ctrl-C and SIGTERM: the CLI asks to stop rather than dying mid-write. The first signal sets a
//! flag that the training loop, scoring and the benchmark's child process check between steps;
//! the run then unwinds with [`Error::Interrupted`] through the same paths as any error, so
//! atomic writes finish or never happen and temporary files are removed. A second signal ends
//! the process at once.
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicI32, Ordering};

/// The signal that asked to stop (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Install the handlers (the CLI only: a notebook kernel keeps its own SIGINT).
pub fn install() {
    #[cfg(unix)]
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic and, the second time, restores the default
        // action and re-raises, all async-signal-safe.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

#[cfg(unix)]
extern "C" fn on_signal(sig: libc::c_int) {
    if SIGNAL.swap(sig, Ordering::SeqCst) != 0 {
        // SAFETY: async-signal-safe calls only
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// The signal that asked to stop, if one did.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// `Err(Interrupted)` once a stop was asked for.
pub fn check() -> Result<()> {
    #[cfg(test)]
    if tests::stop_now() {
        return Err(Error::Interrupted { signal: 2 });
    }
    match requested() {
        None => Ok(()),
        Some(signal) => Err(Error::Interrupted { signal }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    thread_local! {
        static CHECKS_LEFT: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// Make this thread's `n`-th next [`super::check`] report a stop, as a Ctrl-C would (tests run
    /// in parallel threads, so a real signal would stop them all).
    pub(crate) fn stop_after(n: usize) {
        CHECKS_LEFT.with(|c| c.set(Some(n)));
    }

    pub(super) fn stop_now() -> bool {
        CHECKS_LEFT.with(|c| match c.get() {
            Some(0) | Some(1) => {
                c.set(None);
                true
            }
            Some(n) => {
                c.set(Some(n - 1));
                false
            }
            None => false,
        })
    }
}
