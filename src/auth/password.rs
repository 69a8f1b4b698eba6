//! argon2id password hashes, computed on a few threads of their own: each hash holds `argon2_memory_kib`
//! of memory, so an uncapped login flood would grow the process by gigabytes, and spreading the hashes
//! over the many threads of the blocking pool leaves that memory cached in each thread's allocator arena.
//! Each hashing thread keeps its argon2 memory for its whole life: allocating and freeing it per hash let
//! the allocator hold several copies in the thread's arena (up to 280 MiB under a login flood).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::config::AuthSettings;
use crate::metrics::HashQueueStats;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    workers: mpsc::SyncSender<Job>,
    /// Verified against when an account does not exist, so the answer takes as long as for one that does.
    dummy_hash: Arc<str>,
    queue: Arc<Queue>,
}

/// The hashing queue as the metrics report it.
#[derive(Debug, Default)]
struct Queue {
    queued: AtomicU64,
    running: AtomicU64,
    refused: AtomicU64,
    capacity: u64,
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// `auth.max_queued_hashes` requests already wait for the hashing threads: try again shortly.
    #[error("the password hashing queue is full")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
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
        let capacity = settings.max_queued_hashes.max(1);
        let workers = hashing_threads(settings.max_concurrent_hashes.max(1), capacity);
        // Hashed on a hashing thread too, so no other thread keeps argon2 memory.
        let (sent, received) = mpsc::channel();
        let dummy_params = params.clone();
        workers
            .send(Box::new(move || {
                drop(sent.send(hash_with(&dummy_params, "a password nobody has: it only costs time")));
            }))
            .map_err(|_| anyhow::anyhow!("the password threads did not start"))?;
        let dummy_hash = received.recv()??;
        let queue = Arc::new(Queue { capacity: u64::try_from(capacity).unwrap_or(u64::MAX), ..Queue::default() });
        Ok(Self { params, workers, dummy_hash: dummy_hash.into(), queue })
    }

    /// The hashing queue now, for the metrics.
    pub fn stats(&self) -> HashQueueStats {
        HashQueueStats {
            queued: self.queue.queued.load(Ordering::Relaxed),
            running: self.queue.running.load(Ordering::Relaxed),
            capacity: self.queue.capacity,
            refused: self.queue.refused.load(Ordering::Relaxed),
        }
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, password.expose_secret())).await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> Result<Verified, HashError> {
        let params = self.params.clone();
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        self.run(move || {
            let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            let matches = matches(&parsed, password.expose_secret().as_bytes())?;
            let outdated = Params::try_from(&parsed).map_or(true, |p| {
                p.m_cost() != params.m_cost() || p.t_cost() != params.t_cost() || p.p_cost() != params.p_cost()
            }) || parsed.algorithm.as_str() != "argon2id";
            Ok(Verified { matches: matches && exists, outdated })
        })
        .await
    }

    /// Runs `f` on the hashing threads; requests beyond their number wait their turn, as long as the queue
    /// has room: a flood is turned away at once rather than held in memory.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let queue = self.queue.clone();
        queue.queued.fetch_add(1, Ordering::Relaxed);
        let job = Box::new(move || {
            queue.queued.fetch_sub(1, Ordering::Relaxed);
            queue.running.fetch_add(1, Ordering::Relaxed);
            let result = f();
            queue.running.fetch_sub(1, Ordering::Relaxed);
            drop(answer.send(result));
        });
        self.workers.try_send(job).map_err(|error| {
            self.queue.queued.fetch_sub(1, Ordering::Relaxed);
            match error {
                mpsc::TrySendError::Full(_) => {
                    self.queue.refused.fetch_add(1, Ordering::Relaxed);
                    HashError::Busy
                }
                mpsc::TrySendError::Disconnected(_) => anyhow::anyhow!("the password threads have stopped").into(),
            }
        })?;
        Ok(answered.await.map_err(|_| anyhow::anyhow!("a password task failed"))??)
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `count` threads that run jobs from one queue of `capacity` until every sender is gone.
fn hashing_threads(count: usize, capacity: usize) -> mpsc::SyncSender<Job> {
    let (sender, receiver) = mpsc::sync_channel::<Job>(capacity);
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

thread_local! {
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `argon2` into `out` with this thread's kept memory, grown when parameters need more.
fn compute(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> anyhow::Result<()> {
    MEMORY
        .with_borrow_mut(|memory| {
            let blocks = argon2.params().block_count();
            if memory.len() < blocks {
                memory.resize(blocks, Block::default());
            }
            argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
        })
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) for `password` with a fresh salt.
fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
    compute(
        &Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
        password.as_bytes(),
        &salt_bytes,
        &mut out,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| anyhow::anyhow!("parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` gives `stored`'s hash under `stored`'s own algorithm, version and parameters.
fn matches(stored: &PasswordHash<'_>, password: &[u8]) -> anyhow::Result<bool> {
    let invalid = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored hash: {e}");
    let algorithm = Algorithm::try_from(stored.algorithm).map_err(|e| invalid(&e))?;
    let version = stored.version.map(Version::try_from).transpose().map_err(|e| invalid(&e))?.unwrap_or_default();
    let params = Params::try_from(stored).map_err(|e| invalid(&e))?;
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        anyhow::bail!("stored hash: no salt or no hash");
    };
    let mut salt_bytes = [0_u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(|e| invalid(&e))?;
    let mut out = vec![0_u8; expected.len()];
    compute(&Argon2::new(algorithm, version, params), password, salt, &mut out)?;
    // `Output` compares in constant time.
    Ok(Output::new(&out).map_err(|e| invalid(&e))? == expected)
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

    #[test]
    fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let params = Params::new(64, 1, 1, None).unwrap();
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::encode_b64(b"sixteen byte sal").unwrap();
        let theirs = reference.hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert!(matches(&PasswordHash::new(&theirs).unwrap(), b"correct horse battery").unwrap());
        assert!(!matches(&PasswordHash::new(&theirs).unwrap(), b"correct horse battery!").unwrap());
        let ours = hash_with(&params, "correct horse battery").unwrap();
        assert!(reference.verify_password(b"correct horse battery", &PasswordHash::new(&ours).unwrap()).is_ok());
    }

    #[tokio::test]
    async fn no_account_never_matches() {
        let p = passwords(64);
        let result = p.verify(SecretString::from("a password nobody has: it only costs time"), None).await.unwrap();
        assert!(!result.matches);
    }
}
