//! The calls table's stream: each write to a call, as the call before and
//! after it ([`CallChange`]), however the stream is read: a Lambda's
//! DynamoDB Streams event, or (behind the `stream` feature) [`StreamReader`]
//! polling it, as `calltrack serve` does.

use crate::item::{Item, call_from_item};
use calltrack_core::call::Call;
use calltrack_core::ports::StorageError;

/// One write to a call: what it was (none: a new call) and what it became,
/// with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct CallChange {
    pub before: Option<Call>,
    pub after: Call,
    pub version: u64,
}

/// The change a stream record's two images stand for: none for a call
/// removed (erased, or swept), or one whose new image this version cannot
/// read (written by another version); that one is an error to log, not to
/// retry, as reading it again would not change it.
pub fn call_change(old_image: Item, new_image: Item) -> Result<Option<CallChange>, StorageError> {
    if new_image.is_empty() {
        return Ok(None);
    }
    let (after, version) = call_from_item(new_image)?;
    // A before this version cannot read counts as nothing told yet: at worst
    // an event is told again, under an id a receiver has not seen.
    let before = Some(old_image).filter(|image| !image.is_empty()).and_then(|image| call_from_item(image).ok()).map(|(call, _)| call);
    Ok(Some(CallChange { before, after, version }))
}

#[cfg(feature = "stream")]
pub use reader::StreamReader;

#[cfg(feature = "stream")]
mod reader {
    use crate::item::{Item, storage};
    use aws_sdk_dynamodbstreams::Client;
    use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
    use aws_sdk_dynamodbstreams::operation::get_records::GetRecordsError;
    use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
    use calltrack_core::ports::StorageError;
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    /// Reads a table's stream from now on, every shard, as Lambda's event
    /// source would: each record's old and new images, in order within a call.
    pub struct StreamReader {
        client: Client,
        stream_arn: String,
        /// Each open shard: where to read next.
        shards: BTreeMap<String, Position>,
        /// Shards read to their end.
        done: BTreeSet<String>,
    }

    /// Where a shard's reading stands.
    #[derive(Default)]
    struct Position {
        /// The iterator of the next read; none until one is asked for.
        iterator: Option<String>,
        /// The last record read, to resume after it with a new iterator.
        last: Option<String>,
    }

    impl StreamReader {
        /// The stream of `table`, from now on: what was written before is
        /// read through and dropped. (A `LATEST` iterator would say the same
        /// in one request, but DynamoDB Local refuses to read some; and its
        /// records' creation times are whole minutes, too coarse to skip by.)
        pub async fn open(dynamo: &aws_sdk_dynamodb::Client, client: Client, table: &str) -> Result<Self, StorageError> {
            let described = dynamo.describe_table().table_name(table).send().await.map_err(|e| storage(DisplayErrorContext(e)))?;
            let stream_arn = described
                .table
                .and_then(|t| t.latest_stream_arn)
                .ok_or_else(|| StorageError(format!("table {table} has no stream (template.yaml's StreamSpecification)")))?;
            let mut reader = StreamReader { client, stream_arn, shards: BTreeMap::new(), done: BTreeSet::new() };
            while !reader.next_batch().await?.is_empty() {}
            Ok(reader)
        }

        /// Starts reading shards not read yet: those there when opening, and
        /// those that appear later (a split).
        async fn find_shards(&mut self) -> Result<(), StorageError> {
            let described =
                self.client.describe_stream().stream_arn(&self.stream_arn).send().await.map_err(|e| storage(DisplayErrorContext(e)))?;
            for shard in described.stream_description.and_then(|d| d.shards).unwrap_or_default() {
                let Some(id) = shard.shard_id else { continue };
                if !self.done.contains(&id) {
                    self.shards.entry(id).or_default();
                }
            }
            Ok(())
        }

        /// An iterator that reads `shard` after its last record read, or from its start.
        async fn iterator(&self, shard: &str, last: Option<&str>) -> Result<Option<String>, StorageError> {
            let request = self.client.get_shard_iterator().stream_arn(&self.stream_arn).shard_id(shard);
            let request = match last {
                Some(last) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(last),
                None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            };
            Ok(request.send().await.map_err(|e| storage(DisplayErrorContext(e)))?.shard_iterator)
        }

        /// The records written since the last read: (old image, new image). A
        /// shard that cannot be read keeps its place and is read again next
        /// time; what the others gave is returned all the same, as their places
        /// have moved on. An error only when nothing was read and a shard failed.
        pub async fn next_batch(&mut self) -> Result<Vec<(Item, Item)>, StorageError> {
            self.find_shards().await?;
            let mut records = Vec::new();
            let mut failed = None;
            let ids: Vec<String> = self.shards.keys().cloned().collect();
            for id in ids {
                match self.read_shard(&id, &mut records).await {
                    Ok(()) => {}
                    Err(err) => failed = Some(err),
                }
            }
            match failed {
                Some(err) if records.is_empty() => Err(err),
                _ => Ok(records),
            }
        }

        /// Reads one shard from its place, adding its records to `records`.
        async fn read_shard(&mut self, id: &str, records: &mut Vec<(Item, Item)>) -> Result<(), StorageError> {
            let position = self.shards.get(id).expect("listed");
            let (iterator, last) = (position.iterator.clone(), position.last.clone());
            let Some(mut iterator) = (match iterator {
                Some(iterator) => Some(iterator),
                None => self.iterator(id, last.as_deref()).await?,
            }) else {
                return Ok(());
            };
            let mut read = self.client.get_records().shard_iterator(&iterator).send().await;
            // An iterator that lapsed (15 minutes on AWS), or one DynamoDB Local
            // calls trimmed though its records are there: resume after the last record read.
            if let Err(err) = &read
                && matches!(
                    err.as_service_error(),
                    Some(GetRecordsError::ExpiredIteratorException(_) | GetRecordsError::TrimmedDataAccessException(_))
                )
            {
                let Some(fresh) = self.iterator(id, last.as_deref()).await? else { return Ok(()) };
                iterator = fresh;
                read = self.client.get_records().shard_iterator(&iterator).send().await;
            }
            let read = read.map_err(|e| storage(DisplayErrorContext(e)))?;
            let position = self.shards.get_mut(id).expect("listed");
            for record in read.records.unwrap_or_default() {
                let Some(change) = record.dynamodb else { continue };
                position.last = change.sequence_number.clone().or(position.last.take());
                let image = |image: Option<HashMap<String, AttributeValue>>| -> Item {
                    image.map(|i| serde_dynamo::Item::from(i).into()).unwrap_or_default()
                };
                records.push((image(change.old_image), image(change.new_image)));
            }
            match read.next_shard_iterator {
                Some(next) => position.iterator = Some(next),
                None => {
                    self.shards.remove(id);
                    self.done.insert(id.to_owned());
                }
            }
            Ok(())
        }
    }
}
