//! What a call puts in the calls' own index, beside its item: one listing
//! entry per filter value it has (so that `GET /api/calls?leadSource=…` is one
//! key's query, never a scan), and its share of the tenant's counters (so that
//! `GET /api/stats` reads sums, never calls).
//!
//! Storage writes the difference between a call's entries before and after
//! each change ([`listings`], [`counter_changes`]) in the same
//! transaction as the call, which is only written as the version it was
//! merged from. So the counters stay exact under duplicates (which write
//! nothing), any order of callbacks, retries, and a person's verdict.
//!
//! Only attributed calls (those with a tenant) are indexed.
//!
//! Listings that nearly every call writes to (all of a tenant's calls, its
//! qualified ones, the few values of `answered`, `direction` and
//! `firstTimeCaller`, and lead sources, which an agency's clients share) are spread over [`LISTING_SHARDS`] partitions by call,
//! and a read merges them: one partition takes about 1,000 writes a second,
//! and an agency tenant takes more calls than that (BENCHMARKS.md, "Capacity").

use crate::call::Call;
use crate::view::CallSummary;
use calltrack_twilio::fields::CallStatus;
use std::collections::{BTreeMap, BTreeSet};

/// A tenant's counters are spread over this many items per day and group, by
/// call: each item then takes a sixteenth of the tenant's writes (see
/// BENCHMARKS.md, "Capacity"), and a read sums them.
pub const COUNTER_SHARDS: u8 = 16;

/// The partitions each of a tenant's busiest listings is spread over
/// ([`Listing::is_sharded`]): enough for 1,000 calls a second with twice the
/// headroom; a page of such a listing queries each of them.
pub const LISTING_SHARDS: u8 = 8;

/// What a listing can be filtered by, beside the user and the time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Filter {
    TrackingNumber,
    LeadSource,
    Answered,
    Direction,
    FirstTimeCaller,
    LeadStatus,
    Tag,
    ContactId,
    DealId,
    JobId,
    /// The caller's number (`fromNumber`): a contact's calls by phone, and how
    /// a call's earlier calls from the same caller are counted.
    Caller,
}

impl Filter {
    pub const ALL: [Filter; 11] = [
        Filter::TrackingNumber,
        Filter::LeadSource,
        Filter::Answered,
        Filter::Direction,
        Filter::FirstTimeCaller,
        Filter::LeadStatus,
        Filter::Tag,
        Filter::ContactId,
        Filter::DealId,
        Filter::JobId,
        Filter::Caller,
    ];

    /// The name the API's query and storage's keys give it.
    pub fn name(self) -> &'static str {
        match self {
            Filter::TrackingNumber => "trackingNumber",
            Filter::LeadSource => "leadSource",
            Filter::Answered => "answered",
            Filter::Direction => "direction",
            Filter::FirstTimeCaller => "firstTimeCaller",
            Filter::LeadStatus => "leadStatus",
            Filter::Tag => "tag",
            Filter::ContactId => "contactId",
            Filter::DealId => "dealId",
            Filter::JobId => "jobId",
            Filter::Caller => "caller",
        }
    }
}

/// One of a tenant's listings of calls, newest first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Listing {
    /// Every call of the tenant.
    All,
    /// Its qualified calls.
    Qualified,
    /// Its calls with one value of a filter.
    By(Filter, String),
}

impl Listing {
    /// Whether most of the tenant's calls write to this listing's few keys
    /// (a lead source such as "Google Ads" is shared by an agency's clients),
    /// so that its entries are spread over [`LISTING_SHARDS`] partitions.
    pub fn is_sharded(&self) -> bool {
        use Filter::*;
        matches!(self, Listing::All | Listing::Qualified | Listing::By(Answered | Direction | FirstTimeCaller | LeadSource, _))
    }
}

/// One entry of a listing: the call in it, at its start.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListingEntry {
    pub tenant: String,
    pub listing: Listing,
    pub started_at: i64,
    pub call_sid: String,
}

impl ListingEntry {
    /// Which of its listing's partitions the entry is in: `None` when the
    /// listing has one, else the same shard for every entry of a call.
    pub fn shard(&self) -> Option<u8> {
        self.listing.is_sharded().then(|| shard(&self.call_sid) % LISTING_SHARDS)
    }
}

/// Every listing entry of `call`: none when it has no tenant.
pub fn listings(call: &Call) -> BTreeSet<ListingEntry> {
    let Some(tenant) = &call.tenant_id else { return BTreeSet::new() };
    let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
    let mut listings = vec![Listing::All];
    listings.extend(call.qualified.then_some(Listing::Qualified));
    let mut values: Vec<(Filter, String)> = vec![(Filter::Answered, flag(call.answered))];
    values.extend(call.tracking_number.as_ref().map(|n| (Filter::TrackingNumber, n.as_str().to_owned())));
    values.extend(call.lead_source.clone().map(|s| (Filter::LeadSource, s)));
    values.extend(call.direction.map(|d| (Filter::Direction, d.as_str().to_owned())));
    values.extend(call.prior_calls.map(|_| (Filter::FirstTimeCaller, flag(call.first_time_caller))));
    values.extend(call.customer().map(|n| (Filter::Caller, n.as_str().to_owned())));
    if let Some(disposition) = &call.disposition {
        values.extend(disposition.lead_status.map(|s| (Filter::LeadStatus, s.as_str().to_owned())));
        values.extend(disposition.tags.iter().map(|t| (Filter::Tag, t.clone())));
    }
    for (filter, link) in [(Filter::ContactId, "contactId"), (Filter::DealId, "dealId"), (Filter::JobId, "jobId")] {
        values.extend(call.crm.get(link).map(|id| (filter, id.clone())));
    }
    listings.extend(values.into_iter().map(|(filter, value)| Listing::By(filter, value)));
    listings
        .into_iter()
        .map(|listing| ListingEntry { tenant: tenant.clone(), listing, started_at: call.started_at, call_sid: call.call_sid.to_string() })
        .collect()
}

/// How the counters group calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Day,
    LeadSource,
    User,
    TrackingNumber,
}

impl Dimension {
    pub const ALL: [Dimension; 4] = [Dimension::Day, Dimension::LeadSource, Dimension::User, Dimension::TrackingNumber];

    /// The name `groupBy` and storage's keys give it.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Day => "day",
            Dimension::LeadSource => "leadSource",
            Dimension::User => "user",
            Dimension::TrackingNumber => "trackingNumber",
        }
    }
}

/// Which counts to read: a tenant's, grouped by one dimension, over whole days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub tenant: crate::view::TenantId,
    pub dimension: Dimension,
    /// The first and the last day counted, `YYYY-MM-DD` (UTC).
    pub since: String,
    pub until: String,
}

/// One counter item: a tenant's calls of one day in one group (for
/// [`Dimension::Day`], the value is empty: the day is the group), in one shard.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CounterKey {
    pub tenant: String,
    pub dimension: Dimension,
    pub shard: u8,
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub value: String,
}

/// What calls add up to. Signed: a change takes a call's old share away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub calls: i64,
    /// The business picked up.
    pub answered: i64,
    /// Ended without the business picking up.
    pub missed: i64,
    pub qualified: i64,
    pub first_time_callers: i64,
    pub voicemails: i64,
    /// The answered calls' conversations.
    pub talk_seconds: i64,
    /// Answered calls by talk time, per [`talk_bucket`], for the median.
    pub talk: BTreeMap<u32, i64>,
}

/// What the counters read of a call: a stored [`Call`], or a listing's
/// [`CallSummary`] when a tool recounts a tenant's calls.
#[derive(Debug, Clone, Copy)]
pub struct Counted<'a> {
    pub tenant: Option<&'a str>,
    pub call_sid: &'a str,
    pub started_at: i64,
    pub lead_source: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub tracking_number: Option<&'a str>,
    pub status: Option<CallStatus>,
    pub answered: bool,
    pub qualified: bool,
    pub first_time_caller: bool,
    pub voicemail: bool,
    pub talk_seconds: Option<u32>,
}

/// `Call` and `CallSummary` name these fields alike.
macro_rules! counted_from {
    ($type:ty) => {
        impl<'a> From<&'a $type> for Counted<'a> {
            fn from(c: &'a $type) -> Self {
                Counted {
                    tenant: c.tenant_id.as_deref(),
                    call_sid: c.call_sid.as_str(),
                    started_at: c.started_at,
                    lead_source: c.lead_source.as_deref(),
                    user_id: c.user_id.as_deref(),
                    tracking_number: c.tracking_number.as_ref().map(|n| n.as_str()),
                    status: c.status,
                    answered: c.answered,
                    qualified: c.qualified,
                    first_time_caller: c.first_time_caller,
                    voicemail: c.voicemail,
                    talk_seconds: c.talk_seconds,
                }
            }
        }
    };
}
counted_from!(Call);
counted_from!(CallSummary);

impl Counts {
    /// One call's share.
    pub fn of(call: Counted) -> Counts {
        let ended = call.status.is_some_and(CallStatus::is_terminal);
        let talk = call.talk_seconds.filter(|_| call.answered);
        Counts {
            calls: 1,
            answered: call.answered.into(),
            missed: (ended && !call.answered).into(),
            qualified: call.qualified.into(),
            first_time_callers: call.first_time_caller.into(),
            voicemails: call.voicemail.into(),
            talk_seconds: talk.map_or(0, i64::from),
            talk: talk.map(|t| BTreeMap::from([(talk_bucket(t), 1)])).unwrap_or_default(),
        }
    }

    /// Adds `other` times `sign` (1 or -1), dropping buckets that come to zero.
    pub fn add(&mut self, other: &Counts, sign: i64) {
        self.calls += sign * other.calls;
        self.answered += sign * other.answered;
        self.missed += sign * other.missed;
        self.qualified += sign * other.qualified;
        self.first_time_callers += sign * other.first_time_callers;
        self.voicemails += sign * other.voicemails;
        self.talk_seconds += sign * other.talk_seconds;
        for (&bucket, &n) in &other.talk {
            let slot = self.talk.entry(bucket).or_default();
            *slot += sign * n;
            if *slot == 0 {
                self.talk.remove(&bucket);
            }
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }

    /// The answered calls' median talk time, as its bucket's lower bound
    /// ([`talk_bucket`]); the lower middle of an even count. `None` when no
    /// call was answered.
    pub fn median_talk_seconds(&self) -> Option<u32> {
        let total: i64 = self.talk.values().sum();
        let middle = (total + 1) / 2;
        let mut seen = 0;
        self.talk.iter().find_map(|(&bucket, &n)| {
            seen += n;
            (total > 0 && seen >= middle).then_some(bucket)
        })
    }
}

/// The bucket a talk time is counted in, named by its lower bound: every
/// second under 2 minutes, then 10 s to 10 minutes, a minute to 2 hours, and
/// one bucket beyond. So a median is exact to the second where most calls are,
/// and a counter item stays small (each write costs by its size).
pub fn talk_bucket(seconds: u32) -> u32 {
    match seconds {
        0..120 => seconds,
        120..600 => seconds / 10 * 10,
        600..7200 => seconds / 60 * 60,
        _ => 7200,
    }
}

/// The shard a call's counts go to: a hash (FNV-1a) of its SID, so the same
/// call always lands in the same shard, and SIDs that differ in one digit
/// (Twilio's are random; imported or test ones may count up) spread evenly.
pub fn shard(call_sid: &str) -> u8 {
    let hash = call_sid.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    (hash % u32::from(COUNTER_SHARDS)) as u8
}

/// The day (UTC) of a time in ms since the epoch, as `YYYY-MM-DD`.
pub fn day_of(ms: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map_or(time::Date::MIN, |t| t.date());
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A call's share of each counter: none when it has no tenant.
pub fn counters(call: Counted) -> BTreeMap<CounterKey, Counts> {
    let Some(tenant) = call.tenant else { return BTreeMap::new() };
    let (day, shard, counts) = (day_of(call.started_at), shard(call.call_sid), Counts::of(call));
    let value = |dimension| match dimension {
        Dimension::Day => "",
        Dimension::LeadSource => call.lead_source.unwrap_or_default(),
        Dimension::User => call.user_id.unwrap_or_default(),
        Dimension::TrackingNumber => call.tracking_number.unwrap_or_default(),
    };
    Dimension::ALL
        .into_iter()
        .map(|dimension| {
            let key = CounterKey { tenant: tenant.to_owned(), dimension, shard, day: day.clone(), value: value(dimension).to_owned() };
            (key, counts.clone())
        })
        .collect()
}

/// What each counter must add when a call goes from `before` to `after`
/// (none: new, or erased); counters it leaves as they are are left out.
pub fn counter_changes(before: Option<&Call>, after: Option<&Call>) -> BTreeMap<CounterKey, Counts> {
    let mut changes: BTreeMap<CounterKey, Counts> = BTreeMap::new();
    for (call, sign) in [(before, -1), (after, 1)] {
        for (key, counts) in call.map(|c| counters(c.into())).unwrap_or_default() {
            changes.entry(key).or_default().add(&counts, sign);
        }
    }
    changes.retain(|_, counts| !counts.is_zero());
    changes
}

/// The counts of each group of `dimension` (for days, each day) that
/// `calls` add up to: what [`crate::ports::CountCalls::stats`] must answer
/// for them, for a tool that recounts.
pub fn recount<'a>(calls: impl IntoIterator<Item = Counted<'a>>, dimension: Dimension) -> BTreeMap<String, Counts> {
    let mut groups: BTreeMap<String, Counts> = BTreeMap::new();
    for call in calls {
        for (key, counts) in counters(call).into_iter().filter(|(key, _)| key.dimension == dimension) {
            let group = if dimension == Dimension::Day { key.day } else { key.value };
            groups.entry(group).or_default().add(&counts, 1);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn talk_buckets_are_exact_under_two_minutes_then_coarser() {
        let buckets: Vec<u32> = [0, 45, 119, 120, 129, 599, 600, 659, 7199, 7200, 90_000].map(talk_bucket).into();
        assert_eq!(buckets, [0, 45, 119, 120, 120, 590, 600, 600, 7140, 7200, 7200]);
    }

    #[test]
    fn the_median_is_the_middle_calls_bucket() {
        let mut counts = Counts::default();
        assert_eq!(counts.median_talk_seconds(), None);
        for talk in [10, 50, 40, 300, 45] {
            counts.talk.entry(talk_bucket(talk)).and_modify(|n| *n += 1).or_insert(1);
        }
        assert_eq!(counts.median_talk_seconds(), Some(45));
        counts.talk.insert(5, 1);
        assert_eq!(counts.median_talk_seconds(), Some(40), "the lower middle of six");
    }

    #[test]
    fn days_and_shards_are_fixed_by_the_call() {
        assert_eq!(
            (day_of(0), day_of(1_795_305_599_999), day_of(1_795_305_600_000)),
            ("1970-01-01".into(), "2026-11-21".into(), "2026-11-22".into())
        );
        let sid = |n: u32| format!("CA{n:032x}");
        assert_eq!(shard(&sid(1)), shard(&sid(1)));
        let used: std::collections::BTreeSet<u8> = (0..64).map(|n| shard(&sid(n))).collect();
        assert_eq!(used.len(), COUNTER_SHARDS as usize, "64 SIDs counting up use every shard");
    }
}
