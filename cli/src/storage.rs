//! Where the tools find DynamoDB: the functions' own settings (`Settings`,
//! from the environment), with what the flags below override.

use crate::Failure;
use calltrack_core::ports::StorageError;
use calltrack_dynamo::{DynamoStore, TableNames, tables};
use calltrack_service::Settings;
use calltrack_service::aws::sdk_config;
use std::time::Duration;

#[derive(clap::Args, Clone, Debug)]
pub struct Storage {
    /// DynamoDB endpoint, e.g. http://127.0.0.1:8000 for DynamoDB Local; AWS when unset
    #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
    pub endpoint_url: Option<String>,
    /// The calls table [default: $CALLS_TABLE, else calltrack-calls]
    #[arg(long)]
    pub calls_table: Option<String>,
    /// The call events table [default: $CALL_EVENTS_TABLE, else calltrack-call-events]
    #[arg(long)]
    pub events_table: Option<String>,
    /// The tracking numbers table [default: $TRACKING_NUMBERS_TABLE, else calltrack-tracking-numbers]
    #[arg(long)]
    pub numbers_table: Option<String>,
    /// The calls' index table (listings by filter, counters) [default: $CALL_INDEX_TABLE, else calltrack-call-index]
    #[arg(long)]
    pub index_table: Option<String>,
    /// Days raw callbacks are kept [default: $EVENT_RETENTION_DAYS, else 90]
    #[arg(long)]
    pub event_retention_days: Option<u32>,
}

impl Storage {
    /// The endpoint given; an empty one counts as none.
    fn endpoint(&self) -> Option<&str> {
        self.endpoint_url.as_deref().filter(|e| !e.trim().is_empty())
    }

    /// The functions' settings from the environment, with these flags over them.
    pub fn settings(&self) -> Result<Settings, Failure> {
        let mut settings = Settings::from_env()?;
        let tables = &mut settings.tables;
        for (flag, table) in [
            (&self.calls_table, &mut tables.calls),
            (&self.events_table, &mut tables.events),
            (&self.numbers_table, &mut tables.numbers),
            (&self.index_table, &mut tables.index),
        ] {
            if let Some(name) = flag {
                *table = name.clone();
            }
        }
        if let Some(days) = self.event_retention_days {
            settings.event_retention = Duration::from_secs(u64::from(days) * 86_400);
        }
        Ok(settings)
    }

    pub async fn client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&sdk_config(self.endpoint()).await)
    }

    /// The tables' streams, where the tables are.
    pub async fn streams_client(&self) -> aws_sdk_dynamodbstreams::Client {
        aws_sdk_dynamodbstreams::Client::new(&sdk_config(self.endpoint()).await)
    }

    pub fn tables(&self) -> Result<TableNames, Failure> {
        Ok(self.settings()?.tables)
    }

    pub async fn store(&self) -> Result<DynamoStore, Failure> {
        let settings = self.settings()?;
        Ok(DynamoStore::new(self.client().await, settings.tables, settings.event_retention))
    }

    /// A storage error as one short line that names the endpoint and what to do.
    pub fn failure(&self, err: StorageError) -> Failure {
        Failure::from(explain(self.endpoint(), &err.0))
    }
}

/// What an SDK error (its text, Rust debug output included) means, in one line
/// with what to do: the cause a user can act on, never the SDK's internals.
/// S3 at `endpoint` (moto's server), or AWS's.
pub async fn s3_client(endpoint: Option<&str>) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::from(&sdk_config(endpoint).await);
    if let Some(endpoint) = endpoint {
        // A local S3 has no bucket host names.
        config = config.endpoint_url(endpoint).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

fn explain(endpoint: Option<&str>, error: &str) -> String {
    let has = |words: &[&str]| words.iter().any(|w| error.contains(w));
    let at = endpoint.map_or("DynamoDB (AWS)".to_owned(), |e| format!("DynamoDB at {e}"));
    let unreachable = |what: &str| match endpoint {
        Some(e) => format!(
            "cannot reach DynamoDB at {e}: {what}. Start DynamoDB Local (make demo does) or unset AWS_ENDPOINT_URL_DYNAMODB to use AWS"
        ),
        None => format!(
            "cannot reach DynamoDB (AWS): {what}. Check the network and AWS_REGION, or set AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local"
        ),
    };
    if has(&["Connection refused", "ConnectionRefused"]) {
        unreachable("connection refused")
    } else if has(&["dns error", "failed to lookup address"]) {
        unreachable("its host name does not resolve")
    } else if has(&["loading credentials", "no credentials", "NoCredentials", "CredentialsNotLoaded"]) {
        format!(
            "{at}: no AWS credentials found. Set AWS_PROFILE (after `aws sso login` or `aws configure`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local"
        )
    } else if has(&["ExpiredToken", "token included in the request is expired", "TokenRefreshRequired"]) {
        format!("{at}: the AWS credentials have expired. Refresh them (`aws sso login`, or new temporary keys) and try again")
    } else if has(&["UnrecognizedClientException", "InvalidSignatureException", "security token included in the request is invalid"]) {
        format!("{at}: AWS refused the credentials. Check AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    } else if has(&["AccessDenied", "not authorized to perform"]) {
        format!(
            "{at}: access denied. The AWS identity in use needs DynamoDB permissions on the calltrack tables (see the deploy section of the README)"
        )
    } else if has(&["ResourceNotFoundException", "non-existent table", "Requested resource not found"]) {
        format!("{at}: a table is missing. Create the tables with `calltrack tables create` (same endpoint and table options)")
    } else if has(&["TimeoutError", "timed out", "timeout"]) {
        unreachable("no answer in time")
    } else {
        format!("{at}: {}", short(error))
    }
}

/// An error's text without the Rust debug output the SDK appends (` (DispatchFailure(…))`).
pub fn short(error: &str) -> &str {
    let cut = error.match_indices(" (").find(|(i, _)| error[i + 2..].starts_with(|c: char| c.is_ascii_uppercase()) && error.ends_with(')'));
    let error = cut.map_or(error, |(i, _)| &error[..i]);
    error.split('\n').next().unwrap_or_default().trim()
}

pub async fn create_tables(args: &Storage) -> Result<(), Failure> {
    let names = args.tables()?;
    let created = tables::create(&args.client().await, &names).await.map_err(|e| args.failure(e))?;
    for table in [&names.calls, &names.events, &names.numbers] {
        let state = if created.contains(table) { "created" } else { "exists" };
        println!("{state:<8} {table}");
    }
    Ok(())
}
