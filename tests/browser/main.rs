//! The pages in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
//! driven through WebDriver, against real nodes on loopback ports, on SQLite or PostgreSQL like
//! the rest of the suite. Each journey is one test; every page a journey visits is checked with
//! axe-core at 360 px and 1280 px and photographed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod console;
mod console_setup;
mod harness;
mod journeys;
mod network;
mod outside;
mod security;
mod spanish;
