//! `ssl:` remotes against a real `ovsdb-server` with `ovs-pki` certificates.

mod common;

use std::time::Duration;

use common::{DB, Pki, Server, TempDir, free_port, run};
use ovsdb::{Client, ClientConfig, ConnectOptions, Connection, Error, Remote, TlsFiles};

#[tokio::test]
async fn mutual_tls_with_ovs_pki_certificates() {
    let dir = TempDir::new("tls");
    let pki = Pki::new(&dir.0.join("good"));
    let db = dir.0.join("s.db");
    run(
        "ovsdb-tool",
        &["create", db.to_str().unwrap(), common::VTEP_SCHEMA],
    );
    let ssl_port = free_port();
    let srv = Server::with_args(
        &dir.0,
        "s",
        db,
        vec![
            format!("--private-key={}", pki.server_key.display()),
            format!("--certificate={}", pki.server_cert.display()),
            format!("--ca-cert={}", pki.cacert.display()),
            format!("--remote=pssl:{ssl_port}:127.0.0.1"),
        ],
    );
    srv.vtep_ctl(&["add-ls", "ls0"]);
    let remote: Remote = format!("ssl:127.0.0.1:{ssl_port}").parse().unwrap();
    let files = TlsFiles {
        ca_cert: pki.cacert.clone(),
        certificate: pki.client_cert.clone(),
        private_key: pki.client_key.clone(),
    };

    let mut cfg = ClientConfig::new(vec![remote.clone()], DB);
    cfg.connect.tls = Some(files.clone());
    let client = Client::start(cfg);
    let snap = client
        .wait_for(Duration::from_secs(10), |s| s.len("Logical_Switch") == 1)
        .await
        .unwrap();
    assert!(snap.find("Logical_Switch", "name", &"ls0".into()).is_some());
    assert_eq!(client.status().remote, Some(remote.clone()));

    // A CA that did not sign the server's certificate: the handshake fails.
    let other = Pki::new(&dir.0.join("other"));
    let opts = ConnectOptions {
        tls: Some(TlsFiles {
            ca_cert: other.cacert.clone(),
            ..files.clone()
        }),
        ..Default::default()
    };
    let err = Connection::connect(&remote, &opts).await.unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    // Our certificate from a CA the server does not trust: the server refuses us
    // (with TLS 1.3 the client learns it on the first read).
    let opts = ConnectOptions {
        tls: Some(TlsFiles {
            certificate: other.client_cert.clone(),
            private_key: other.client_key.clone(),
            ..files.clone()
        }),
        ..Default::default()
    };
    if let Ok((conn, _n)) = Connection::connect(&remote, &opts).await {
        assert!(conn.list_dbs().await.is_err());
    }
    // No TLS files at all.
    let err = Connection::connect(&remote, &ConnectOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
}
