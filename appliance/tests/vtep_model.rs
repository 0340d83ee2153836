//! Lab (root): `model_from_snapshot` on replicas of a real `ovsdb-server` holding
//! hardware_vtep, including rows a careless controller could write (malformed MACs,
//! bad locators, bindings on ports this box does not have).

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use appliance::vtep::{Fault, build_model, model_from_snapshot};
use ovsdb::{Client, ClientConfig, Remote};
use tests::{Daemon, TempDir, wait_for};

const T: Duration = Duration::from_secs(15);

fn run(argv: &[&str]) -> String {
    let out = Command::new(argv[0]).args(&argv[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{argv:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn vtep_model_from_real_server_reports_faults() {
    if let Err(skip) = tests::require_root() {
        eprintln!("{skip}");
        return;
    }
    let dir = TempDir::new("vtepmodel").unwrap();
    let db = dir.join("vtep.db");
    let sock = dir.join("vtep.sock");
    run(&[
        "ovsdb-tool",
        "create",
        db.to_str().unwrap(),
        "/usr/share/openvswitch/vtep.ovsschema",
    ]);
    let remote = format!("unix:{}", sock.to_str().unwrap());
    let _srv = Daemon::start(
        "ovsdb-server",
        None,
        &[
            "ovsdb-server",
            db.to_str().unwrap(),
            &format!("--remote=punix:{}", sock.to_str().unwrap()),
            &format!("--unixctl={}", dir.join("vtep.ctl").to_str().unwrap()),
            "--no-chdir",
        ],
        dir.path(),
    )
    .unwrap();
    wait_for("ovsdb-server", T, || sock.exists()).unwrap();
    let v = |args: &[&str]| {
        let db = format!("--db={remote}");
        let mut argv = vec!["vtep-ctl", &db, "--timeout=30"];
        argv.extend_from_slice(args);
        run(&argv)
    };
    v(&["add-ps", "gw1"]);
    v(&["add-port", "gw1", "p0"]);
    v(&["add-port", "gw1", "p9"]);
    v(&["add-ls", "ls0"]);
    v(&["set", "Logical_Switch", "ls0", "tunnel_key=5000"]);
    v(&["add-ls", "ls1"]);
    v(&["bind-ls", "gw1", "p0", "0", "ls0"]);
    v(&["bind-ls", "gw1", "p9", "7", "ls1"]);
    v(&["add-ucast-remote", "ls0", "f0:00:00:00:00:01", "192.0.2.11"]);
    v(&["add-mcast-remote", "ls0", "unknown-dst", "192.0.2.11"]);
    v(&["add-mcast-remote", "ls0", "unknown-dst", "192.0.2.12"]);
    v(&["add-mcast-remote", "ls0", "01:00:5e:00:00:fb", "192.0.2.12"]);
    // What vtep-ctl would refuse, written directly.
    run(&[
        "ovsdb-client",
        "transact",
        &remote,
        r#"["hardware_vtep",
           {"op": "insert", "table": "Physical_Locator", "uuid-name": "bad",
            "row": {"encapsulation_type": "vxlan_over_ipv4", "dst_ip": "not-an-ip"}},
           {"op": "insert", "table": "Ucast_Macs_Remote",
            "row": {"MAC": "f0:00:00:00:00:02", "locator": ["named-uuid", "bad"],
                    "logical_switch": ["uuid", "LS"]}}]"#
            .replace("LS", v(&["get", "Logical_Switch", "ls0", "_uuid"]).trim())
            .as_str(),
    ]);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let snap = rt.block_on(async {
        let client = Client::start(ClientConfig::new(
            Remote::parse_list(&remote).unwrap(),
            "hardware_vtep",
        ));
        client
            .wait_for(T, |s| s.len("Ucast_Macs_Remote") == 2)
            .await
            .unwrap()
    });
    let (m, faults) = model_from_snapshot(&snap, "gw1");
    assert_eq!(m.switches["ls0"].vni, 5000);
    assert_eq!(m.switches["ls1"].vni, 0);
    assert_eq!(m.bindings.len(), 2);
    assert_eq!(m.remote_macs.len(), 1);
    assert_eq!(
        m.unknown_dst["ls0"],
        BTreeSet::from(["192.0.2.11".parse().unwrap(), "192.0.2.12".parse().unwrap()])
    );
    assert!(
        faults
            .iter()
            .any(|f| matches!(f, Fault::BadLocator { mac, .. } if mac == "f0:00:00:00:00:02")),
        "{faults:?}"
    );
    assert!(
        faults.iter().any(
            |f| matches!(f, Fault::UnsupportedMulticast { mac, .. } if mac == "01:00:5e:00:00:fb")
        ),
        "{faults:?}"
    );
    assert_eq!(faults.len(), 2, "{faults:?}");

    // This box has only p0: the binding on p9 is reported and left out.
    let ports = BTreeSet::from(["p0".to_string()]);
    let (m, faults) = build_model(&snap, "gw1", Some(&ports));
    assert_eq!(m.bindings.len(), 1);
    assert!(!m.switches.contains_key("ls1"));
    assert!(faults.contains(&Fault::UnknownPort {
        port: "p9".into(),
        vlans: vec![7]
    }));
}
