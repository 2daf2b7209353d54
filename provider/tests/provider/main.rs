//! The provider's integration tests: the `orchestrator-pact` binary run as a
//! user runs it, and the emulator over real sockets.

mod broker;
mod broker_double;
mod broker_pacts;
mod ci_scripts;
mod concurrency;
mod connections;
mod doubles;
mod emulator;
mod fixtures;
mod fuzz;
mod gate;
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
mod tenant_api;
mod tenant_lifecycle;
mod tls;
mod verify;
