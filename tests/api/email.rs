//! Email goes out through the outbox: exactly once, even when the mail server was down at first, and
//! even with several app instances sending.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portal::config::{MailTransportKind, SmtpSecurity};
use portal::db::schema::outbox;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// A small SMTP server that accepts every message and keeps it.
#[derive(Clone, Default)]
struct Catcher(Arc<Mutex<Vec<String>>>);

impl Catcher {
    async fn serve(&self, listener: TcpListener) {
        while let Ok((stream, _)) = listener.accept().await {
            let store = self.0.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 catcher ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-catcher\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            write.write_all(b"354 go ahead\r\n").await.unwrap();
                            let mut message = String::new();
                            while let Ok(Some(data)) = lines.next_line().await {
                                if data == "." {
                                    break;
                                }
                                message.push_str(&data);
                                message.push('\n');
                            }
                            store.lock().unwrap().push(message);
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    }

    fn messages(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Per message: attempts so far, whether it was sent, whether an attempt failed.
fn outbox_state(app: &TestApp) -> Vec<(i32, bool, bool)> {
    let mut conn = app.db.connection().unwrap();
    outbox::table
        .order(outbox::id.asc())
        .select((outbox::attempts, outbox::sent_at.is_not_null(), outbox::last_error.is_not_null()))
        .load(&mut *conn)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_a_real_smtp_server_exactly_once_even_when_it_was_down_at_first() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(move |s| {
        s.mail.transport = MailTransportKind::Smtp;
        s.mail.smtp_host = "127.0.0.1".into();
        s.mail.smtp_port = port;
        s.mail.smtp_security = SmtpSecurity::None;
        s.mail.smtp_timeout_secs = 2;
    })
    .await;

    let (_, email) = app.register_company("珠海芯源微电子有限公司").await;
    wait_until("an attempt failed", || outbox_state(&app).first().is_some_and(|(_, _, failed)| *failed)).await;
    assert!(!outbox_state(&app)[0].1, "nothing can be sent while the server is down");

    let catcher = Catcher::default();
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn({
        let catcher = catcher.clone();
        async move { catcher.serve(listener).await }
    });
    wait_until("the message arrived", || !catcher.messages().is_empty()).await;
    wait_until("the outbox recorded it", || outbox_state(&app)[0].1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let messages = catcher.messages();
    assert_eq!(messages.len(), 1, "exactly once");
    assert!(messages[0].contains(&format!("To: {email}")), "{}", messages[0]);
    assert!(messages[0].contains("Message-ID: <outbox-1@policy-portal>"));
    assert!(outbox_state(&app)[0].0 >= 2, "it was retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_instances_send_each_message_once() {
    let app = spawn_app().await;
    let (_, second_mailbox) = app.another_instance().await;
    let (_, third_mailbox) = app.another_instance().await;
    let mut recipients = Vec::new();
    for n in 0..8 {
        recipients.push(app.register_company(&format!("第{n}号公司")).await.1);
    }
    wait_until("every message was sent", || outbox_state(&app).iter().all(|(_, sent, _)| *sent)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut received: HashMap<String, usize> = HashMap::new();
    for mailbox in [app.mailbox.clone(), second_mailbox, third_mailbox].into_iter().flatten() {
        for message in mailbox.messages() {
            *received.entry(message.to).or_default() += 1;
        }
    }
    for recipient in &recipients {
        assert_eq!(received.get(recipient), Some(&1), "{recipient}");
    }
    assert_eq!(received.len(), recipients.len());
}
