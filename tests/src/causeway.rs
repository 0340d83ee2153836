//! Running the `causeway` daemon under test: writing its bootstrap file, starting it
//! (optionally in a namespace), reading its `/metrics`, stopping it by PID.

use crate::{Daemon, Netns, Result, lab_err};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

/// The `causeway` binary: `$CAUSEWAY_BIN`, else next to the running executable (the
/// `lab` program) or one level up (a test binary in `target/<profile>/deps`).
pub fn causeway_bin() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CAUSEWAY_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent();
    while let Some(d) = dir {
        let candidate = d.join("causeway");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d
            .parent()
            .filter(|p| p.file_name().is_some_and(|n| n != "target"));
    }
    Err(lab_err!(
        "no causeway binary near {}: build it first (cargo build --release -p appliance) \
         or set CAUSEWAY_BIN",
        exe.display()
    ))
}

/// What to put in the bootstrap file.
#[derive(Debug, Clone, Default)]
pub struct CausewaySpec {
    /// `(name, devargs)` per port.
    pub ports: Vec<(String, String)>,
    /// `(from, to)` patch links by port name.
    pub patch: Vec<(String, String)>,
    /// Extra EAL arguments after the defaults.
    pub extra_eal: Vec<String>,
    /// An EAL `--lcores` map replacing the default `-l 0-1` (one worker), e.g.
    /// `0@0,1@1,2@1` for two workers on a two-CPU machine.
    pub lcores: Option<String>,
    /// YAML of `roles.l2_gateway`, indented as its body (4 spaces), if any.
    pub l2_gateway: Option<String>,
}

impl CausewaySpec {
    /// Adds a port.
    pub fn port(mut self, name: &str, devargs: impl Into<String>) -> Self {
        self.ports.push((name.to_owned(), devargs.into()));
        self
    }

    /// Adds a one-way patch link.
    pub fn patch(mut self, from: &str, to: &str) -> Self {
        self.patch.push((from.to_owned(), to.to_owned()));
        self
    }

    /// The bootstrap YAML, with a unique EAL file prefix and metrics on an ephemeral
    /// loopback port (the daemon logs the address it bound).
    pub fn yaml(&self, file_prefix: &str) -> String {
        let (lcore_flag, lcores) = match &self.lcores {
            Some(map) => ("--lcores", map.as_str()),
            None => ("-l", "0-1"),
        };
        let mut eal = vec![
            lcore_flag,
            lcores,
            "--no-huge",
            "-m",
            "512",
            "--no-pci",
            "--no-shconf",
            "--no-telemetry",
            "--file-prefix",
            file_prefix,
        ]
        .into_iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>();
        eal.extend(self.extra_eal.iter().map(|s| format!("\"{s}\"")));
        let mut y = format!(
            "identity:\n  name: lab-gw\ndpdk:\n  eal_args: [{}]\n  idle_sleep_us: 50\nports:\n",
            eal.join(", ")
        );
        for (name, devargs) in &self.ports {
            y += &format!("  - name: {name}\n    devargs: \"{devargs}\"\n");
        }
        y += "roles:\n";
        if !self.patch.is_empty() {
            y += "  patch:\n";
        }
        for (from, to) in &self.patch {
            y += &format!("    - {{from: {from}, to: {to}}}\n");
        }
        if let Some(l2) = &self.l2_gateway {
            y += "  l2_gateway:\n";
            y += l2;
        }
        y += "metrics:\n  listen: 127.0.0.1:0\nlog:\n  level: info\n";
        y
    }
}

/// A running causeway daemon.
pub struct Causeway {
    daemon: Daemon,
    netns: Option<String>,
    metrics: SocketAddr,
    file_prefix: String,
}

impl Causeway {
    /// Writes `dir/appliance.yaml` from `spec`, starts `causeway run` (inside `ns` when
    /// given) and waits until it reports running.
    pub fn start(ns: Option<&Netns>, dir: &Path, spec: &CausewaySpec) -> Result<Causeway> {
        let bin = causeway_bin()?;
        let file_prefix = format!("cw-{}", crate::unique_id());
        let config = dir.join(format!("{file_prefix}.yaml"));
        std::fs::write(&config, spec.yaml(&file_prefix))?;
        let bin = bin.to_string_lossy().into_owned();
        let config_arg = config.to_string_lossy().into_owned();
        let daemon = Daemon::start("causeway", ns, &[&bin, "run", "--config", &config_arg], dir)?;
        daemon.wait_for_output("causeway running", Duration::from_secs(60))?;
        let metrics = parse_metrics_addr(&daemon.stderr())
            .ok_or_else(|| lab_err!("causeway did not log its metrics address"))?;
        Ok(Causeway {
            daemon,
            netns: ns.map(|n| n.name().to_owned()),
            metrics,
            file_prefix,
        })
    }

    /// The daemon process.
    pub fn daemon(&self) -> &Daemon {
        &self.daemon
    }

    /// Where `/metrics` listens (inside the daemon's namespace).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics
    }

    /// The `/metrics` text.
    pub fn metrics(&self) -> Result<String> {
        let r = crate::http::get(
            self.netns.as_deref(),
            self.metrics,
            "/metrics",
            Duration::from_secs(5),
        )?;
        if r.status != 200 {
            return Err(lab_err!("/metrics answered {}", r.status));
        }
        Ok(r.body)
    }

    /// One series' value from `/metrics`, e.g. `causeway_drops_total{reason="runt_frame"}`.
    pub fn metric(&self, series: &str) -> Result<f64> {
        let text = self.metrics()?;
        metric_value(&text, series).ok_or_else(|| lab_err!("no series {series} in /metrics"))
    }

    /// Polls `/metrics` until `series` satisfies `pred`.
    pub fn wait_for_metric(
        &self,
        series: &str,
        timeout: Duration,
        mut pred: impl FnMut(f64) -> bool,
    ) -> Result<f64> {
        let mut last = None;
        crate::wait_for(
            &format!("{series} to reach the expected value"),
            timeout,
            || {
                last = self.metric(series).ok();
                last.is_some_and(&mut pred)
            },
        )
        .map_err(|e| lab_err!("{e} (last value {last:?})"))?;
        Ok(last.unwrap_or_default())
    }

    /// SIGTERM, then waits for a clean exit (the daemon drains its queues first).
    pub fn stop(self) -> Result<ExitStatus> {
        let status = self.daemon.terminate(Duration::from_secs(15))?;
        Ok(status)
    }
}

impl Drop for Causeway {
    fn drop(&mut self) {
        // EAL creates its runtime dir even with --no-shconf.
        for base in ["/var/run/dpdk", "/tmp/dpdk"] {
            let _ = std::fs::remove_dir_all(Path::new(base).join(&self.file_prefix));
        }
    }
}

/// Finds `metrics=ADDR` in the daemon's log.
fn parse_metrics_addr(log: &str) -> Option<SocketAddr> {
    log.lines()
        .filter(|l| l.contains("causeway running"))
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| w.strip_prefix("metrics=")?.parse().ok())
}

/// The value of one series in Prometheus text, matched on the whole name-and-labels
/// part, e.g. `causeway_port_rx_packets_total{port="left"}`.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn metric_lines_and_log_addresses_parse() {
        let text = "# TYPE x counter\nx_total{port=\"a\"} 12\nx_total{port=\"b\"} 3\n";
        assert_eq!(metric_value(text, "x_total{port=\"b\"}"), Some(3.0));
        assert_eq!(metric_value(text, "x_total{port=\"c\"}"), None);
        let log =
            "2026 INFO appliance::runtime: causeway running name=gw metrics=127.0.0.1:4242 ports=2";
        assert_eq!(
            parse_metrics_addr(log),
            Some("127.0.0.1:4242".parse().unwrap())
        );
    }

    #[test]
    fn the_spec_renders_a_bootstrap_file() {
        let y = CausewaySpec::default()
            .port("left", "net_ring0")
            .port("right", "net_ring1")
            .patch("left", "right")
            .yaml("cw-x");
        assert!(y.contains("\"--file-prefix\", \"cw-x\""), "{y}");
        assert!(y.contains("    - {from: left, to: right}\n"), "{y}");
    }
}
