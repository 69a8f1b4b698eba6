//! The portal's rules in plain Rust: no actix, no diesel.

pub mod account;
pub mod audit;
pub mod company;
pub mod credit_code;
pub mod limits;
pub mod role;
pub mod time;
pub mod validation;
