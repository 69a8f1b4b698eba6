//! The HTTP API, end to end, against a real database: SQLite by default, PostgreSQL when
//! `TEST_POSTGRES_URL` is set.

mod cli;
mod database;
mod errors;
mod health;
mod helpers;
mod openapi;
mod sign_in;
