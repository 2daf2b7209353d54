//! The emulator's HTTP routes, one module per resource.

pub mod change_password;
pub mod provider_states;
