//! Stopping in order: the signals that ask for it, and the flag background jobs watch to stop at a safe
//! point (between two emails, between two sweeps or outreach runs), never in the middle of a transaction.

use tokio::sync::watch;

/// Tells the background jobs to stop.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// What a background job holds to learn that it should stop.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

pub fn channel() -> (Trigger, Stop) {
    let (sender, receiver) = watch::channel(false);
    (Trigger(sender), Stop(receiver))
}

impl Trigger {
    pub fn pull(&self) {
        self.0.send_replace(true);
    }
}

impl Stop {
    /// Whether stopping was asked for (or whoever could ask is gone).
    pub fn is_requested(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Resolves once stopping is asked for; for `select!` against a job's wait.
    pub async fn requested(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Resolves with the signal's name at SIGTERM (what orchestrators send) or Ctrl-C (SIGINT).
pub async fn signalled() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(term) => term,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the service gracefully");
                let _ = tokio::signal::ctrl_c().await;
                return "SIGINT";
            }
        };
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_learns_of_the_stop_once_it_is_pulled_or_the_trigger_is_gone() {
        let (trigger, mut stop) = channel();
        assert!(!stop.is_requested());
        let waiting = tokio::spawn({
            let mut stop = stop.clone();
            async move { stop.requested().await }
        });
        trigger.pull();
        waiting.await.unwrap();
        stop.requested().await;
        assert!(stop.is_requested());

        let (trigger, stop) = channel();
        drop(trigger);
        assert!(stop.is_requested());
    }
}
