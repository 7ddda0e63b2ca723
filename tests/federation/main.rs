//! Several real instances on loopback, each with its own database, driven
//! through the client API over real HTTP. The harness is in `harness.rs`;
//! scenarios are grouped by what travels.
#[path = "../common/mod.rs"]
mod common;
mod harness;

mod alumni;
mod delivery;
mod lemmy;
mod moderation;
mod orgs;
mod people;
mod pool;
mod posts;
mod security;

use std::collections::BTreeMap;
use std::time::Duration;

use common::Backend;
use harness::*;
use serde_json::{Value, json};
