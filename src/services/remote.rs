//! What services need from other servers, said without ActivityPub: the
//! events other servers must hear of ([`Outgoing`]), the look-ups that may ask
//! them ([`Federation`]), and how such a request fails ([`FederationError`]).
//!
//! `federation/` implements [`Federation`] and the composition root
//! (`crate::context`) puts it into [`Ctx`], so services never name the
//! protocol's module and the layers keep one direction (docs/architecture.md;
//! compare Lemmy's `SendActivityData`).
use std::any::Any;

use futures_util::future::BoxFuture;

use super::{Ctx, ServiceResult};
use crate::db::DbConn;
use crate::db::models::{Account, Consent, Membership, Report, Status};

/// Something that happened here which other servers must be told. Each is
/// queued inside the transaction that made it happen, so a rollback tells no
/// one and a commit loses nothing.
pub enum Outgoing<'a> {
    /// A local post was made or edited (`Create`/`Update`).
    StatusPublished {
        author: &'a Account,
        status: &'a Status,
        edited: bool,
    },
    /// A local post is about to go (`Delete` with a Tombstone).
    StatusDeleted {
        author: &'a Account,
        status: &'a Status,
    },
    /// A local org shared a post made into it (its `reblog` row is written).
    SharedByOrg {
        org: &'a Account,
        author: &'a Account,
        status: &'a Status,
        reblog: &'a Status,
    },
    /// Our person voted in a remote poll.
    PollVoted {
        voter: &'a Account,
        question: &'a Status,
        author: &'a Account,
        choices: &'a [(i32, String)],
    },
    /// A report about a remote account, forwarded to its server.
    ReportForwarded {
        report: &'a Report,
        target: &'a Account,
        statuses: &'a [Status],
    },
    /// Our person follows a remote account (the follow row's id names it).
    FollowRequested {
        follower: &'a Account,
        target: &'a Account,
        follow_id: i64,
    },
    /// Our person stopped following a remote account.
    FollowUndone {
        follower: &'a Account,
        target: &'a Account,
        follow_uri: Option<String>,
    },
    /// Our account answered a remote follow request.
    FollowAnswered {
        followed: &'a Account,
        requester: &'a Account,
        follow_uri: Option<String>,
        accepted: bool,
    },
    /// Our person favourited (or stopped favouriting) a remote post.
    Favourited {
        by: &'a Account,
        status: &'a Status,
        on: bool,
    },
    /// Our person boosted (or un-boosted) a post.
    Reblogged {
        by: &'a Account,
        reblog: &'a Status,
        original: &'a Status,
        on: bool,
    },
    /// An account's profile changed.
    ProfileUpdated { account: &'a Account },
    /// A local account is erased: every known server hears of it.
    AccountDeleted { account: &'a Account },
    /// A remote member's membership of a local org changed state.
    MembershipChanged { membership: &'a Membership },
    /// Our person asks to join a remote org (again, when consents change).
    JoinRequested {
        person: &'a Account,
        org: &'a Account,
        membership: &'a Membership,
        invite_code: Option<&'a str>,
        consents: &'a [Consent],
    },
    /// What our person releases to the people of a remote org changed (or
    /// they became its member): its server gets the fields they may see.
    AlumniReleased {
        person: &'a Account,
        org: &'a Account,
    },
    /// A remote org removed or refused our person: what was stored here
    /// for sending to it loses every field (nothing new is sent).
    AlumniWithdrawn {
        person: &'a Account,
        org: &'a Account,
    },
    /// Our person left a remote org.
    LeftOrg {
        person: &'a Account,
        org: &'a Account,
    },
}

/// A remote account or post found by its URL.
pub enum Resolved {
    Account(Box<Account>),
    Status(Box<Status>),
}

/// The protocol side, as services see it.
pub trait Federation: Any + Send + Sync {
    /// Queues what `event` means for other servers on `tx` (the caller's
    /// transaction). Returns the id of the activity a row keeps, for the
    /// events that have one (a Follow, a Join, a Flag).
    fn queue<'a>(
        &'a self,
        ctx: &'a Ctx,
        tx: &'a mut DbConn<'_>,
        event: Outgoing<'a>,
    ) -> BoxFuture<'a, ServiceResult<Option<String>>>;

    /// Wakes delivery after a commit that queued work.
    fn wake(&self);

    /// A remote account by `user@host`: stored, or asked of its server.
    fn account_by_acct<'a>(
        &'a self,
        ctx: &'a Ctx,
        user: &'a str,
        host: &'a str,
    ) -> BoxFuture<'a, ServiceResult<Account>>;

    /// An account or a post by URL: stored, or fetched and checked.
    fn resolve<'a>(
        &'a self,
        ctx: &'a Ctx,
        url: &'a str,
    ) -> BoxFuture<'a, ServiceResult<Option<Resolved>>>;

    /// The official orgs that confirm a remote club's claimed recognitions.
    fn recognitions<'a>(
        &'a self,
        ctx: &'a Ctx,
        club: &'a Account,
    ) -> BoxFuture<'a, ServiceResult<Vec<Account>>>;

    /// Makes sure the instance actor's key exists (it signs what the
    /// instance itself sends, such as a forwarded report).
    fn prepare_instance_key<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, ServiceResult<()>>;

    /// Starts delivery and inbox workers; they stop when the handles abort.
    fn start_workers(&self, ctx: Ctx) -> Vec<tokio::task::JoinHandle<()>>;
}

/// A failure talking to another server, and whether trying again later may
/// help (a timeout, a 5xx, a 429) or not (a 404, a refused URL, a document
/// that is not what it claims). The detail names addresses and transport
/// errors: it is for logs, never for clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationError {
    pub detail: String,
    pub retryable: bool,
}

impl FederationError {
    /// A failure that will not go away by waiting.
    pub fn permanent(detail: impl Into<String>) -> FederationError {
        FederationError {
            detail: detail.into(),
            retryable: false,
        }
    }
}

impl std::fmt::Display for FederationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl Ctx {
    /// Queues `event` for other servers inside `tx` (see [`Outgoing`]).
    pub async fn federate(
        &self,
        tx: &mut DbConn<'_>,
        event: Outgoing<'_>,
    ) -> ServiceResult<Option<String>> {
        self.fed.queue(self, tx, event).await
    }

    /// Wakes delivery after the commit of a transaction that queued work.
    pub fn wake_delivery(&self) {
        self.fed.wake();
    }
}
