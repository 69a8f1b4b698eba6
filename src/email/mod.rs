//! Email leaves through the outbox: a change writes its message in the same transaction, and the worker
//! sends it afterwards, so a slow or failing mail server never fails or slows the request.

pub mod templates;
mod transport;
pub mod worker;

pub use transport::{Mailbox, SentMail, Transport};

/// A message as queued: one recipient, a subject and a plain-text body (Chinese first, then English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}
