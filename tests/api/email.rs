//! Email goes out through the outbox: exactly once, even when the mail server was down or too slow at
//! first, and even with several app instances sending.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portal::config::{MailTransportKind, SmtpSecurity};
use portal::db::schema::outbox;
use portal::email::Email;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// A small SMTP server that accepts every message and keeps it; while `slow`, it greets a client only
/// after five seconds, later than the service waits.
#[derive(Clone, Default)]
struct Catcher {
    messages: Arc<Mutex<Vec<String>>>,
    slow: Arc<AtomicBool>,
}

impl Catcher {
    async fn serve(&self, listener: TcpListener) {
        while let Ok((stream, _)) = listener.accept().await {
            let (store, slow) = (self.messages.clone(), self.slow.load(Ordering::SeqCst));
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                if slow {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                if write.write_all(b"220 catcher ESMTP\r\n").await.is_err() {
                    return; // the client gave up waiting
                }
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-catcher\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
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
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    }

    fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(40);
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
async fn mail_reaches_a_real_smtp_server_exactly_once_after_it_was_down_then_slow() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(move |s| {
        s.mail.transport = MailTransportKind::Smtp;
        s.mail.smtp_host = "127.0.0.1".into();
        s.mail.smtp_port = port;
        s.mail.smtp_security = SmtpSecurity::None;
        s.mail.smtp_timeout_secs = 2;
    })
    .await;

    // Down: registering still succeeds at once; its mail waits.
    let (_, first) = app.register_company("珠海芯源微电子有限公司").await;
    wait_until("an attempt failed", || outbox_state(&app).first().is_some_and(|(_, _, failed)| *failed)).await;
    assert!(!outbox_state(&app)[0].1, "nothing can be sent while the server is down");

    // Slow: the server answers after the service stopped waiting; nothing is delivered, and requests that
    // queue mail are not slowed.
    let catcher = Catcher::default();
    catcher.slow.store(true, Ordering::SeqCst);
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn({
        let catcher = catcher.clone();
        async move { catcher.serve(listener).await }
    });
    let attempts_while_down = outbox_state(&app)[0].0;
    let started = Instant::now();
    let (_, second) = app.register_company("珠海海岸生物医药有限公司").await;
    assert!(started.elapsed() < Duration::from_secs(2), "registering waited for the mail server");
    wait_until("both messages failed against the slow server", || {
        let state = outbox_state(&app);
        state.len() == 2 && state[0].0 > attempts_while_down && state[1].0 >= 1 && state[1].2
    })
    .await;
    assert!(catcher.messages().is_empty(), "a message got through a server that never greeted in time");

    // Back: each message arrives, once.
    catcher.slow.store(false, Ordering::SeqCst);
    wait_until("both messages arrived", || catcher.messages().len() >= 2).await;
    wait_until("the outbox recorded them", || outbox_state(&app).iter().all(|(_, sent, _)| *sent)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let messages = catcher.messages();
    assert_eq!(messages.len(), 2, "each message exactly once");
    for (n, email) in [first, second].iter().enumerate() {
        let delivered: Vec<_> = messages.iter().filter(|m| m.contains(&format!("To: {email}"))).collect();
        assert_eq!(delivered.len(), 1, "{email}");
        assert!(delivered[0].contains(&format!("Message-ID: <outbox-{}@policy-portal>", n + 1)));
    }
    assert!(outbox_state(&app).iter().all(|(attempts, _, _)| *attempts >= 2), "both were retried");
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

/// Sending a backlog writes once per message. Another writer waits for its turn, not for SQLite's busy
/// timeout (here 300 ms): every sign-in while thousands of messages go out is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_while_a_backlog_of_mail_goes_out_are_all_answered() {
    let app = spawn_app_with(|s| s.database.sqlite_busy_timeout_ms = 300).await;
    app.create_user(portal::domain::role::Role::Admin, "admin@park.example").await;
    let backlog: Vec<Email> = (0..5000)
        .map(|n| Email {
            to: format!("company{n}@park.example"),
            subject: "新政策发布".into(),
            body: "一项新政策已发布。".into(),
        })
        .collect();
    let now = portal::domain::time::now();
    app.db.write(move |conn| portal::db::outbox::enqueue_all(conn, &backlog, now)).await.unwrap();
    wait_until("the backlog started going out", || outbox_state(&app).iter().any(|(_, sent, _)| *sent)).await;

    for n in 0..20 {
        let answer = app.login("admin@park.example", crate::helpers::PASSWORD).await;
        assert_eq!(answer.status(), 200, "sign-in {n}");
    }
    let unsent = outbox_state(&app).iter().filter(|(_, sent, _)| !sent).count();
    assert!(unsent > 0, "the backlog was sent before the sign-ins ended, so they did not compete with it");
}
