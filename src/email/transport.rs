//! Where sent email goes: an SMTP server, `.eml` files, or memory that tests read.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox as Address, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{SmtpTransport, Transport as _};
use secrecy::ExposeSecret;

use crate::config::{MailSettings, MailTransportKind, SmtpSecurity};

/// One message as it left, kept by the memory transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The memory transport's store, shared with the tests that read it.
#[derive(Debug, Clone, Default)]
pub struct Mailbox(Arc<Mutex<Vec<SentMail>>>);

impl Mailbox {
    pub fn messages(&self) -> Vec<SentMail> {
        self.0.lock().expect("mailbox lock").clone()
    }

    pub fn to(&self, address: &str) -> Vec<SentMail> {
        self.messages().into_iter().filter(|m| m.to == address).collect()
    }
}

pub enum Transport {
    Smtp { from: Address, smtp: SmtpTransport },
    File { from: Address, dir: PathBuf },
    Memory { from: Address, mailbox: Mailbox },
}

impl Transport {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Address = settings.from.parse().map_err(|e| anyhow::anyhow!("mail.from `{}`: {e}", settings.from))?;
        Ok(match settings.transport {
            MailTransportKind::Smtp => {
                let builder = match settings.smtp_security {
                    SmtpSecurity::Starttls => SmtpTransport::starttls_relay(&settings.smtp_host)?,
                    SmtpSecurity::Tls => SmtpTransport::relay(&settings.smtp_host)?,
                    SmtpSecurity::None => SmtpTransport::builder_dangerous(&settings.smtp_host),
                };
                let mut builder =
                    builder.port(settings.smtp_port).timeout(Some(Duration::from_secs(settings.smtp_timeout_secs)));
                if !settings.smtp_username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        settings.smtp_username.clone(),
                        settings.smtp_password.expose_secret().to_owned(),
                    ));
                }
                Self::Smtp { from, smtp: builder.build() }
            }
            MailTransportKind::File => Self::File { from, dir: PathBuf::from(&settings.file_dir) },
            MailTransportKind::Memory => Self::Memory { from, mailbox: Mailbox::default() },
        })
    }

    pub fn mailbox(&self) -> Option<Mailbox> {
        match self {
            Self::Memory { mailbox, .. } => Some(mailbox.clone()),
            _ => None,
        }
    }

    fn from(&self) -> &Address {
        match self {
            Self::Smtp { from, .. } | Self::File { from, .. } | Self::Memory { from, .. } => from,
        }
    }

    /// Sends one message, blocking; `message_id` is fixed per outbox row, so a retry carries the same id.
    pub fn send(&self, message_id: &str, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from().clone())
            .to(to.parse().map_err(|e| anyhow::anyhow!("recipient: {e}"))?)
            .subject(subject)
            .message_id(Some(message_id.to_owned()))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())?;
        match self {
            Self::Smtp { smtp, .. } => {
                smtp.send(&message)?;
            }
            Self::File { dir, .. } => {
                std::fs::create_dir_all(dir)?;
                let name = message_id.trim_matches(['<', '>']).replace(['@', '/'], "_");
                let partial = dir.join(format!(".{name}.eml.partial"));
                std::fs::write(&partial, message.formatted())?;
                std::fs::rename(partial, dir.join(format!("{name}.eml")))?;
            }
            Self::Memory { mailbox, .. } => mailbox.0.lock().expect("mailbox lock").push(SentMail {
                message_id: message_id.to_owned(),
                to: to.to_owned(),
                subject: subject.to_owned(),
                body: body.to_owned(),
            }),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn the_file_transport_writes_one_complete_eml_file_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_tests().unwrap().mail;
        settings.transport = MailTransportKind::File;
        settings.file_dir = dir.path().join("mail").display().to_string();
        let transport = Transport::from_settings(&settings).unwrap();
        transport.send("<outbox-7@policy-portal>", "a@company.example", "请验证您的邮箱", "正文 body").unwrap();

        let files: Vec<_> = std::fs::read_dir(dir.path().join("mail")).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "no partial file is left behind");
        assert_eq!(files[0].file_name().unwrap(), "outbox-7_policy-portal.eml");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("To: a@company.example"), "{text}");
        assert!(text.contains("Message-ID: <outbox-7@policy-portal>"), "{text}");
    }
}
