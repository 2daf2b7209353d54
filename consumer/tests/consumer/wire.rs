//! The typed client against servers that misbehave, over real sockets on
//! 127.0.0.1: it follows no redirect to another origin (the command carries
//! both passwords) and reads no answer past its cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use uipath_identity_client::{
    BaseUrl, BearerToken, ChangePassword, ClientError, IdentityClient, IdentityPrefix, UserId,
};

/// A server answering every request with `answer` (raw HTTP/1.1); counts
/// the connections it accepted.
async fn server(answer: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (url, accepted)
}

fn client(url: &str) -> IdentityClient {
    IdentityClient::new(
        BaseUrl::parse(&format!("{url}/org/tenant/"), IdentityPrefix::Cloud).unwrap(),
        Some(BearerToken::new("t0ken-wire")),
    )
    .unwrap()
}

fn command() -> ChangePassword {
    ChangePassword::new("Old-passw0rd-wire", "New-passw0rd-wire")
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_and_names_its_target() {
    let (sink, reached) = server("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".into()).await;
    let (tenant, _) = server(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {sink}/steal\r\ncontent-length: 0\r\n\r\n"
    ))
    .await;
    let user: UserId = "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e".parse().unwrap();
    let error = client(&tenant)
        .change_password(&user, &command())
        .await
        .unwrap_err();
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    assert!(
        matches!(&error, ClientError::Redirected { target, .. } if *target == sink),
        "{error}"
    );
}

#[tokio::test]
async fn an_answer_announced_past_the_cap_is_not_read() {
    let (tenant, _) = server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{"
            .into(),
    )
    .await;
    let user: UserId = "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e".parse().unwrap();
    let error = client(&tenant)
        .with_max_body(1024)
        .change_password(&user, &command())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::TooLarge { limit: 1024, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("1073741824"), "{error}");
}
