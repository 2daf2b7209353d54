//! The production shutdown signal: Ctrl-C, SIGTERM, Ctrl-Break. Tests pass
//! futures of their own where a command takes a `shutdown`.

/// Completes on Ctrl-C, SIGTERM (Unix) or Ctrl-Break (Windows). On Unix the
/// handlers are installed when this is called, not when the future is first
/// polled: a signal that comes before the first poll (the pact library can
/// hold the thread) is kept for it, instead of the default action killing
/// the process before it cleans up the tenant.
pub(crate) fn shutdown() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async fn received(signal: Option<Signal>) {
            match signal {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        async move {
            tokio::select! {
                () = received(term) => {},
                () = received(interrupt) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        // A Windows build agent cancelling a job sends Ctrl-Break.
        #[cfg(windows)]
        let term = async {
            match tokio::signal::windows::ctrl_break() {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(windows))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = term => {},
        }
    }
}
