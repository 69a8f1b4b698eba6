//! SIGTERM to the real binary while payments and uploads are in flight: it stops accepting, answers what it
//! had started, exits 0 saying so, and nothing is left half-done. The binary runs on the test's database
//! and upload folder; the checks go through an instance in the test process.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use portal::domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Client, TestApp, approved, program_body, quick_program, spawn_app};

/// The binary serving on the test's database and upload folder, with its log lines.
struct Served {
    child: Child,
    address: String,
    log: Arc<Mutex<Vec<String>>>,
}

fn serve(app: &TestApp) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("serve")
        .env("APP_ENV", "test")
        .env("APP_DATABASE__URL", app.database_url())
        .env("APP_STORAGE__UPLOAD_DIR", app.uploads.path())
        .env("APP_SERVER__SHUTDOWN_TIMEOUT_SECS", "30")
        .env("APP_LOG__FILTER", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let (address_tx, address_rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on ".len()..];
                let _ = address_tx.send(rest.split(';').next().unwrap_or(rest).to_owned());
            }
            kept.lock().unwrap().push(line);
        }
    });
    let address = address_rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("the binary did not start: {:?}", log.lock().unwrap())
    });
    Served { child, address, log }
}

fn terminate(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

fn pdf(seed: u8, size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..size).map(|i| u8::try_from(i % 251).unwrap() ^ seed));
    bytes
}

fn multipart(boundary: &str, name: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"material_key\"\r\n\r\nbusiness_license\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// An upload whose body arrives in two halves: the second only once `go` says so. Answers the status.
async fn slow_upload(
    address: &str,
    token: &str,
    id: i64,
    content: &[u8],
    go: tokio::sync::oneshot::Receiver<()>,
) -> u16 {
    let body = multipart("slowslowslow", "slow.pdf", content);
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /api/v1/applications/{id}/attachments HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=slowslowslow\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, second) = body.split_at(body.len() / 2);
    stream.write_all(first).await.unwrap();
    go.await.unwrap();
    stream.write_all(second).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status: {answer}"))
}

/// Regular files under `dir`, outside hidden folders (staging).
fn stored_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .map(|p| if p.is_dir() { stored_files(&p) } else { 1 })
            .sum()
    })
}

/// `(status, body)`, or `None` when the connection was refused or closed without an answer.
async fn send(call: crate::helpers::Call) -> Option<(u16, Value)> {
    call.try_send()
        .await
        .map(|answer| (answer.status().as_u16(), serde_json::from_slice(answer.bytes()).unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_the_requests_in_flight_and_leaves_nothing_half_done() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let finance = app.token_for(Role::Finance).await;
    let quick = app.publish_program(&admin, &quick_program("PAY-2026", 0, 0)).await;
    let mut awards = Vec::new();
    for name in ["甲公司", "乙公司", "丙公司"] {
        awards.push(approved(&app, &reviewer, quick, name, 100_000_000).await.id);
    }
    let materials = app.publish_program(&admin, &program_body("UPL-2026")).await;
    let mut drafts = Vec::new();
    for name in ["丁公司", "戊公司"] {
        let (company, _) = app.eligible_company(name).await;
        let body = json!({ "program_id": materials, "requested_amount_fen": 100_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } });
        let id = app.post("/api/v1/applications", &company, &body).await.expect(201).json()["id"].as_i64().unwrap();
        drafts.push((company, id));
    }

    let served = serve(&app);
    let binary = app.on(&served.address);
    let (go, wait) = tokio::sync::oneshot::channel();
    let slow_content = pdf(99, 300_000);
    let slow = tokio::spawn({
        let (address, token, id, content) =
            (served.address.clone(), drafts[0].0.clone(), drafts[0].1, slow_content.clone());
        async move { slow_upload(&address, &token, id, &content, wait).await }
    });
    let yesterday = chrono::Utc::now().date_naive().pred_opt().unwrap();
    let payments: Vec<_> = (0..60)
        .map(|n| {
            let (binary, finance, award) = (binary.clone(), finance.clone(), awards[n % awards.len()]);
            let key = format!("sigterm-{n}");
            let body = json!({ "amount_fen": 10_000, "paid_on": yesterday, "voucher_no": format!("SIG-{n}") });
            let path = format!("/api/v1/applications/{award}/disbursements");
            let call = binary.post(&path, &finance, &body).header("idempotency-key", &key);
            (key, award, body, tokio::spawn(send(call)))
        })
        .collect();
    let uploads: Vec<_> = (0..8_u8)
        .map(|n| {
            let (token, id) = drafts[usize::from(n) % drafts.len()].clone();
            let (name, content) = (format!("file-{n}.pdf"), pdf(n, 200_000));
            let call = upload_call(&binary, &token, id, &name, &content);
            (name, content, tokio::spawn(send(call)))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let signalled = Instant::now();
    terminate(&served.child);

    // No new connection is accepted, while the slow upload is still being received.
    let host = served.address.trim_start_matches("http://").to_owned();
    loop {
        match tokio::net::TcpStream::connect(&host).await {
            Err(_) => break,
            Ok(_) => assert!(signalled.elapsed() < Duration::from_secs(10), "still accepting after SIGTERM"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    go.send(()).unwrap();
    assert_eq!(slow.await.unwrap(), 201, "the upload in flight at SIGTERM was answered");

    let mut child = served.child;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(signalled.elapsed() < Duration::from_secs(60), "the binary did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = served.log.lock().unwrap().join("\n");
    assert!(status.success(), "exit {status:?}:\n{log}");
    assert!(log.contains("stopping: no new connections") && log.contains("signal=\"SIGTERM\""), "{log}");
    assert!(log.contains("stopped gracefully"), "{log}");

    check_payments(&app, &finance, &awards, payments).await;
    check_uploads(&app, &drafts, slow_content, uploads).await;
}

type Outcome = tokio::task::JoinHandle<Option<(u16, Value)>>;

/// Every 201 is paid once, a key without an answer is paid at most once, and replaying every key through
/// the other instance gives each key exactly one payment, with the same id as its answer.
async fn check_payments(app: &TestApp, finance: &str, awards: &[i64], payments: Vec<(String, i64, Value, Outcome)>) {
    let mut answered = 0;
    let mut paid: BTreeMap<String, i64> = BTreeMap::new();
    for (key, award, body, outcome) in payments {
        let first = outcome.await.unwrap();
        let path = format!("/api/v1/applications/{award}/disbursements");
        let replay = app.post(&path, finance, &body).header("idempotency-key", &key).await.expect(201).json();
        if let Some((status, first)) = first {
            assert_eq!(status, 201, "{key}: {first}");
            assert_eq!(first["id"], replay["id"], "{key} answered one payment and replays another");
            answered += 1;
        }
        paid.insert(key, replay["id"].as_i64().unwrap());
    }
    assert!(answered > 0, "no payment was answered before the stop");
    let mut listed = BTreeSet::new();
    for award in awards {
        let entries: Value = app.get(&format!("/api/v1/applications/{award}/disbursements"), finance).await.json();
        for entry in entries.as_array().unwrap() {
            listed.insert(entry["id"].as_i64().unwrap());
        }
    }
    let replayed: BTreeSet<i64> = paid.values().copied().collect();
    assert_eq!(replayed.len(), paid.len(), "two keys share a payment");
    assert_eq!(listed, replayed, "the payments are exactly one per key");
}

/// Every 201 is listed and downloads whole; nothing is stored that is not listed.
async fn check_uploads(
    app: &TestApp,
    drafts: &[(String, i64)],
    slow_content: Vec<u8>,
    uploads: Vec<(String, Vec<u8>, Outcome)>,
) {
    let mut sent: BTreeMap<String, Vec<u8>> = BTreeMap::from([("slow.pdf".to_owned(), slow_content)]);
    let mut answered = BTreeSet::new();
    for (name, content, outcome) in uploads {
        if let Some((status, body)) = outcome.await.unwrap() {
            assert_eq!(status, 201, "{name}: {body}");
            answered.insert(body["id"].as_i64().unwrap());
        }
        sent.insert(name, content);
    }
    let mut listed = BTreeSet::new();
    for (token, id) in drafts {
        let list: Value = app.get(&format!("/api/v1/applications/{id}/attachments"), token).await.expect(200).json();
        for attachment in list.as_array().unwrap() {
            let name = attachment["file_name"].as_str().unwrap();
            let download = app.get(&format!("/api/v1/applications/{id}/attachments/{}", attachment["id"]), token).await;
            assert_eq!(download.bytes(), sent[name].as_slice(), "{name} is not whole");
            assert_eq!(attachment["sha256"], hex::encode(Sha256::digest(&sent[name])));
            listed.insert(attachment["id"].as_i64().unwrap());
        }
    }
    assert!(answered.is_subset(&listed), "an upload answered 201 is not listed: {answered:?} {listed:?}");
    assert_eq!(stored_files(app.uploads.path()), listed.len(), "a file is stored without its row");
}

fn upload_call(client: &Client, token: &str, id: i64, name: &str, content: &[u8]) -> crate::helpers::Call {
    let boundary = format!("b{}", uuid::Uuid::new_v4().simple());
    client
        .request(Method::POST, &format!("/api/v1/applications/{id}/attachments"), token)
        .body(&format!("multipart/form-data; boundary={boundary}"), multipart(&boundary, name, content))
}
