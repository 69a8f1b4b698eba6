//! The client's address, for rate limits: the socket's peer, unless that peer is a trusted proxy, in which
//! case the nearest untrusted address in `X-Forwarded-For`.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::config::ServerSettings;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequest for ClientAddr {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted =
            req.app_data::<web::Data<ServerSettings>>().map(|s| s.trusted_proxies.clone()).unwrap_or_default();
        let peer = req.peer_addr().map(|a| a.ip());
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse().ok())
            .collect();
        if let Some(peer) = peer
            && !forwarded.is_empty()
            && !trusted.contains(&peer)
            && UNTRUSTED_FORWARDING.due(chrono::Utc::now().timestamp())
        {
            tracing::warn!(
                %peer,
                "X-Forwarded-For from a peer that is not a trusted proxy is ignored; if a proxy stands in front \
                 of this service, list it in server.trusted_proxies (said at most once an hour)"
            );
        }
        std::future::ready(
            peer.map(|peer| ClientAddr(resolve(peer, &forwarded, &trusted)))
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("request without a peer address"))),
        )
    }
}

static UNTRUSTED_FORWARDING: Hourly = Hourly(AtomicI64::new(i64::MIN));

/// A warning said at most once an hour by each instance, the first time as soon as it arises.
struct Hourly(AtomicI64);

impl Hourly {
    fn due(&self, now_secs: i64) -> bool {
        let last = self.0.load(Ordering::Relaxed);
        now_secs.saturating_sub(last) >= 3600
            && self.0.compare_exchange(last, now_secs, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }
}

/// Walks the chain from the nearest hop back while the hop is a trusted proxy.
fn resolve(peer: IpAddr, forwarded: &[IpAddr], trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        if !trusted.contains(&client) {
            break;
        }
        client = *hop;
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_untrusted_forwarding_warning_is_said_at_once_and_then_at_most_hourly() {
        let warning = Hourly(AtomicI64::new(i64::MIN));
        assert!(warning.due(1_000));
        assert!(!warning.due(1_001));
        assert!(!warning.due(4_599));
        assert!(warning.due(4_600));
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let forwarded = [ip("203.0.113.7"), ip("10.0.0.2")];
        assert_eq!(resolve(ip("198.51.100.1"), &forwarded, &[]), ip("198.51.100.1"), "no proxy is trusted");
        assert_eq!(resolve(ip("10.0.0.1"), &forwarded, &[ip("10.0.0.1")]), ip("10.0.0.2"));
        assert_eq!(resolve(ip("10.0.0.1"), &forwarded, &[ip("10.0.0.1"), ip("10.0.0.2")]), ip("203.0.113.7"));
    }
}
