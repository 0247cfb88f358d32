//! The headless approver: pairs with a pairing link, keeps its key in a file, lists pending
//! approvals, shows one, and approves or denies it. The desktop Wallet does the same with
//! the key in the OS keychain.

use crate::display;
use anyhow::Context;
use countersign_approver::{ApproverClient, HttpClients, KeyFile, Pairing, Verdict};
use countersign_core::keys::generate_signing_key;
use countersign_core::DeepLink;
use std::path::Path;
use uuid::Uuid;

/// Pairs with the service of `link` and writes the key file (refusing to overwrite one).
pub async fn pair(link: &str, key_file: &Path, device_name: &str) -> anyhow::Result<Pairing> {
    let link = DeepLink::parse(link).context("reading the pairing link")?;
    let DeepLink::Pair { server, code } = &link else {
        anyhow::bail!("this is an approval link; pairing needs a countersign://pair link");
    };
    if key_file.exists() {
        anyhow::bail!(
            "{} exists already; choose another key file",
            key_file.display()
        );
    }
    let http = http_clients()?;
    let preview = ApproverClient::preview(&http.requests, server, code)
        .await
        .context("checking the pairing code")?;
    eprintln!(
        "Pairing with {} as {} ({}), service {}",
        display::inert(server.as_str()),
        display::inert_name(&preview.approver_name),
        display::inert_name(&preview.approver_id),
        display::inert_name(&preview.service_id),
    );
    let key = generate_signing_key();
    let pairing =
        ApproverClient::pair_previewed(&http.requests, server, code, &preview, device_name, &key)
            .await
            .context("pairing")?;
    KeyFile::create(key_file, &pairing, &key).context("writing the key file")?;
    Ok(pairing)
}

/// A client for the pairing in `key_file`.
pub fn client(key_file: &Path) -> anyhow::Result<ApproverClient> {
    let (pairing, key) = KeyFile::load(key_file)?;
    Ok(ApproverClient::with_clients(&http_clients()?, pairing, key))
}

/// The approver's HTTP clients: no redirects, connect and overall timeouts.
fn http_clients() -> anyhow::Result<HttpClients> {
    HttpClients::new(concat!("countersign-approver/", env!("CARGO_PKG_VERSION")))
        .context("building the HTTP client")
}

/// Prints the pending approvals, one per line.
pub async fn pending(key_file: &Path) -> anyhow::Result<()> {
    let rows = client(key_file)?.list("pending").await?;
    if rows.is_empty() {
        println!("no pending approvals");
    }
    for row in rows {
        println!("{}", display::pending_row(&row));
    }
    Ok(())
}

/// Prints one approval as the approver would review it.
pub async fn show(key_file: &Path, id: Uuid) -> anyhow::Result<()> {
    let client = client(key_file)?;
    let review = client.review(id).await?;
    let new = client.what_is_new(&review, WHAT_IS_NEW_HISTORY).await?;
    print!("{}", display::what_is_new(&new));
    print!("{}", display::review(&review));
    Ok(())
}

/// How many past approvals `show` compares a request with.
const WHAT_IS_NEW_HISTORY: usize = 10_000;

/// Reviews (verifying the digest locally), then signs and sends the decision.
pub async fn decide(
    key_file: &Path,
    id: Uuid,
    verdict: Verdict,
    comment: Option<String>,
) -> anyhow::Result<()> {
    let client = client(key_file)?;
    let review = client.review(id).await?;
    print!("{}", display::review(&review));
    let answer = client.decide(&review, verdict, comment).await?;
    println!(
        "decision recorded: {} (approval is now {})",
        verdict.as_str(),
        answer.status
    );
    Ok(())
}
