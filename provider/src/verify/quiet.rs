//! Keeping the pact library's own console output off stdout.
//!
//! `pact_verifier` prints its whole report with `println!` at the end of a
//! run; the harness prints its own, scrubbed of secrets, instead. The
//! library's lines are still kept in the result and shown with `--verbose`.

use std::io::Write;

/// While alive, file descriptor 1 points at `/dev/null`.
pub struct SilencedStdout {
    saved: libc::c_int,
}

impl SilencedStdout {
    /// Points stdout at `/dev/null`; `None` if that cannot be done, in which
    /// case output is left as it is.
    pub fn new() -> Option<Self> {
        let _ = std::io::stdout().flush();
        // SAFETY: plain POSIX calls on descriptors this process owns; every
        // return value is checked before use.
        unsafe {
            let saved = libc::dup(1);
            if saved < 0 {
                return None;
            }
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null < 0 {
                libc::close(saved);
                return None;
            }
            let ok = libc::dup2(null, 1) >= 0;
            libc::close(null);
            if !ok {
                libc::close(saved);
                return None;
            }
            Some(Self { saved })
        }
    }
}

impl Drop for SilencedStdout {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        // SAFETY: `saved` is a descriptor this value owns.
        unsafe {
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}
