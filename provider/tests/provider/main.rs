//! The provider's integration tests: the `orchestrator-pact` binary run as a
//! user runs it, and the emulator over real sockets.

mod broker;
mod broker_double;
mod broker_pacts;
mod concurrency;
mod emulator;
mod fixtures;
mod fuzz;
mod gate;
mod install;
mod serve;
mod spec;
mod tenant;
mod tenant_api;
mod tls;
mod verify;
