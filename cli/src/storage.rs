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
    /// Days raw callbacks are kept [default: $EVENT_RETENTION_DAYS, else 90]
    #[arg(long)]
    pub event_retention_days: Option<u32>,
}

impl Storage {
    /// Where DynamoDB is, for error messages.
    pub fn endpoint_name(&self) -> &str {
        self.endpoint().unwrap_or("AWS (default endpoint)")
    }

    /// The endpoint given; an empty one counts as none.
    fn endpoint(&self) -> Option<&str> {
        self.endpoint_url.as_deref().filter(|e| !e.trim().is_empty())
    }

    /// The functions' settings from the environment, with these flags over them.
    pub fn settings(&self) -> Result<Settings, Failure> {
        let mut settings = Settings::from_env()?;
        let tables = &mut settings.tables;
        for (flag, table) in
            [(&self.calls_table, &mut tables.calls), (&self.events_table, &mut tables.events), (&self.numbers_table, &mut tables.numbers)]
        {
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

    pub fn tables(&self) -> Result<TableNames, Failure> {
        Ok(self.settings()?.tables)
    }

    pub async fn store(&self) -> Result<DynamoStore, Failure> {
        let settings = self.settings()?;
        Ok(DynamoStore::new(self.client().await, settings.tables, settings.event_retention))
    }

    /// A storage error as one line that names the endpoint.
    pub fn failure(&self, err: StorageError) -> Failure {
        Failure::from(format!("DynamoDB at {}: {err}", self.endpoint_name()))
    }
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
