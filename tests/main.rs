//! The one integration-test binary (style.md, example 15): every module
//! below is a group of tests; `support` finds the built programs and the
//! reference tools.

mod architecture;
mod client;
mod config;
mod daemon;
mod farm;
mod golden;
mod monitor;
mod packaging;
mod pump;
mod support;
