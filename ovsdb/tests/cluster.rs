//! Against a real 3-member Raft cluster of `ovsdb-server`s.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{DB, Server, TempDir, VTEP_SCHEMA, free_port, run};
use ovsdb::{Client, ClientConfig};

/// Inserts a Logical_Switch through `srv` with ovsdb-client, retrying while the
/// cluster elects a leader.
fn insert_ls(srv: &Server, name: &str) {
    let txn =
        serde_json::json!([DB, {"op": "insert", "table": "Logical_Switch", "row": {"name": name}}])
            .to_string();
    let start = Instant::now();
    loop {
        let out = Command::new("ovsdb-client")
            .args([
                "--timeout=5",
                "transact",
                &format!("unix:{}", srv.sock.display()),
                &txn,
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && !stdout.contains("error") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "insert {name}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn role(srv: &Server) -> String {
    srv.appctl(&["cluster/status", DB])
}

#[tokio::test]
async fn raft_leader_killed_client_fails_over_and_resumes() {
    let dir = TempDir::new("raft");
    let raft: Vec<String> = (0..3)
        .map(|_| format!("tcp:127.0.0.1:{}", free_port()))
        .collect();
    let dbs: Vec<_> = (1..=3).map(|i| dir.0.join(format!("s{i}.db"))).collect();
    run(
        "ovsdb-tool",
        &[
            "create-cluster",
            dbs[0].to_str().unwrap(),
            VTEP_SCHEMA,
            &raft[0],
        ],
    );
    let mut servers = vec![Server::new(&dir.0, "s1", dbs[0].clone())];
    for i in 1..3 {
        run(
            "ovsdb-tool",
            &[
                "join-cluster",
                dbs[i].to_str().unwrap(),
                DB,
                &raft[i],
                &raft[0],
            ],
        );
        servers.push(Server::new(&dir.0, &format!("s{}", i + 1), dbs[i].clone()));
    }
    let start = Instant::now();
    while !servers
        .iter()
        .all(|s| role(s).contains("Status: cluster member"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "cluster did not form"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut cfg = ClientConfig::new(servers.iter().map(|s| s.tcp()).collect(), DB);
    cfg.leader_only = true;
    cfg.backoff_min = Duration::from_millis(100);
    cfg.backoff_max = Duration::from_secs(2);
    let client = Client::start(cfg);
    client
        .wait_connected(Duration::from_secs(10))
        .await
        .unwrap();
    insert_ls(&servers[1], "before");
    let snap = client
        .wait_for(Duration::from_secs(10), |s| {
            s.find("Logical_Switch", "name", &"before".into()).is_some()
        })
        .await
        .unwrap();
    assert!(
        snap.last_txn_id.is_some(),
        "clustered servers report transaction ids"
    );
    let st = client.status();
    assert_eq!((st.full_dumps, st.resumes), (1, 0), "{st:?}");
    let server = st.server.clone().unwrap();
    assert_eq!(server.model, "clustered");
    assert!(server.connected && server.leader, "{server:?}");

    // Kill the leader (the member the client is on, since it is leader-only).
    let leader = servers
        .iter()
        .position(|s| role(s).contains("Role: leader"))
        .unwrap();
    assert_eq!(st.remote.as_ref(), Some(&servers[leader].tcp()));
    servers[leader].kill();
    let other = (leader + 1) % 3;
    insert_ls(&servers[other], "after");
    let snap = client
        .wait_for(Duration::from_secs(20), |s| {
            s.find("Logical_Switch", "name", &"after".into()).is_some()
        })
        .await
        .unwrap();
    assert!(
        snap.find("Logical_Switch", "name", &"before".into())
            .is_some()
    );
    let st = client.status();
    assert_ne!(st.remote.as_ref(), Some(&servers[leader].tcp()));
    assert_eq!(st.full_dumps, 1, "resumed with a full dump: {st:?}");
    assert!(st.resumes >= 1, "{st:?}");
    assert_eq!(snap.len("Logical_Switch"), 2);
}
