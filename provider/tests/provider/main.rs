//! The provider's integration tests: the `orchestrator-pact` binary run as a
//! user runs it, and the emulator over real sockets.

mod emulator;
mod fixtures;
mod serve;
mod spec;
mod verify;
