//! The emulator's connections over real sockets: clients that never finish
//! sending are cut off, and a client that shuts its write side after
//! sending a request still gets the answer.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use orchestrator_pact::emulator::{self, ConnectionLimits, Emulator, EmulatorConfig};
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

#[tokio::test]
async fn a_body_that_never_arrives_whole_gets_408_and_a_kept_alive_connection_is_closed_when_idle()
{
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(500),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(emulator::serve_with_limits(
        listener,
        Emulator::new(EmulatorConfig::default()),
        limits,
        async {
            let _ = stopped.await;
        },
    ));

    // Headers promise 100 bytes; 10 come, then nothing.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /identity_/api/User/0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e/changepassword HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer any\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"oldPassw",
        )
        .await
        .unwrap();
    let received = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("the connection is closed");
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");

    // A kept-alive connection, idle after its answer, is closed.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let received = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("the idle kept-alive connection is closed");
    assert!(received.starts_with("HTTP/1.1 404"), "{received}");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
