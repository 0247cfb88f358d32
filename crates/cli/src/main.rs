//! `countersign`: serve the approval service, administer it, approve headlessly, explain and
//! replay policies, or run the demo.

use anyhow::Context;
use clap::{Parser, Subcommand};
use countersign_approver::Verdict;
use countersign_cli::policy_tools::explain::{explain, ExplainInput};
use countersign_cli::policy_tools::replay::{replay, ReplayOptions};
use countersign_cli::sample_provider::{self, Behaviour};
use countersign_cli::{demo, devices, display, headless, policy_tools, serve};
use countersign_core::Timestamp;
use countersign_service::config::parse_duration;
use countersign_service::store::Store;
use countersign_service::{Admin, Config, DeviceRevocation};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "countersign",
    version,
    about = "Human approval for an agent's sensitive API calls"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Approvers: invite and remove (admin), and the headless approver (pair, pending, show,
    /// approve, deny).
    Approver {
        #[command(subcommand)]
        command: ApproverCommand,
    },
    /// Paired Wallet devices: list and revoke.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Grants.
    Grant {
        #[command(subcommand)]
        command: GrantCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Tools for people who write policies: explain one call, replay the recorded history.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Apply the database migrations of the config's database and exit (for deploy
    /// pipelines; `serve` applies them too). Safe while other replicas start.
    Migrate {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Copy the config's SQLite database (approvals, decisions, devices, pairing codes,
    /// revocations, rate-limit counts, the audit chain) into a new, empty database — for
    /// moving an install to PostgreSQL. Stop the service first; the copy is verified.
    Export {
        /// The TOML configuration file (its database is the source; it is only read).
        #[arg(long)]
        config: PathBuf,
        /// The target database URL, e.g. postgres://countersign@db.internal/countersign.
        #[arg(long)]
        to: String,
    },
    /// Serve MCP on stdin/stdout (or streamable HTTP when the config sets `listen`): the tools
    /// declared in the gateway's config file, each call made through Countersign as the
    /// config's app (see the README, "MCP gateway").
    Mcp {
        /// The gateway's TOML configuration file (not the service's).
        #[arg(long)]
        config: PathBuf,
    },
    /// Run the whole flow on loopback with a temporary database.
    Demo,
    /// Run the sample "payments" provider (the demo's upstream) on a free loopback port, for
    /// tests in other languages: prints `listening on <url>`, then one JSON line per call.
    SampleProvider {
        /// The environment variable holding the secret calls must carry as
        /// `Authorization: Bearer <secret>`.
        #[arg(long, default_value = demo::SECRET_ENV)]
        secret_env: String,
        /// Answer every call with this status and a JSON error body.
        #[arg(long, conflicts_with_all = ["delay", "hang"])]
        fail: Option<u16>,
        /// Wait this long (`2s`, `500ms`) before answering.
        #[arg(long, conflicts_with = "hang")]
        delay: Option<String>,
        /// Never answer.
        #[arg(long)]
        hang: bool,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Explain how the config's policies decide one call, rule by rule (no database; rate
    /// limits assumed not reached). Exit 0: runs without approval, 10: needs approval,
    /// 20: refused (a rule, the app binding, or the proxy's checks), 1: error.
    Explain {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The calling app.
        #[arg(long)]
        app: String,
        /// The grant it names.
        #[arg(long)]
        grant: String,
        /// The HTTP method.
        #[arg(long)]
        method: String,
        /// The path below the grant's base URL, e.g. /v1/refunds.
        #[arg(long)]
        path: String,
        /// A file holding the request body (`-` reads stdin).
        #[arg(long)]
        body: Option<PathBuf>,
        /// The content-type header (application/json when --body is given).
        #[arg(long)]
        content_type: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decide every call recorded in the audit log of the database the config names again
    /// under this config, and compare with what happened (read-only; the service may be
    /// running). Exit 0, or 1 on an error.
    Replay {
        /// The new TOML configuration file (its database is read).
        #[arg(long)]
        config: PathBuf,
        /// Only calls made within this long (`30d`, `12h`) or since this instant
        /// (`2026-11-01T00:00:00Z`).
        #[arg(long)]
        since: Option<String>,
        /// Print JSON (with every changed approval id).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ApproverCommand {
    /// Print a one-time pairing link for an approver (valid 15 minutes).
    Invite {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The approver's id.
        id: String,
    },
    /// Revoke every device of an approver and cancel its unused pairing codes; takes effect
    /// on the running service at once. Also delete the `[[approver]]` entry (and its gate and
    /// group memberships), or it can be invited again; at the next start without it, any
    /// device it still has is revoked.
    Remove {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The approver's id (need not be in the configuration any more).
        id: String,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Pair this headless approver using a pairing link; the key is written to --key.
    Pair {
        /// `countersign://pair?server=…&code=…`
        link: String,
        /// Where to keep the key (created; never overwritten).
        #[arg(long)]
        key: PathBuf,
        /// A name for this device.
        #[arg(long, default_value = "headless approver")]
        device_name: String,
    },
    /// List pending approvals.
    Pending {
        /// The key file from `pair`.
        #[arg(long)]
        key: PathBuf,
    },
    /// Show one approval as it will be signed.
    Show {
        /// The approval id.
        id: Uuid,
        /// The key file from `pair`.
        #[arg(long)]
        key: PathBuf,
    },
    /// Approve an approval.
    Approve {
        /// The approval id.
        id: Uuid,
        /// The key file from `pair`.
        #[arg(long)]
        key: PathBuf,
        /// An optional comment.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Deny an approval.
    Deny {
        /// The approval id.
        id: Uuid,
        /// The key file from `pair`.
        #[arg(long)]
        key: PathBuf,
        /// Why (shown to the agent).
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// List every paired device: key id, approver, device name, paired at, revoked at.
    List {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Revoke one device key; takes effect on the running service at once (its sessions end,
    /// its decisions on pending approvals are withdrawn). Exit 1 for an unknown key.
    Revoke {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The device's key id (see `device list`).
        key_id: String,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Subcommand)]
enum GrantCommand {
    /// Revoke a grant; takes effect on the running service at once.
    Revoke {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The grant's id.
        id: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the audit log's hash chain; exit 1 naming the first bad entry.
    Verify {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
    },
}

async fn admin(config: &Path) -> anyhow::Result<Admin> {
    let config = Config::load(config)?;
    Admin::open(config).await.context("opening the database")
}

/// Runs a `policy` subcommand; its exit code (errors are 1, see [`policy_tools`]).
async fn policy(command: PolicyCommand) -> anyhow::Result<u8> {
    match command {
        PolicyCommand::Explain {
            config,
            app,
            grant,
            method,
            path,
            body,
            content_type,
            json,
        } => {
            let config = Config::load(&config)?;
            let body = match body {
                None => None,
                Some(file) if file.as_os_str() == "-" => {
                    let mut bytes = Vec::new();
                    std::io::stdin()
                        .read_to_end(&mut bytes)
                        .context("reading the body from stdin")?;
                    Some(bytes)
                }
                Some(file) => Some(
                    std::fs::read(&file)
                        .with_context(|| format!("reading the body from {}", file.display()))?,
                ),
            };
            let input = ExplainInput {
                app,
                grant,
                method,
                path,
                content_type,
                body,
            };
            let explanation = explain(&config, &input)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&explanation)?);
            } else {
                print!("{}", explanation.render());
            }
            Ok(explanation.exit_code)
        }
        PolicyCommand::Replay {
            config,
            since,
            json,
        } => {
            let config = Config::load(&config)?;
            let since = since.as_deref().map(since_instant).transpose()?;
            let options = ReplayOptions {
                since,
                keep_changed: if json { None } else { Some(20) },
            };
            let report = replay(&config, &options).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.render());
            }
            Ok(0)
        }
    }
}

/// `30d` (that long before now) or `2026-11-01T00:00:00Z`.
fn since_instant(text: &str) -> anyhow::Result<Timestamp> {
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let back = parse_duration(text).map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let secs = i64::try_from(back.as_secs()).context("--since: too long")?;
    Timestamp::from_unix(Timestamp::now().unix() - secs).context("--since: too long")
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => serve::run(&config).await?,
        Command::Demo => demo::run().await?,
        Command::Mcp { config } => countersign_cli::mcp::run(&config).await?,
        Command::Migrate { config } => {
            let config = Config::load(&config)?;
            let store = Store::open(&config.server.database)
                .await
                .with_context(|| format!("opening {}", config.server.database))?;
            let (version, applied) = store.schema_version().await?;
            store.close().await;
            println!(
                "{}: schema at migration {version} ({applied} applied)",
                config.server.database
            );
        }
        Command::Export { config, to } => {
            let config = Config::load(&config)?;
            let target_url = Config::parse_database_url(&to, Path::new("."))
                .map_err(|why| anyhow::anyhow!("--to: {why}"))?;
            if target_url == config.server.database {
                anyhow::bail!("--to names the config's own database");
            }
            let source = Store::open(&config.server.database)
                .await
                .with_context(|| format!("opening {}", config.server.database))?;
            let target = Store::open(&target_url)
                .await
                .with_context(|| format!("opening {target_url}"))?;
            let report = source.export_to(&target).await;
            source.close().await;
            let report = match report {
                Ok(report) => report,
                Err(e) => {
                    target.close().await;
                    return Err(e.into());
                }
            };
            for (table, rows) in &report.tables {
                println!("{table:<20} {rows:>10} rows");
            }
            let verified = target.verify_audit().await?;
            target.close().await;
            match verified {
                Ok(n) => {
                    println!("copied into {target_url}; its audit chain verifies ({n} entries)")
                }
                Err(brk) => anyhow::bail!("the copy's audit chain does not verify: {brk}"),
            }
        }
        Command::SampleProvider {
            secret_env,
            fail,
            delay,
            hang,
        } => {
            let secret = std::env::var(&secret_env)
                .with_context(|| format!("reading the secret from ${secret_env}"))?;
            let behaviour = match (fail, delay, hang) {
                (Some(status), _, _) => Behaviour::Fail(status),
                (_, Some(delay), _) => Behaviour::Delay(
                    parse_duration(&delay).map_err(|e| anyhow::anyhow!("--delay: {e}"))?,
                ),
                (_, _, true) => Behaviour::Hang,
                _ => Behaviour::Normal,
            };
            sample_provider::run_process(&secret, behaviour, serve::shutdown_signal())
                .await
                .context("running the sample provider")?;
        }
        Command::Policy { command } => {
            return Ok(match policy(command).await {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("countersign: {e:#}");
                    ExitCode::from(policy_tools::EXIT_ERROR)
                }
            })
        }
        Command::Approver { command } => match command {
            ApproverCommand::Invite { config, id } => {
                let admin = admin(&config).await?;
                let invite = admin.invite(&id).await?;
                println!("{}", invite.link);
                eprintln!(
                    "one-time pairing link for {id}; expires at {}",
                    invite.expires_at
                );
                let link = countersign_core::DeepLink::parse(&invite.link)?;
                if let Err(e) = link.server().require_secure_transport() {
                    eprintln!(
                        "warning: Wallets and approvers will not pair through this link: {e}; \
                         set server.public_url to an https URL"
                    );
                }
                admin.close().await;
            }
            ApproverCommand::Remove { config, id, reason } => {
                let admin = admin(&config).await?;
                let removal = admin.remove_approver(&id, reason.as_deref()).await?;
                admin.close().await;
                let done = &removal.revocation;
                if done.devices.is_empty() {
                    println!("{id} has no live device; nothing revoked");
                }
                for device in &done.devices {
                    print!("{}", devices::revoked(device));
                }
                if done.codes_cancelled > 0 {
                    println!(
                        "cancelled {} unused pairing code(s) of {id}",
                        done.codes_cancelled
                    );
                }
                if removal.still_configured {
                    eprintln!(
                        "{id} is still in the configuration: delete its [[approver]] entry (and its \
                         gate and group memberships) and restart the service, or `approver invite` \
                         can pair a new device for it; that start revokes any device paired meanwhile"
                    );
                }
            }
            ApproverCommand::Pair {
                link,
                key,
                device_name,
            } => {
                let pairing = headless::pair(&link, &key, &device_name).await?;
                println!(
                    "paired as {} ({}), key {}",
                    display::inert_name(&pairing.approver_id),
                    display::inert_name(&pairing.approver_name),
                    display::inert_name(&pairing.key_id)
                );
            }
            ApproverCommand::Pending { key } => headless::pending(&key).await?,
            ApproverCommand::Show { id, key } => headless::show(&key, id).await?,
            ApproverCommand::Approve { id, key, comment } => {
                headless::decide(&key, id, Verdict::Approve, comment).await?
            }
            ApproverCommand::Deny { id, key, comment } => {
                headless::decide(&key, id, Verdict::Deny, comment).await?
            }
        },
        Command::Device { command } => match command {
            DeviceCommand::List { config } => {
                let admin = admin(&config).await?;
                let rows = admin.devices().await?;
                admin.close().await;
                print!("{}", devices::table(&rows));
            }
            DeviceCommand::Revoke {
                config,
                key_id,
                reason,
            } => {
                let admin = admin(&config).await?;
                let outcome = admin.revoke_device(&key_id, reason.as_deref()).await?;
                admin.close().await;
                match outcome {
                    DeviceRevocation::Revoked(device) => print!("{}", devices::revoked(&device)),
                    DeviceRevocation::AlreadyRevoked(row) => println!(
                        "device {key_id} was revoked already (at {}); nothing changed",
                        row.revoked_at
                            .map_or_else(|| "an unknown time".into(), |t| t.to_string())
                    ),
                    DeviceRevocation::Unknown => {
                        eprintln!(
                            "countersign: no device with key id {key_id:?}; `countersign device list` shows them"
                        );
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
        },
        Command::Grant {
            command: GrantCommand::Revoke { config, id },
        } => {
            let admin = admin(&config).await?;
            if admin.revoke_grant(&id).await? {
                println!("grant {id} revoked");
            } else {
                println!("grant {id} was revoked already");
            }
            admin.close().await;
        }
        Command::Audit {
            command: AuditCommand::Verify { config },
        } => {
            let admin = admin(&config).await?;
            let result = admin.verify_audit().await?;
            admin.close().await;
            match result {
                Ok(n) => println!("audit chain intact: {n} entries"),
                Err(brk) => {
                    eprintln!("{brk}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COUNTERSIGN_LOG")
                .unwrap_or_else(|_| "warn,countersign=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("countersign: {e:#}");
            ExitCode::from(2)
        }
    }
}
