//! Logs, on standard error: readable at a terminal, JSON lines in production. Secrets never reach them: settings hold them
//! as `secrecy` types and request bodies are never logged.

use std::io::IsTerminal;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogFormat, LogSettings};

pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter: Targets =
        settings.filter.parse().map_err(|e| anyhow::anyhow!("log.filter `{}`: {e}", settings.filter))?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match settings.format {
        LogFormat::Pretty => registry
            .with(
                fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()).with_target(false),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    // A second initialisation (tests build many apps in one process) keeps the first subscriber.
    drop(result);
    Ok(())
}
