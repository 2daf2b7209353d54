//! `serve`'s connections over real sockets: clients that never finish
//! sending are cut off after the default header time-out, and a client
//! that shuts its write side after sending a request still gets the
//! answer. (The emulator crate's tests cover a request time-out.)

use std::time::{Duration, Instant};

use orchestrator_pact::emulator::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::serve::spawn_serve;

/// Everything the server sends on `stream` until it closes it, or `None`
/// if it is still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut received)).await {
        Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
        Err(_) => None,
    }
}

fn addr_of(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

#[tokio::test]
async fn a_client_that_shuts_its_write_side_after_sending_still_gets_the_answer() {
    let (_serve, url) = spawn_serve(&[]).await;
    let addr = addr_of(&url);
    let clients = (0..50).map(|_| {
        let addr = addr.clone();
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            stream
                .write_all(b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .await
                .unwrap();
            stream.shutdown().await.unwrap();
            read_until_closed(&mut stream, Duration::from_secs(10))
                .await
                .unwrap_or_default()
        })
    });
    let mut answered = 0;
    let mut other = Vec::new();
    for client in clients {
        let received = client.await.unwrap();
        if received.starts_with("HTTP/1.1 404") {
            answered += 1;
        } else {
            other.push(received);
        }
    }
    assert_eq!(answered, 50, "dropped or odd answers: {other:?}");
}

#[tokio::test]
async fn serve_closes_idle_and_half_sent_connections_after_the_header_time_out() {
    let (_serve, url) = spawn_serve(&[]).await;
    let addr = addr_of(&url);
    let started = Instant::now();
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    let mut half_sent = TcpStream::connect(&addr).await.unwrap();
    half_sent
        .write_all(b"POST /identity_/api/User HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
        .await
        .unwrap();
    let default = ConnectionLimits::default().header_read_timeout;
    let within = default + Duration::from_secs(5);
    let (idle, half_sent) = tokio::join!(
        read_until_closed(&mut idle, within),
        read_until_closed(&mut half_sent, within)
    );
    assert!(
        idle.is_some(),
        "an idle connection is still open after {within:?}"
    );
    assert!(
        half_sent.is_some(),
        "a connection with half its headers sent is still open after {within:?}"
    );
    assert!(
        started.elapsed() >= default - Duration::from_millis(500),
        "closed before the time-out: {:?}",
        started.elapsed()
    );
}
