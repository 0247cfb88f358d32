//! The streamable HTTP listener's settings (`[mcp] listen = "127.0.0.1:8471"` and its
//! companions), checked: who may reach the gateway and how many sessions it keeps.
//!
//! The endpoint lends the app's powers to whoever connects, so it listens on loopback unless
//! a bearer token is configured, accepts only the `Host` names it is reached by (DNS
//! rebinding), and refuses every browser `Origin` not listed.

use std::net::SocketAddr;

/// The sessions kept at once when `max_sessions` is not set.
pub const DEFAULT_MAX_SESSIONS: usize = 16;
/// The most `max_sessions` may be.
const MAX_MAX_SESSIONS: usize = 1024;
/// The shortest bearer token accepted (characters).
pub const MIN_TOKEN_LEN: usize = 32;

/// The raw `[mcp]` keys of the listener, as read from the file.
#[derive(Debug, Default)]
pub struct RawListen {
    /// `listen`.
    pub listen: Option<String>,
    /// `token_env`.
    pub token_env: Option<String>,
    /// `allowed_hosts`.
    pub allowed_hosts: Option<Vec<String>>,
    /// `allowed_origins`.
    pub allowed_origins: Option<Vec<String>>,
    /// `max_sessions`.
    pub max_sessions: Option<i64>,
}

/// The streamable HTTP listener's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Where to listen (an IP address and port; port 0 picks a free one).
    pub listen: SocketAddr,
    /// The environment variable holding the bearer token clients must send, if any.
    pub token_env: Option<String>,
    /// `Host` values accepted besides the listen address's own (`host` or `host:port`).
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted (`scheme://host:port`); requests with any other `Origin`
    /// header are refused.
    pub allowed_origins: Vec<String>,
    /// The most MCP sessions kept at once.
    pub max_sessions: usize,
}

/// A listener key that cannot be used: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenError {
    /// The `[mcp]` field.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn error(field: &'static str, message: impl Into<String>) -> ListenError {
    ListenError {
        field,
        message: message.into(),
    }
}

impl HttpSettings {
    /// Checks the listener keys: `None` when `listen` is absent (stdio), and then no other
    /// listener key may be set.
    pub fn check(raw: RawListen) -> Result<Option<Self>, ListenError> {
        let Some(listen) = raw.listen else {
            let stray = [
                ("token_env", raw.token_env.is_some()),
                ("allowed_hosts", raw.allowed_hosts.is_some()),
                ("allowed_origins", raw.allowed_origins.is_some()),
                ("max_sessions", raw.max_sessions.is_some()),
            ];
            if let Some((field, _)) = stray.iter().find(|(_, set)| *set) {
                return Err(error(
                    field,
                    "applies to the HTTP listener only: set `listen` too",
                ));
            }
            return Ok(None);
        };
        let addr: SocketAddr = listen.trim().parse().map_err(|_| {
            error(
                "listen",
                format!(
                    "{listen:?}: an IP address and port, e.g. \"127.0.0.1:8471\" (names are \
                     not accepted, so that loopback is certain)"
                ),
            )
        })?;
        let token_env = match raw.token_env {
            None => None,
            Some(var) if var.trim().is_empty() => return Err(error("token_env", "is empty")),
            Some(var) => Some(var.trim().to_string()),
        };
        if !addr.ip().is_loopback() && token_env.is_none() {
            return Err(error(
                "listen",
                format!(
                    "{addr} is not a loopback address: anyone who reaches it could act as the \
                     app, so set token_env (a bearer token clients must send) to listen there"
                ),
            ));
        }
        let allowed_hosts = raw
            .allowed_hosts
            .unwrap_or_default()
            .iter()
            .map(|host| check_host(host))
            .collect::<Result<Vec<_>, _>>()?;
        if addr.ip().is_unspecified() && allowed_hosts.is_empty() {
            return Err(error(
                "allowed_hosts",
                format!(
                    "listening on {addr} needs the names clients reach the gateway by, e.g. \
                     [\"mcp.internal:{}\"]",
                    addr.port()
                ),
            ));
        }
        let allowed_origins = raw
            .allowed_origins
            .unwrap_or_default()
            .iter()
            .map(|origin| check_origin(origin))
            .collect::<Result<Vec<_>, _>>()?;
        let max_sessions = match raw.max_sessions {
            None => DEFAULT_MAX_SESSIONS,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_MAX_SESSIONS).contains(n))
                .ok_or_else(|| {
                    error("max_sessions", format!("{n}: from 1 to {MAX_MAX_SESSIONS}"))
                })?,
        };
        Ok(Some(Self {
            listen: addr,
            token_env,
            allowed_hosts,
            allowed_origins,
            max_sessions,
        }))
    }

    /// The `Host` values accepted once bound to `bound`: the loopback names with its port
    /// (when it is a loopback address) or the address itself, then `allowed_hosts`.
    pub fn hosts_for(&self, bound: SocketAddr) -> Vec<String> {
        let port = bound.port();
        let mut hosts = if bound.ip().is_loopback() {
            vec![
                format!("localhost:{port}"),
                format!("127.0.0.1:{port}"),
                format!("[::1]:{port}"),
            ]
        } else if bound.ip().is_unspecified() {
            Vec::new()
        } else {
            vec![bound.to_string()]
        };
        hosts.extend(self.allowed_hosts.iter().cloned());
        hosts
    }
}

/// A `host` or `host:port` authority, without scheme, path or user info.
fn check_host(host: &str) -> Result<String, ListenError> {
    let host = host.trim();
    let bad = || {
        error(
            "allowed_hosts",
            format!("{host:?}: a host name or host:port, e.g. \"mcp.internal:8471\""),
        )
    };
    if host.is_empty() || host.contains(['/', '@', '*', '?', '#']) {
        return Err(bad());
    }
    let authority: axum::http::uri::Authority = host.parse().map_err(|_| bad())?;
    if authority.host().is_empty() {
        return Err(bad());
    }
    Ok(host.to_ascii_lowercase())
}

/// A browser origin `scheme://host[:port]`, made explicit as `scheme://host:port`.
fn check_origin(origin: &str) -> Result<String, ListenError> {
    let origin = origin.trim();
    let bad = |why: &str| {
        error(
            "allowed_origins",
            format!("{origin:?}: {why}, e.g. \"http://localhost:6274\""),
        )
    };
    let url = url::Url::parse(origin).map_err(|_| bad("not an origin"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("an http or https origin"));
    }
    let Some(host) = url.host_str() else {
        return Err(bad("an origin with a host"));
    };
    if host.contains('*') || !url.username().is_empty() || url.password().is_some() {
        return Err(bad("a single origin (no wildcard, no user info)"));
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || origin.ends_with('/')
    {
        return Err(bad("scheme, host and port only"));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| bad("an origin with a port"))?;
    Ok(format!("{}://{host}:{port}", url.scheme()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(addr: &str) -> RawListen {
        RawListen {
            listen: Some(addr.into()),
            ..RawListen::default()
        }
    }

    #[test]
    fn loopback_needs_nothing_else() {
        let settings = HttpSettings::check(listen("127.0.0.1:8471"))
            .unwrap()
            .unwrap();
        assert_eq!(settings.listen, "127.0.0.1:8471".parse().unwrap());
        assert_eq!(settings.max_sessions, DEFAULT_MAX_SESSIONS);
        assert_eq!(
            settings.hosts_for(settings.listen),
            ["localhost:8471", "127.0.0.1:8471", "[::1]:8471"]
        );
        assert!(HttpSettings::check(listen("[::1]:0")).unwrap().is_some());
    }

    #[test]
    fn no_listen_means_stdio_and_no_listener_keys() {
        assert_eq!(HttpSettings::check(RawListen::default()).unwrap(), None);
        let e = HttpSettings::check(RawListen {
            token_env: Some("T".into()),
            ..RawListen::default()
        })
        .unwrap_err();
        assert_eq!(e.field, "token_env");
    }

    #[test]
    fn off_loopback_needs_a_token() {
        for addr in [
            "0.0.0.0:8471",
            "10.1.2.3:8471",
            "[::]:8471",
            "[::ffff:127.0.0.1]:1",
        ] {
            let e = HttpSettings::check(listen(addr)).unwrap_err();
            assert_eq!(e.field, "listen", "{addr}");
            assert!(e.message.contains("token_env"), "{addr}: {}", e.message);
        }
        let settings = HttpSettings::check(RawListen {
            token_env: Some("MCP_GATEWAY_TOKEN".into()),
            ..listen("10.1.2.3:8471")
        })
        .unwrap()
        .unwrap();
        assert_eq!(settings.hosts_for(settings.listen), ["10.1.2.3:8471"]);
    }

    #[test]
    fn the_unspecified_address_needs_allowed_hosts() {
        let raw = || RawListen {
            token_env: Some("T".into()),
            ..listen("0.0.0.0:8471")
        };
        assert_eq!(
            HttpSettings::check(raw()).unwrap_err().field,
            "allowed_hosts"
        );
        let settings = HttpSettings::check(RawListen {
            allowed_hosts: Some(vec!["MCP.internal:8471".into()]),
            ..raw()
        })
        .unwrap()
        .unwrap();
        assert_eq!(settings.hosts_for(settings.listen), ["mcp.internal:8471"]);
    }

    #[test]
    fn names_and_bad_addresses_are_refused() {
        for addr in [
            "localhost:8471",
            "127.0.0.1",
            "example.com:80",
            "",
            "127.0.0.1:99999",
        ] {
            assert_eq!(
                HttpSettings::check(listen(addr)).unwrap_err().field,
                "listen",
                "{addr}"
            );
        }
    }

    #[test]
    fn hosts_and_origins_are_checked() {
        let with = |hosts: &[&str], origins: &[&str]| {
            HttpSettings::check(RawListen {
                allowed_hosts: Some(hosts.iter().map(|s| s.to_string()).collect()),
                allowed_origins: Some(origins.iter().map(|s| s.to_string()).collect()),
                ..listen("127.0.0.1:8471")
            })
        };
        let ok = with(
            &["mcp.internal"],
            &["http://localhost:6274", "https://app.example"],
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            ok.allowed_origins,
            ["http://localhost:6274", "https://app.example:443"]
        );
        for host in ["", "http://x", "x/y", "*", "user@x", "a b"] {
            assert_eq!(
                with(&[host], &[]).unwrap_err().field,
                "allowed_hosts",
                "{host:?}"
            );
        }
        for origin in [
            "*",
            "null",
            "localhost:6274",
            "file:///x",
            "http://localhost:6274/",
            "http://localhost:6274/path",
            "http://*.example.com",
            "http://user@localhost:1",
        ] {
            assert_eq!(
                with(&[], &[origin]).unwrap_err().field,
                "allowed_origins",
                "{origin:?}"
            );
        }
    }

    #[test]
    fn max_sessions_is_bounded() {
        for n in [0, -1, 1025] {
            let e = HttpSettings::check(RawListen {
                max_sessions: Some(n),
                ..listen("127.0.0.1:1")
            })
            .unwrap_err();
            assert_eq!(e.field, "max_sessions", "{n}");
        }
    }
}
