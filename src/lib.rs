//! tsunagu (つなぐ): a federated ActivityPub server for corporate alumni
//! communities. See docs/architecture.md for the layers.
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod federation;
pub mod ids;
pub mod services;
pub mod web;
