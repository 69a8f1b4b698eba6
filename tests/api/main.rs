//! The HTTP API, end to end, against a real database: SQLite by default, PostgreSQL when
//! `TEST_POSTGRES_URL` is set.

mod access;
mod applications;
mod audit;
mod cli;
mod companies;
mod console;
mod database;
mod email;
mod errors;
mod funding;
mod guarding;
mod health;
mod helpers;
mod housekeeping;
mod layers;
mod lists;
mod mfa;
mod money;
mod openapi;
mod operations;
mod outreach;
mod programs;
mod registration;
mod requests;
mod review;
mod shutdown;
mod sign_in;
mod storage;
mod tokens;
