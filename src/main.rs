use clap::Parser;

use portal::cli::{self, Cli};
use portal::config::Settings;
use portal::telemetry;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_process_env()?;
    telemetry::init(&settings.log)?;
    cli::run(cli, settings).await
}
