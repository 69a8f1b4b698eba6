//! What `GET /metrics` reports, in the Prometheus text format (0.0.4), written by hand: requests by route
//! template and status with latency histograms, kept here as they happen, and gauges that their owners (the
//! pool, the password threads, the database) are asked for at scrape time. Labels never carry ids: a
//! route is its pattern (`/api/v1/applications/{id}`), or `unmatched`.

use std::collections::HashMap;
use std::fmt::{Display, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds: from a cached read to a slow report.
pub const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A histogram of durations with fixed buckets, safe to observe from any thread without a lock.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations at or below each bound (not cumulative; summed when written).
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(bucket) = self.bounds.iter().position(|bound| seconds <= *bound) {
            self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn write(&self, out: &mut Exposition, name: &str, labels: &[(&str, &str)]) {
        let mut cumulative = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = bound.to_string();
            out.sample(&format!("{name}_bucket"), &[labels, &[("le", le.as_str())]].concat(), cumulative);
        }
        // Read after the buckets, so `+Inf` is never below the last bucket.
        let count = self.count().max(cumulative);
        out.sample(&format!("{name}_bucket"), &[labels, &[("le", "+Inf")]].concat(), count);
        #[expect(clippy::cast_precision_loss, reason = "microseconds summed stay far below 2^53 for centuries")]
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        out.sample(&format!("{name}_sum"), labels, sum);
        out.sample(&format!("{name}_count"), labels, count);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Route {
    method: &'static str,
    route: String,
}

#[derive(Debug)]
struct RouteSeries {
    latency: Histogram,
    /// Answers by status code; a route answers a handful of codes.
    statuses: RwLock<HashMap<u16, AtomicU64>>,
}

/// Requests answered since the process started, by route template, method and status; and those being
/// answered now.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    routes: RwLock<HashMap<Route, Arc<RouteSeries>>>,
    in_flight: AtomicU64,
    abandoned: AtomicU64,
}

/// A request being answered: counted in flight until dropped, and abandoned if dropped before
/// [`InFlight::answered`] (the client went away, or the shutdown timeout cut it).
#[derive(Debug)]
pub struct InFlight {
    metrics: Arc<HttpMetrics>,
    answered: bool,
}

impl InFlight {
    pub fn answered(mut self, method: &str, route: Option<String>, status: u16, elapsed: Duration) {
        self.answered = true;
        self.metrics.record(method, route, status, elapsed);
    }

    /// The framework failed the request before it had an answer; it is neither counted nor abandoned.
    pub fn failed(mut self) {
        self.answered = true;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
        if !self.answered {
            self.metrics.abandoned.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl HttpMetrics {
    /// Counts a request in flight until the returned guard is answered or dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight { metrics: self.clone(), answered: false }
    }

    /// Requests being answered now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Requests dropped before their answer was ready, since the start.
    pub fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }

    /// Counts one answered request. `route` is the matched pattern, `None` when no route matched (so a
    /// scan of random paths adds one series, not one per path).
    fn record(&self, method: &str, route: Option<String>, status: u16, elapsed: Duration) {
        let key = Route { method: known_method(method), route: route.unwrap_or_else(|| "unmatched".to_owned()) };
        let existing = self.routes.read().expect("metrics lock").get(&key).cloned();
        let series = existing.unwrap_or_else(|| {
            let mut routes = self.routes.write().expect("metrics lock");
            routes
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(RouteSeries { latency: Histogram::new(&LATENCY_BUCKETS), statuses: RwLock::default() })
                })
                .clone()
        });
        series.latency.observe(elapsed);
        if let Some(counter) = series.statuses.read().expect("metrics lock").get(&status) {
            counter.fetch_add(1, Ordering::Relaxed);
            return;
        }
        series.statuses.write().expect("metrics lock").entry(status).or_default().fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self, out: &mut Exposition) {
        let mut routes: Vec<(Route, Arc<RouteSeries>)> =
            self.routes.read().expect("metrics lock").iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        routes.sort_by(|a, b| (&a.0.route, a.0.method).cmp(&(&b.0.route, b.0.method)));
        out.family("portal_http_requests_total", "counter", "Requests answered, by route template, method and status.");
        for (key, series) in &routes {
            let mut statuses: Vec<(u16, u64)> = series
                .statuses
                .read()
                .expect("metrics lock")
                .iter()
                .map(|(status, n)| (*status, n.load(Ordering::Relaxed)))
                .collect();
            statuses.sort_unstable();
            for (status, n) in statuses {
                let status = status.to_string();
                let labels = [("method", key.method), ("route", key.route.as_str()), ("status", status.as_str())];
                out.sample("portal_http_requests_total", &labels, n);
            }
        }
        out.gauge("portal_http_requests_in_flight", "Requests being answered now.", &[], self.in_flight());
        out.counter(
            "portal_http_requests_abandoned_total",
            "Requests dropped before their answer: the client went away, or a shutdown cut them.",
            self.abandoned(),
        );
        out.family(
            "portal_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer, by route template and method.",
        );
        for (key, series) in &routes {
            let labels = [("method", key.method), ("route", key.route.as_str())];
            series.latency.write(out, "portal_http_request_duration_seconds", &labels);
        }
    }
}

/// The method as a label: one of the standard ones, or `other` (a client may send any token).
fn known_method(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];
    KNOWN.iter().find(|known| **known == method).copied().unwrap_or("other")
}

/// The database pool and the database tasks on the blocking pool, as [`crate::db::Db::stats`] reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub max: u32,
    pub in_use: u32,
    pub idle: u32,
    /// Database tasks waiting for a thread of the blocking pool, and running on one.
    pub tasks_queued: u64,
    pub tasks_running: u64,
    /// Check-outs that found no connection within `database.acquire_timeout_ms` (answered 503).
    pub timeouts: u64,
}

/// The password hashing threads' queue (`auth.max_queued_hashes`).
#[derive(Debug, Clone, Copy, Default)]
pub struct HashQueueStats {
    pub queued: u64,
    pub running: u64,
    pub capacity: u64,
    /// Sign-ins and registrations turned away because the queue was full (503).
    pub refused: u64,
}

/// Work waiting in the database, read at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backlog {
    /// Email not sent yet and not given up.
    pub outbox_pending: i64,
    /// How long the oldest message that is due now has waited since it was queued; 0 when none is due.
    pub outbox_oldest_due_secs: i64,
    /// Email given up after every retry.
    pub outbox_failed: i64,
    /// Approved awards not fully paid whose payment due date has passed.
    pub payments_overdue: i64,
    /// Company requests past a deadline with their clock running.
    pub requests_overdue: i64,
}

/// Everything one scrape reports.
pub struct Scrape<'a> {
    pub http: &'a HttpMetrics,
    pub pool: PoolStats,
    pub pool_wait: &'a Histogram,
    pub hashes: HashQueueStats,
    /// `None` when the database did not answer.
    pub backlog: Option<Backlog>,
}

/// The scrape in the Prometheus text format.
pub fn render(scrape: &Scrape<'_>) -> String {
    let mut out = Exposition::default();
    out.gauge("portal_build_info", "The running version.", &[("version", env!("CARGO_PKG_VERSION"))], 1);
    scrape.http.write(&mut out);

    let pool = scrape.pool;
    out.gauge("portal_db_pool_max_connections", "Connections the pool may open (database.pool_size).", &[], pool.max);
    out.family("portal_db_pool_connections", "gauge", "Open pool connections, lent out or idle.");
    out.sample("portal_db_pool_connections", &[("state", "in_use")], pool.in_use);
    out.sample("portal_db_pool_connections", &[("state", "idle")], pool.idle);
    out.family(
        "portal_db_pool_wait_seconds",
        "histogram",
        "Time each database task waited for a pool connection (opening one included).",
    );
    scrape.pool_wait.write(&mut out, "portal_db_pool_wait_seconds", &[]);
    out.counter(
        "portal_db_pool_timeouts_total",
        "Database tasks that found no connection within database.acquire_timeout_ms (answered 503).",
        pool.timeouts,
    );
    out.family("portal_blocking_db_tasks", "gauge", "Database tasks on the blocking thread pool, waiting or running.");
    out.sample("portal_blocking_db_tasks", &[("state", "queued")], pool.tasks_queued);
    out.sample("portal_blocking_db_tasks", &[("state", "running")], pool.tasks_running);

    let hashes = scrape.hashes;
    out.family("portal_password_hashes", "gauge", "Password hashes and checks waiting for or on the hashing threads.");
    out.sample("portal_password_hashes", &[("state", "queued")], hashes.queued);
    out.sample("portal_password_hashes", &[("state", "running")], hashes.running);
    out.gauge("portal_password_hash_queue_capacity", "auth.max_queued_hashes.", &[], hashes.capacity);
    out.counter(
        "portal_password_hash_refused_total",
        "Sign-ins and registrations answered 503 because the hashing queue was full.",
        hashes.refused,
    );

    out.gauge(
        "portal_database_up",
        "1 when the database answered this scrape's read.",
        &[],
        u8::from(scrape.backlog.is_some()),
    );
    if let Some(backlog) = scrape.backlog {
        out.gauge(
            "portal_outbox_pending",
            "Email queued and not sent yet (retries included).",
            &[],
            backlog.outbox_pending,
        );
        out.gauge(
            "portal_outbox_oldest_due_age_seconds",
            "How long the oldest email due now has waited since it was queued; 0 when none is due.",
            &[],
            backlog.outbox_oldest_due_secs,
        );
        out.gauge("portal_outbox_failed", "Email given up after every retry.", &[], backlog.outbox_failed);
        out.gauge(
            "portal_payments_overdue",
            "Approved awards not fully paid whose payment due date has passed.",
            &[],
            backlog.payments_overdue,
        );
        out.gauge(
            "portal_requests_overdue",
            "Company requests past a response or resolution deadline with their clock running.",
            &[],
            backlog.requests_overdue,
        );
    }
    out.0
}

/// A text exposition being written: `# HELP`/`# TYPE` once per family, then its samples.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (n, (label, text)) in labels.iter().enumerate() {
                if n > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{label}=\"");
                for c in text.chars() {
                    match c {
                        '\\' => self.0.push_str("\\\\"),
                        '"' => self.0.push_str("\\\""),
                        '\n' => self.0.push_str("\\n"),
                        c => self.0.push(c),
                    }
                }
                self.0.push('"');
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: impl Display) {
        self.family(name, "gauge", help);
        self.sample(name, labels, value);
    }

    fn counter(&mut self, name: &str, help: &str, value: impl Display) {
        self.family(name, "counter", help);
        self.sample(name, &[], value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_cumulative_and_ends_with_every_observation() {
        let histogram = Histogram::new(&LATENCY_BUCKETS);
        for ms in [0, 3, 3, 40, 20_000] {
            histogram.observe(Duration::from_millis(ms));
        }
        let mut out = Exposition::default();
        histogram.write(&mut out, "t", &[("route", "/x")]);
        let text = out.0;
        assert!(text.contains("t_bucket{route=\"/x\",le=\"0.001\"} 1\n"), "{text}");
        assert!(text.contains("t_bucket{route=\"/x\",le=\"0.005\"} 3\n"), "{text}");
        assert!(text.contains("t_bucket{route=\"/x\",le=\"10\"} 4\n"), "{text}");
        assert!(text.contains("t_bucket{route=\"/x\",le=\"+Inf\"} 5\n"), "{text}");
        assert!(text.contains("t_sum{route=\"/x\"} 20.046\n"), "{text}");
        assert!(text.contains("t_count{route=\"/x\"} 5\n"), "{text}");
    }

    #[test]
    fn requests_are_counted_by_route_template_and_odd_methods_and_labels_stay_bounded() {
        let http = HttpMetrics::default();
        let template = Some("/api/v1/applications/{id}".to_owned());
        http.record("GET", template.clone(), 200, Duration::from_millis(2));
        http.record("GET", template, 404, Duration::from_millis(2));
        http.record("BREW", None, 404, Duration::from_millis(1));
        let mut out = Exposition::default();
        http.write(&mut out);
        let text = out.0;
        let line = "portal_http_requests_total{method=\"GET\",route=\"/api/v1/applications/{id}\",status=\"404\"} 1";
        assert!(text.contains(line), "{text}");
        assert!(text.contains("{method=\"other\",route=\"unmatched\",status=\"404\"} 1"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition::default();
        out.sample("m", &[("route", "a\"b\\c\nd")], 1);
        assert_eq!(out.0, "m{route=\"a\\\"b\\\\c\\nd\"} 1\n");
    }
}
