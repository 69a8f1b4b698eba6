//! Passwords, second factors and tokens: how someone proves who they are.

pub mod password;
pub mod secret;
pub mod tokens;
pub mod totp;
