//! Tests of the lab harness itself, with real namespaces, veths, tcpdump, nc
//! and Prometheus. They need root; without it they are skipped (failed under CI).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tests::{Capture, Daemon, Netns, Prometheus, ScrapeTarget, TempDir, VethPair, pcap, wait_for};

/// Skips the test (returns) unless running as root; fails instead under CI.
macro_rules! need_root {
    () => {
        if let Err(skip) = tests::require_root() {
            eprintln!("{skip}");
            return;
        }
    };
}

const T: Duration = Duration::from_secs(20);

/// Two namespaces joined by a veth pair, 192.0.2.1/24 and 192.0.2.2/24.
fn two_hosts(tag: &str) -> (Netns, Netns, VethPair) {
    let a = Netns::new(&format!("{tag}a")).unwrap();
    let b = Netns::new(&format!("{tag}b")).unwrap();
    let link = VethPair::connect(&a, "192.0.2.1/24", &b, "192.0.2.2/24").unwrap();
    (a, b, link)
}

fn netns_list() -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ping_ok(ns: &Netns, argv: &[&str]) {
    let out = ns.exec(argv);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{argv:?} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("3 packets transmitted, 3 received, 0% packet loss"),
        "unexpected ping output:\n{text}"
    );
}

/// Ethernet/IPv4/ICMP frame with the given ICMP type?
fn is_icmp4(frame: &[u8], icmp_type: u8) -> bool {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] || frame[14] >> 4 != 4 || frame[23] != 1 {
        return false;
    }
    let ihl = usize::from(frame[14] & 0x0f) * 4;
    frame.get(14 + ihl) == Some(&icmp_type)
}

#[test]
fn names_fit_ifnamsiz() {
    need_root!();
    let ns = Netns::new("a-very-long-test-name").unwrap();
    assert!(ns.name().starts_with("cw-ave-"), "{}", ns.name());
    assert!(ns.name().len() <= tests::MAX_IFNAME, "{}", ns.name());
    let pair = VethPair::new(&ns, &ns).unwrap();
    for end in [pair.a(), pair.b()] {
        assert!(end.name().len() <= tests::MAX_IFNAME, "{}", end.name());
        assert_eq!(end.netns(), ns.name());
    }
    // Only loopback was there before the pair; it is up.
    let links = ns.run(&["ip", "-br", "link"]).unwrap();
    assert!(
        links
            .lines()
            .any(|l| l.starts_with("lo ") && l.contains("UP")),
        "{links}"
    );
}

#[test]
fn two_namespaces_ping_each_other() {
    need_root!();
    let (a, b, link) = two_hosts("ping");
    link.a().add_addr("2001:db8::1/64").unwrap();
    link.b().add_addr("2001:db8::2/64").unwrap();
    link.set_mtu(1400).unwrap();
    link.b().set_mac("02:00:00:00:00:02").unwrap();
    assert_eq!(link.b().mac().unwrap(), "02:00:00:00:00:02");
    link.a()
        .add_neigh("192.0.2.2", "02:00:00:00:00:02")
        .unwrap();
    let neigh = a.run(&["ip", "neigh", "show", "192.0.2.2"]).unwrap();
    assert!(
        neigh.contains("02:00:00:00:00:02") && neigh.contains("PERMANENT"),
        "{neigh}"
    );
    let mtu = b
        .run(&["ip", "-o", "link", "show", "dev", link.b().name()])
        .unwrap();
    assert!(mtu.contains("mtu 1400"), "{mtu}");

    ping_ok(
        &a,
        &["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"],
    );
    ping_ok(
        &b,
        &["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "192.0.2.1"],
    );
    ping_ok(
        &a,
        &[
            "ping",
            "-6",
            "-n",
            "-c",
            "3",
            "-i",
            "0.2",
            "-W",
            "2",
            "2001:db8::2",
        ],
    );
}

#[test]
fn capture_sees_icmp_echo() {
    need_root!();
    let dir = TempDir::new("capture").unwrap();
    let (a, b, link) = two_hosts("cap");
    let cap = Capture::start(Some(&b), link.b().name(), "icmp", dir.path()).unwrap();
    ping_ok(
        &a,
        &["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"],
    );
    cap.wait_for_frames(3, T, |f| is_icmp4(f, 0)).unwrap();
    let path = cap.stop().unwrap();

    let file = pcap::read(&path).unwrap();
    assert_eq!(file.linktype, pcap::LINKTYPE_ETHERNET);
    let frames = file.frames();
    assert!(
        frames.iter().all(|f| f[12..14] == [0x08, 0x00]),
        "non-IPv4 frame captured"
    );
    let requests = frames.iter().filter(|f| is_icmp4(f, 8)).count();
    let replies = frames.iter().filter(|f| is_icmp4(f, 0)).count();
    assert_eq!((requests, replies), (3, 3), "{} frames", frames.len());
}

#[test]
fn nc_transfers_a_megabyte_intact() {
    need_root!();
    let dir = TempDir::new("nc").unwrap();
    let (a, b, _link) = two_hosts("nc");

    // 1 MiB of xorshift noise.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let input = dir.join("input.bin");
    std::fs::write(&input, &data).unwrap();

    // The receiver's stdout log is the received byte stream.
    let rx = Daemon::start(
        "nc-rx",
        Some(&b),
        &["nc", "-l", "192.0.2.2", "5000"],
        dir.path(),
    )
    .unwrap();
    rx.wait_for("nc listening on :5000", T, || {
        b.run(&["ss", "-Hltn", "sport = :5000"])
            .is_ok_and(|s| !s.trim().is_empty())
    })
    .unwrap();

    let mut tx = a
        .command(&["nc", "-N", "192.0.2.2", "5000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    tx.stdin.take().unwrap().write_all(&data).unwrap(); // closes stdin: nc -N shuts down
    assert!(tx.wait().unwrap().success());
    assert!(rx.wait(T).unwrap().success(), "{}", rx.stderr());

    let received = std::fs::read(rx.stdout_path()).unwrap();
    assert_eq!(received.len(), data.len());
    assert_eq!(Sha256::digest(&received), Sha256::digest(&data));
}

#[test]
fn daemon_logs_and_terminates() {
    need_root!();
    let dir = TempDir::new("daemon").unwrap();
    let ns = Netns::new("dmn").unwrap();
    let d = Daemon::start(
        "sh",
        Some(&ns),
        &[
            "sh",
            "-c",
            "echo out; echo err >&2; ip -br link; exec sleep 600",
        ],
        dir.path(),
    )
    .unwrap();
    d.wait_for_output("err", T).unwrap();
    wait_for("stdout to show the namespace's links", T, || {
        d.stdout().contains("lo ")
    })
    .unwrap();
    assert!(d.stdout().starts_with("out\n"), "{}", d.stdout());
    assert!(
        !d.stdout().contains("eth0"),
        "not in the namespace: {}",
        d.stdout()
    );
    assert!(
        ns.pids().contains(&(d.pid() as i32)),
        "ip netns exec keeps the pid"
    );
    assert!(d.is_running());
    let status = d.terminate(Duration::from_secs(5)).unwrap();
    assert_eq!(status.signal(), Some(15));
    assert!(!d.is_running());

    // A daemon that ignores SIGTERM is killed after the timeout.
    let stubborn = Daemon::start(
        "stubborn",
        None,
        &[
            "sh",
            "-c",
            "trap '' TERM; echo ready; while :; do sleep 1; done",
        ],
        dir.path(),
    )
    .unwrap();
    stubborn.wait_for_output("ready", T).unwrap();
    assert_eq!(
        stubborn
            .terminate(Duration::from_millis(300))
            .unwrap()
            .signal(),
        Some(9)
    );

    // A daemon that exits makes wait_for fail at once, not at the timeout.
    let quitter = Daemon::start(
        "quitter",
        None,
        &["sh", "-c", "echo bye >&2; exit 3"],
        dir.path(),
    )
    .unwrap();
    let err = quitter
        .wait_for("never", Duration::from_secs(60), || false)
        .unwrap_err();
    assert!(err.0.contains("exited") && err.0.contains("bye"), "{err}");
    assert_eq!(quitter.wait(T).unwrap().code(), Some(3));
}

#[test]
fn everything_is_removed_on_drop_even_after_a_panic() {
    need_root!();
    let mut names = Vec::new();
    let mut orphan = None;
    let mut dir_path = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let dir = TempDir::new("unwind").unwrap();
        let (a, b, _link) = two_hosts("unw");
        // A process the test does not manage itself: only Netns's drop can kill it.
        orphan = Some(a.spawn(&["sleep", "600"]).unwrap());
        let _d = Daemon::start("sleeper", Some(&b), &["sleep", "600"], dir.path()).unwrap();
        names = vec![a.name().to_string(), b.name().to_string()];
        dir_path = Some(dir.path().to_path_buf());
        assert!(netns_list().contains(&names[0]));
        panic!("deliberate panic inside a lab scope");
    }));
    assert!(result.is_err());
    let list = netns_list();
    for n in &names {
        assert!(!list.contains(n.as_str()), "{n} still listed:\n{list}");
    }
    // The orphan was SIGKILLed (a zombie until reaped, since it is our child).
    let status = orphan.unwrap().wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "orphan not killed by SIGKILL ({status})"
    );
    let dir_path = dir_path.unwrap();
    if std::env::var("CAUSEWAY_KEEP_LAB").as_deref() != Ok("1") {
        assert!(!dir_path.exists(), "{} left behind", dir_path.display());
    }

    // And the plain, non-panicking drop.
    let ns = Netns::new("drop").unwrap();
    let name = ns.name().to_string();
    drop(ns);
    assert!(!netns_list().contains(&name));
}

#[test]
fn prometheus_scrapes_itself() {
    need_root!();
    let prom = Prometheus::start(&[]).unwrap();
    let (labels, v) = prom
        .wait_for_value(
            r#"up{job="prometheus"}"#,
            |v| v == 1.0,
            Duration::from_secs(30),
        )
        .unwrap();
    assert_eq!(v, 1.0);
    assert_eq!(labels["instance"], prom.addr().to_string());
    let up = prom.query("up").unwrap();
    assert!(
        up.iter()
            .any(|(l, v)| l["job"] == "prometheus" && *v == 1.0),
        "{up:?}"
    );
    assert!(prom.targets_up().unwrap());
    assert_eq!(prom.query("1 + 1").unwrap(), vec![(BTreeMap::new(), 2.0)]);
}

#[test]
fn prometheus_in_a_namespace_scrapes_a_target_there() {
    need_root!();
    let ns = Netns::new("prom").unwrap();
    // A tiny exporter whose socket lives in the namespace.
    let listener = ns
        .run_in(|| TcpListener::bind("127.0.0.1:0"))
        .unwrap()
        .unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut c, _)) => {
                        c.set_nonblocking(false).unwrap();
                        let mut buf = [0u8; 4096];
                        let _ = c.read(&mut buf);
                        let body = "# TYPE lab_answer gauge\nlab_answer 42\n";
                        let _ = write!(
                            c,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
        });
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let prom =
                Prometheus::start_in(Some(&ns), &[ScrapeTarget::new("lab", &addr.to_string())])
                    .unwrap();
            assert_eq!(prom.netns(), Some(ns.name()));
            let (labels, v) = prom
                .wait_for_value("lab_answer", |v| v == 42.0, Duration::from_secs(30))
                .unwrap();
            assert_eq!((labels["job"].as_str(), v), ("lab", 42.0));
            prom.wait_targets_up(Duration::from_secs(30)).unwrap();
        }));
        stop.store(true, Ordering::Relaxed);
        if let Err(p) = result {
            std::panic::resume_unwind(p);
        }
    });
}
