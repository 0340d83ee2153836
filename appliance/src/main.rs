//! The `causeway` command line: `run`, `check-config`, `bench`.

use appliance::{bench, config, runtime};

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "causeway",
    version,
    about = "DPDK gateway and service-node appliance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon with a bootstrap configuration file.
    Run {
        /// Bootstrap YAML (see README, "Configuration").
        #[arg(long, short, default_value = "/etc/causeway/appliance.yaml")]
        config: PathBuf,
    },
    /// Validate a bootstrap configuration file and start nothing.
    CheckConfig {
        /// Bootstrap YAML to check.
        file: PathBuf,
    },
    /// Measure one pipeline on one worker lcore over DPDK virtual devices.
    Bench(bench::BenchArgs),
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { file } => match config::load(&file) {
            Ok(c) => {
                let l2 = match &c.l2_gateway {
                    Some(l2) if l2.controller.is_some() => {
                        let ctl = l2.controller.as_ref().expect("checked");
                        format!(
                            ", l2_gateway: physical switch {} from {} remote(s)",
                            ctl.physical_switch,
                            ctl.remotes.len()
                        )
                    }
                    Some(l2) => format!(
                        ", l2_gateway: {} logical switches, {} bindings, {} remote MACs",
                        l2.model.switches.len(),
                        l2.model.bindings.len(),
                        l2.model.remote_macs.len()
                    ),
                    None => String::new(),
                };
                println!(
                    "{}: ok ({} ports, {} patch links{l2})",
                    file.display(),
                    c.ports.len(),
                    c.patch.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        Command::Run { config } => {
            let config = match config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            init_logging(&config.log_level);
            match runtime::run(&config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("causeway: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Bench(args) => {
            init_logging("warn");
            match bench::run(&args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("causeway bench: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
