//! `calltrack`: run the webhooks locally, manage tracking numbers, see calls,
//! simulate Twilio, and debug signatures. Each subcommand lives in its own file.

mod authorizer;
mod call;
mod calls;
mod connect;
mod numbers;
mod scenario;
mod serve;
mod signature;
mod simulate;
mod smoke;
mod stats;
mod storage;
mod token;
mod verify;
mod webhooks;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "calltrack", version, about = "Call tracking for Twilio numbers: the local server and the tools around it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the webhooks on one local HTTP server, with the routes of template.yaml
    Serve(serve::Args),
    /// Creates the DynamoDB tables
    #[command(subcommand)]
    Tables(TablesCommand),
    /// Adds, lists, connects (in Twilio) and removes tracking numbers
    #[command(subcommand)]
    Numbers(numbers::Command),
    /// Lists calls, shows one with its events, deletes one, erases one caller's calls
    #[command(subcommand)]
    Calls(calls::Command),
    /// A tenant's counts by day, lead source, user or tracking number, as GET /api/stats gives them
    Stats(stats::Args),
    /// Places a call as the CRM's "Call" button does: Twilio rings the agent, then the customer
    Call(call::Args),
    /// Plays the webhooks Twilio sends for realistic calls, signed, against a running stack
    Simulate(simulate::Args),
    /// Smoke-tests a stack: one short signed call to a tracking number, read back, checked, then deleted
    Smoke(smoke::Args),
    /// Mints a development JWT for the API of `calltrack serve --dev-tokens`
    Token(token::Args),
    /// Signs a request as Twilio would, or checks a signature
    #[command(subcommand)]
    Signature(signature::Command),
    /// The signed webhooks sent to CRMs: `listen` receives and checks them, to watch deliveries by hand
    #[command(subcommand)]
    Webhooks(webhooks::Command),
}

#[derive(Subcommand)]
enum TablesCommand {
    /// Creates the tables as template.yaml defines them; running it again is harmless
    Create(storage::Storage),
}

/// What a failed command prints (one line) and exits with.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl From<calltrack_twilio::Error> for Failure {
    fn from(err: calltrack_twilio::Error) -> Self {
        Failure { message: err.to_string(), code: 1 }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure { message, code: 1 }
    }
}

fn main() -> ExitCode {
    // Piped into `head`, end quietly as Unix tools do, rather than panic on a closed stdout.
    // SAFETY: restores a signal's default disposition before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    unset_empty_endpoints();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime");
    runtime.block_on(run(cli))
}

/// An `AWS_ENDPOINT_URL…` that is set but empty (`AWS_ENDPOINT_URL_DYNAMODB=`)
/// counts as unset, as an empty setting does for the AWS CLI: the SDK reads
/// these itself and would otherwise panic on the empty URL.
fn unset_empty_endpoints() {
    let empty: Vec<_> = std::env::vars_os()
        .filter(|(name, value)| {
            name.to_str().is_some_and(|n| n.starts_with("AWS_ENDPOINT_URL")) && value.to_str().is_some_and(|v| v.trim().is_empty())
        })
        .map(|(name, _)| name)
        .collect();
    for name in empty {
        // SAFETY: called from `main` before the Tokio runtime or any other thread exists.
        unsafe { std::env::remove_var(name) };
    }
}

async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Tables(TablesCommand::Create(args)) => storage::create_tables(&args).await,
        Command::Numbers(command) => numbers::run(command).await,
        Command::Calls(command) => calls::run(command).await,
        Command::Stats(args) => stats::run(args).await,
        Command::Call(args) => call::run(args).await,
        Command::Simulate(args) => simulate::run(args).await,
        Command::Smoke(args) => smoke::run(args).await,
        Command::Token(args) => token::run(args),
        Command::Signature(command) => signature::run(command),
        Command::Webhooks(command) => webhooks::run(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}
