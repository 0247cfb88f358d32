//! The Wallet's settings: notifications on or off per pairing, and quiet hours (no desktop
//! notifications between two local times; the inbox still updates). A JSON file in the data
//! directory, written atomically and readable by its owner only; it never holds a secret.
//!
//! "Start at login" is not kept here: it is the desktop's autostart entry itself (the app
//! shell's `autostart` module), so the desktop's own startup tool and the Wallet never
//! disagree. Members this version does not know are kept as they were when the file is
//! written again, so an older and a newer Wallet can share one file.
//!
//! Whether a notification is shown is decided in one place, [`route`].

use crate::registry::{write_private, PairingId};
use countersign_core::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The settings file's name inside the data directory.
pub const FILE_NAME: &str = "settings.json";

/// The settings could not be read, written or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// Reading or writing the file failed.
    #[error("cannot access the settings {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a settings file.
    #[error("the settings file {path} is damaged: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A time of day is not `HH:MM` (24-hour clock).
    #[error("{0:?} is not a time of day; use HH:MM, 00:00 to 23:59")]
    BadTime(String),
    /// Quiet hours that start when they end would be empty.
    #[error("quiet hours must start and end at different times")]
    EmptyQuietHours,
}

/// A time of day on the local clock, to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(u16);

impl LocalTime {
    /// `hour:minute`, if both are in range.
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        (hour < 24 && minute < 60).then(|| Self(u16::from(hour) * 60 + u16::from(minute)))
    }

    /// The local time of day at `at` on a clock `utc_offset_seconds` ahead of UTC.
    pub fn at(at: Timestamp, utc_offset_seconds: i32) -> Self {
        let local = at.unix() + i64::from(utc_offset_seconds);
        Self((local.rem_euclid(86_400) / 60) as u16)
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for LocalTime {
    type Err = SettingsError;

    /// `HH:MM`, two digits each.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SettingsError::BadTime(s.chars().take(40).collect());
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let two_digits = |t: &str| {
            (t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u8>().ok())
                .flatten()
        };
        let (h, m) = (
            two_digits(h).ok_or_else(bad)?,
            two_digits(m).ok_or_else(bad)?,
        );
        Self::new(h, m).ok_or_else(bad)
    }
}

impl Serialize for LocalTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// No desktop notifications from `from` (included) to `to` (excluded), local time; when `to`
/// is earlier than `from` the quiet hours run across midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// When they start.
    pub from: LocalTime,
    /// When they end.
    pub to: LocalTime,
}

impl QuietHours {
    /// Quiet hours from `from` to `to`; refused when they would be empty.
    pub fn new(from: LocalTime, to: LocalTime) -> Result<Self, SettingsError> {
        if from == to {
            return Err(SettingsError::EmptyQuietHours);
        }
        Ok(Self { from, to })
    }

    /// True when `t` is within them.
    pub fn contains(&self, t: LocalTime) -> bool {
        if self.from <= self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
}

/// What the settings file holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Settings {
    /// Pairings whose notifications are off (every other pairing notifies).
    #[serde(default)]
    pub muted: BTreeSet<PairingId>,
    /// When no desktop notification is shown at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    /// Members of other Wallet versions, kept as they are.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Whether a notification for a request of one pairing is shown now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Show it.
    Show,
    /// That pairing's notifications are off.
    Muted,
    /// It is quiet hours.
    Quiet,
}

/// Decides whether a notification of `pairing` (`None`: a summary of several requests) is
/// shown at local time `now`. Muting and quiet hours only silence the desktop: the request is
/// in the inbox all the same.
pub fn route(settings: &Settings, pairing: Option<&PairingId>, now: LocalTime) -> Route {
    if pairing.is_some_and(|p| settings.muted.contains(p)) {
        Route::Muted
    } else if settings.quiet_hours.is_some_and(|q| q.contains(now)) {
        Route::Quiet
    } else {
        Route::Show
    }
}

/// The settings and their file.
#[derive(Debug)]
pub struct SettingsFile {
    path: PathBuf,
    settings: Settings,
}

impl SettingsFile {
    /// Loads the settings in `data_dir` (the defaults when there is no file yet).
    pub fn load(data_dir: &Path) -> Result<Self, SettingsError> {
        let path = data_dir.join(FILE_NAME);
        let settings = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| SettingsError::Format {
                    path: path.clone(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(source) => return Err(SettingsError::Io { path, source }),
        };
        Ok(Self { path, settings })
    }

    /// The defaults, saved to `data_dir` on the first change (used when the file cannot be
    /// read: a damaged settings file must not stop the Wallet).
    pub fn defaults_in(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(FILE_NAME),
            settings: Settings::default(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The settings now.
    pub fn get(&self) -> &Settings {
        &self.settings
    }

    /// Applies `change` and saves; on a failed save nothing changes.
    pub fn update(&mut self, change: impl FnOnce(&mut Settings)) -> Result<(), SettingsError> {
        let mut next = self.settings.clone();
        change(&mut next);
        let bytes = serde_json::to_vec_pretty(&next).expect("settings always serialize");
        write_private(&self.path, &bytes).map_err(|source| SettingsError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.settings = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> LocalTime {
        text.parse().unwrap()
    }

    #[test]
    fn times_of_day_parse_strictly() {
        assert_eq!(t("00:00").minutes(), 0);
        assert_eq!(t("23:59").minutes(), 23 * 60 + 59);
        assert_eq!(t("07:05").to_string(), "07:05");
        for bad in [
            "24:00",
            "7:05",
            "07:60",
            "0700",
            "",
            "07:05:00",
            "+7:05",
            "٠٧:٠٥",
            "07:5x",
        ] {
            assert!(
                matches!(bad.parse::<LocalTime>(), Err(SettingsError::BadTime(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn local_time_follows_the_offset() {
        let noon_utc: Timestamp = "2026-11-24T12:30:00Z".parse().unwrap();
        assert_eq!(LocalTime::at(noon_utc, 0), t("12:30"));
        assert_eq!(LocalTime::at(noon_utc, 3600), t("13:30"));
        assert_eq!(
            LocalTime::at(noon_utc, -13 * 3600),
            t("23:30"),
            "the day before"
        );
        assert_eq!(
            LocalTime::at(noon_utc, 12 * 3600),
            t("00:30"),
            "the day after"
        );
    }

    #[test]
    fn quiet_hours_within_a_day() {
        let q = QuietHours::new(t("12:00"), t("14:00")).unwrap();
        assert!(!q.contains(t("11:59")));
        assert!(q.contains(t("12:00")));
        assert!(q.contains(t("13:59")));
        assert!(!q.contains(t("14:00")));
    }

    #[test]
    fn quiet_hours_across_midnight() {
        let q = QuietHours::new(t("22:00"), t("07:00")).unwrap();
        for quiet in ["22:00", "23:59", "00:00", "03:00", "06:59"] {
            assert!(q.contains(t(quiet)), "{quiet}");
        }
        for loud in ["07:00", "12:00", "21:59"] {
            assert!(!q.contains(t(loud)), "{loud}");
        }
        assert!(matches!(
            QuietHours::new(t("07:00"), t("07:00")),
            Err(SettingsError::EmptyQuietHours)
        ));
    }

    #[test]
    fn routing_mutes_one_pairing_and_quiets_all() {
        let (personal, on_call) = (PairingId::random(), PairingId::random());
        let mut s = Settings::default();
        assert_eq!(route(&s, Some(&personal), t("03:00")), Route::Show);
        s.muted.insert(personal.clone());
        assert_eq!(route(&s, Some(&personal), t("12:00")), Route::Muted);
        assert_eq!(route(&s, Some(&on_call), t("12:00")), Route::Show);
        assert_eq!(route(&s, None, t("12:00")), Route::Show, "a summary");
        s.quiet_hours = Some(QuietHours::new(t("22:00"), t("07:00")).unwrap());
        assert_eq!(route(&s, Some(&on_call), t("03:00")), Route::Quiet);
        assert_eq!(route(&s, None, t("03:00")), Route::Quiet);
        assert_eq!(route(&s, Some(&on_call), t("07:00")), Route::Show);
    }

    #[test]
    fn saved_privately_and_loaded_keeping_unknown_members() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            r#"{"muted": [], "from_a_newer_wallet": {"x": 1}}"#,
        )
        .unwrap();
        let mut file = SettingsFile::load(dir.path()).unwrap();
        let p = PairingId::random();
        file.update(|s| {
            s.muted.insert(p.clone());
            s.quiet_hours = Some(QuietHours::new(t("22:00"), t("07:00")).unwrap());
        })
        .unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.contains(r#""from": "22:00""#), "{text}");
        let again = SettingsFile::load(dir.path()).unwrap();
        assert_eq!(again.get(), file.get());
        assert!(again.get().muted.contains(&p));
        assert_eq!(again.get().other["from_a_newer_wallet"]["x"], 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
    }

    #[test]
    fn a_damaged_file_is_an_error_and_a_bad_time_in_it_too() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "{not json",
            r#"{"quiet_hours": {"from": "25:00", "to": "07:00"}}"#,
        ] {
            std::fs::write(dir.path().join(FILE_NAME), text).unwrap();
            assert!(
                matches!(
                    SettingsFile::load(dir.path()),
                    Err(SettingsError::Format { .. })
                ),
                "{text}"
            );
        }
    }
}
