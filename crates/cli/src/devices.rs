//! What `device list`, `device revoke` and `approver remove` print. Device names were chosen
//! by the device when it paired, so they go through [`inert`] like any untrusted text.

use crate::display::inert;
use countersign_service::store::{DeviceRow, RevokedDevice};
use std::fmt::Write;

/// The device table: key id, approver, device name, paired at, revoked at (`-` when live).
pub fn table(rows: &[DeviceRow]) -> String {
    if rows.is_empty() {
        return "no devices paired\n".into();
    }
    let header = ["KEY ID", "APPROVER", "DEVICE", "PAIRED AT", "REVOKED AT"].map(String::from);
    let lines: Vec<[String; 5]> = std::iter::once(header)
        .chain(rows.iter().map(|r| {
            [
                r.key_id.clone(),
                inert(&r.approver_id),
                inert(&r.device_name),
                r.created_at.to_string(),
                r.revoked_at.map_or_else(|| "-".into(), |t| t.to_string()),
            ]
        }))
        .collect();
    let mut widths = [0usize; 5];
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &lines {
        let mut text = String::new();
        for (i, (cell, w)) in line.iter().zip(widths).enumerate() {
            if i + 1 == line.len() {
                text.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                let _ = write!(text, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// One line per revoked device, naming the approvals whose decision was withdrawn.
pub fn revoked(device: &RevokedDevice) -> String {
    let mut out = format!(
        "revoked device {} of {} ({})",
        device.key_id,
        inert(&device.approver_id),
        inert(&device.device_name)
    );
    match device.withdrawn.len() {
        0 => out.push_str("; no pending decision to withdraw"),
        n => {
            let ids: Vec<String> = device
                .withdrawn
                .iter()
                .map(|w| w.approval_id.to_string())
                .collect();
            let noun = if n == 1 { "decision" } else { "decisions" };
            let _ = write!(
                out,
                "; withdrew {n} {noun} on pending approvals: {}",
                ids.join(", ")
            );
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::Timestamp;

    fn row(key: &str, name: &str, revoked: Option<i64>) -> DeviceRow {
        DeviceRow {
            key_id: key.into(),
            approver_id: "alice".into(),
            device_name: name.into(),
            created_at: Timestamp::from_unix(1_800_000_000).unwrap(),
            revoked_at: revoked.and_then(Timestamp::from_unix),
        }
    }

    #[test]
    fn the_table_aligns_columns_and_marks_live_devices() {
        let text = table(&[
            row("k_1", "phone", None),
            row("k_22", "laptop", Some(1_800_000_060)),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = lines[0].find("DEVICE").unwrap();
        assert_eq!(lines[1].find("phone"), Some(col));
        assert_eq!(lines[2].find("laptop"), Some(col));
        assert!(lines[1].ends_with(" -"), "{text}");
        assert!(lines[2].ends_with("2027-01-15T08:01:00Z"), "{text}");
        assert_eq!(table(&[]), "no devices paired\n");
    }

    #[test]
    fn device_names_are_made_inert() {
        let text = table(&[row("k_1", "evil\u{202e}name", None)]);
        assert!(!text.contains('\u{202e}'), "{text}");
    }
}
