//! How often an address or an account may try something before it has to wait.

use std::net::{IpAddr, Ipv6Addr};

use chrono::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max_hits: i32,
    pub window: Duration,
}

const fn per(max_hits: i32, minutes: i64) -> Limit {
    Limit { max_hits, window: Duration::minutes(minutes) }
}

/// Wrong passwords for one account from one client address: that address stops guessing it here.
pub const LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: Limit = per(5, 15);
/// Wrong passwords for one account from everywhere: past this each attempt waits `LOGIN_SLOWDOWN` first, so
/// guessing slows down without anyone being able to lock the owner out.
pub const LOGIN_FAILURES_BEFORE_SLOWDOWN: Limit = per(20, 15);
pub const LOGIN_SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(2);
/// Wrong passwords from one client address, over all accounts.
pub const LOGIN_FAILURES_PER_ADDRESS: Limit = per(20, 15);
/// Wrong second-factor codes for one account (sign-in, confirmation, turning it off): then it waits.
pub const MFA_CODE_FAILURES: Limit = per(5, 15);
pub const REGISTRATIONS_PER_ADDRESS: Limit = per(10, 60);
pub const EMAILS_PER_ACCOUNT: Limit = per(3, 60);
pub const EMAILS_PER_ADDRESS: Limit = per(20, 60);
/// Objections to public notices from one client address.
pub const OBJECTIONS_PER_ADDRESS: Limit = per(5, 60);

/// What a per-address limit counts: an IPv4 address itself, an IPv6 address's /64 network, since one
/// IPv6 subscriber is handed a whole /64 to rotate through.
pub fn client_key(client: IpAddr) -> String {
    match client.to_canonical() {
        IpAddr::V4(address) => address.to_string(),
        IpAddr::V6(address) => {
            let [a, b, c, d, ..] = address.segments();
            format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_counts_as_its_64_network_and_a_mapped_ipv4_as_itself() {
        let key = |text: &str| client_key(text.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), key("2001:db8:1:2::9"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }
}
