//! Access tokens: HS256 JWTs that name a user, a role and a session. The session is checked in the
//! database on every request, so ending it ends the token at once on every app instance.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;
use crate::domain::role::Role;
use crate::error::ApiError;
use crate::i18n::Text;

const ACCESS: &str = "access";
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    /// The session (refresh-token family) the token belongs to.
    pub sid: i64,
    /// Always `access`: no other token of ours can pass as one.
    pub typ: String,
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    pub ttl_secs: i64,
}

impl Tokens {
    pub fn new(settings: &AuthSettings) -> Self {
        let secret = settings.jwt_secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_secs: settings.access_token_ttl_secs,
        }
    }

    pub fn issue(&self, user_id: i64, role: Role, session_id: i64, now: i64) -> anyhow::Result<String> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            role,
            iat: now,
            exp: now + self.ttl_secs,
            sid: session_id,
            typ: ACCESS.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a token: {e}"))
    }

    /// The claims of a valid access token; any flaw is the same 401.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, ApiError> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid_token())?
            .claims;
        if claims.typ != ACCESS {
            return Err(invalid_token());
        }
        Ok(claims)
    }
}

pub fn invalid_token() -> ApiError {
    ApiError::Unauthenticated {
        code: "unauthenticated",
        detail: Text::new(
            "登录已失效，请重新登录。",
            "Your sign-in is missing, invalid or has expired; sign in again.",
        ),
    }
}
