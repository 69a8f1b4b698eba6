//! The use cases: one function per business operation, called alike by the JSON API and the console.
//! Each takes the caller, its typed input and the database, runs as one transaction with its audit event
//! and outbox messages, and answers a typed result or an [`Error`].

pub mod allocation;
pub mod applications;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod caller;
pub mod companies;
pub mod error;
pub mod housekeeping;
pub mod idempotency;
pub mod invoices;
pub mod mfa;
pub mod notify;
pub mod objections;
pub mod operations;
pub mod outreach;
pub mod passwords;
pub mod payments;
pub mod plans;
pub mod programs;
pub mod queues;
pub mod registration;
pub mod reports;
pub mod requests;
pub mod reviews;
pub mod sessions;
pub mod throttle;
pub mod users;
pub mod workflow;

pub use caller::SignedIn;
pub use error::{Error, Result};
