//! The process-wide TLS crypto provider.
//!
//! reqwest 0.13 is built here with rustls and no provider of its own (the
//! pact crates build it that way), so one must be installed before the first
//! client is built: ring, which compiles without a C toolchain beyond `cc`.

/// Installs ring as rustls' default provider; harmless when one is installed.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing it is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
