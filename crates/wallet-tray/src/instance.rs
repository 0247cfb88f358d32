//! One Wallet per session: the tray process owns the well-known name [`NAME`] on the session
//! bus and serves [`INTERFACE`]`.Open(args)` at [`PATH`]. A second launch (a link from the
//! desktop, the autostart entry, the menu entry) finds the name taken, hands its arguments to
//! the owner and exits.
//!
//! The name is requested only after the object is served (zbus's connection builder does
//! both in that order), so whoever finds it taken can call `Open` at once. Two launches at
//! once: the bus gives the name to one; the other hands over. If the owner goes between the
//! refusal and the call (it was quitting), the launch tries to own the name again.

use tokio::sync::mpsc;

/// The session bus name the running Wallet owns.
pub const NAME: &str = "dev.countersign.Wallet";
/// Its object path.
pub const PATH: &str = "/dev/countersign/Wallet";
/// Its interface.
pub const INTERFACE: &str = "dev.countersign.Wallet1";

/// How many times a launch tries to own the name or reach its owner.
const ATTEMPTS: usize = 3;

/// A failure to own the name or reach its owner.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// The session bus refused or failed.
    #[error("the session bus: {0}")]
    Bus(#[from] zbus::Error),
    /// The name kept changing hands.
    #[error("cannot own {NAME} nor reach its owner")]
    Unreachable,
}

/// What a launch became.
#[derive(Debug)]
pub enum Claim {
    /// This process owns the name (keep the connection for as long as it runs).
    Primary(zbus::Connection),
    /// Another process runs the Wallet and took the arguments.
    HandedOver,
}

struct Instance {
    opens: mpsc::UnboundedSender<Vec<String>>,
}

#[zbus::interface(name = "dev.countersign.Wallet1")]
impl Instance {
    /// A second launch's arguments (after the program's name).
    async fn open(&self, args: Vec<String>) {
        let _ = self.opens.send(args);
    }
}

/// Owns [`NAME`] on the bus at `address` (the session bus when `None`), with later launches'
/// arguments sent to `opens`; or, when another process owns it, hands `args` to it.
pub async fn claim(
    address: Option<&str>,
    args: &[String],
    opens: mpsc::UnboundedSender<Vec<String>>,
) -> Result<Claim, InstanceError> {
    for _ in 0..ATTEMPTS {
        let builder = match address {
            Some(a) => zbus::connection::Builder::address(a)?,
            None => zbus::connection::Builder::session()?,
        };
        let owned = builder
            .serve_at(
                PATH,
                Instance {
                    opens: opens.clone(),
                },
            )?
            .name(NAME)?
            // zbus's default flags would let a later launch take the name (and let this one
            // take it from a running Wallet): neither replaces the other, none queues.
            .allow_name_replacements(false)
            .replace_existing_names(false)
            .build()
            .await;
        match owned {
            Ok(connection) => return Ok(Claim::Primary(connection)),
            Err(zbus::Error::NameTaken) => {}
            Err(e) => return Err(e.into()),
        }
        let connection = match address {
            Some(a) => zbus::connection::Builder::address(a)?.build().await?,
            None => zbus::Connection::session().await?,
        };
        match connection
            .call_method(Some(NAME), PATH, Some(INTERFACE), "Open", &(args,))
            .await
        {
            Ok(_) => return Ok(Claim::HandedOver),
            Err(e) => tracing::info!("the running Wallet did not answer ({e}); trying again"),
        }
    }
    Err(InstanceError::Unreachable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};

    /// A private bus (`dbus-daemon --session`), killed on drop.
    struct Bus(Child, String);

    impl Bus {
        fn start() -> Self {
            let mut child = Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .spawn()
                .expect("dbus-daemon (package dbus) runs these tests");
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            Bus(child, line.trim().to_string())
        }
    }

    impl Drop for Bus {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn a_second_launch_hands_its_arguments_to_the_first() {
        let bus = Bus::start();
        let (tx, mut first_opens) = mpsc::unbounded_channel();
        let first = claim(Some(&bus.1), &args(&["--tray"]), tx).await.unwrap();
        assert!(matches!(first, Claim::Primary(_)));
        let (tx, mut second_opens) = mpsc::unbounded_channel();
        let second = claim(Some(&bus.1), &args(&["countersign://approve?x=1"]), tx)
            .await
            .unwrap();
        assert!(matches!(second, Claim::HandedOver));
        assert_eq!(
            first_opens.recv().await.unwrap(),
            args(&["countersign://approve?x=1"])
        );
        assert!(second_opens.try_recv().is_err());
        // Once the first is gone, the next launch owns the name.
        drop(first);
        let (tx, _opens) = mpsc::unbounded_channel();
        let third = claim(Some(&bus.1), &[], tx).await.unwrap();
        assert!(matches!(third, Claim::Primary(_)));
    }

    #[tokio::test]
    async fn of_launches_at_once_exactly_one_owns_the_name_and_gets_the_others_arguments() {
        let bus = Bus::start();
        let (tx, mut opens) = mpsc::unbounded_channel();
        let launches: Vec<_> = (0..4)
            .map(|i| {
                let address = bus.1.clone();
                let tx = tx.clone();
                tokio::spawn(
                    async move { claim(Some(&address), &[format!("launch-{i}")], tx).await },
                )
            })
            .collect();
        drop(tx);
        let mut primaries = Vec::new();
        for (i, l) in launches.into_iter().enumerate() {
            match l.await.unwrap().unwrap() {
                Claim::Primary(c) => primaries.push((i, c)),
                Claim::HandedOver => {}
            }
        }
        assert_eq!(primaries.len(), 1, "one owner");
        let owner = primaries[0].0;
        let mut received = Vec::new();
        for _ in 0..3 {
            received.extend(opens.recv().await.unwrap());
        }
        received.sort();
        let expected: Vec<String> = (0..4)
            .filter(|&i| i != owner)
            .map(|i| format!("launch-{i}"))
            .collect();
        assert_eq!(received, expected);
    }
}
