//! `AlumniProfile`: what a member releases to the people of an org whose
//! server is elsewhere. Sent to that server only (inside `Update`), and
//! served to a fetch signed by the org or one of its members.
//!
//! Values use schema.org terms where they exist (`jobTitle`, `worksFor`,
//! `knowsAbout`, `knowsLanguage`) and ours otherwise; `tsunaguReleasedTo`
//! says, per field, whom at the org it is for. A field absent from it is
//! withdrawn: the receiver keeps no copy.
use serde::{Deserialize, Serialize};

use super::Context;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AlumniProfileDoc {
    #[serde(
        rename = "@context",
        skip_deserializing,
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<Context>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub attributed_to: String,
    /// The org (its actor) whose people this is for.
    pub audience: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    #[serde(rename = "tsunaguReleasedTo", default)]
    pub released_to: ReleasedTo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub works_for: Option<String>,
    #[serde(
        rename = "tsunaguIndustry",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub industry: Option<String>,
    #[serde(
        rename = "tsunaguLocation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub location: Option<AlumniLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knows_about: Option<Vec<String>>,
    #[serde(
        rename = "tsunaguInterests",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub interests: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knows_language: Option<Vec<String>>,
    #[serde(
        rename = "tsunaguOpenTo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub open_to: Option<Vec<String>>,
    #[serde(
        rename = "tsunaguNow",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub now: Option<AlumniNow>,
    #[serde(
        rename = "tsunaguTenures",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tenures: Option<Vec<AlumniTenure>>,
}

/// Per field name (`title`, `skills`...), who at the org may see it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReleasedTo {
    #[serde(default)]
    pub public: Vec<String>,
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub office: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AlumniLocation {
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AlumniNow {
    #[serde(default)]
    pub content: String,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub published: Option<String>,
}

/// A period at an org, the org named by its actor id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AlumniTenure {
    pub org: String,
    pub from: i32,
    #[serde(default)]
    pub to: Option<i32>,
    #[serde(default)]
    pub division: String,
    #[serde(default)]
    pub title: String,
}
