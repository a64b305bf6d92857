use std::process::ExitCode;

use clap::Parser;
use ruche::cli::{Cli, Command};
use ruche::Config;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ruche: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal only: a log file, a pipe or
        // the journal gets plain text (and NO_COLOR turns them off).
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .init();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => migrate(config),
        Command::Admin(cmd) => ruche::cli::run_admin(&config, cmd),
        Command::Mail(ruche::cli::MailCommand::Receive { to }) => {
            return match ruche::cli::receive_mail(config, to) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    // The database or the input failed: the mail server
                    // keeps the message and tries again.
                    eprintln!("ruche: {e:#}");
                    ExitCode::from(75)
                }
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ruche: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        tracing::info!(listen = %config.listen, base_url = %config.base_url, "Ruche is serving");
        ruche::serve_on(listener, config).await
    })
}

fn migrate(config: Config) -> anyhow::Result<()> {
    let db = ruche::db::Db::open(&config.database.url, 1)?;
    let applied = db.migrate()?;
    if applied.is_empty() {
        println!("database is up to date");
    }
    for m in applied {
        println!("applied {m}");
    }
    Ok(())
}
