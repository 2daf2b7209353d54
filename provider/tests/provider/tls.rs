//! A tenant behind TLS: a certificate the machine does not trust is refused
//! (exit 2, naming the host and `--insecure`), and `--insecure` accepts it.

use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use orchestrator_pact::emulator::{self, Emulator, EmulatorConfig};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::fixtures::{orchestrator_pact, pacts_dir};

const ORG: &str = "6f726368-6573-7472-6174-6f722d706163";

/// The emulator served over TLS with a fresh self-signed certificate for
/// 127.0.0.1; gives its `https://` URL and the emulator.
async fn start_tls_emulator() -> (String, Arc<Emulator>) {
    uipath_identity_client::tls::install_crypto_provider();
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let emulator = Emulator::new(EmulatorConfig::default());
    let app = emulator::app(emulator.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                break;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                    .await;
            });
        }
    });
    (format!("https://127.0.0.1:{}/", addr.port()), emulator)
}

fn args(url: &str, insecure: bool) -> Vec<String> {
    let mut a: Vec<String> = [
        "verify",
        "--pacts",
        pacts_dir().to_str().unwrap(),
        "--base-url",
        url,
        "--token",
        "tls-t0ken",
        "--organization-id",
        ORG,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if insecure {
        a.push("--insecure".into());
    }
    a
}

#[tokio::test]
async fn an_untrusted_certificate_exits_2_naming_the_host_and_the_way_out() {
    let (url, emulator) = start_tls_emulator().await;
    let run = orchestrator_pact(args(&url, false)).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("127.0.0.1"), "{run}");
    assert!(
        run.stderr.contains("certificate") && run.stderr.contains("--insecure"),
        "{run}"
    );
    assert!(emulator.store.is_empty());
}

#[tokio::test]
async fn insecure_accepts_a_self_signed_test_deployment() {
    let (url, emulator) = start_tls_emulator().await;
    let run = orchestrator_pact(args(&url, true)).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("5 interactions: 5 verified"), "{run}");
    assert!(emulator.store.is_empty(), "users were left behind");
}
