//! Connections over real sockets to a tenant served with short limits: a
//! request whose body never arrives whole gets 408, and a kept-alive
//! connection left idle is closed. (`orchestrator-pact serve`'s tests
//! cover the default limits and half-closed connections.)

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uipath_identity_emulator::{self as emulator, ConnectionLimits, Emulator, EmulatorConfig};

/// Everything the server sends on `stream` until it closes it, or `None`
/// if it is still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut received)).await {
        Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
        Err(_) => None,
    }
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
