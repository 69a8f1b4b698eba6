//! The portal's rules in plain Rust: no actix, no diesel.

pub mod account;
pub mod role;
pub mod time;
