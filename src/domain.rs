//! The closed sets of the domain, as types: visibilities, membership states
//! and roles, notification kinds, org kinds, media states, consent purposes,
//! OAuth grant types... Each is stored as the same text as before (no data
//! migration), through one generic diesel mapping for both backends (see
//! [`text_enum!`]; crates.io's `pg_enum!` is the idea, ours is on `Text`).
//! Parsing from outside rejects unknown values; a `match` over them has no
//! catch-all, so a new variant is handled everywhere or does not compile.

/// A value that is not one of a closed set's texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not one of {allowed}")]
pub struct UnknownValue {
    pub value: String,
    pub allowed: String,
}

/// Declares an enum stored and serialised as text: `as_str`, `parse`,
/// `Display`, `FromStr`, serde, and diesel `ToSql`/`FromSql` on `Text` for
/// PostgreSQL and SQLite alike.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The texts, for messages: "a, b or c".
            pub fn allowed() -> String {
                let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                match all.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} or {last}", rest.join(", "))
                    }
                    _ => all.join(""),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::domain::UnknownValue {
                    value: s.to_owned(),
                    allowed: Self::allowed(),
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = String::from_sql(bytes)?;
                Self::parse(&s).ok_or_else(|| {
                    format!("{s:?} in the database is not a {}", stringify!($name)).into()
                })
            }
        }
    };
}

text_enum! {
    /// Who may see a post. `Members` is ours: the verified members of the
    /// post's org (apps see it as `private`, with our `tsunagu` extension).
    pub enum Visibility {
        Public => "public",
        Unlisted => "unlisted",
        Private => "private",
        Direct => "direct",
        Members => "members",
    }
}

impl Visibility {
    /// Anyone may read it (public or unlisted).
    pub fn is_open(self) -> bool {
        match self {
            Visibility::Public | Visibility::Unlisted => true,
            Visibility::Private | Visibility::Direct | Visibility::Members => false,
        }
    }

    /// How wide it reaches, for "never wider than": public 4 … direct 0.
    fn reach(self) -> u8 {
        match self {
            Visibility::Public => 4,
            Visibility::Unlisted => 3,
            Visibility::Private => 2,
            Visibility::Members => 1,
            Visibility::Direct => 0,
        }
    }

    /// The narrower of two audiences (a reblog is never wider than its original).
    pub fn narrower(self, other: Visibility) -> Visibility {
        if other.reach() < self.reach() {
            other
        } else {
            self
        }
    }

    /// The value Mastodon apps know (members-only shows as private).
    pub fn for_apps(self) -> &'static str {
        match self {
            Visibility::Members => "private",
            v @ (Visibility::Public
            | Visibility::Unlisted
            | Visibility::Private
            | Visibility::Direct) => v.as_str(),
        }
    }
}

text_enum! {
    /// Where a membership stands; `Pending` rows are requests.
    pub enum MembershipState {
        Pending => "pending",
        Verified => "verified",
        Rejected => "rejected",
        Left => "left",
    }
}

impl MembershipState {
    /// A member now (members-only posts, the directory, posting into the org).
    pub fn is_active(self) -> bool {
        match self {
            MembershipState::Verified => true,
            MembershipState::Pending | MembershipState::Rejected | MembershipState::Left => false,
        }
    }
}

text_enum! {
    /// A member's role in an org.
    pub enum Role {
        Office => "office",
        Employee => "employee",
        Alumnus => "alumnus",
    }
}

text_enum! {
    /// How a membership came about.
    pub enum Via {
        Founder => "founder",
        Invite => "invite",
        Roster => "roster",
        Request => "request",
        Remote => "remote",
        /// Vouched for by the company's single sign-on provider.
        Oidc => "oidc",
    }
}

text_enum! {
    /// An org's kind: the company's network, or a club of its members.
    pub enum OrgKind {
        Official => "official",
        Club => "club",
    }
}

text_enum! {
    /// What members consent to, each separately and withdrawably.
    pub enum ConsentPurpose {
        Directory => "directory",
        ComebackContact => "comeback_contact",
        Newsletters => "newsletters",
        ShareProfile => "share_profile",
    }
}

text_enum! {
    /// Notification types (Mastodon's, plus ours under `tsunagu.`).
    pub enum NotificationKind {
        Mention => "mention",
        Status => "status",
        Reblog => "reblog",
        Follow => "follow",
        FollowRequest => "follow_request",
        Favourite => "favourite",
        Poll => "poll",
        Update => "update",
        AdminSignUp => "admin.sign_up",
        MembershipRequest => "tsunagu.membership_request",
        /// An org asks the person to look at their alumni profile again.
        ProfileReminder => "tsunagu.profile_reminder",
    }
}

text_enum! {
    /// Where an upload is in its processing.
    pub enum MediaState {
        Processing => "processing",
        Ready => "ready",
        Failed => "failed",
    }
}

text_enum! {
    /// An attachment's kind, as Mastodon names them.
    pub enum MediaKind {
        Image => "image",
        Gifv => "gifv",
        Video => "video",
        Audio => "audio",
        Unknown => "unknown",
    }
}

text_enum! {
    /// ActivityPub actor types we store.
    pub enum ActorType {
        Person => "Person",
        Group => "Group",
        Application => "Application",
        Service => "Service",
        Organization => "Organization",
    }
}

impl ActorType {
    /// Automated accounts (apps show them as bots).
    pub fn is_bot(self) -> bool {
        match self {
            ActorType::Service | ActorType::Application => true,
            ActorType::Person | ActorType::Group | ActorType::Organization => false,
        }
    }
}

text_enum! {
    /// OAuth 2 grant types at `/oauth/token`.
    pub enum GrantType {
        AuthorizationCode => "authorization_code",
        ClientCredentials => "client_credentials",
        Password => "password",
        RefreshToken => "refresh_token",
    }
}

text_enum! {
    /// Which replies a list shows.
    pub enum RepliesPolicy {
        Followed => "followed",
        List => "list",
        None => "none",
    }
}

text_enum! {
    /// What a filter does with what it matches.
    pub enum FilterAction {
        Warn => "warn",
        Hide => "hide",
    }
}

text_enum! {
    /// Where a filter applies (Mastodon's filter contexts).
    pub enum FilterContext {
        Home => "home",
        Notifications => "notifications",
        Public => "public",
        Thread => "thread",
        Account => "account",
    }
}

text_enum! {
    /// How far a browser's sign-in got: fully signed in, or the password was
    /// right and the one-time code is still owed.
    pub enum SessionStage {
        SignedIn => "signed_in",
        SecondFactor => "second_factor",
    }
}

text_enum! {
    /// What a link sent by e-mail lets its holder do.
    pub enum TokenPurpose {
        PasswordReset => "password_reset",
        EmailChange => "email_change",
    }
}

text_enum! {
    /// Why a report was filed.
    pub enum ReportCategory {
        Spam => "spam",
        Legal => "legal",
        Violation => "violation",
        Other => "other",
    }
}

/// Typed ids where mixing them up is easy: an account's, a status's, an
/// org's (an org's id is its Group account's id).
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

typed_id!(
    /// An account's id (a person's or an org's Group account).
    AccountId
);
typed_id!(
    /// A status's id.
    StatusId
);
typed_id!(
    /// An org's id (the same number as its Group account's).
    OrgId
);

impl From<OrgId> for AccountId {
    fn from(o: OrgId) -> AccountId {
        AccountId(o.0)
    }
}

text_enum! {
    /// A field of an alumni profile: what its owner releases to an audience.
    pub enum AlumniField {
        Tenures => "tenures",
        CurrentOrg => "current_org",
        Title => "title",
        Industry => "industry",
        Location => "location",
        Skills => "skills",
        Interests => "interests",
        Languages => "languages",
        OpenTo => "open_to",
        Now => "now",
    }
}

text_enum! {
    /// Whom at an org's server a member's field is released to, as the
    /// member's own server tells it (the org's server stores it as the
    /// [`Audience`] of [`Reach::audience`]).
    pub enum Reach {
        Public => "public",
        Members => "members",
        Office => "office",
    }
}

impl Reach {
    pub fn audience(self, org: i64) -> Audience {
        match self {
            Reach::Public => Audience::Public,
            Reach::Members => Audience::Members(org),
            Reach::Office => Audience::Office(org),
        }
    }
}

text_enum! {
    /// The profile fields held as one row per value (`alumni_tags`).
    pub enum TagField {
        Skill => "skill",
        Interest => "interest",
        Language => "language",
        OpenTo => "open_to",
    }
}

impl TagField {
    /// The profile field whose audience governs these values.
    pub fn field(self) -> AlumniField {
        match self {
            TagField::Skill => AlumniField::Skills,
            TagField::Interest => AlumniField::Interests,
            TagField::Language => AlumniField::Languages,
            TagField::OpenTo => AlumniField::OpenTo,
        }
    }
}

text_enum! {
    /// What a person is open to: the reasons alumni get in touch.
    pub enum OpenTo {
        Comeback => "comeback",
        Collaboration => "collaboration",
        Mentoring => "mentoring",
        Speaking => "speaking",
        Referrals => "referrals",
    }
}

text_enum! {
    /// Broad industries, a closed list so the directory's counts add up
    /// (free text would split "IT", "ICT" and "Software").
    pub enum Industry {
        Agriculture => "agriculture",
        Mining => "mining",
        Energy => "energy",
        Construction => "construction",
        Manufacturing => "manufacturing",
        Automotive => "automotive",
        Electronics => "electronics",
        Chemicals => "chemicals",
        Pharmaceuticals => "pharmaceuticals",
        Healthcare => "healthcare",
        Retail => "retail",
        Wholesale => "wholesale",
        Logistics => "logistics",
        Telecommunications => "telecommunications",
        Software => "software",
        Finance => "finance",
        Insurance => "insurance",
        RealEstate => "real_estate",
        Consulting => "consulting",
        Legal => "legal",
        Media => "media",
        Education => "education",
        Research => "research",
        Government => "government",
        Nonprofit => "nonprofit",
        Hospitality => "hospitality",
        Other => "other",
    }
}

text_enum! {
    /// How the directory's results are ordered.
    pub enum DirectoryOrder {
        /// Latest post first.
        Active => "active",
        /// Latest profile update first.
        Updated => "updated",
        Name => "name",
        /// Earliest start at the org first (of the starts the reader may see).
        Tenure => "tenure",
    }
}

/// Who may see a profile field, besides its owner (no audience: only them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    /// Anyone, signed in or not, here or elsewhere.
    Public,
    /// Verified members of any org the owner is a verified member of.
    MyOrgs,
    /// Verified members of this org.
    Members(i64),
    /// This org's office.
    Office(i64),
}

impl Audience {
    /// As stored and as clients send it: `public`, `my_orgs`, `members:ID`,
    /// `office:ID`.
    pub fn token(self) -> String {
        match self {
            Audience::Public => "public".into(),
            Audience::MyOrgs => "my_orgs".into(),
            Audience::Members(id) => format!("members:{id}"),
            Audience::Office(id) => format!("office:{id}"),
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        let org = |id: &str| id.parse::<i64>().ok().filter(|id| *id > 0);
        match s.split_once(':') {
            None if s == "public" => Some(Audience::Public),
            None if s == "my_orgs" => Some(Audience::MyOrgs),
            Some(("members", id)) => org(id).map(Audience::Members),
            Some(("office", id)) => org(id).map(Audience::Office),
            _ => None,
        }
    }

    /// The org this audience is about, if any.
    pub fn org(self) -> Option<i64> {
        match self {
            Audience::Members(id) | Audience::Office(id) => Some(id),
            Audience::Public | Audience::MyOrgs => None,
        }
    }
}

impl serde::Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.token())
    }
}

impl<'de> serde::Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Audience::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{s:?} is not an audience: public, my_orgs, members:ORG_ID or office:ORG_ID"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip_and_unknown_values_are_refused() {
        for v in Visibility::ALL {
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(*v));
        }
        let err = "everyone".parse::<Visibility>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"everyone\" is not one of public, unlisted, private, direct or members"
        );
        assert_eq!(
            serde_json::to_string(&NotificationKind::AdminSignUp).unwrap(),
            "\"admin.sign_up\""
        );
        assert!(serde_json::from_str::<Role>("\"owner\"").is_err());
    }

    #[test]
    fn rules_as_methods() {
        use Visibility::*;
        assert!(Public.is_open() && Unlisted.is_open());
        assert!(!Private.is_open() && !Direct.is_open() && !Members.is_open());
        assert_eq!(Public.narrower(Private), Private);
        assert_eq!(Private.narrower(Public), Private);
        assert_eq!(Unlisted.narrower(Public), Unlisted);
        assert_eq!(Members.for_apps(), "private");
        assert!(MembershipState::Verified.is_active());
        assert!(!MembershipState::Left.is_active());
    }
}

text_enum! {
    /// Where a roster file from the office's web page stands.
    pub enum ImportState {
        Previewed => "previewed",
        Running => "running",
        Done => "done",
        Failed => "failed",
    }
}

text_enum! {
    /// Who may register: nobody, with an admin's approval, with an
    /// invitation, or anyone.
    #[derive(Default)]
    pub enum RegistrationMode {
        Closed => "closed",
        #[default]
        Approval => "approval",
        Invite => "invite",
        Open => "open",
    }
}

text_enum! {
    /// Which servers this one federates with: all but the blocked ones, or
    /// only those on the allow-list (Mastodon's limited federation mode).
    #[derive(Default)]
    pub enum FederationAccess {
        #[default]
        Open => "open",
        AllowList => "allowlist",
    }
}

text_enum! {
    /// What a domain block does: silence keeps that server's people out of
    /// public timelines; suspend refuses its deliveries, sends it nothing,
    /// fetches nothing from it and hides its people.
    pub enum DomainBlockSeverity {
        Silence => "silence",
        Suspend => "suspend",
    }
}

text_enum! {
    /// A moderator's action on an account (Mastodon's admin account actions).
    pub enum AccountAction {
        None => "none",
        Silence => "silence",
        Suspend => "suspend",
    }
}
