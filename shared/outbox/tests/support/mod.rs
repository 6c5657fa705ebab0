//! What the outbox's tests share: a store whose calls table's stream
//! (DynamoDB Local's) is read, and the stream dispatched as the dispatch
//! function would.

use calltrack_dynamo::DynamoStore;
use calltrack_dynamo::changes::StreamReader;
use calltrack_outbox::dispatch::{Dispatched, Dispatcher, dispatch};
use std::time::{Duration, Instant};

/// A store whose calls table's stream is read from now on.
pub async fn store_and_stream() -> (DynamoStore, StreamReader) {
    let store = calltrack_dynamo::testing::store().await;
    let reader = calltrack_dynamo::testing::stream(&store).await;
    (store, reader)
}

/// Reads the stream until `writes` changes came through, dispatching each batch.
pub async fn dispatch_all(store: &DynamoStore, reader: &mut StreamReader, dispatcher: &Dispatcher, writes: usize) -> Dispatched {
    let mut total = Dispatched::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while total.changes < writes {
        assert!(Instant::now() < deadline, "only {} of {writes} changes came through the stream", total.changes);
        let batch = dispatch(dispatcher, store, reader.next_batch().await.expect("stream read")).await.expect("dispatched");
        total.changes += batch.changes;
        total.copies += batch.copies;
        total.deliveries += batch.deliveries;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    total
}
