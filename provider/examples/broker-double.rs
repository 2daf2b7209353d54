//! The integration tests' Pact Broker double (`tests/provider/broker_double.rs`)
//! as a process of its own, for the documentation runner (`ci/run-docs.sh`),
//! which runs the guides' broker commands against it: it listens on
//! 127.0.0.1 (a free port), with an environment `production`, no
//! authentication, prints its URL on stdout's first line, and serves until
//! it is stopped. It is a test double, not a broker: it keeps everything in
//! memory and implements what `orchestrator-pact` calls.

// The tests use more of the double than this program does.
#[allow(dead_code)]
#[path = "../tests/provider/broker_double.rs"]
mod broker_double;

use std::io::Write;

#[tokio::main]
async fn main() {
    let broker = broker_double::BrokerDouble::start().await;
    broker.create_environment("production", true);
    println!("{}", broker.url());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
}
