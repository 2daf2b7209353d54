//! The emulator behind a watch, for tests that order themselves on what the
//! tenant sees instead of sleeping and sampling: every exchange is logged
//! with the moment it arrived and was answered, a test waits until the log
//! (or the emulator's state) satisfies a condition, and requests can be
//! held at a barrier until the test releases them.
//!
//! The times are `tokio::time::Instant`s, the machine's monotonic clock,
//! which the binary under test reads too: an exchange logged here can be
//! compared with a pause the binary keeps.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use orchestrator_pact::emulator::{self, Emulator, EmulatorConfig, FaultRoute, classify};
use tokio::sync::{Notify, oneshot, watch};
use tokio::time::Instant;

/// One request the emulator received, and its answer once given.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: Method,
    pub path: String,
    /// The Identity route it is for (`None` for the state and admin
    /// endpoints).
    pub route: Option<FaultRoute>,
    pub arrived: Instant,
    /// Whether it waited at the barrier.
    pub held: bool,
    pub status: Option<u16>,
    pub answered: Option<Instant>,
}

impl Exchange {
    /// Whether it is a request on `route`.
    pub fn is(&self, route: FaultRoute) -> bool {
        self.route == Some(route)
    }

    /// `METHOD path → status`, arrived `+N ms` after `since`: for failure
    /// messages.
    pub fn since(&self, since: Instant) -> String {
        let status = self
            .status
            .map_or("no answer".to_owned(), |s| s.to_string());
        let at = self.arrived.saturating_duration_since(since).as_millis();
        format!("+{at} ms {} {} → {status}", self.method, self.path)
    }
}

/// Which arriving requests wait at the barrier, given the request and
/// every exchange before it.
type HoldRule = Box<dyn Fn(&Exchange, &[Exchange]) -> bool + Send>;

struct Watch {
    log: Mutex<Vec<Exchange>>,
    hold: Mutex<Option<HoldRule>>,
    /// Told after every arrival and every answer.
    changed: Notify,
    released: watch::Sender<bool>,
}

impl Watch {
    fn log(&self) -> MutexGuard<'_, Vec<Exchange>> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An emulator on `127.0.0.1:0` in this process, behind a watch. Dropping
/// it releases what it holds and stops it.
pub struct WatchedEmulator {
    pub emulator: Arc<Emulator>,
    addr: SocketAddr,
    watch: Arc<Watch>,
    _stop: oneshot::Sender<()>,
}

impl WatchedEmulator {
    pub async fn start(config: EmulatorConfig) -> Self {
        let emulator = Emulator::new(config);
        let (released, _) = watch::channel(false);
        let watch = Arc::new(Watch {
            log: Mutex::new(Vec::new()),
            hold: Mutex::new(None),
            changed: Notify::new(),
            released,
        });
        let router = emulator::app(emulator.clone())
            .layer(axum::middleware::from_fn_with_state(watch.clone(), observe));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("a port on 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            emulator,
            addr,
            watch,
            _stop: stop,
        }
    }

    /// `http://127.0.0.1:{port}`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every exchange so far, in the order the requests arrived.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.watch.log().clone()
    }

    /// From now on, until [`release`](Self::release), every arriving
    /// request for which `rule(request, exchanges before it)` holds waits
    /// at the barrier.
    pub fn hold(&self, rule: impl Fn(&Exchange, &[Exchange]) -> bool + Send + 'static) {
        *self.watch.hold.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(rule));
        self.watch.released.send_replace(false);
    }

    /// Lets every held request through, and holds nothing more.
    pub fn release(&self) {
        self.watch.released.send_replace(true);
    }

    /// Waits until `done(exchanges)` holds: looked at once now and again
    /// after every arrival and answer, never on a timer. Panics naming
    /// `what` after 60 s (a bound against hanging, not a sample).
    pub async fn wait_until(&self, what: &str, mut done: impl FnMut(&[Exchange]) -> bool) {
        let waiting = async {
            loop {
                let next = self.watch.changed.notified();
                tokio::pin!(next);
                // Registered before looking, so no change slips between.
                next.as_mut().enable();
                if done(&self.watch.log()) {
                    return;
                }
                next.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), waiting)
            .await
            .unwrap_or_else(|_| panic!("{what}: not within 60 s"));
    }
}

impl Drop for WatchedEmulator {
    fn drop(&mut self) {
        self.release();
    }
}

/// Logs the exchange, holds it when the rule says so, and logs the answer.
async fn observe(State(watch): State<Arc<Watch>>, request: Request, next: Next) -> Response {
    let (index, held) = {
        let mut log = watch.log();
        let mut exchange = Exchange {
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            route: classify(request.method(), request.uri().path()),
            arrived: Instant::now(),
            held: false,
            status: None,
            answered: None,
        };
        exchange.held = !*watch.released.borrow()
            && watch
                .hold
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .is_some_and(|rule| rule(&exchange, &log));
        let held = exchange.held;
        log.push(exchange);
        (log.len() - 1, held)
    };
    watch.changed.notify_waiters();
    if held {
        let mut released = watch.released.subscribe();
        let _ = released.wait_for(|released| *released).await;
    }
    let response = next.run(request).await;
    {
        let mut log = watch.log();
        log[index].status = Some(response.status().as_u16());
        log[index].answered = Some(Instant::now());
    }
    watch.changed.notify_waiters();
    response
}
