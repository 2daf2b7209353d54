//! The consumer's tests: the Pact contract of the change-password call, and
//! the promise that no secret is ever printed.
//!
//! The contract tests write `automation-client-uipath-identity.json` into
//! `$PACT_OUTPUT_DIR` (default `target/pacts/`); `ci/record-pacts.sh` copies a
//! clean recording into `pacts/`, and `ci/check-pact-drift.sh` fails when the
//! committed file differs from a fresh one.

// Function length, tests included: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]

mod contract;
mod redaction;
mod wire;
