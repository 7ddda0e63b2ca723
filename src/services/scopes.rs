//! OAuth scopes as Mastodon defines them: top-level `read`, `write`, `follow`,
//! `push`, `profile`, `admin:read`, `admin:write`, and granular ones such as
//! `read:accounts`. A broader scope grants every narrower one beneath it.
use std::fmt;

pub const TOP: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "admin:read",
    "admin:write",
];

pub const GRANULAR: &[&str] = &[
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

/// The legacy `follow` scope covers these.
const FOLLOW_COVERS: &[&str] = &[
    "read:blocks",
    "write:blocks",
    "read:follows",
    "write:follows",
    "read:mutes",
    "write:mutes",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space- (or `+`-) separated list; unknown scopes are an error naming them.
    pub fn parse(s: &str) -> Result<Scopes, String> {
        let mut out: Vec<String> = Vec::new();
        for part in s
            .split([' ', '+', ','])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if !TOP.contains(&part) && !GRANULAR.contains(&part) {
                return Err(format!("unknown scope {part:?}"));
            }
            if !out.iter().any(|o| o == part) {
                out.push(part.to_owned());
            }
        }
        Ok(Scopes(out))
    }

    /// `read` — the default when a client asks for nothing.
    pub fn default_read() -> Scopes {
        Scopes(vec!["read".into()])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Does this set grant `required`?
    pub fn allows(&self, required: &str) -> bool {
        self.0.iter().any(|have| grants(have, required))
    }

    /// Does this set grant at least one of `required`?
    pub fn allows_any(&self, required: &[&str]) -> bool {
        required.iter().any(|r| self.allows(r))
    }

    /// Every scope of `self` is granted by `outer` (a request within an app's registration).
    pub fn within(&self, outer: &Scopes) -> bool {
        self.0.iter().all(|s| outer.allows(s))
    }
}

fn grants(have: &str, required: &str) -> bool {
    if have == required {
        return true;
    }
    if have == "follow" && FOLLOW_COVERS.contains(&required) {
        return true;
    }
    // `read` grants `read:x`, `admin:read` grants `admin:read:x`.
    required
        .strip_prefix(have)
        .is_some_and(|rest| rest.starts_with(':'))
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broad_scopes_grant_narrow_ones() {
        let s = Scopes::parse("read write:statuses follow").unwrap();
        assert!(s.allows("read:accounts"));
        assert!(s.allows("write:statuses"));
        assert!(!s.allows("write:accounts"));
        assert!(s.allows("write:follows"));
        assert!(!s.allows("admin:read"));
        assert!(
            !Scopes::parse("admin:read")
                .unwrap()
                .allows("admin:write:accounts")
        );
        assert!(
            Scopes::parse("admin:read")
                .unwrap()
                .allows("admin:read:accounts")
        );
        assert!(!Scopes::parse("read").unwrap().allows("readx"));
    }

    #[test]
    fn unknown_scopes_are_rejected() {
        assert!(Scopes::parse("read fly").unwrap_err().contains("fly"));
        assert_eq!(
            Scopes::parse("read+write").unwrap().to_string(),
            "read write"
        );
    }

    #[test]
    fn requests_must_stay_within_the_app() {
        let app = Scopes::parse("read write").unwrap();
        assert!(Scopes::parse("read:accounts write").unwrap().within(&app));
        assert!(!Scopes::parse("follow").unwrap().within(&app));
    }
}
