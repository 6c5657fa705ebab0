//! The calls' own index table ([`calltrack_core::call_index`]) as items:
//! - a listing entry: `pk` = `L#{tenant}#all`, `L#{tenant}#qualified` or
//!   `L#{tenant}#{filter}#{value}`, then `#{shard}` for a sharded listing
//!   ([`Listing::is_sharded`]); `sk` = `{startedAt, 15 digits}#{callSid}`, so a
//!   query of each partition lists the calls newest first, and a cursor
//!   (`startedAt`, `callSid`) continues any of them;
//! - a counter: `pk` = `C#{tenant}#{dimension}#{shard}`, `sk` = `{day}#{value}`,
//!   with one number per count and one per talk-time bucket (`t{seconds}`).
//!
//! A tenant id holds no `#`, and each kind's prefix and fixed parts come before
//! any free value, so no two tenants' or kinds' keys can meet.

use crate::item::{INDEX_VERSION, Item, number, storage};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use calltrack_core::call::Call;
use calltrack_core::call_index::{Counts, Dimension, LISTING_SHARDS, Listing, ListingEntry, counter_changes, listings};
use calltrack_core::ports::StorageError;
use calltrack_core::view::Cursor;
use std::collections::BTreeMap;

/// The most of a value a key holds, in bytes. DynamoDB refuses a partition
/// key over 2048 bytes and a sort key over 1024, and a refused write would
/// fail every callback of the call: a longer lead source, user or CRM id is
/// cut, at a character, to its first 256 bytes (two values that share them
/// share a listing and a group; a listing then checks each call's full value).
pub const KEY_VALUE_BYTES: usize = 256;

/// `value`, cut to at most [`KEY_VALUE_BYTES`] at a character boundary.
pub fn key_part(value: &str) -> &str {
    let mut end = value.len().min(KEY_VALUE_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// The partition of a listing, or of one of its shards.
pub fn listing_pk(tenant: &str, listing: &Listing, shard: Option<u8>) -> String {
    let name = match listing {
        Listing::All => "all".to_owned(),
        Listing::Qualified => "qualified".to_owned(),
        Listing::By(filter, value) => format!("{}#{}", filter.name(), key_part(value)),
    };
    match shard {
        Some(shard) => format!("L#{tenant}#{name}#{shard:02}"),
        None => format!("L#{tenant}#{name}"),
    }
}

/// Every partition of a listing: each of its shards, or its one.
pub fn listing_pks(tenant: &str, listing: &Listing) -> Vec<String> {
    match listing.is_sharded() {
        true => (0..LISTING_SHARDS).map(|shard| listing_pk(tenant, listing, Some(shard))).collect(),
        false => vec![listing_pk(tenant, listing, None)],
    }
}

/// A listing's sort key at a call: sorted by start, then SID, as the cursor is.
pub fn listing_sk(started_at: i64, call_sid: &str) -> String {
    format!("{started_at:015}#{call_sid}")
}

/// The partition of one shard of a tenant's counters by `dimension`.
pub fn counter_pk(tenant: &str, dimension: Dimension, shard: u8) -> String {
    format!("C#{tenant}#{}#{shard:02}", dimension.name())
}

/// An entry's key (`pk`, `sk`) as index `version` ([`INDEX_VERSION`]) keyed
/// it: version 1 had no listing of all or of qualified calls, and no shards.
fn entry_key(entry: &ListingEntry, version: u8) -> Option<(String, String)> {
    let shard = match (version, &entry.listing) {
        (1, Listing::By(..)) => None,
        (1, _) => return None,
        _ => entry.shard(),
    };
    Some((listing_pk(&entry.tenant, &entry.listing, shard), listing_sk(entry.started_at, &entry.call_sid)))
}

/// A call's listing entries by key, as index `version` keyed them. Two values
/// cut to the same key ([`key_part`]) are one entry.
fn entries_by_key(call: Option<&Call>, version: u8) -> BTreeMap<(String, String), ListingEntry> {
    call.map(listings).unwrap_or_default().into_iter().filter_map(|entry| Some((entry_key(&entry, version)?, entry))).collect()
}

fn key_item((pk, sk): &(String, String)) -> Item {
    Item::from([("pk".to_owned(), AttributeValue::S(pk.clone())), ("sk".to_owned(), AttributeValue::S(sk.clone()))])
}

/// Where a listing's next page starts, in `pk`'s partition.
pub fn listing_start(pk: &str, cursor: Cursor) -> Item {
    Item::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(listing_sk(cursor.started_at, cursor.call_sid.as_str()))),
    ])
}

/// The index writes that take a call from `before` (none: new, or never
/// indexed; else with the [`INDEX_VERSION`] it was indexed by) to `after`
/// (none: erased), to go in the call's own transaction: the entries whose
/// keys went, those whose keys came, and the counts' differences.
pub fn index_writes(table: &str, before: Option<(&Call, u8)>, after: Option<&Call>) -> Result<Vec<TransactWriteItem>, StorageError> {
    let old = entries_by_key(before.map(|(call, _)| call), before.map_or(INDEX_VERSION, |(_, version)| version));
    let new = entries_by_key(after, INDEX_VERSION);
    let mut writes = Vec::new();
    for key in old.keys().filter(|key| !new.contains_key(*key)) {
        let delete = Delete::builder().table_name(table).set_key(Some(key_item(key))).build().map_err(storage)?;
        writes.push(TransactWriteItem::builder().delete(delete).build());
    }
    for (key, entry) in new.iter().filter(|(key, _)| !old.contains_key(*key)) {
        let mut item = key_item(key);
        item.insert("callSid".into(), AttributeValue::S(entry.call_sid.clone()));
        item.insert("startedAt".into(), number(entry.started_at));
        let put = Put::builder().table_name(table).set_item(Some(item)).build().map_err(storage)?;
        writes.push(TransactWriteItem::builder().put(put).build());
    }
    // Two groups cut to the same key (`key_part`) are one counter, which a
    // transaction may name once: their changes are added up.
    let mut counters: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for (key, counts) in counter_changes(before.map(|(call, _)| call), after) {
        let item_key = (counter_pk(&key.tenant, key.dimension, key.shard), format!("{}#{}", key.day, key_part(&key.value)));
        counters.entry(item_key).or_default().add(&counts, 1);
    }
    for (key, counts) in counters.iter().filter(|(_, counts)| !counts.is_zero()) {
        writes.push(TransactWriteItem::builder().update(counter_update(table, key, counts)?).build());
    }
    Ok(writes)
}

/// Each count (but the talk-time buckets) with its name as stored: the one
/// place the names are written, for the updates and for reading an item back.
fn by_name(counts: &mut Counts) -> [(&'static str, &mut i64); 7] {
    [
        ("calls", &mut counts.calls),
        ("answered", &mut counts.answered),
        ("missed", &mut counts.missed),
        ("qualified", &mut counts.qualified),
        ("firstTimeCallers", &mut counts.first_time_callers),
        ("voicemails", &mut counts.voicemails),
        ("talkSeconds", &mut counts.talk_seconds),
    ]
}

/// The counts' names as stored, with their values.
fn named(counts: &Counts) -> Vec<(String, i64)> {
    let mut named: Vec<(String, i64)> = by_name(&mut counts.clone()).into_iter().map(|(name, n)| (name.to_owned(), *n)).collect();
    named.extend(counts.talk.iter().map(|(bucket, &n)| (format!("t{bucket}"), n)));
    named.retain(|(_, n)| *n != 0);
    named
}

/// `ADD` of each non-zero count: DynamoDB adds atomically, creating what is missing.
fn counter_update(table: &str, (pk, sk): &(String, String), counts: &Counts) -> Result<Update, StorageError> {
    let named = named(counts);
    let adds: Vec<String> = (0..named.len()).map(|i| format!("#n{i} :v{i}")).collect();
    let mut update = Update::builder()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S(sk.clone()))
        .update_expression(format!("ADD {}", adds.join(", ")));
    for (i, (name, n)) in named.into_iter().enumerate() {
        update = update.expression_attribute_names(format!("#n{i}"), name).expression_attribute_values(format!(":v{i}"), number(n));
    }
    update.build().map_err(storage)
}

/// A counter item's day, group value and counts.
pub fn counter_from_item(item: &Item) -> Option<(String, String, Counts)> {
    let sk = item.get("sk")?.as_s().ok()?;
    let (day, value) = sk.split_once('#')?;
    let n = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
    let mut counts = Counts::default();
    for (name, count) in by_name(&mut counts) {
        *count = n(name);
    }
    for (name, value) in item {
        if let (Some(bucket), Ok(count)) =
            (name.strip_prefix('t').and_then(|b| b.parse::<u32>().ok()), value.as_n().map(|n| n.parse::<i64>()))
            && let Ok(count) = count
            && count != 0
        {
            counts.talk.insert(bucket, count);
        }
    }
    Some((day.to_owned(), value.to_owned(), counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use calltrack_core::call_index::Filter;

    #[test]
    fn a_long_value_is_cut_at_a_character_to_fit_a_key() {
        assert_eq!(key_part("Google Ads"), "Google Ads");
        let long = "é".repeat(200); // 400 bytes
        let cut = key_part(&long);
        assert_eq!((cut.len(), cut.chars().count()), (256, 128));
        assert_eq!(key_part(&format!("x{long}")).len(), 255, "never half a character");
        assert!(listing_pk("acme", &Listing::By(Filter::ContactId, "c".repeat(5000)), None).len() < 2048);
    }

    #[test]
    fn the_busiest_listings_are_sharded_and_the_rest_are_one_partition() {
        let by = |filter, value: &str| Listing::By(filter, value.to_owned());
        assert_eq!(listing_pks("acme", &by(Filter::TrackingNumber, "+15005550006")), ["L#acme#trackingNumber#+15005550006"]);
        assert_eq!(listing_pks("acme", &by(Filter::LeadSource, "Google Ads"))[7], "L#acme#leadSource#Google Ads#07");
        let all = listing_pks("acme", &Listing::All);
        assert_eq!((all.len(), all[0].as_str(), all[7].as_str()), (8, "L#acme#all#00", "L#acme#all#07"));
        assert_eq!(listing_pks("acme", &Listing::Qualified)[3], "L#acme#qualified#03");
        assert_eq!(listing_pks("acme", &by(Filter::Answered, "true"))[1], "L#acme#answered#true#01");
    }

    #[test]
    fn a_call_indexed_by_version_1_moves_to_sharded_keys_with_its_counts_left_alone() {
        use calltrack_core::fixtures::{Lifecycle, number};
        let updates = Lifecycle::new(1).forwarded(Some(&number("acme", "jane", None)), 20, 45);
        let call = updates.iter().fold(None, |c, u| Some(Call::apply(c, u.call.clone()).unwrap().call)).unwrap().with_prior_calls(0);
        assert!(call.qualified);
        let pks = |writes: &[TransactWriteItem], put: bool| -> Vec<String> {
            let key = |w: &TransactWriteItem| match put {
                true => w.put().map(|p| p.item()["pk"].as_s().unwrap().clone()),
                false => w.delete().map(|d| d.key()["pk"].as_s().unwrap().clone()),
            };
            let mut pks: Vec<String> = writes.iter().filter_map(key).collect();
            pks.sort();
            pks
        };
        let writes = index_writes("index", Some((&call, 1)), Some(&call)).unwrap();
        assert!(writes.iter().all(|w| w.update().is_none()), "no count moves");
        let shard = calltrack_core::call_index::shard(call.call_sid.as_str()) % LISTING_SHARDS;
        let sharded = |name: &str| format!("L#acme#{name}#{shard:02}");
        let v1 = ["L#acme#answered#true", "L#acme#direction#inbound", "L#acme#firstTimeCaller#true", "L#acme#leadSource#Google Ads"];
        assert_eq!(pks(&writes, false), v1);
        let today = ["all", "answered#true", "direction#inbound", "firstTimeCaller#true", "leadSource#Google Ads", "qualified"];
        assert_eq!(pks(&writes, true), today.map(sharded));
        assert!(index_writes("index", Some((&call, INDEX_VERSION)), Some(&call)).unwrap().is_empty(), "indexed as today: nothing");
    }

    #[test]
    fn a_value_that_changes_beyond_its_key_writes_no_entry() {
        use calltrack_core::fixtures::{Lifecycle, number};
        let mut before = Lifecycle::new(1).answer(Some(&number("acme", "jane", None))).call;
        before.crm.insert("contactId".into(), format!("{}a", "c".repeat(300)));
        let mut after = before.clone();
        after.crm.insert("contactId".into(), format!("{}b", "c".repeat(300)));
        let writes = index_writes("index", Some((&before, INDEX_VERSION)), Some(&after)).unwrap();
        assert!(writes.is_empty(), "the entry's key and item are as they were");
        let tags = [format!("{}a", "t".repeat(300)), format!("{}b", "t".repeat(300))];
        let change = calltrack_core::disposition::DispositionChange { tags: Some(tags.into()), ..Default::default() };
        let two_tags = before.clone().dispose(&change, "jane", before.updated_at + 1).unwrap();
        let puts = index_writes("index", Some((&before, INDEX_VERSION)), Some(&two_tags)).unwrap();
        assert_eq!(puts.len(), 1, "two tags cut to one key are one entry, which a transaction names once");
        let mut renamed = before.clone();
        renamed.lead_source = Some(format!("{}b", "s".repeat(300)));
        let mut source = before.clone();
        source.lead_source = Some(format!("{}a", "s".repeat(300)));
        let writes = index_writes("index", Some((&source, INDEX_VERSION)), Some(&renamed)).unwrap();
        assert!(writes.is_empty(), "the same listing entry, and the same counter: nothing moves");
    }
}
