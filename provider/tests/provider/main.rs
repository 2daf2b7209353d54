//! The provider's integration tests: the `orchestrator-pact` binary run as a
//! user runs it, against emulators over real sockets and doubles that
//! misbehave on purpose. The emulator's own tests are in `emulator/tests`.

// Function length, tests included: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]

mod broker;
mod broker_double;
mod broker_pacts;
mod ci_scripts;
mod connections;
mod doubles;
mod fixtures;
mod gate;
mod generate;
mod help;
mod hostile;
mod install;
mod jobs;
mod layers;
mod logs;
mod masking;
mod other_consumers;
mod secrets;
mod serve;
mod snapshots;
mod spec;
mod tenant;
mod tenant_lifecycle;
mod tls;
mod verify;
mod watched;
