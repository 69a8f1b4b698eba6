//! A second factor: time-based one-time codes (TOTP, RFC 6238) as every authenticator app reads them from
//! an `otpauth://` URI (SHA-1, 6 digits, 30-second steps), and single-use recovery codes.

use totp_rs::{Algorithm, Secret, TOTP};

pub const DIGITS: usize = 6;
pub const STEP_SECS: i64 = 30;
/// 160 bits, the size RFC 4226 recommends for an HMAC-SHA-1 key.
const SECRET_BYTES: usize = 20;
/// Steps either side of now whose code is still accepted, for a phone whose clock is a little off.
const SKEW_STEPS: i64 = 1;
pub const RECOVERY_CODES: usize = 10;
/// Recovery codes use lower-case letters and digits without the ones people confuse (0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// 24 characters of 31 symbols: 118 random bits, written in six groups of four.
const RECOVERY_LENGTH: usize = 24;

/// A new shared secret, base32 as authenticator apps take it.
pub fn generate_secret() -> String {
    base32(&rand::random::<[u8; SECRET_BYTES]>())
}

/// `bytes` in base32 (RFC 4648, unpadded).
fn base32(bytes: &[u8]) -> String {
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    let step = u64::try_from(STEP_SECS).ok()?;
    Some(TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, step, bytes))
}

/// The URI an authenticator app takes (as text or as a QR code) to add the account.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let encode =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        encode(issuer),
        encode(account),
        encode(issuer)
    )
}

/// The time step `unix_secs` falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code of `secret` for the step `unix_secs` falls in; what the user's app shows then.
pub fn code_at(secret: &str, unix_secs: i64) -> Option<String> {
    let time = u64::try_from(step_at(unix_secs) * STEP_SECS).ok()?;
    Some(totp(secret)?.generate(time))
}

/// The step whose code `code` is, among the steps around `unix_secs`; `None` when it is none of them.
/// Whether that step was used already is for the caller to check.
pub fn matching_step(secret: &str, code: &str, unix_secs: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret)?;
    let now = step_at(unix_secs);
    (now - SKEW_STEPS..=now + SKEW_STEPS).find(|&step| {
        u64::try_from(step * STEP_SECS)
            .is_ok_and(|time| constant_time_eq(totp.generate(time).as_bytes(), code.as_bytes()))
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `code` has the form of a TOTP code (six digits), rather than of a recovery code.
pub fn is_totp_code(code: &str) -> bool {
    let digits: Vec<u8> = code.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits.len() == DIGITS && digits.iter().all(u8::is_ascii_digit)
}

/// Ten new recovery codes, as the user writes them down (`abcd-efgh-…`).
pub fn generate_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let symbols: Vec<char> = (0..RECOVERY_LENGTH)
                .map(|_| char::from(RECOVERY_ALPHABET[rand::random_range(0..RECOVERY_ALPHABET.len())]))
                .collect();
            symbols.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
        })
        .collect()
}

/// A recovery code as it is stored (digested) and compared: without dashes or spaces, in lower case, so
/// `ABCD EFGH …` typed back matches.
pub fn normalize_recovery_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at 59 s gives 94287082 (8 digits);
    /// its last six digits are the 6-digit code.
    #[test]
    fn codes_are_those_of_rfc_6238() {
        let secret = base32(b"12345678901234567890");
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(&secret, 2_000_000_000).unwrap(), "279037");
    }

    #[test]
    fn a_code_matches_its_own_step_and_the_steps_either_side_only() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 32);
        let now = 1_800_000_000;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(matching_step(&secret, &code, now), Some(step_at(now)));
        assert_eq!(matching_step(&secret, &code, now + STEP_SECS), Some(step_at(now)));
        assert_eq!(matching_step(&secret, &code, now - STEP_SECS), Some(step_at(now)));
        assert_eq!(matching_step(&secret, &code, now + 2 * STEP_SECS), None);
        assert_eq!(matching_step(&secret, &format!("{} {}", &code[..3], &code[3..]), now), Some(step_at(now)));
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn the_uri_names_the_issuer_the_account_and_the_parameters() {
        let uri = otpauth_uri("高新区 portal", "admin@park.example", "JBSWY3DPEHPK3PXP");
        assert!(uri.starts_with("otpauth://totp/%E9%AB%98"), "{uri}");
        assert!(uri.contains("%20portal:admin%40park.example?secret=JBSWY3DPEHPK3PXP&issuer=%E9%AB%98"), "{uri}");
        assert!(uri.ends_with("&algorithm=SHA1&digits=6&period=30"), "{uri}");
    }

    #[test]
    fn recovery_codes_are_ten_different_long_codes_typed_back_in_any_case() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 29, "{code}");
            assert!(!is_totp_code(code));
            assert_eq!(normalize_recovery_code(&code.to_uppercase().replace('-', " ")), code.replace('-', ""));
        }
    }
}
