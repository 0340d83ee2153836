//! `causeway bench` works as documented: one JSON object with the documented fields,
//! packets forwarded and none dropped. (It asserts function, never speed: speed is
//! what the command reports, not what a test decides.)

use std::process::Command;

fn bench(pipeline: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args([
            "bench",
            pipeline,
            "--frame-bytes",
            "128",
            "--seconds",
            "0.3",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench {pipeline} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one JSON line on stdout: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn bench_patch_and_io_report_the_documented_json() {
    for pipeline in ["patch", "io"] {
        let r = bench(pipeline);
        assert_eq!(r["pipeline"], pipeline);
        assert_eq!(r["frame_bytes"], 128);
        assert!(r["packets"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(r["dropped"], 0, "{r}");
        let mpps = r["mpps"].as_f64().unwrap();
        let ns = r["ns_per_packet"].as_f64().unwrap();
        assert!(mpps > 0.0 && ns > 0.0, "{r}");
        // The two figures describe the same run.
        assert!((mpps * ns / 1000.0 - 1.0).abs() < 0.02, "{r}");
        assert!(r["hugepages"].is_boolean(), "{r}");
    }
}

#[test]
fn bench_rejects_an_impossible_frame_size() {
    let out = Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args(["bench", "patch", "--frame-bytes", "20"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frame-bytes 20 is outside 60..=1514"));
}
