//! What the redactor costs: time to add secrets, time to scrub a report of
//! about 1 MB (whole and line by line), and the process's peak memory, for
//! as many secrets as long runs register (three generated passwords per
//! interaction). Figures only, printed; it never fails on speed.
//!
//! `cargo bench -p orchestrator-pact --bench scrub [-- SECRETS...]`
//! (default: 150, 1500 and 15000 secrets).

// Function length: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]

use std::time::Instant;

use base64::Engine;
use orchestrator_pact::redact::Redactor;

/// A small deterministic generator, so that runs compare.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn alphanumeric(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| CHARS[self.next() as usize % CHARS.len()] as char)
            .collect()
    }
}

/// Peak resident memory of this process so far, in MiB (Linux only).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// About 1 MB of report-like lines: JSON bodies, log lines and base64, one
/// line in 50 quoting one of `secrets` in some form.
fn report(secrets: &[String], rng: &mut Lcg) -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 1_000_000 {
        n += 1;
        let filler = rng.alphanumeric(24);
        let line = if n % 50 == 0 {
            let secret = &secrets[rng.next() as usize % secrets.len()];
            match n / 50 % 4 {
                0 => format!(r#"  body: {{"newPassword":"{secret}","userId":"{filler}"}}"#),
                1 => format!("  form: password={}&x=1", secret.replace('-', "%2D")),
                2 => format!(
                    "  header: Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("ci:{secret}"))
                ),
                _ => format!(r#"  nested: "{{\"p\":\"{secret}\"}}""#),
            }
        } else {
            match n % 3 {
                0 => format!(
                    r#"  {{"succeeded": false, "errors": [{{"code": "PasswordTooShort", "description": "{filler}"}}]}}"#
                ),
                1 => format!(
                    "2026-12-02T01:00:00Z DEBUG request POST /identity_/api/User/{filler}/changepassword 400 in 3 ms"
                ),
                _ => format!(
                    "  token: {}",
                    base64::engine::general_purpose::STANDARD.encode(filler.as_bytes())
                ),
            }
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![150, 1500, 15000]
    } else {
        counts
    };
    println!("redactor bench: secrets, add all, scrub ~1 MB whole, line by line, peak RSS");
    for count in counts {
        let mut rng = Lcg(count as u64);
        // Shaped like the generated passwords (`Pa9-` and alphanumerics).
        let secrets: Vec<String> = (0..count)
            .map(|_| format!("Pa9-{}", rng.alphanumeric(16)))
            .collect();
        let redactor = Redactor::default();
        let start = Instant::now();
        for s in &secrets {
            redactor.add_str(s);
        }
        let add = start.elapsed();
        let text = report(&secrets, &mut rng);
        let start = Instant::now();
        let whole = redactor.scrub(&text);
        let whole_time = start.elapsed();
        let start = Instant::now();
        let mut by_line = 0usize;
        for line in text.lines() {
            by_line += redactor.scrub(line).len();
        }
        let line_time = start.elapsed();
        let masked = whole.matches("***").count();
        println!(
            "{count:>7} secrets: add {:>9.1} ms, scrub {:>5} KB whole {:>8.1} ms, by line {:>8.1} ms ({masked} masked, {by_line} bytes out), peak RSS {}",
            add.as_secs_f64() * 1e3,
            text.len() / 1000,
            whole_time.as_secs_f64() * 1e3,
            line_time.as_secs_f64() * 1e3,
            peak_rss_mib().map_or("?".to_owned(), |m| format!("{m:.1} MiB")),
        );
        assert!(
            !secrets.iter().any(|s| whole.contains(s.as_str())),
            "a secret was left in the scrubbed text"
        );
    }
}
