//! The provider's integration tests: the `orchestrator-pact` binary run as a
//! user runs it, and the emulator over real sockets.

mod broker;
mod broker_double;
mod broker_pacts;
mod emulator;
mod fixtures;
mod serve;
mod verify;
