//! Where a callback goes when storage cannot take it: a queue
//! ([`calltrack_core::ports::DeferCallbacks`], `calltrack-sqs` on SQS), from
//! which [`crate::replay`] applies it once storage is back. The app holds it as
//! a trait object because it is reached only when a write failed.

use calltrack_core::deferred::DeferredCallback;
use calltrack_core::ports::{DeferCallbacks, StorageError};
use std::future::Future;
use std::pin::Pin;

/// [`DeferCallbacks`] as a trait object.
pub trait Defer: Send + Sync {
    fn defer<'a>(&'a self, callback: &'a DeferredCallback) -> Pin<Box<dyn Future<Output = Result<(), StorageError>> + Send + 'a>>;
}

impl<Q: DeferCallbacks> Defer for Q {
    fn defer<'a>(&'a self, callback: &'a DeferredCallback) -> Pin<Box<dyn Future<Output = Result<(), StorageError>> + Send + 'a>> {
        Box::pin(DeferCallbacks::defer(self, callback))
    }
}

/// No queue (`CALLBACK_QUEUE_URL` unset): a callback that storage cannot take
/// is answered `503`, and only Twilio's own retry can bring it back.
pub struct NoQueue;

impl DeferCallbacks for NoQueue {
    async fn defer(&self, _: &DeferredCallback) -> Result<(), StorageError> {
        Err(StorageError("no callback queue is configured (CALLBACK_QUEUE_URL)".into()))
    }
}
