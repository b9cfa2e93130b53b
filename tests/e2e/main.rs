//! End-to-end tests: each starts a real node on a loopback port with its own database and talks
//! HTTP to it. Set ALONGSIDE_TEST_DATABASE_URL=postgres://... to run them all on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod abuse;
mod access_matrix;
mod auth;
mod bad_input;
mod coordinator_view;
mod demo;
mod domain;
mod federation;
mod federation_ops;
mod health;
mod languages;
mod library;
mod lifecycle;
mod metrics;
mod migrations;
mod notifications;
mod observability;
mod oidc;
mod oncall;
mod pages;
mod rematch;
mod scim;
mod staff_import;
mod surveys;
mod text_messages;
mod unlinkable;
