//! Logs on stderr, scrubbed of every secret the run knows, at every level
//! (`--loglevel trace` included: the pact library logs requests whole).

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

use crate::redact::Redactor;

/// Whether logs on stderr get ANSI colours: only on a terminal, and not
/// when `NO_COLOR` is set to anything but the empty string
/// (<https://no-color.org>). A file or a CI log gets plain text.
pub fn colour_wanted(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Makes one [`ScrubbingWriter`] per log event.
#[derive(Clone, Debug)]
pub struct ScrubbingStderr {
    redactor: Redactor,
}

impl ScrubbingStderr {
    /// Writes to stderr through `redactor`.
    pub fn new(redactor: Redactor) -> Self {
        Self { redactor }
    }
}

/// Buffers one log event and writes it, scrubbed, when dropped.
pub struct ScrubbingWriter {
    redactor: Redactor,
    buffer: Vec<u8>,
}

impl Write for ScrubbingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for ScrubbingWriter {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let text = self.redactor.scrub(&String::from_utf8_lossy(&self.buffer));
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}

impl<'a> MakeWriter<'a> for ScrubbingStderr {
    type Writer = ScrubbingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbingWriter {
            redactor: self.redactor.clone(),
            buffer: Vec::new(),
        }
    }
}

/// A writer that passes whole lines on to `inner`, scrubbed: for a
/// command's stdout and stderr where text from a server (a broker's reason,
/// its notices) is printed.
pub struct ScrubbingLines<W: Write> {
    inner: W,
    redactor: Redactor,
    pending: Vec<u8>,
}

impl<W: Write> ScrubbingLines<W> {
    /// Writes to `inner` through `redactor`.
    pub fn new(inner: W, redactor: Redactor) -> Self {
        Self {
            inner,
            redactor,
            pending: Vec::new(),
        }
    }

    fn write_out(&mut self, upto: usize) -> io::Result<()> {
        let line: Vec<u8> = self.pending.drain(..upto).collect();
        let text = self.redactor.scrub(&String::from_utf8_lossy(&line));
        self.inner.write_all(text.as_bytes())
    }
}

impl<W: Write> Write for ScrubbingLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last) = self.pending.iter().rposition(|b| *b == b'\n') {
            self.write_out(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.write_out(self.pending.len())?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for ScrubbingLines<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// What a panic said: its `&str` or `String` payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Replaces the panic hook with one that scrubs the message: a panic inside
/// the harness must not print a secret either.
pub fn install_scrubbing_panic_hook(redactor: Redactor) {
    std::panic::set_hook(Box::new(move |info| {
        let message = panic_message(info.payload());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "internal error{location}: {} (please report it)",
            redactor.scrub(&message)
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }
}
