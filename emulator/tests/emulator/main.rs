//! The emulator as a test of another project uses it: started on port 0
//! in process and driven over real sockets (the router alone, in process,
//! for the fuzzing).

mod api;
mod concurrency;
mod connections;
mod fixtures;
mod fuzz;
mod provider_states;
mod tenant_api;
