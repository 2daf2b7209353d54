//! The process's exit codes, one meaning each (the same as Pact's own
//! verifier): a leaf, so that every command can return them.

/// Exit code: success, or the contract holds.
pub const EXIT_OK: u8 = 0;
/// Exit code: the contract does not hold.
pub const EXIT_BROKEN: u8 = 1;
/// Exit code: could not check (configuration, network, auth).
pub const EXIT_UNCHECKED: u8 = 2;
