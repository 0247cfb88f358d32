//! [`ConfigError`]: every error names the file, and where it can, the line, column and field.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A place in the config file: `file:line:column`, both counted from 1 (the column in
/// characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The config file as given to [`Config::load`](super::Config::load) or
    /// [`Config::parse`](super::Config::parse).
    pub file: PathBuf,
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` of `text` (clamped to the text's length).
    pub fn at(file: &Path, text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Self {
            file: file.to_path_buf(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }

    /// The location where a span starts.
    pub fn of_span(file: &Path, text: &str, span: &Range<usize>) -> Self {
        Self::at(file, text, span.start)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Why the config could not be loaded, or its secrets not resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the config file: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid TOML, or a value has the wrong type, or a key is unknown or
    /// missing.
    #[error("{at}: {}{message}", context_prefix(.subject, .field))]
    Syntax {
        /// Where.
        at: Location,
        /// The table the error is in, e.g. `grant "payments"` or `[server]`.
        subject: Option<String>,
        /// The key the error is on, when known.
        field: Option<String>,
        /// The parser's message.
        message: String,
    },
    /// A value is well-formed TOML but not acceptable.
    #[error("{at}: {subject} field `{field}`: {message}")]
    Invalid {
        /// Where.
        at: Location,
        /// What the field belongs to, e.g. `grant "payments"` or `[server]`.
        subject: String,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// An environment variable the config names is not set.
    #[error("{}: {subject} field `{field}`: environment variable {var} is not set", file.display())]
    MissingEnv {
        /// The config file.
        file: PathBuf,
        /// The app or grant, e.g. `app "support-agent"`.
        subject: String,
        /// The field naming the variable (`api_key_env` or `secret_env`).
        field: String,
        /// The variable.
        var: String,
    },
    /// A secret from the environment is unusable (empty, or has control characters).
    #[error("{}: {subject} field `{field}`: environment variable {var} {why}", file.display())]
    BadSecret {
        /// The config file.
        file: PathBuf,
        /// The app or grant.
        subject: String,
        /// The field naming the variable.
        field: String,
        /// The variable.
        var: String,
        /// What is wrong with its value (never the value itself).
        why: String,
    },
    /// The database URL from the environment is not one the service can use.
    #[error("{}: environment variable {var}: {why}", file.display())]
    BadDatabaseEnv {
        /// The config file.
        file: PathBuf,
        /// The variable.
        var: &'static str,
        /// What is wrong with its value.
        why: String,
    },
    /// Two apps would sign with the same HMAC secret.
    #[error("{}: apps \"{first}\" and \"{second}\" have the same HMAC secret; each app needs its own", file.display())]
    SharedSigningSecret {
        /// The config file.
        file: PathBuf,
        /// The first app.
        first: String,
        /// The second app.
        second: String,
    },
    /// Two apps would authenticate with the same API key.
    #[error("{}: apps \"{first}\" and \"{second}\" have the same API key; each app needs its own", file.display())]
    SharedApiKey {
        /// The config file.
        file: PathBuf,
        /// The first app.
        first: String,
        /// The second app.
        second: String,
    },
}

fn context_prefix(subject: &Option<String>, field: &Option<String>) -> String {
    match (subject, field) {
        (Some(subject), Some(field)) => format!("{subject} field `{field}`: "),
        (Some(subject), None) => format!("{subject}: "),
        (None, Some(field)) => format!("field `{field}`: "),
        (None, None) => String::new(),
    }
}

impl ConfigError {
    /// Converts a TOML parse or deserialisation error into a located [`ConfigError::Syntax`].
    pub(super) fn from_toml(file: &Path, text: &str, error: &toml::de::Error) -> Self {
        let offset = error.span().map_or(0, |span| span.start);
        let (subject, field) = context_at(text, offset);
        let message = error
            .message()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        ConfigError::Syntax {
            at: Location::at(file, text, offset),
            subject,
            field,
            message,
        }
    }

    /// Where in the file the error is, when it has a line.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Syntax { at, .. } | ConfigError::Invalid { at, .. } => Some(at),
            _ => None,
        }
    }
}

/// Best effort: the table (`grant "payments"`, `[server]`, `[[policy.rule]]`) and the key
/// of the line at `offset`, for parser errors that do not name them.
fn context_at(text: &str, offset: usize) -> (Option<String>, Option<String>) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[line_start..line_end].trim();
    if line.starts_with('[') {
        // The error is on a table header itself.
        return (Some(line.to_string()), None);
    }
    let field = key_of(line).map(str::to_string);

    // The last header before the line, and the lines from it to the next header.
    let header_start = text[..line_start]
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with('['))
        .last()
        .map(|(index, l)| (index, l.trim().to_string()));
    let Some((header_index, header)) = header_start else {
        return (None, field);
    };
    let name = header.trim_matches(|c| c == '[' || c == ']').trim();
    let subject = if header.starts_with("[[") && !name.contains('.') {
        let id = text
            .lines()
            .skip(header_index + 1)
            .take_while(|l| !l.trim_start().starts_with('['))
            .find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == "id").then(|| value.trim().to_string())
            });
        match id {
            Some(id) => format!("{name} {id}"),
            None => header.clone(),
        }
    } else {
        header.clone()
    };
    (Some(subject), field)
}

/// The bare key at the start of a `key = value` line.
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    bare.then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "ab\ncdé\n\nx";
        let file = Path::new("c.toml");
        let at = |offset| {
            let l = Location::at(file, text, offset);
            (l.line, l.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(2), (1, 3));
        assert_eq!(at(3), (2, 1));
        assert_eq!(at(7), (2, 4)); // after the two-byte é: counted in characters
        assert_eq!(at(6), (2, 3)); // inside é: clamped to its start
        assert_eq!(at(9), (4, 1));
        assert_eq!(at(999), (4, 2));
        assert_eq!(Location::at(file, text, 3).to_string(), "c.toml:2:1");
    }

    #[test]
    fn context_names_table_id_and_key() {
        let text = "[server]\nlisten = 1\n[[grant]]\nid = \"payments\"\ntimeout = 5\n[[policy.rule]]\npath = 3\n";
        let offset = |needle: &str| text.find(needle).unwrap();
        assert_eq!(
            context_at(text, offset("1\n")),
            (Some("[server]".into()), Some("listen".into()))
        );
        assert_eq!(
            context_at(text, offset("5")),
            (Some("grant \"payments\"".into()), Some("timeout".into()))
        );
        assert_eq!(
            context_at(text, offset("3")),
            (Some("[[policy.rule]]".into()), Some("path".into()))
        );
        assert_eq!(
            context_at(text, offset("[[grant]]")),
            (Some("[[grant]]".into()), None)
        );
        assert_eq!(context_at("x = 1", 4), (None, Some("x".into())));
    }
}
