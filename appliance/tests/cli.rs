//! The `causeway` command line as an operator meets it: version, and configuration
//! errors that name file, line and column and start nothing.

use std::process::Command;

fn causeway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_causeway"))
}

const GOOD: &str = "\
identity:
  name: gw1
dpdk:
  eal_args: [-l, 0-1, --no-huge]
ports:
  - name: left
    devargs: net_ring0
  - name: right
    devargs: net_ring1
roles:
  patch:
    - {from: left, to: right}
";

fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("appliance.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn version_names_the_program() {
    let out = causeway().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("causeway "), "{text}");
}

#[test]
fn check_config_accepts_a_good_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, GOOD);
    let out = causeway().arg("check-config").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ok (2 ports, 1 patch links)"), "{text}");
}

#[test]
fn check_config_reports_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, &GOOD.replace("to: right", "to: rihgt"));
    let out = causeway().arg("check-config").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    let expected = format!("{}:12:", path.display());
    assert!(
        err.starts_with(&expected),
        "expected `{expected}...`, got: {err}"
    );
    assert!(err.contains("no port named `rihgt`"), "{err}");
}

#[test]
fn run_with_a_malformed_config_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A syntax error: the flow sequence never closes.
    let path = write(
        &dir,
        &GOOD.replace("[-l, 0-1, --no-huge]", "[-l, 0-1, --no-huge"),
    );
    let out = causeway()
        .arg("run")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    let prefix = format!("{}:", path.display());
    assert!(err.starts_with(&prefix), "{err}");
    let position: Vec<&str> = err[prefix.len()..].splitn(3, ':').collect();
    assert!(
        position.len() == 3
            && position[0].parse::<u32>().is_ok()
            && position[1].parse::<u32>().is_ok(),
        "no line:column in {err}"
    );
    assert!(!err.contains("EAL"), "EAL must not start: {err}");
}

#[test]
fn a_missing_file_is_named() {
    let out = causeway()
        .args(["check-config", "/nonexistent/causeway.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("/nonexistent/causeway.yaml: cannot read"),
        "{err}"
    );
}
