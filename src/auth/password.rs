//! argon2id password hashes, computed on a few threads of their own: each hash holds `argon2_memory_kib`
//! of memory, so an uncapped login flood would grow the process by gigabytes, and spreading the hashes
//! over the many threads of the blocking pool leaves that memory cached in each thread's allocator arena.

use std::sync::{Arc, Mutex, mpsc};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::config::AuthSettings;
use crate::error::ApiError;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    workers: mpsc::Sender<Job>,
    /// Verified against when an account does not exist, so the answer takes as long as for one that does.
    dummy_hash: Arc<str>,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The stored hash was made with other parameters and should be replaced.
    pub outdated: bool,
}

impl Passwords {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let params =
            Params::new(settings.argon2_memory_kib, settings.argon2_iterations, settings.argon2_parallelism, None)
                .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let dummy_hash = hash_with(&params, "a password nobody has: it only costs time")?;
        Ok(Self {
            params,
            workers: hashing_threads(settings.max_concurrent_hashes.max(1)),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, ApiError> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, password.expose_secret()).map_err(ApiError::Internal)).await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> Result<Verified, ApiError> {
        let params = self.params.clone();
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        self.run(move || {
            let parsed =
                PasswordHash::new(&stored).map_err(|e| ApiError::Internal(anyhow::anyhow!("stored hash: {e}")))?;
            let matches = argon2(&params).verify_password(password.expose_secret().as_bytes(), &parsed).is_ok();
            let outdated = Params::try_from(&parsed).map_or(true, |p| {
                p.m_cost() != params.m_cost() || p.t_cost() != params.t_cost() || p.p_cost() != params.p_cost()
            }) || parsed.algorithm.as_str() != "argon2id";
            Ok(Verified { matches: matches && exists, outdated })
        })
        .await
    }

    /// Runs `f` on the hashing threads; requests beyond their number wait their turn.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.workers
            .send(Box::new(move || drop(answer.send(f()))))
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the password threads have stopped")))?;
        answered.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("a password task failed")))?
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `count` threads that run jobs from one queue until every sender is gone.
fn hashing_threads(count: usize) -> mpsc::Sender<Job> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for n in 0..count {
        let receiver = receiver.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || {
                loop {
                    let job = receiver.lock().expect("the job queue lock").recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                }
            })
            .expect("a hashing thread starts");
    }
    sender
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    argon2(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn passwords(memory_kib: u32) -> Passwords {
        let mut settings = Settings::for_tests().unwrap().auth;
        settings.argon2_memory_kib = memory_kib;
        Passwords::new(&settings).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_reports_outdated_parameters() {
        let old = passwords(64);
        let hash = old.hash(SecretString::from("correct horse battery")).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let same = old.verify(SecretString::from("correct horse battery"), Some(hash.clone())).await.unwrap();
        assert_eq!(same, Verified { matches: true, outdated: false });
        let wrong = old.verify(SecretString::from("wrong horse battery"), Some(hash.clone())).await.unwrap();
        assert!(!wrong.matches);
        let newer = passwords(128).verify(SecretString::from("correct horse battery"), Some(hash)).await.unwrap();
        assert_eq!(newer, Verified { matches: true, outdated: true });
    }

    #[tokio::test]
    async fn no_account_never_matches() {
        let p = passwords(64);
        let result = p.verify(SecretString::from("a password nobody has: it only costs time"), None).await.unwrap();
        assert!(!result.matches);
    }
}
