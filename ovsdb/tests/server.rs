//! Against real standalone `ovsdb-server` processes with the hardware_vtep schema.

mod common;

use std::time::Duration;

use common::{DB, Server, TempDir, diff_with_dump, run};
use ovsdb::{
    Atom, Client, ClientConfig, Comment, Condition, ConnectOptions, Connection, Datum, Error,
    Insert, Mutate, Mutator, Select, Wait, WaitUntil,
};

const T: Duration = Duration::from_secs(10);

fn config(remotes: Vec<ovsdb::Remote>) -> ClientConfig {
    let mut c = ClientConfig::new(remotes, DB);
    c.backoff_min = Duration::from_millis(50);
    c.backoff_max = Duration::from_millis(500);
    c
}

#[tokio::test]
async fn get_schema_hardware_vtep() {
    let dir = TempDir::new("schema");
    let srv = Server::standalone(&dir.0, "s");
    let (conn, _n) = Connection::connect(&srv.unix(), &ConnectOptions::default())
        .await
        .unwrap();
    let dbs = conn.list_dbs().await.unwrap();
    assert!(
        dbs.contains(&DB.to_owned()) && dbs.contains(&"_Server".to_owned()),
        "{dbs:?}"
    );
    let schema = conn.get_schema(DB).await.unwrap();
    assert_eq!(schema.name, DB);
    for t in [
        "Global",
        "Physical_Switch",
        "Physical_Port",
        "Logical_Switch",
        "Ucast_Macs_Remote",
        "Physical_Locator",
    ] {
        assert!(schema.tables.contains_key(t), "{t}");
    }
    assert!(!schema.tables["Physical_Switch"].is_root);
    assert!(schema.tables["Logical_Switch"].is_root);
    assert_eq!(
        schema.tables["Logical_Switch"].indexes,
        vec![vec!["name".to_owned()]]
    );
    let vb = schema
        .column_type("Physical_Port", "vlan_bindings")
        .unwrap();
    assert!(vb.is_map() && vb.is_multi());
    assert_eq!((vb.min, vb.max), (0, None));
    assert_eq!(
        vb.value.as_ref().unwrap().ref_table.as_deref(),
        Some("Logical_Switch")
    );
    let ti = schema.column_type("Physical_Switch", "tunnel_ips").unwrap();
    assert!(!ti.is_map() && ti.is_multi());
    let tk = schema.column_type("Logical_Switch", "tunnel_key").unwrap();
    assert_eq!((tk.min, tk.max), (0, Some(1)));
    assert!(matches!(conn.get_schema("nope").await, Err(Error::Rpc(_))));
}

#[tokio::test]
async fn message_cap_drops_connection() {
    let dir = TempDir::new("cap");
    let srv = Server::standalone(&dir.0, "s");
    let opts = ConnectOptions {
        max_message_size: 1024,
        ..Default::default()
    };
    let (conn, _n) = Connection::connect(&srv.unix(), &opts).await.unwrap();
    conn.list_dbs().await.unwrap();
    // The schema is ~30 KB: the reply is refused and the connection dropped.
    assert!(matches!(
        conn.get_schema(DB).await,
        Err(Error::Disconnected)
    ));
    conn.closed().await;
    assert!(conn.is_closed());
}

#[tokio::test]
async fn transact_with_named_uuids_then_monitor_sees_them() {
    let dir = TempDir::new("transact");
    let srv = Server::standalone(&dir.0, "s");
    let client = Client::start(config(vec![srv.tcp()]));
    client.wait_connected(T).await.unwrap();
    let res = client
        .transact(&[
            Comment("causeway test".into()).into(),
            Insert::new("Logical_Switch")
                .set("name", "ls0")
                .set("tunnel_key", 5000i64)
                .uuid_name("ls")
                .into(),
            Insert::new("Physical_Port")
                .set("name", "p0")
                .set(
                    "vlan_bindings",
                    Datum::map([(100i64, Atom::NamedUuid("ls".into()))]),
                )
                .uuid_name("port")
                .into(),
            Insert::new("Physical_Switch")
                .set("name", "gw1")
                .set("tunnel_ips", Datum::set(["192.0.2.50"]))
                .set("ports", Datum::named_uuid("port"))
                .uuid_name("ps")
                .into(),
            Insert::new("Global")
                .set("switches", Datum::named_uuid("ps"))
                .into(),
        ])
        .await
        .unwrap();
    assert_eq!(res.len(), 5);
    let ls_uuid = res[1].uuid.unwrap();
    let port_uuid = res[2].uuid.unwrap();
    let snap = client
        .wait_for(T, |s| {
            s.len("Physical_Switch") == 1
                && s.len("Physical_Port") == 1
                && s.len("Logical_Switch") == 1
        })
        .await
        .unwrap();
    let (_, ps) = snap.find("Physical_Switch", "name", &"gw1".into()).unwrap();
    assert_eq!(ps.get("ports"), Some(&Datum::from(port_uuid)));
    assert_eq!(ps.get("tunnel_ips"), Some(&Datum::set(["192.0.2.50"])));
    assert_eq!(ps.get("description"), Some(&Datum::from("")));
    let port = snap.row("Physical_Port", &port_uuid).unwrap();
    assert_eq!(
        port.get("vlan_bindings"),
        Some(&Datum::map([(100i64, ls_uuid)]))
    );
    let ls = snap.row("Logical_Switch", &ls_uuid).unwrap();
    assert_eq!(ls.get("tunnel_key"), Some(&Datum::from(5000i64)));
    assert_eq!(client.status().full_dumps, 1);

    // A select and a mutate through the typed builders.
    let sel = client
        .transact(&[Select::new("Logical_Switch")
            .where_(Condition::eq("name", "ls0"))
            .columns(["name"])
            .into()])
        .await
        .unwrap();
    assert_eq!(sel[0].rows.as_ref().unwrap().len(), 1);
    let m = client
        .transact(&[Mutate::new("Physical_Switch")
            .where_(Condition::eq("name", "gw1"))
            .mutate("tunnel_ips", Mutator::Insert, Datum::set(["192.0.2.51"]))
            .into()])
        .await
        .unwrap();
    assert_eq!(m[0].count, Some(1));
    client
        .wait_for(T, |s| {
            s.find("Physical_Switch", "name", &"gw1".into())
                .is_some_and(|(_, r)| {
                    r.get("tunnel_ips") == Some(&Datum::set(["192.0.2.50", "192.0.2.51"]))
                })
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn replica_matches_dump_after_other_writers() {
    let dir = TempDir::new("dump");
    let srv = Server::standalone(&dir.0, "s");
    srv.vtep_ctl(&[
        "add-ps",
        "gw1",
        "--",
        "set",
        "Physical_Switch",
        "gw1",
        "tunnel_ips=192.0.2.50",
    ]);
    let client = Client::start(config(vec![srv.unix()]));
    client
        .wait_for(T, |s| s.len("Physical_Switch") == 1)
        .await
        .unwrap();
    let mut rx = client.subscribe();
    let gen0 = rx.borrow_and_update().generation;

    // Another writer changes sets and maps: element-wise diffs must be XORed in.
    srv.vtep_ctl(&[
        "add-port", "gw1", "p0", "--", "add-ls", "ls0", "--", "add-ls", "ls1",
    ]);
    srv.vtep_ctl(&["bind-ls", "gw1", "p0", "100", "ls0"]);
    srv.vtep_ctl(&["bind-ls", "gw1", "p0", "200", "ls1"]);
    srv.vtep_ctl(&["bind-ls", "gw1", "p0", "300", "ls0"]);
    srv.vtep_ctl(&["unbind-ls", "gw1", "p0", "100"]);
    // Same key, new value, written by ovsdb-client as a whole-map update.
    let snap = client
        .wait_for(T, |s| s.len("Logical_Switch") == 2)
        .await
        .unwrap();
    let (ls0, _) = snap.find("Logical_Switch", "name", &"ls0".into()).unwrap();
    let txn = serde_json::json!([DB, {"op": "update", "table": "Physical_Port", "where": [["name", "==", "p0"]],
        "row": {"vlan_bindings": ["map", [[200, ["uuid", ls0.to_string()]], [300, ["uuid", ls0.to_string()]]]]}}]);
    run(
        "ovsdb-client",
        &[
            "transact",
            &format!("unix:{}", srv.sock.display()),
            &txn.to_string(),
        ],
    );
    srv.vtep_ctl(&[
        "set",
        "Physical_Switch",
        "gw1",
        "tunnel_ips=192.0.2.51,192.0.2.52,192.0.2.53",
    ]);
    srv.vtep_ctl(&[
        "remove",
        "Physical_Switch",
        "gw1",
        "tunnel_ips",
        "192.0.2.52",
    ]);
    srv.vtep_ctl(&[
        "set",
        "Logical_Switch",
        "ls1",
        "tunnel_key=77",
        "other_config:k=v",
    ]);
    srv.vtep_ctl(&["add-ls", "ls2", "--", "del-ls", "ls2"]);
    srv.vtep_ctl(&["add-ucast-remote", "ls0", "f0:00:00:00:00:01", "192.0.2.12"]);
    srv.vtep_ctl(&["add-mcast-remote", "ls0", "unknown-dst", "192.0.2.12"]);
    srv.vtep_ctl(&["add-mcast-remote", "ls0", "unknown-dst", "192.0.2.13"]);

    let dump = run(
        "ovsdb-client",
        &[
            "dump",
            "--format=json",
            &format!("unix:{}", srv.sock.display()),
            DB,
        ],
    );
    let mut last = None;
    let res = client
        .wait_for(T, |s| {
            last = diff_with_dump(s, &dump);
            last.is_none()
        })
        .await;
    assert!(res.is_ok(), "replica never matched the dump: {last:?}");
    let snap = res.unwrap();
    assert!(snap.generation > gen0);
    assert!(rx.has_changed().unwrap());
    let (_, port) = snap.find("Physical_Port", "name", &"p0".into()).unwrap();
    assert_eq!(port.get("vlan_bindings").unwrap().len(), 2);
}

#[tokio::test]
async fn failed_wait_is_a_typed_error_and_changes_nothing() {
    let dir = TempDir::new("wait");
    let srv = Server::standalone(&dir.0, "s");
    srv.vtep_ctl(&["add-ls", "ls0"]);
    let (conn, _n) = Connection::connect(&srv.unix(), &ConnectOptions::default())
        .await
        .unwrap();

    // The wait holds: the insert goes through.
    conn.transact(
        DB,
        &[
            Wait::new("Logical_Switch", WaitUntil::Equal)
                .where_(Condition::eq("name", "ls0"))
                .columns(["name"])
                .row([("name", "ls0")])
                .into(),
            Insert::new("Logical_Switch").set("name", "ok").into(),
        ],
    )
    .await
    .unwrap();

    // It does not: typed per-operation error, nothing committed.
    let err = conn
        .transact(
            DB,
            &[
                Wait::new("Logical_Switch", WaitUntil::Equal)
                    .where_(Condition::eq("name", "ls0"))
                    .columns(["description"])
                    .row([("description", "not this")])
                    .into(),
                Insert::new("Logical_Switch").set("name", "never").into(),
            ],
        )
        .await
        .unwrap_err();
    let Error::Transaction(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.op_index, Some(0));
    assert_eq!(e.error, "timed out");

    // A commit-time error (duplicate index) comes as the extra trailing element.
    let err = conn
        .transact(
            DB,
            &[
                Insert::new("Logical_Switch").set("name", "dup").into(),
                Insert::new("Logical_Switch").set("name", "dup").into(),
            ],
        )
        .await
        .unwrap_err();
    let Error::Transaction(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.op_index, None);
    assert_eq!(e.error, "constraint violation");

    let sel = conn
        .transact(
            DB,
            &[Select::new("Logical_Switch").columns(["name"]).into()],
        )
        .await
        .unwrap();
    let mut names: Vec<String> = sel[0]
        .rows
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.get("name").unwrap().as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ls0", "ok"]);
}

#[tokio::test]
async fn restart_reconnects_and_keeps_last_known_replica() {
    let dir = TempDir::new("restart");
    let mut srv = Server::standalone(&dir.0, "s");
    srv.vtep_ctl(&["add-ls", "ls0"]);
    let client = Client::start(config(vec![srv.unix()]));
    client
        .wait_for(T, |s| s.len("Logical_Switch") == 1)
        .await
        .unwrap();
    let mut status = client.subscribe_status();

    srv.kill();
    tokio::time::timeout(T, status.wait_for(|s| s.remote.is_none()))
        .await
        .unwrap()
        .unwrap();
    // The outage: the last-known replica stays readable.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let snap = client.snapshot();
    assert!(snap.find("Logical_Switch", "name", &"ls0".into()).is_some());
    assert!(client.connection().is_none());
    assert!(matches!(
        client.transact(&[]).await,
        Err(Error::NotConnected)
    ));

    srv.start();
    srv.vtep_ctl(&["add-ls", "ls1", "--", "del-ls", "ls0"]);
    let snap = client
        .wait_for(T, |s| {
            s.len("Logical_Switch") == 1
                && s.find("Logical_Switch", "name", &"ls1".into()).is_some()
        })
        .await
        .unwrap();
    let st = client.status();
    assert!(st.connects >= 2, "{st:?}");
    // Standalone servers always answer found=false: the cache was replaced.
    assert!(st.full_dumps >= 2, "{st:?}");
    let dump = run(
        "ovsdb-client",
        &[
            "dump",
            "--format=json",
            &format!("unix:{}", srv.sock.display()),
            DB,
        ],
    );
    assert_eq!(diff_with_dump(&snap, &dump), None);
}

#[tokio::test]
async fn idle_connection_answers_server_echo() {
    let dir = TempDir::new("echo");
    let srv = Server::standalone(&dir.0, "s");
    // No probes of our own: the server (5 s inactivity probe on TCP) must find us
    // alive through its echo requests.
    let opts = ConnectOptions {
        probe_interval: None,
        ..Default::default()
    };
    let (conn, _n) = Connection::connect(&srv.tcp(), &opts).await.unwrap();
    conn.list_dbs().await.unwrap();
    // Our own probe on a second, unix connection (the server does not probe those).
    let opts = ConnectOptions {
        probe_interval: Some(Duration::from_millis(500)),
        ..Default::default()
    };
    let (probing, _n2) = Connection::connect(&srv.unix(), &opts).await.unwrap();

    tokio::time::sleep(Duration::from_secs(12)).await;
    assert!(!conn.is_closed());
    assert!(conn.echoes_answered() >= 1, "server echo never seen");
    conn.list_dbs().await.unwrap();
    assert!(!probing.is_closed());
    assert!(probing.probes_sent() >= 5, "{}", probing.probes_sent());
    probing.echo().await.unwrap();
}
