//! The real Prometheus server, scraping lab targets.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use serde_json::Value;

use crate::{Daemon, Netns, Result, TempDir, http, lab_err};

/// The Prometheus binary (Debian's `prometheus` package).
pub const PROMETHEUS_BIN: &str = "/usr/bin/prometheus";

/// How long Prometheus gets to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Timeout of one HTTP request to it.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// One series of a query result: its labels (including `__name__` where
/// Prometheus returns it) and value.
pub type Sample = (BTreeMap<String, String>, f64);

/// A target for Prometheus to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeTarget {
    /// `job` label; targets with the same job share one scrape config.
    pub job: String,
    /// `host:port`, as reachable from the namespace Prometheus runs in.
    pub addr: String,
    /// HTTP path of the metrics (default `/metrics`).
    pub metrics_path: String,
}

impl ScrapeTarget {
    /// Scrape `addr` (`host:port`) at `/metrics` under job `job`.
    pub fn new(job: &str, addr: &str) -> ScrapeTarget {
        ScrapeTarget {
            job: job.to_string(),
            addr: addr.to_string(),
            metrics_path: "/metrics".to_string(),
        }
    }

    /// The same target with another metrics path.
    pub fn with_path(mut self, path: &str) -> ScrapeTarget {
        self.metrics_path = path.to_string();
        self
    }
}

/// The Prometheus server (`/usr/bin/prometheus`) listening on 127.0.0.1 at a
/// free port, in the caller's namespace or inside a [`Netns`] (so it reaches
/// targets listening there). Its config, storage and logs live in its own
/// [`TempDir`]. Every target is scraped each second; the server also scrapes
/// itself under job `prometheus`. Killed on drop.
///
/// HTTP requests to a Prometheus inside a namespace are made from a thread
/// that entered that namespace, so no host route is needed.
#[derive(Debug)]
pub struct Prometheus {
    daemon: Daemon,
    ns: Option<String>,
    addr: SocketAddr,
    dir: TempDir,
}

impl Prometheus {
    /// Starts Prometheus in the caller's namespace; see [`Prometheus::start_in`].
    pub fn start(targets: &[ScrapeTarget]) -> Result<Prometheus> {
        Self::start_in(None, targets)
    }

    /// Starts Prometheus inside `ns` (or the caller's namespace if `None`)
    /// scraping `targets` plus itself, and waits until `/-/ready` answers 200.
    pub fn start_in(ns: Option<&Netns>, targets: &[ScrapeTarget]) -> Result<Prometheus> {
        let dir = TempDir::new("prometheus")?;
        let mut last_err = None;
        // The port is picked free, then handed over; if another process takes it
        // meanwhile Prometheus exits and we retry with a new one.
        for attempt in 0..3 {
            let port = free_port(ns)?;
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let config = dir.join(format!("prometheus-{attempt}.yml"));
            std::fs::write(&config, render_config(addr, targets)?)?;
            let data = dir.join(format!("data-{attempt}"));
            let argv = [
                PROMETHEUS_BIN.to_string(),
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", data.display()),
                format!("--web.listen-address={addr}"),
                "--web.enable-lifecycle".to_string(),
                "--log.level=info".to_string(),
            ];
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let daemon = Daemon::start("prometheus", ns, &argv, dir.path())?;
            let ns_name = ns.map(|n| n.name().to_string());
            let ready = daemon.wait_for("prometheus /-/ready", READY_TIMEOUT, || {
                http::get(ns_name.as_deref(), addr, "/-/ready", HTTP_TIMEOUT)
                    .is_ok_and(|r| r.status == 200)
            });
            match ready {
                Ok(()) => {
                    return Ok(Prometheus {
                        daemon,
                        ns: ns_name,
                        addr,
                        dir,
                    });
                }
                // Still running but not ready: retrying will not help.
                Err(e) if daemon.is_running() => {
                    daemon.dump_logs();
                    return Err(e);
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| lab_err!("prometheus did not start")))
    }

    /// The listen address (127.0.0.1:port, inside its namespace if any).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The namespace it runs in, if any.
    pub fn netns(&self) -> Option<&str> {
        self.ns.as_deref()
    }

    /// Its directory: config, `data-*` storage, `prometheus.stdout/.stderr` logs.
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }

    /// The server process.
    pub fn daemon(&self) -> &Daemon {
        &self.daemon
    }

    /// GETs `path_and_query` from the server: (status code, body).
    pub fn get(&self, path_and_query: &str) -> Result<(u16, String)> {
        let r = http::get(self.ns.as_deref(), self.addr, path_and_query, HTTP_TIMEOUT)?;
        Ok((r.status, r.body))
    }

    fn api(&self, path_and_query: &str) -> Result<Value> {
        let (status, body) = self.get(path_and_query)?;
        let v: Value = serde_json::from_str(&body).map_err(|e| {
            lab_err!("prometheus {path_and_query}: HTTP {status}, not JSON ({e}): {body}")
        })?;
        if status != 200 || v["status"] != "success" {
            return Err(lab_err!(
                "prometheus {path_and_query}: HTTP {status}: {body}"
            ));
        }
        Ok(v["data"].clone())
    }

    /// Evaluates an instant query (`/api/v1/query`) now. Vector results give
    /// one sample per series; a scalar gives one sample without labels.
    pub fn query(&self, query: &str) -> Result<Vec<Sample>> {
        let data = self.api(&format!(
            "/api/v1/query?query={}",
            http::encode_query(query)
        ))?;
        parse_query_data(&data)
    }

    /// Polls `query` until some sample's value satisfies `pred`, and returns
    /// that sample.
    pub fn wait_for_value(
        &self,
        query: &str,
        mut pred: impl FnMut(f64) -> bool,
        timeout: Duration,
    ) -> Result<Sample> {
        let mut found = None;
        let mut last = Ok(Vec::new());
        let res = self
            .daemon
            .wait_for(&format!("prometheus query {query:?}"), timeout, || {
                last = self.query(query);
                found = last
                    .as_ref()
                    .ok()
                    .and_then(|v| v.iter().find(|(_, x)| pred(*x)).cloned());
                found.is_some()
            });
        match res {
            Ok(()) => Ok(found.expect("set when the wait succeeded")),
            Err(e) => Err(lab_err!("{e}; last result: {last:?}")),
        }
    }

    /// Health of every active target: (job, scrape URL, health, last error).
    pub fn targets(&self) -> Result<Vec<(String, String, String, String)>> {
        let data = self.api("/api/v1/targets?state=active")?;
        let list = data["activeTargets"]
            .as_array()
            .ok_or_else(|| lab_err!("prometheus targets: no activeTargets in {data}"))?;
        Ok(list
            .iter()
            .map(|t| {
                let s = |k: &str| t[k].as_str().unwrap_or_default().to_string();
                (
                    t["labels"]["job"].as_str().unwrap_or_default().to_string(),
                    s("scrapeUrl"),
                    s("health"),
                    s("lastError"),
                )
            })
            .collect())
    }

    /// Whether every active target's last scrape succeeded (false while any is
    /// still "unknown", i.e. not scraped yet).
    pub fn targets_up(&self) -> Result<bool> {
        let t = self.targets()?;
        Ok(!t.is_empty() && t.iter().all(|(_, _, health, _)| health == "up"))
    }

    /// Waits until [`Prometheus::targets_up`] holds.
    pub fn wait_targets_up(&self, timeout: Duration) -> Result<()> {
        let mut last = Ok(Vec::new());
        self.daemon
            .wait_for("all prometheus targets up", timeout, || {
                last = self.targets();
                last.as_ref()
                    .is_ok_and(|t| !t.is_empty() && t.iter().all(|(_, _, h, _)| h == "up"))
            })
            .map_err(|e| lab_err!("{e}; targets: {last:?}"))
    }
}

/// A currently free TCP port on 127.0.0.1, in `ns` if given.
fn free_port(ns: Option<&Netns>) -> Result<u16> {
    let pick = || -> Result<u16> {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        Ok(l.local_addr()?.port())
    };
    match ns {
        None => pick(),
        Some(ns) => ns.run_in(pick)?,
    }
}

/// The YAML config: global 1 s intervals, a self-scrape job, one job per
/// distinct `ScrapeTarget::job`.
fn render_config(own: SocketAddr, targets: &[ScrapeTarget]) -> Result<String> {
    let q = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let mut jobs: Vec<(&str, &str, Vec<&str>)> = vec![("prometheus", "/metrics", Vec::new())];
    let own = own.to_string();
    jobs[0].2.push(&own);
    for t in targets {
        match jobs.iter_mut().find(|(j, _, _)| *j == t.job) {
            Some((_, path, addrs)) => {
                if *path != t.metrics_path {
                    return Err(lab_err!(
                        "job {} has targets with different metrics paths",
                        t.job
                    ));
                }
                addrs.push(&t.addr);
            }
            None => jobs.push((&t.job, &t.metrics_path, vec![&t.addr])),
        }
    }
    let mut y = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n",
    );
    for (job, path, addrs) in jobs {
        let addrs: Vec<String> = addrs.iter().map(|a| q(a)).collect();
        y.push_str(&format!(
            "  - job_name: {}\n    metrics_path: {}\n    static_configs:\n      - targets: [{}]\n",
            q(job),
            q(path),
            addrs.join(", ")
        ));
    }
    Ok(y)
}

/// Samples of a `/api/v1/query` `data` object.
fn parse_query_data(data: &Value) -> Result<Vec<Sample>> {
    let value = |v: &Value| -> Result<f64> {
        v[1].as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(|| lab_err!("prometheus: bad sample value {v}"))
    };
    match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .ok_or_else(|| lab_err!("prometheus: vector without result: {data}"))?
            .iter()
            .map(|s| {
                let labels = s["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok((labels, value(&s["value"])?))
            })
            .collect(),
        Some("scalar") => Ok(vec![(BTreeMap::new(), value(&data["result"])?)]),
        other => Err(lab_err!(
            "prometheus: unsupported result type {other:?}: {data}"
        )),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn config_groups_jobs() {
        let own: SocketAddr = "127.0.0.1:9999".parse().unwrap();
        let y = render_config(
            own,
            &[
                ScrapeTarget::new("cw", "10.0.0.1:9100"),
                ScrapeTarget::new("cw", "10.0.0.2:9100"),
            ],
        )
        .unwrap();
        assert!(y.contains(r#"targets: ["127.0.0.1:9999"]"#), "{y}");
        assert!(
            y.contains(r#"targets: ["10.0.0.1:9100", "10.0.0.2:9100"]"#),
            "{y}"
        );
        assert!(
            render_config(
                own,
                &[
                    ScrapeTarget::new("a", "x:1"),
                    ScrapeTarget::new("a", "x:2").with_path("/m")
                ]
            )
            .is_err()
        );
    }

    #[test]
    fn parses_results() {
        let v: Value = serde_json::from_str(
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"p"},"value":[1.5,"1"]},
                {"metric":{},"value":[1.5,"NaN"]}]}"#,
        )
        .unwrap();
        let s = parse_query_data(&v).unwrap();
        assert_eq!(s[0].0["job"], "p");
        assert_eq!(s[0].1, 1.0);
        assert!(s[1].1.is_nan());
        let v: Value =
            serde_json::from_str(r#"{"resultType":"scalar","result":[1.5,"+Inf"]}"#).unwrap();
        assert_eq!(parse_query_data(&v).unwrap()[0].1, f64::INFINITY);
    }
}
