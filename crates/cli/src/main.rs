//! `countersign`: serve the approval service, administer it, approve headlessly, or run the demo.

use anyhow::Context;
use clap::{Parser, Subcommand};
use countersign_approver::Verdict;
use countersign_cli::{demo, devices, display, headless, serve};
use countersign_service::{Admin, Config, DeviceRevocation};
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
    /// Run the whole flow on loopback with a temporary database.
    Demo,
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

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => serve::run(&config).await?,
        Command::Demo => demo::run().await?,
        Command::Approver { command } => match command {
            ApproverCommand::Invite { config, id } => {
                let admin = admin(&config).await?;
                let invite = admin.invite(&id).await?;
                println!("{}", invite.link);
                eprintln!(
                    "one-time pairing link for {id}; expires at {}",
                    invite.expires_at
                );
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
