//! The one place that decides who sees which profile field. Every output
//! (client API, web, directory, search, ActivityPub, exports) asks here or
//! uses [`Reader::tokens`], whose tokens the directory's SQL matches; a
//! test proves the two agree.
use std::collections::BTreeSet;

use crate::db::{self, DbConn, models::LocalUser};
use crate::domain::{AlumniField, Audience};
use crate::services::ServiceResult;

/// Who is reading: their verified memberships and the orgs they are the
/// office of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reader {
    pub account_id: Option<i64>,
    pub member_of: BTreeSet<i64>,
    pub office_of: BTreeSet<i64>,
    /// Reading an org's directory: every person shown is a verified member
    /// of it, and `my_orgs` counts only through it (what the directory's SQL
    /// can check with one token; see [`Reader::tokens`]).
    pub directory_of: Option<i64>,
}

impl Reader {
    /// Someone not signed in (or a server fetching without a member's
    /// signature): public fields only.
    pub fn anonymous() -> Reader {
        Reader::default()
    }

    pub async fn load(conn: &mut DbConn<'_>, me: Option<&LocalUser>) -> ServiceResult<Reader> {
        match me {
            None => Ok(Reader::anonymous()),
            Some(me) => Reader::of_account(conn, me.account.id).await,
        }
    }

    /// Any account, local or remote (a signed fetch names its actor).
    pub async fn of_account(conn: &mut DbConn<'_>, id: i64) -> ServiceResult<Reader> {
        Ok(Reader {
            account_id: Some(id),
            member_of: db::memberships::verified_orgs(conn, id)
                .await?
                .into_iter()
                .collect(),
            office_of: db::memberships::office_orgs(conn, id)
                .await?
                .into_iter()
                .collect(),
            directory_of: None,
        })
    }

    /// This reader in `org`'s directory; `office`: acting as its office (an
    /// administrator is, without being a member).
    pub fn in_directory(mut self, org: i64, office: bool) -> Reader {
        if office {
            self.office_of.insert(org);
        }
        self.directory_of = Some(org);
        self
    }

    /// Whether this reader sees a field that `owner` (a verified member of
    /// `owner_orgs`) released to `audiences`.
    pub fn sees(&self, owner: i64, owner_orgs: &BTreeSet<i64>, audiences: &[Audience]) -> bool {
        if self.account_id == Some(owner) {
            return true;
        }
        audiences.iter().any(|a| match *a {
            Audience::Public => true,
            Audience::MyOrgs => match self.directory_of {
                Some(org) => self.account_id.is_some() && self.member_of.contains(&org),
                None => self.account_id.is_some() && !self.member_of.is_disjoint(owner_orgs),
            },
            // An org's people see what was released to them only while the
            // owner is still a member of it (leaving withdraws it, whatever
            // path the membership ended by); in a directory, only releases
            // to that org count (as for `my_orgs`).
            Audience::Members(org) => {
                self.member_of.contains(&org)
                    && owner_orgs.contains(&org)
                    && self.directory_of.is_none_or(|d| d == org)
            }
            Audience::Office(org) => {
                self.office_of.contains(&org)
                    && owner_orgs.contains(&org)
                    && self.directory_of.is_none_or(|d| d == org)
            }
        })
    }

    /// The fields of `owner` this reader sees, given all of the owner's
    /// releases.
    pub fn shown(
        &self,
        owner: i64,
        owner_orgs: &BTreeSet<i64>,
        releases: &[(AlumniField, Audience)],
    ) -> BTreeSet<AlumniField> {
        AlumniField::ALL
            .iter()
            .copied()
            .filter(|f| {
                let to: Vec<Audience> = releases
                    .iter()
                    .filter(|(g, _)| g == f)
                    .map(|(_, a)| *a)
                    .collect();
                self.sees(owner, owner_orgs, &to)
            })
            .collect()
    }

    /// What account search needs to match profile fields released to this
    /// reader (outside any directory: every org of theirs counts).
    pub fn search_reach(&self) -> db::search::ProfileReach {
        let mut tokens = vec![Audience::Public.token()];
        if self.account_id.is_some() {
            tokens.extend(self.member_of.iter().map(|o| Audience::Members(*o).token()));
            tokens.extend(self.office_of.iter().map(|o| Audience::Office(*o).token()));
        }
        db::search::ProfileReach {
            reader: self.account_id.unwrap_or(0),
            tokens,
            orgs: match self.account_id {
                Some(_) => self.member_of.iter().copied().collect(),
                None => Vec::new(),
            },
        }
    }

    /// The audience tokens this reader belongs to, in the directory of an
    /// org (see [`Reader::in_directory`]): a release reaches the reader iff
    /// its token is here.
    pub fn tokens(&self) -> Vec<String> {
        let mut out = vec![Audience::Public.token()];
        if let Some(org) = self.directory_of
            && self.account_id.is_some()
            && self.member_of.contains(&org)
        {
            // Every person listed is a verified member of `org`, as is the
            // reader: they share an org.
            out.push(Audience::MyOrgs.token());
        }
        // Everyone listed is a verified member of the directory's org; of
        // other orgs the SQL cannot tell, so their releases do not count here.
        if let Some(org) = self.directory_of {
            if self.member_of.contains(&org) {
                out.push(Audience::Members(org).token());
            }
            if self.office_of.contains(&org) {
                out.push(Audience::Office(org).token());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    /// For random owners, readers and releases inside one org's directory,
    /// the tokens the SQL matches give exactly what [`Reader::sees`] says.
    #[test]
    fn tokens_agree_with_sees() {
        let mut rng = StdRng::seed_from_u64(19);
        let org = 1;
        let orgs = [1i64, 2, 3, 4];
        let pick = |rng: &mut StdRng| -> BTreeSet<i64> {
            let mut s: BTreeSet<i64> = orgs.iter().copied().filter(|_| rng.gen_bool(0.4)).collect();
            s.insert(org);
            s
        };
        for _ in 0..5000 {
            let owner_orgs = pick(&mut rng);
            // Members of the org, and administrators acting as its office
            // without being members of it (or of anything).
            let mut member_of = pick(&mut rng);
            if rng.gen_bool(0.2) {
                member_of.remove(&org);
            }
            let reader = Reader {
                account_id: Some(100),
                member_of,
                office_of: orgs.iter().copied().filter(|_| rng.gen_bool(0.2)).collect(),
                directory_of: None,
            }
            .in_directory(org, rng.gen_bool(0.3));
            let audiences: Vec<Audience> = (0..rng.gen_range(0..4))
                .map(|_| match rng.gen_range(0..4) {
                    0 => Audience::Public,
                    1 => Audience::MyOrgs,
                    2 => Audience::Members(orgs[rng.gen_range(0..4)]),
                    _ => Audience::Office(orgs[rng.gen_range(0..4)]),
                })
                .collect();
            let tokens = reader.tokens();
            let by_tokens = audiences.iter().any(|a| tokens.contains(&a.token()));
            assert_eq!(
                reader.sees(7, &owner_orgs, &audiences),
                by_tokens,
                "{reader:?} {owner_orgs:?} {audiences:?} {tokens:?}"
            );
        }
    }

    /// Account search's SQL (`db::search::released!`: a token of
    /// [`Reader::search_reach`], or `my_orgs` with an org in common) agrees
    /// with [`Reader::sees`] for releases as stored: a release to an org's
    /// people exists only while its owner is a member there (leaving drops
    /// it).
    #[test]
    fn search_reach_agrees_with_sees() {
        let mut rng = StdRng::seed_from_u64(20);
        let orgs = [1i64, 2, 3, 4];
        let some = |rng: &mut StdRng, p: f64| -> BTreeSet<i64> {
            orgs.iter().copied().filter(|_| rng.gen_bool(p)).collect()
        };
        for _ in 0..5000 {
            let owner_orgs = some(&mut rng, 0.4);
            let signed_in = rng.gen_bool(0.8);
            let reader = Reader {
                account_id: signed_in.then_some(100),
                member_of: if signed_in {
                    some(&mut rng, 0.4)
                } else {
                    BTreeSet::new()
                },
                office_of: if signed_in {
                    some(&mut rng, 0.2)
                } else {
                    BTreeSet::new()
                },
                directory_of: None,
            };
            let owned: Vec<i64> = owner_orgs.iter().copied().collect();
            let audiences: Vec<Audience> = (0..rng.gen_range(0..4))
                .filter_map(|_| match rng.gen_range(0..4) {
                    0 => Some(Audience::Public),
                    1 => Some(Audience::MyOrgs),
                    _ if owned.is_empty() => None,
                    2 => Some(Audience::Members(owned[rng.gen_range(0..owned.len())])),
                    _ => Some(Audience::Office(owned[rng.gen_range(0..owned.len())])),
                })
                .collect();
            let reach = reader.search_reach();
            let by_sql = audiences.iter().any(|a| {
                reach.tokens.contains(&a.token())
                    || (*a == Audience::MyOrgs && reach.orgs.iter().any(|o| owner_orgs.contains(o)))
            });
            assert_eq!(
                reader.sees(7, &owner_orgs, &audiences),
                by_sql,
                "{reader:?} {owner_orgs:?} {audiences:?}"
            );
        }
    }

    #[test]
    fn private_by_default_and_owner_sees_all() {
        let orgs: BTreeSet<i64> = [1].into();
        let fellow = Reader {
            account_id: Some(2),
            member_of: [1].into(),
            office_of: BTreeSet::new(),
            directory_of: None,
        };
        assert!(!fellow.sees(7, &orgs, &[]));
        assert!(fellow.sees(7, &orgs, &[Audience::MyOrgs]));
        assert!(!fellow.sees(7, &orgs, &[Audience::Office(1)]));
        assert!(!Reader::anonymous().sees(7, &orgs, &[Audience::MyOrgs]));
        // Released to org 2's members, but the owner has left org 2.
        let elsewhere = Reader {
            member_of: [2].into(),
            ..fellow.clone()
        };
        assert!(!elsewhere.sees(7, &orgs, &[Audience::Members(2)]));
        assert!(elsewhere.sees(7, &[1, 2].into(), &[Audience::Members(2)]));
        assert!(Reader::anonymous().sees(7, &orgs, &[Audience::Public]));
        let owner = Reader {
            account_id: Some(7),
            ..Reader::default()
        };
        assert_eq!(owner.shown(7, &orgs, &[]).len(), AlumniField::ALL.len());
    }
}
