//! `countersign://` deep links and the [`ServerUrl`] they point at.
//!
//! - `countersign://pair?server=<base URL>&code=<code>`
//! - `countersign://approval/<approval_id>?server=<base URL>`
//!
//! Parsing is strict: an unknown shape, an unknown or repeated parameter, or a server URL
//! that is not a plain http(s) base URL is an error that says which.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use url::form_urlencoded::byte_serialize;
use url::{Host, Url};
use uuid::Uuid;

/// The URL scheme the Wallet registers.
pub const SCHEME: &str = "countersign";

/// Why a link or server URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    /// Not a URL at all.
    #[error("not a URL: {0}")]
    NotAUrl(String),
    /// Another scheme than `countersign:`.
    #[error("not a countersign:// link (scheme {0:?})")]
    WrongScheme(String),
    /// `countersign://<kind>` with an unknown kind.
    #[error("unknown link kind {0:?}: expected pair or approval")]
    UnknownKind(String),
    /// A required parameter is absent.
    #[error("the link has no {0} parameter")]
    Missing(&'static str),
    /// A parameter appears twice.
    #[error("the link repeats the {0} parameter")]
    Repeated(String),
    /// A parameter the link kind does not take.
    #[error("the link has an unexpected parameter {0:?}")]
    Unexpected(String),
    /// The approval id is not a UUID.
    #[error("{0:?} is not an approval id")]
    BadApprovalId(String),
    /// The pairing code has the wrong length or characters.
    #[error("the pairing code is malformed")]
    BadCode,
    /// Plain `http://` to a host that is not a loopback address: pairing (and the device key
    /// it registers) must not cross a network unencrypted.
    #[error(
        "refusing plain http to {url}: use https (http only to 127.0.0.0/8, ::1 or localhost)"
    )]
    PlainHttp {
        /// The server's base URL.
        url: String,
    },
    /// The server parameter is not an acceptable base URL.
    #[error("bad server URL {url:?}: {why}")]
    BadServer {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// A service's base URL: http or https, a host, no credentials, query or fragment, and no
/// trailing slash. Two spellings of the same base compare equal after parsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct ServerUrl(String);

impl ServerUrl {
    /// Parses and normalises a base URL.
    pub fn parse(text: &str) -> Result<Self, LinkError> {
        let bad = |why| LinkError::BadServer {
            url: text.to_string(),
            why,
        };
        let url = Url::parse(text).map_err(|_| bad("not a URL"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(bad("scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials are not allowed in the URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("query and fragment are not allowed"));
        }
        let mut normal = url.to_string();
        while normal.ends_with('/') {
            normal.pop();
        }
        Ok(Self(normal))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the host is a loopback address: `127.0.0.0/8`, `::1` or `localhost`.
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = Url::parse(&self.0) else {
            return false;
        };
        match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        }
    }

    /// True when the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The transport rule of pairing: `https`, or plain `http` to a loopback address only
    /// (a service on the same machine); otherwise [`LinkError::PlainHttp`].
    pub fn require_secure_transport(&self) -> Result<(), LinkError> {
        if self.is_https() || self.is_loopback() {
            Ok(())
        } else {
            Err(LinkError::PlainHttp {
                url: self.0.clone(),
            })
        }
    }

    /// The URL of an API path on this server (`path` starts with `/`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ServerUrl {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ServerUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ServerUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A parsed `countersign://` link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeepLink {
    /// Pair this Wallet with a service using a one-time code.
    Pair {
        /// The service's base URL.
        server: ServerUrl,
        /// The one-time pairing code.
        code: String,
    },
    /// Open one approval of a paired service.
    Approval {
        /// The approval.
        approval_id: Uuid,
        /// The service's base URL.
        server: ServerUrl,
    },
}

/// True when `code` looks like a pairing code: 16 to 128 base64url characters.
pub fn is_valid_pairing_code(code: &str) -> bool {
    (16..=128).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn encode(text: &str) -> String {
    byte_serialize(text.as_bytes()).collect()
}

impl DeepLink {
    /// The pairing link for `server` and `code`.
    pub fn pair(server: &ServerUrl, code: &str) -> String {
        format!(
            "{SCHEME}://pair?server={}&code={}",
            encode(server.as_str()),
            encode(code)
        )
    }

    /// The approval link for `approval_id` on `server`.
    pub fn approval(server: &ServerUrl, approval_id: Uuid) -> String {
        format!(
            "{SCHEME}://approval/{approval_id}?server={}",
            encode(server.as_str())
        )
    }

    /// The server the link points at.
    pub fn server(&self) -> &ServerUrl {
        match self {
            DeepLink::Pair { server, .. } | DeepLink::Approval { server, .. } => server,
        }
    }

    /// Parses a link.
    pub fn parse(text: &str) -> Result<Self, LinkError> {
        let url = Url::parse(text.trim()).map_err(|e| LinkError::NotAUrl(e.to_string()))?;
        if url.scheme() != SCHEME {
            return Err(LinkError::WrongScheme(url.scheme().to_string()));
        }
        if url.fragment().is_some() {
            return Err(LinkError::Unexpected("#fragment".into()));
        }
        let kind = url.host_str().unwrap_or_default();
        let path = url.path();
        let params = Params::collect(&url)?;
        match kind {
            "pair" => {
                if !(path.is_empty() || path == "/") {
                    return Err(LinkError::Unexpected(path.to_string()));
                }
                params.only(&["server", "code"])?;
                let server = ServerUrl::parse(params.get("server")?)?;
                let code = params.get("code")?;
                if !is_valid_pairing_code(code) {
                    return Err(LinkError::BadCode);
                }
                Ok(DeepLink::Pair {
                    server,
                    code: code.to_string(),
                })
            }
            "approval" => {
                let id_text = path.strip_prefix('/').unwrap_or(path);
                let approval_id = Uuid::parse_str(id_text)
                    .ok()
                    .filter(|_| id_text.len() == 36)
                    .ok_or_else(|| LinkError::BadApprovalId(id_text.to_string()))?;
                params.only(&["server"])?;
                let server = ServerUrl::parse(params.get("server")?)?;
                Ok(DeepLink::Approval {
                    approval_id,
                    server,
                })
            }
            other => Err(LinkError::UnknownKind(other.to_string())),
        }
    }
}

impl FromStr for DeepLink {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DeepLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeepLink::Pair { server, code } => f.write_str(&Self::pair(server, code)),
            DeepLink::Approval {
                approval_id,
                server,
            } => f.write_str(&Self::approval(server, *approval_id)),
        }
    }
}

struct Params(Vec<(String, String)>);

impl Params {
    fn collect(url: &Url) -> Result<Self, LinkError> {
        let mut seen: Vec<(String, String)> = Vec::new();
        for (k, v) in url.query_pairs() {
            if seen.iter().any(|(s, _)| *s == k) {
                return Err(LinkError::Repeated(k.into_owned()));
            }
            seen.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self(seen))
    }

    fn only(&self, allowed: &[&str]) -> Result<(), LinkError> {
        match self.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => Err(LinkError::Unexpected(k.clone())),
            None => Ok(()),
        }
    }

    fn get(&self, name: &'static str) -> Result<&str, LinkError> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or(LinkError::Missing(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "019a0000-0000-7000-8000-000000000001";

    #[test]
    fn approval_link_parses() {
        let link = DeepLink::parse(&format!(
            "countersign://approval/{ID}?server=http%3A%2F%2F127.0.0.1%3A8470%2F"
        ))
        .unwrap();
        assert_eq!(
            link,
            DeepLink::Approval {
                approval_id: ID.parse().unwrap(),
                server: ServerUrl::parse("http://127.0.0.1:8470").unwrap()
            }
        );
    }

    #[test]
    fn pair_link_parses() {
        let link = DeepLink::parse(
            "countersign://pair?server=https%3A%2F%2Fcs.example.com&code=abcdefghijklmnop_-12",
        )
        .unwrap();
        assert_eq!(link.server().as_str(), "https://cs.example.com");
        assert!(matches!(link, DeepLink::Pair { code, .. } if code == "abcdefghijklmnop_-12"));
    }

    #[test]
    fn each_bad_shape_has_its_error() {
        let cases: &[(&str, LinkError)] = &[
            (
                "https://x.example/approval/1",
                LinkError::WrongScheme("https".into()),
            ),
            (
                "countersign://delete/all",
                LinkError::UnknownKind("delete".into()),
            ),
            (
                "countersign://approval/42?server=http://a",
                LinkError::BadApprovalId("42".into()),
            ),
            (
                &format!("countersign://approval/{ID}"),
                LinkError::Missing("server"),
            ),
            (
                &format!("countersign://approval/{ID}?server=http://a&server=http://b"),
                LinkError::Repeated("server".into()),
            ),
            (
                &format!("countersign://approval/{ID}?server=http://a&code=abcdefghijklmnop"),
                LinkError::Unexpected("code".into()),
            ),
            (
                "countersign://pair?server=http://a&code=short",
                LinkError::BadCode,
            ),
            (
                "countersign://pair?code=abcdefghijklmnopq",
                LinkError::Missing("server"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&DeepLink::parse(text).unwrap_err(), want, "{text}");
        }
        assert!(matches!(
            DeepLink::parse(&format!(
                "countersign://approval/{ID}?server=file:///etc/passwd"
            )),
            Err(LinkError::BadServer { .. })
        ));
        assert!(matches!(
            DeepLink::parse(&format!("countersign://approval/{ID}?server=http://u:p@a")),
            Err(LinkError::BadServer { .. })
        ));
        assert!(matches!(
            DeepLink::parse("not a link"),
            Err(LinkError::NotAUrl(_))
        ));
    }

    #[test]
    fn server_urls_normalise() {
        assert_eq!(
            ServerUrl::parse("HTTP://Example.COM:80/").unwrap().as_str(),
            "http://example.com"
        );
        assert_eq!(
            ServerUrl::parse("https://example.com/countersign/")
                .unwrap()
                .as_str(),
            "https://example.com/countersign"
        );
        assert!(ServerUrl::parse("https://example.com/?a=1").is_err());
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        let secure = |text: &str| ServerUrl::parse(text).unwrap().require_secure_transport();
        for ok in [
            "https://cs.example.com",
            "https://192.168.1.20:8470",
            "https://localhost",
            "http://127.0.0.1:8470",
            "http://127.255.0.9",
            "http://[::1]:8470",
            "http://localhost:8470",
            "http://LOCALHOST",
        ] {
            assert_eq!(secure(ok), Ok(()), "{ok}");
        }
        for (bad, normal) in [
            ("http://192.168.1.20:8470", "http://192.168.1.20:8470"),
            ("http://10.0.0.1", "http://10.0.0.1"),
            ("http://cs.example.com/", "http://cs.example.com"),
            (
                "http://localhost.example.com",
                "http://localhost.example.com",
            ),
            ("http://[::ffff:127.0.0.1]", "http://[::ffff:7f00:1]"),
            ("http://0.0.0.0:8470", "http://0.0.0.0:8470"),
        ] {
            assert_eq!(
                secure(bad),
                Err(LinkError::PlainHttp { url: normal.into() }),
                "{bad}"
            );
        }
        let e = secure("http://cs.example.com").unwrap_err().to_string();
        assert!(e.contains("use https"), "{e}");
    }

    fn arb_server() -> impl Strategy<Value = ServerUrl> {
        (
            prop_oneof![Just("http"), Just("https")],
            "[a-z][a-z0-9]{0,20}(\\.[a-z]{2,6}){0,2}",
            proptest::option::of(1u16..65535),
            "(/[a-zA-Z0-9_.~-]{1,8}){0,3}",
        )
            .prop_map(|(scheme, host, port, path)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                ServerUrl::parse(&format!("{scheme}://{host}{port}{path}")).unwrap()
            })
    }

    proptest! {
        #[test]
        fn approval_links_round_trip(server in arb_server(), raw in any::<u128>()) {
            let id = Uuid::from_u128(raw);
            let text = DeepLink::approval(&server, id);
            prop_assert_eq!(DeepLink::parse(&text).unwrap(), DeepLink::Approval { approval_id: id, server });
        }

        #[test]
        fn pair_links_round_trip(server in arb_server(), code in "[A-Za-z0-9_-]{16,64}") {
            let text = DeepLink::pair(&server, &code);
            let link = DeepLink::parse(&text).unwrap();
            prop_assert_eq!(link.to_string(), text);
            prop_assert_eq!(link, DeepLink::Pair { server, code });
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}") {
            let _ = DeepLink::parse(&text);
            let _ = DeepLink::parse(&format!("countersign://{text}"));
        }
    }
}
