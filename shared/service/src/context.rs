//! What a route gets to work with: storage (as the ports it names), the
//! settings, the tracking numbers read lately, where our callbacks go, and the
//! time the request came in. Routes see nothing else of the app.

use crate::defer::Defer;
use crate::numbers::{Lookup, NumberCache};
use crate::route::Route;
use crate::settings::Settings;
use calltrack_core::call::CallUpdate;
use calltrack_core::deferred::DeferredCallback;
use calltrack_core::ports::{LookUpNumbers, RecordCalls, Recorded, StorageError};
use calltrack_twilio::Params;
use calltrack_twilio::fields::PhoneNumber;

pub struct Context<'a, S> {
    pub store: &'a S,
    pub settings: &'a Settings,
    pub numbers: &'a NumberCache,
    /// The public URL Twilio used, up to the route: our callbacks' prefix.
    pub callback_base: &'a str,
    /// When the request came in, in ms since the epoch.
    pub now: i64,
    /// Where a callback goes when storage cannot take it.
    pub queue: &'a dyn Defer,
}

impl<S> Context<'_, S> {
    /// The public URL of one of our routes, for a callback Twilio makes, with
    /// the connection overrides that make Twilio retry it.
    pub fn url(&self, route: Route) -> String {
        self.url_with_query(route, "")
    }

    /// The callback `route` got, whole, for the queue when storage cannot take
    /// it: `url` as Twilio signed it, its `params`, and the time it came in.
    pub fn deferred(&self, route: Route, url: &str, params: &Params) -> DeferredCallback {
        DeferredCallback { route: route.path().into(), url: url.into(), params: params.clone(), received_at: self.now, forwarded: None }
    }

    /// [`Self::url`] with a query (`text=…`; empty for none), which goes before the fragment.
    pub fn url_with_query(&self, route: Route, query: &str) -> String {
        route.twilio_url_with_query(self.callback_base, query)
    }
}

impl<S: LookUpNumbers> Context<'_, S> {
    /// A tracking number's configuration, within the caller's storage budget.
    pub async fn lookup_number(&self, number: &PhoneNumber) -> Lookup {
        self.numbers.lookup(self.store, number, self.settings.number_cache, self.settings.answer_storage_budget).await
    }
}

impl<S: RecordCalls> Context<'_, S> {
    /// Records an update for a route whose caller is waiting on the line:
    /// storage gets the answer budget. A failure is the route's to queue
    /// ([`crate::routes`]), never passed on to the caller.
    pub async fn record_for_caller(&self, update: &CallUpdate) -> Result<Recorded, StorageError> {
        let budget = self.settings.answer_storage_budget;
        tokio::time::timeout(budget, self.store.record(update))
            .await
            .unwrap_or_else(|_| Err(StorageError(format!("no answer within {budget:?}"))))
    }
}
