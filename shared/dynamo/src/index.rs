//! The calls' own index table ([`calltrack_core::call_index`]) as items:
//! - a listing entry: `pk` = `L#{tenant}#{filter}#{value}`, `sk` =
//!   `{startedAt, 15 digits}#{callSid}`, so one key's query lists a filter's
//!   calls newest first, and a cursor (`startedAt`, `callSid`) continues any of them;
//! - a counter: `pk` = `C#{tenant}#{dimension}#{shard}`, `sk` = `{day}#{value}`,
//!   with one number per count and one per talk-time bucket (`t{seconds}`).
//!
//! A tenant id holds no `#`, and each kind's prefix and fixed parts come before
//! any free value, so no two tenants' or kinds' keys can meet.

use crate::item::{Item, number, storage};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use calltrack_core::call::Call;
use calltrack_core::call_index::{CounterKey, Counts, Dimension, Filter, ListingEntry, counter_changes, listing_changes};
use calltrack_core::ports::StorageError;
use calltrack_core::view::Cursor;

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

/// The partition of one filter value's listing.
pub fn listing_pk(tenant: &str, filter: Filter, value: &str) -> String {
    format!("L#{tenant}#{}#{}", filter.name(), key_part(value))
}

/// A listing's sort key at a call: sorted by start, then SID, as the cursor is.
pub fn listing_sk(started_at: i64, call_sid: &str) -> String {
    format!("{started_at:015}#{call_sid}")
}

/// The partition of one shard of a tenant's counters by `dimension`.
pub fn counter_pk(tenant: &str, dimension: Dimension, shard: u8) -> String {
    format!("C#{tenant}#{}#{shard:02}", dimension.name())
}

fn listing_key(entry: &ListingEntry) -> Item {
    Item::from([
        ("pk".to_owned(), AttributeValue::S(listing_pk(&entry.tenant, entry.filter, &entry.value))),
        ("sk".to_owned(), AttributeValue::S(listing_sk(entry.started_at, &entry.call_sid))),
    ])
}

/// Where a listing's next page starts, in `pk`'s partition.
pub fn listing_start(pk: &str, cursor: Cursor) -> Item {
    Item::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(listing_sk(cursor.started_at, cursor.call_sid.as_str()))),
    ])
}

/// The index writes that take a call from `before` (none: new, or never
/// indexed) to `after` (none: erased), to go in the call's own transaction.
pub fn index_writes(table: &str, before: Option<&Call>, after: Option<&Call>) -> Result<Vec<TransactWriteItem>, StorageError> {
    let (removed, added) = listing_changes(before, after);
    let mut writes = Vec::with_capacity(removed.len() + added.len() + 8);
    // Two values cut to the same key (`key_part`) are one item, which a
    // transaction may name once: the put of the new one replaces the old.
    let put_keys: Vec<Item> = added.iter().map(listing_key).collect();
    for entry in removed.iter().filter(|entry| !put_keys.contains(&listing_key(entry))) {
        let delete = Delete::builder().table_name(table).set_key(Some(listing_key(entry))).build().map_err(storage)?;
        writes.push(TransactWriteItem::builder().delete(delete).build());
    }
    for entry in added {
        let mut item = listing_key(&entry);
        item.insert("callSid".into(), AttributeValue::S(entry.call_sid.clone()));
        item.insert("startedAt".into(), number(entry.started_at));
        let put = Put::builder().table_name(table).set_item(Some(item)).build().map_err(storage)?;
        writes.push(TransactWriteItem::builder().put(put).build());
    }
    for (key, counts) in counter_changes(before, after) {
        writes.push(TransactWriteItem::builder().update(counter_update(table, &key, &counts)?).build());
    }
    Ok(writes)
}

/// The counts' names as stored, with their values.
fn named(counts: &Counts) -> Vec<(String, i64)> {
    let mut named: Vec<(String, i64)> = [
        ("calls", counts.calls),
        ("answered", counts.answered),
        ("missed", counts.missed),
        ("qualified", counts.qualified),
        ("firstTimeCallers", counts.first_time_callers),
        ("voicemails", counts.voicemails),
        ("talkSeconds", counts.talk_seconds),
    ]
    .into_iter()
    .map(|(name, n)| (name.to_owned(), n))
    .collect();
    named.extend(counts.talk.iter().map(|(bucket, &n)| (format!("t{bucket}"), n)));
    named.retain(|(_, n)| *n != 0);
    named
}

/// `ADD` of each non-zero count: DynamoDB adds atomically, creating what is missing.
fn counter_update(table: &str, key: &CounterKey, counts: &Counts) -> Result<Update, StorageError> {
    let named = named(counts);
    let adds: Vec<String> = (0..named.len()).map(|i| format!("#n{i} :v{i}")).collect();
    let mut update = Update::builder()
        .table_name(table)
        .key("pk", AttributeValue::S(counter_pk(&key.tenant, key.dimension, key.shard)))
        .key("sk", AttributeValue::S(format!("{}#{}", key.day, key_part(&key.value))))
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
    let mut counts = Counts {
        calls: n("calls"),
        answered: n("answered"),
        missed: n("missed"),
        qualified: n("qualified"),
        first_time_callers: n("firstTimeCallers"),
        voicemails: n("voicemails"),
        talk_seconds: n("talkSeconds"),
        talk: Default::default(),
    };
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

    #[test]
    fn a_long_value_is_cut_at_a_character_to_fit_a_key() {
        assert_eq!(key_part("Google Ads"), "Google Ads");
        let long = "é".repeat(200); // 400 bytes
        let cut = key_part(&long);
        assert_eq!((cut.len(), cut.chars().count()), (256, 128));
        assert_eq!(key_part(&format!("x{long}")).len(), 255, "never half a character");
        assert!(listing_pk("acme", Filter::ContactId, &"c".repeat(5000)).len() < 2048);
    }

    #[test]
    fn a_value_that_changes_beyond_its_key_is_one_put_not_a_delete_and_a_put() {
        use calltrack_core::fixtures::{Lifecycle, number};
        let mut before = Lifecycle::new(1).answer(Some(&number("acme", "jane", None))).call;
        before.crm.insert("contactId".into(), format!("{}a", "c".repeat(300)));
        let mut after = before.clone();
        after.crm.insert("contactId".into(), format!("{}b", "c".repeat(300)));
        let writes = index_writes("index", Some(&before), Some(&after)).unwrap();
        let (deletes, puts) = (writes.iter().filter(|w| w.delete().is_some()).count(), writes.iter().filter(|w| w.put().is_some()).count());
        assert_eq!((deletes, puts), (0, 1));
    }
}
