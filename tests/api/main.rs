//! Integration tests of the client API and the OAuth pages, each on SQLite
//! and on PostgreSQL, through the real router.
#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod admin;
mod alumni;
mod apps;
mod instance;
mod media;
mod oauth;
mod office;
mod organize;
mod orgs;
mod pages;
mod polls;
mod registration;
mod reports;
mod search;
mod security;
mod setup;
mod social;
mod statuses;
mod streaming;
mod timelines;
mod web;
