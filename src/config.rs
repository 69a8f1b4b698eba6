//! Typed settings: `config/default.toml`, then the overlay named by `APP_ENV`, then `APP_*` variables.
//!
//! The files are compiled into the binary, so the service runs from any directory; environment variables
//! are how an operator changes a setting without a rebuild.

use std::collections::HashMap;

use chrono::FixedOffset;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use crate::db::DatabaseSettings;
use crate::db::DatabaseUrl;
use crate::i18n::Lang;

const DEFAULT: &str = include_str!("../config/default.toml");
const OVERLAYS: [(Environment, &str); 3] = [
    (Environment::Development, include_str!("../config/development.toml")),
    (Environment::Test, include_str!("../config/test.toml")),
    (Environment::Production, include_str!("../config/production.toml")),
];
const MIN_PRODUCTION_SECRET_BYTES: usize = 32;
/// The secret `config/default.toml` ships with, so that `cargo run` works on a laptop and nowhere else.
const DEVELOPMENT_JWT_SECRET: &str = "development-only-secret-change-me!";

/// Whether `secret` looks random enough to sign with: long, not a repeated pattern, and with at least 128
/// bits by the frequency of its characters (what 32 random hex digits have; `openssl rand -hex 32` has 256).
fn strong_secret(secret: &str) -> Result<(), &'static str> {
    let bytes = secret.as_bytes();
    if secret == DEVELOPMENT_JWT_SECRET {
        return Err("it is the development secret");
    }
    if bytes.len() < MIN_PRODUCTION_SECRET_BYTES {
        return Err("it is shorter than 32 bytes");
    }
    let repeats = (1..=bytes.len() / 2).any(|period| bytes.iter().zip(&bytes[period..]).all(|(a, b)| a == b));
    if repeats {
        return Err("it repeats a shorter pattern");
    }
    let mut counts = std::collections::HashMap::<u8, u32>::new();
    for byte in bytes {
        *counts.entry(*byte).or_default() += 1;
    }
    let length = f64::from(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
    let bits: f64 = counts.values().map(|&n| -f64::from(n) * (f64::from(n) / length).log2()).sum();
    if bits < 128.0 {
        return Err("it has too few different characters to be random");
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    fn parse(name: &str) -> Result<Self, ConfigError> {
        match name {
            "development" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" => Ok(Self::Production),
            other => {
                Err(ConfigError::Invalid(format!("APP_ENV is `{other}`; expected development, test or production")))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(skip, default = "default_environment")]
    pub environment: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub mail: MailSettings,
    pub portal: PortalSettings,
    pub storage: StorageSettings,
    pub requests: RequestSettings,
    pub outreach: OutreachSettings,
    pub housekeeping: HousekeepingSettings,
    pub audit: AuditSettings,
    pub console: ConsoleSettings,
    pub crypto: crate::crypto::CryptoSettings,
    pub log: LogSettings,
    pub telemetry: TelemetrySettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// The bearer token `GET /metrics` requires; empty turns the route off (404).
    pub metrics_token: SecretString,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// A console session unused for this long is over; the staff member signs in again.
    pub idle_timeout_mins: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Seals the audit chain (HMAC-SHA-256); empty leaves it a plain hash chain. Required in production.
    pub chain_key: SecretString,
}

fn default_environment() -> Environment {
    Environment::Development
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub json_limit_bytes: usize,
    pub docs_enabled: bool,
    pub allow_docs_in_production: bool,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long in-flight requests may run on after SIGTERM or Ctrl-C, and background jobs take to stop.
    pub shutdown_timeout_secs: u64,
    /// Origins (`https://host[:port]`) whose browser frontends may call `/api/v1`; empty sends no CORS headers.
    pub cors_allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub max_concurrent_hashes: usize,
    pub max_queued_hashes: usize,
    /// Roles that must turn on a second factor before they may do anything else.
    pub mfa_required_roles: Vec<crate::domain::role::Role>,
    /// The name authenticator apps show beside a TOTP code: the park's or the portal's.
    pub totp_issuer: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    Smtp,
    File,
    Memory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransportKind,
    pub from: String,
    pub file_dir: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: SmtpSecurity,
    pub smtp_username: String,
    pub smtp_password: SecretString,
    pub smtp_timeout_secs: u64,
    pub poll_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSettings {
    pub default_language: Lang,
    #[serde(deserialize_with = "deserialize_offset")]
    pub utc_offset: FixedOffset,
    pub frontend_base_url: String,
}

/// Where uploaded files are kept: a local folder, or a bucket of an S3-compatible store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    pub upload_dir: String,
    /// The most a company's uploaded files may weigh together, over all its applications.
    pub company_quota_bytes: i64,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: SecretString,
    pub s3_timeout_secs: u64,
}

/// The housekeeping job: how often it runs (one instance per run) and how long each kind of row is kept.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HousekeepingSettings {
    pub poll_interval_secs: u64,
    pub run_interval_secs: u64,
    pub session_retention_days: u32,
    pub token_retention_days: u32,
    pub throttle_retention_hours: u32,
    pub outbox_retention_days: u32,
    pub idempotency_retention_days: u32,
    pub orphan_file_min_age_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSettings {
    pub sweep_interval_secs: u64,
    pub deadlines: crate::domain::requests::Deadlines,
}

/// Policy outreach (政策精准推送): how often each instance looks for a programme whose run is due, and how long
/// after one run of a programme the next is due.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutreachSettings {
    pub poll_interval_secs: u64,
    pub run_interval_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

/// Whether `origin` is one exact origin as a browser sends it: a scheme, a host and maybe a port, nothing
/// else. A wildcard would let any site read a signed-in user's answers, so it is refused.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin.contains('*') {
        return Err("is a wildcard; list each frontend's origin exactly");
    }
    let url = url::Url::parse(origin).map_err(|_| "is not an origin such as https://portal.example.gov.cn")?;
    if !matches!(url.scheme(), "http" | "https") || url.origin().ascii_serialization() != origin {
        return Err("is not an origin such as https://portal.example.gov.cn (a scheme, a host, maybe a port; no path)");
    }
    Ok(())
}

fn deserialize_offset<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FixedOffset, D::Error> {
    let text = String::deserialize(d)?;
    text.parse::<FixedOffset>()
        .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a UTC offset such as +08:00")))
}

impl Settings {
    /// Settings for the process: `APP_ENV` picks the overlay, `APP_*` variables override keys.
    pub fn from_process_env() -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::load(&vars)
    }

    /// Settings from an explicit environment, so tests can load exactly what an operator would.
    pub fn load(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let environment = Environment::parse(vars.get("APP_ENV").map_or("development", String::as_str))?;
        let overlay = OVERLAYS.iter().find(|(env, _)| *env == environment).map(|(_, text)| *text).unwrap_or_default();
        let overrides: HashMap<String, String> = vars
            .iter()
            .filter(|(key, _)| key.starts_with("APP_") && key.as_str() != "APP_ENV")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();

        let mut settings: Settings = config::Config::builder()
            .add_source(config::File::from_str(DEFAULT, config::FileFormat::Toml))
            .add_source(config::File::from_str(overlay, config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("APP")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("server.trusted_proxies")
                    .with_list_parse_key("server.cors_allowed_origins")
                    .with_list_parse_key("auth.mfa_required_roles")
                    .source(Some(overrides)),
            )
            .build()?
            .try_deserialize()?;
        settings.environment = environment;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks that no file can express: a usable database URL, and production's safety rules.
    fn validate(&self) -> Result<(), ConfigError> {
        DatabaseUrl::parse(self.database.url.expose_secret()).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if self.database.acquire_timeout_ms == 0 || self.database.pool_size == 0 {
            return Err(ConfigError::Invalid(
                "database.pool_size and database.acquire_timeout_ms must be above 0".into(),
            ));
        }
        for origin in &self.server.cors_allowed_origins {
            check_origin(origin)
                .map_err(|why| ConfigError::Invalid(format!("server.cors_allowed_origins: `{origin}` {why}")))?;
        }
        crate::crypto::Keyring::check_settings(&self.crypto).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if self.auth.totp_issuer.trim().is_empty() || self.auth.totp_issuer.contains(':') {
            return Err(ConfigError::Invalid("auth.totp_issuer must be a name without `:`".into()));
        }
        self.validate_storage()?;
        let jwt_secret = self.auth.jwt_secret.expose_secret();
        let loopback = matches!(self.server.host.as_str(), "localhost" | "127.0.0.1" | "::1");
        if jwt_secret == DEVELOPMENT_JWT_SECRET && !loopback {
            return Err(ConfigError::Invalid(format!(
                "the development auth.jwt_secret must not serve {}: set APP_AUTH__JWT_SECRET (e.g. `openssl rand -hex 32`)",
                self.server.host
            )));
        }
        if self.environment != Environment::Production {
            return Ok(());
        }
        if let Err(weakness) = strong_secret(jwt_secret) {
            return Err(ConfigError::Invalid(format!(
                "production needs a random auth.jwt_secret (APP_AUTH__JWT_SECRET, e.g. `openssl rand -hex 32`): {weakness}"
            )));
        }
        let chain_key = self.audit.chain_key.expose_secret();
        if let Err(weakness) = strong_secret(chain_key) {
            return Err(ConfigError::Invalid(format!(
                "production needs a random audit.chain_key (APP_AUDIT__CHAIN_KEY), kept apart from the JWT secret: {weakness}"
            )));
        }
        if chain_key == jwt_secret {
            return Err(ConfigError::Invalid("audit.chain_key must differ from auth.jwt_secret".into()));
        }
        let metrics_token = self.telemetry.metrics_token.expose_secret();
        if !metrics_token.is_empty() {
            if let Err(weakness) = strong_secret(metrics_token) {
                return Err(ConfigError::Invalid(format!(
                    "production needs a random telemetry.metrics_token (APP_TELEMETRY__METRICS_TOKEN) or none: {weakness}"
                )));
            }
            if metrics_token == jwt_secret || metrics_token == chain_key {
                return Err(ConfigError::Invalid(
                    "telemetry.metrics_token must differ from auth.jwt_secret and audit.chain_key".into(),
                ));
            }
        }
        if self.crypto.keys.is_empty() {
            return Err(ConfigError::Invalid(
                "production seals secrets at rest with its own key: set crypto.keys (APP_CRYPTO__KEYS__K1, e.g. \
                 `openssl rand -base64 32`) and crypto.current_key (APP_CRYPTO__CURRENT_KEY=k1)"
                    .into(),
            ));
        }
        if self.mail.transport != MailTransportKind::Smtp {
            return Err(ConfigError::Invalid("production sends real email: set mail.transport to \"smtp\"".into()));
        }
        if self.server.docs_enabled && !self.server.allow_docs_in_production {
            return Err(ConfigError::Invalid(
                "production serves no /docs page unless server.allow_docs_in_production is true".into(),
            ));
        }
        Ok(())
    }

    /// An S3 backend names its bucket and has credentials (a secret key is never optional).
    fn validate_storage(&self) -> Result<(), ConfigError> {
        let storage = &self.storage;
        if storage.backend != StorageBackend::S3 {
            return Ok(());
        }
        let missing: Vec<&str> = [
            ("storage.s3_bucket", storage.s3_bucket.is_empty()),
            ("storage.s3_region", storage.s3_region.is_empty()),
            ("storage.s3_access_key_id", storage.s3_access_key_id.is_empty()),
            ("storage.s3_secret_access_key", storage.s3_secret_access_key.expose_secret().is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect();
        if !missing.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "storage.backend = \"s3\" needs {} (e.g. APP_STORAGE__S3_SECRET_ACCESS_KEY)",
                missing.join(", ")
            )));
        }
        Ok(())
    }

    /// The settings the test suite starts from: the `test` overlay, no environment overrides.
    pub fn for_tests() -> Result<Self, ConfigError> {
        Self::load(&HashMap::from([("APP_ENV".to_owned(), "test".to_owned())]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load(&pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    const GOOD_PRODUCTION: [(&str, &str); 6] = [
        ("APP_ENV", "production"),
        ("APP_CRYPTO__KEYS__K1", "oIoQZE7jqNWDovRZrOmXVcEjgEJAZ43rIXQQAMimuUM="),
        ("APP_CRYPTO__CURRENT_KEY", "k1"),
        ("APP_AUTH__JWT_SECRET", "9f2c4e81b07d3a56e1c8f04b92d7a63e5b1f0c8d2e4a7961f3b5d08c6a2e4f17"),
        ("APP_AUDIT__CHAIN_KEY", "4d7a1e90c3b85f26a0e4d9c17b3f8e52c6a19d04f7e2b83a5c0d6e1f9b4a7c28"),
        ("APP_DATABASE__URL", "postgres://portal@db/portal"),
    ];

    #[test]
    fn development_is_the_default_and_environment_variables_override_any_key() {
        let settings = load(&[("APP_SERVER__PORT", "9090"), ("APP_DATABASE__URL", "sqlite://elsewhere.db")]).unwrap();
        assert_eq!(settings.environment, Environment::Development);
        assert_eq!(settings.server.port, 9090);
        assert_eq!(settings.database.url.expose_secret(), "sqlite://elsewhere.db");
        assert_eq!(settings.portal.utc_offset, FixedOffset::east_opt(8 * 3600).unwrap());
    }

    #[test]
    fn trusted_proxies_come_from_the_environment_as_a_comma_separated_list() {
        let settings = load(&[("APP_SERVER__TRUSTED_PROXIES", "10.0.0.1,::1")]).unwrap();
        assert_eq!(
            settings.server.trusted_proxies,
            ["10.0.0.1".parse::<std::net::IpAddr>().unwrap(), "::1".parse().unwrap()]
        );
        assert!(load(&[("APP_SERVER__TRUSTED_PROXIES", "10.0.0.1,proxy")]).is_err());
    }

    #[test]
    fn cors_origins_are_exact_origins_and_never_a_wildcard() {
        let settings =
            load(&[("APP_SERVER__CORS_ALLOWED_ORIGINS", "https://review.park.example,http://127.0.0.1:3000")]).unwrap();
        assert_eq!(settings.server.cors_allowed_origins, ["https://review.park.example", "http://127.0.0.1:3000"]);
        assert!(load(&[]).unwrap().server.cors_allowed_origins.is_empty(), "none by default");
        for refused in [
            "*",
            "https://*.park.example",
            "https://park.example/",
            "https://park.example/app",
            "park.example",
            "null",
            "ftp://park.example",
        ] {
            assert!(load(&[("APP_SERVER__CORS_ALLOWED_ORIGINS", refused)]).is_err(), "{refused} was accepted");
        }
    }

    #[test]
    fn an_unknown_key_or_environment_stops_the_start() {
        assert!(load(&[("APP_SERVER__PROT", "9090")]).is_err());
        assert!(load(&[("APP_ENV", "staging")]).is_err());
        assert!(load(&[("APP_DATABASE__URL", "mysql://db/portal")]).is_err());
    }

    #[test]
    fn the_development_secret_serves_only_the_loopback_address() {
        assert!(load(&[]).is_ok());
        assert!(load(&[("APP_SERVER__HOST", "0.0.0.0")]).is_err());
        let own_secret = [("APP_SERVER__HOST", "0.0.0.0"), ("APP_AUTH__JWT_SECRET", "any secret of one's own")];
        assert!(load(&own_secret).is_ok());
    }

    #[test]
    fn production_starts_only_with_a_strong_secret_real_mail_and_no_docs() {
        assert!(load(&GOOD_PRODUCTION).is_ok());
        let weakened = [
            ("APP_AUTH__JWT_SECRET", "short"),
            ("APP_AUTH__JWT_SECRET", DEVELOPMENT_JWT_SECRET),
            ("APP_AUTH__JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("APP_AUTH__JWT_SECRET", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("APP_AUTH__JWT_SECRET", "passwordpasswordpasswordpassword1"),
            ("APP_AUDIT__CHAIN_KEY", ""),
            ("APP_AUDIT__CHAIN_KEY", "9f2c4e81b07d3a56e1c8f04b92d7a63e5b1f0c8d2e4a7961f3b5d08c6a2e4f17"),
            ("APP_MAIL__TRANSPORT", "file"),
            ("APP_MAIL__TRANSPORT", "memory"),
            ("APP_SERVER__DOCS_ENABLED", "true"),
            ("APP_TELEMETRY__METRICS_TOKEN", "metrics"),
            ("APP_TELEMETRY__METRICS_TOKEN", "9f2c4e81b07d3a56e1c8f04b92d7a63e5b1f0c8d2e4a7961f3b5d08c6a2e4f17"),
            ("APP_CRYPTO__CURRENT_KEY", "k2"),
            ("APP_CRYPTO__KEYS__K1", "c2hvcnQ="),
            ("APP_CRYPTO__KEYS__K1", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="),
        ];
        for (key, value) in weakened {
            let mut pairs = GOOD_PRODUCTION.to_vec();
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
            assert!(load(&pairs).is_err(), "{key}={value} was accepted");
        }
        let s3 = [
            ("APP_STORAGE__BACKEND", "s3"),
            ("APP_STORAGE__S3_ENDPOINT", "http://seaweedfs:8333"),
            ("APP_STORAGE__S3_BUCKET", "portal"),
            ("APP_STORAGE__S3_ACCESS_KEY_ID", "portal"),
            ("APP_STORAGE__S3_SECRET_ACCESS_KEY", "3b8e0f2a7c91d4e6"),
        ];
        let mut with_s3 = GOOD_PRODUCTION.to_vec();
        with_s3.extend(s3);
        assert!(load(&with_s3).is_ok());
        for key in ["APP_STORAGE__S3_SECRET_ACCESS_KEY", "APP_STORAGE__S3_ACCESS_KEY_ID", "APP_STORAGE__S3_BUCKET"] {
            let mut pairs = with_s3.clone();
            pairs.retain(|(k, _)| *k != key);
            assert!(load(&pairs).is_err(), "an S3 backend without {key} was accepted");
        }
        let mut docs_allowed = GOOD_PRODUCTION.to_vec();
        docs_allowed.extend([("APP_SERVER__DOCS_ENABLED", "true"), ("APP_SERVER__ALLOW_DOCS_IN_PRODUCTION", "true")]);
        assert!(load(&docs_allowed).is_ok());
        let mut metrics = GOOD_PRODUCTION.to_vec();
        metrics
            .push(("APP_TELEMETRY__METRICS_TOKEN", "b81f5c07e2d94a36c1e8f0b7a25d9c4e63f1a08d7b2e5c94f0a3d6b18e7c2f45"));
        assert!(load(&metrics).is_ok());
        let without_secret: Vec<_> =
            GOOD_PRODUCTION.iter().copied().filter(|(k, _)| *k != "APP_AUTH__JWT_SECRET").collect();
        assert!(load(&without_secret).is_err(), "the development secret must not reach production");
        let without_keys: Vec<_> =
            GOOD_PRODUCTION.iter().copied().filter(|(k, _)| !k.starts_with("APP_CRYPTO__")).collect();
        assert!(load(&without_keys).is_err(), "production must not start without a key for secrets at rest");
    }

    #[test]
    fn production_requires_a_second_factor_of_admins_and_finance_and_the_tests_of_nobody() {
        use crate::domain::role::Role;
        assert_eq!(load(&GOOD_PRODUCTION).unwrap().auth.mfa_required_roles, [Role::Admin, Role::Finance]);
        assert!(Settings::for_tests().unwrap().auth.mfa_required_roles.is_empty());
        assert!(load(&[]).unwrap().auth.mfa_required_roles.is_empty());
        let finance_only = load(&[("APP_AUTH__MFA_REQUIRED_ROLES", "finance")]).unwrap();
        assert_eq!(finance_only.auth.mfa_required_roles, [Role::Finance]);
        assert!(load(&[("APP_AUTH__MFA_REQUIRED_ROLES", "finance,boss")]).is_err());
    }

    #[test]
    fn a_rotated_key_ring_comes_from_the_environment() {
        let rotated = load(&[
            ("APP_CRYPTO__KEYS__K1", "oIoQZE7jqNWDovRZrOmXVcEjgEJAZ43rIXQQAMimuUM="),
            ("APP_CRYPTO__KEYS__K2", "5PQJUzZGhXoc261OQiQAzVnkW5IT1dG+KzHCWsm7/9o="),
            ("APP_CRYPTO__CURRENT_KEY", "k2"),
        ])
        .unwrap();
        assert_eq!(rotated.crypto.keys.keys().collect::<Vec<_>>(), ["k1", "k2"]);
        assert_eq!(rotated.crypto.current_key, "k2");
    }
}
