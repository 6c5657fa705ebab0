//! Where the tools find DynamoDB: flags, else the environment the functions use.

use crate::Failure;
use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use calltrack_shared::store::{DynamoStore, TableNames, schema};
use std::time::Duration;

#[derive(clap::Args, Clone, Debug)]
pub struct Storage {
    /// DynamoDB endpoint, e.g. http://127.0.0.1:8000 for DynamoDB Local; AWS when unset
    #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
    pub endpoint_url: Option<String>,
    #[arg(long, env = "CALLS_TABLE", default_value = "calltrack-calls")]
    pub calls_table: String,
    #[arg(long, env = "CALL_EVENTS_TABLE", default_value = "calltrack-call-events")]
    pub events_table: String,
    #[arg(long, env = "TRACKING_NUMBERS_TABLE", default_value = "calltrack-tracking-numbers")]
    pub numbers_table: String,
    /// Days raw callbacks are kept
    #[arg(long, env = "EVENT_RETENTION_DAYS", default_value_t = 90)]
    pub event_retention_days: u32,
}

impl Storage {
    /// Where DynamoDB is, for error messages.
    pub fn endpoint(&self) -> &str {
        self.endpoint_url.as_deref().unwrap_or("AWS (default endpoint)")
    }

    pub async fn client(&self) -> aws_sdk_dynamodb::Client {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder().connect_timeout(Duration::from_secs(2)).operation_timeout(Duration::from_secs(10)).build(),
        );
        if let Some(endpoint) = &self.endpoint_url {
            loader = loader.endpoint_url(endpoint);
            // DynamoDB Local takes any credentials and region; do not make users invent them.
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() && std::env::var_os("AWS_PROFILE").is_none() {
                loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "calltrack"));
            }
            if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
                loader = loader.region(aws_config::Region::new("us-east-1"));
            }
        }
        aws_sdk_dynamodb::Client::new(&loader.load().await)
    }

    pub fn tables(&self) -> TableNames {
        TableNames { calls: self.calls_table.clone(), events: self.events_table.clone(), numbers: self.numbers_table.clone() }
    }

    pub async fn store(&self) -> DynamoStore {
        DynamoStore::new(self.client().await, self.tables(), Duration::from_secs(u64::from(self.event_retention_days) * 86_400))
    }

    /// A storage error as one line that names the endpoint.
    pub fn failure(&self, err: calltrack_shared::Error) -> Failure {
        Failure::from(format!("DynamoDB at {}: {err}", self.endpoint()))
    }
}

pub async fn create_tables(args: &Storage) -> Result<(), Failure> {
    let created = schema::create_tables(&args.client().await, &args.tables()).await.map_err(|e| args.failure(e))?;
    for table in [&args.calls_table, &args.events_table, &args.numbers_table] {
        let state = if created.contains(table) { "created" } else { "exists" };
        println!("{state:<8} {table}");
    }
    Ok(())
}
