//! Keeping the pact library's own console output off stdout.
//!
//! `pact_verifier` prints its whole report with `println!` at the end of a
//! run; the harness prints its own, scrubbed of secrets, instead. The
//! library's lines are still kept in the result and shown with `--verbose`.
//!
//! Rust's stdout writes to descriptor 1 on Unix and to the process's
//! standard output handle on Windows (looked up at every write), so each
//! platform points that at its null device and back.

use std::io::Write;

/// While alive, the process's standard output goes to the null device.
pub(crate) struct SilencedStdout {
    saved: platform::Saved,
}

impl SilencedStdout {
    /// Points stdout at the null device; `None` if that cannot be done, in
    /// which case output is left as it is.
    pub(crate) fn new() -> Option<Self> {
        let _ = std::io::stdout().flush();
        platform::silence().map(|saved| Self { saved })
    }
}

impl Drop for SilencedStdout {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        platform::restore(&self.saved);
    }
}

#[cfg(unix)]
mod platform {
    /// A duplicate of the original descriptor 1.
    pub(super) struct Saved(libc::c_int);

    pub(super) fn silence() -> Option<Saved> {
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
            Some(Saved(saved))
        }
    }

    pub(super) fn restore(saved: &Saved) {
        // SAFETY: `saved.0` is a descriptor this value owns; it is closed
        // once, here (restore runs once, from `Drop`).
        unsafe {
            libc::dup2(saved.0, 1);
            libc::close(saved.0);
        }
    }
}

#[cfg(windows)]
mod platform {
    use std::fs::File;
    use std::os::windows::io::AsRawHandle;

    use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Console::{GetStdHandle, STD_OUTPUT_HANDLE, SetStdHandle};

    /// The original standard output handle (kept as an address, so that
    /// the guard stays `Send` across the verification's awaits) and the
    /// open null device, closed when dropped after the handle is restored.
    pub(super) struct Saved {
        previous: usize,
        _null: File,
    }

    pub(super) fn silence() -> Option<Saved> {
        let null = std::fs::OpenOptions::new().write(true).open("NUL").ok()?;
        // SAFETY: Win32 calls on this process's standard handle table with
        // a handle `null` keeps open while it is installed.
        unsafe {
            let previous = GetStdHandle(STD_OUTPUT_HANDLE);
            if previous == INVALID_HANDLE_VALUE {
                return None;
            }
            if SetStdHandle(STD_OUTPUT_HANDLE, null.as_raw_handle() as HANDLE) == 0 {
                return None;
            }
            Some(Saved {
                previous: previous as usize,
                _null: null,
            })
        }
    }

    pub(super) fn restore(saved: &Saved) {
        // SAFETY: puts back the handle `silence` found; the null device is
        // closed only afterwards, when `Saved` is dropped.
        unsafe {
            SetStdHandle(STD_OUTPUT_HANDLE, saved.previous as HANDLE);
        }
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    /// Nothing: output is left as it is.
    pub(super) struct Saved;

    pub(super) fn silence() -> Option<Saved> {
        None
    }

    pub(super) fn restore(_: &Saved) {}
}
