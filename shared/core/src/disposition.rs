//! A person's verdict on a call, its lead disposition: a lead status, tags, a
//! note and a value, set through the API, with who changed what and when. A
//! lead status overrides the automatic qualification and says so ([`Verdict`]);
//! `spam` and `not-a-lead` take the call out of the qualified counts.

use calltrack_twilio::fields::Field;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How many changes a call keeps in its history: the latest ones. A call's item
/// is written again on every callback, and its size is what each write costs.
pub const HISTORY: usize = 20;
/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// The most tags a call may carry, and the longest tag.
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;

/// A lead status a person gives a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum LeadStatus {
    /// A real lead, whatever the automatic rule said.
    GoodLead,
    /// A real caller, but no lead (a supplier, a wrong number, an existing customer).
    NotALead,
    /// Spam or a robocall.
    Spam,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 3] = [LeadStatus::GoodLead, LeadStatus::NotALead, LeadStatus::Spam];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::GoodLead => "good-lead",
            LeadStatus::NotALead => "not-a-lead",
            LeadStatus::Spam => "spam",
        }
    }

    /// Whether a call with this status is a qualified lead.
    pub fn qualified(self) -> bool {
        self == LeadStatus::GoodLead
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Field for LeadStatus {
    fn parse(field: &str, raw: &str) -> Result<Self, calltrack_twilio::Error> {
        LeadStatus::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            let known: Vec<_> = LeadStatus::ALL.iter().map(|s| s.as_str()).collect();
            calltrack_twilio::Error::invalid(field, format!("is not a lead status: {raw:?} (one of {})", known.join(", ")))
        })
    }
}

/// A call's disposition as it stands, and how it came to be.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Disposition {
    pub lead_status: Option<LeadStatus>,
    #[serde(default)]
    pub tags: BTreeSet<String>,
    pub note: Option<String>,
    /// What the lead is worth, in cents of the tenant's currency.
    pub value_cents: Option<i64>,
    /// Counts the changes: of two dispositions, the greater revision is the later.
    pub revision: u32,
    pub changed_by: String,
    pub changed_at: i64,
    /// The latest [`HISTORY`] changes, oldest first.
    #[serde(default)]
    pub history: Vec<Change>,
}

/// One change of a disposition: who, when, and each field it set, as text
/// (`""`: cleared).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub revision: u32,
    pub changed_at: i64,
    pub changed_by: String,
    pub fields: BTreeMap<String, String>,
}

/// What a `PATCH` asks to change: a field left `None` stays as it is;
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispositionChange {
    pub lead_status: Option<Option<LeadStatus>>,
    pub tags: Option<BTreeSet<String>>,
    pub note: Option<Option<String>>,
    pub value_cents: Option<Option<i64>>,
}

/// Who made a qualification verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The rule: answered, and the conversation long enough.
    #[default]
    Automatic,
    /// A person's lead status, which overrides the rule.
    Manual,
}

impl Disposition {
    /// `change` applied to `current` (none: never disposed) by `by` at `at`;
    /// `None` when it changes nothing, so that a repeated `PATCH` writes nothing.
    pub fn changed(current: Option<&Disposition>, change: &DispositionChange, by: &str, at: i64) -> Option<Disposition> {
        let before = current.cloned().unwrap_or(Disposition {
            lead_status: None,
            tags: BTreeSet::new(),
            note: None,
            value_cents: None,
            revision: 0,
            changed_by: String::new(),
            changed_at: 0,
            history: Vec::new(),
        });
        let mut after = before.clone();
        let mut fields = BTreeMap::new();
        if let Some(status) = change.lead_status
            && status != before.lead_status
        {
            after.lead_status = status;
            fields.insert("leadStatus".into(), status.map_or_else(String::new, |s| s.as_str().to_owned()));
        }
        if let Some(tags) = &change.tags
            && *tags != before.tags
        {
            after.tags = tags.clone();
            fields.insert("tags".into(), tags.iter().cloned().collect::<Vec<_>>().join(","));
        }
        if let Some(note) = &change.note
            && *note != before.note
        {
            after.note = note.clone();
            fields.insert("note".into(), note.clone().unwrap_or_default());
        }
        if let Some(value) = change.value_cents
            && value != before.value_cents
        {
            after.value_cents = value;
            fields.insert("value".into(), value.map_or_else(String::new, format_cents));
        }
        if fields.is_empty() {
            return None;
        }
        after.revision = before.revision + 1;
        after.changed_by = by.to_owned();
        after.changed_at = at;
        after.history.push(Change { revision: after.revision, changed_at: at, changed_by: by.to_owned(), fields });
        let excess = after.history.len().saturating_sub(HISTORY);
        after.history.drain(..excess);
        Some(after)
    }

    /// Joins two views of a call's disposition: the later revision's fields,
    /// and both histories. Order-free, as every merge of a call's facts is.
    pub fn merge(a: Option<Disposition>, b: Option<Disposition>) -> Option<Disposition> {
        let (a, b) = match (a, b) {
            (Some(a), Some(b)) => (a, b),
            (a, b) => return a.or(b),
        };
        let rank = |d: &Disposition| (d.revision, d.changed_at, d.changed_by.clone(), d.lead_status, d.value_cents, d.note.clone());
        let (mut later, earlier) = if (rank(&a), &a.tags) >= (rank(&b), &b.tags) { (a, b) } else { (b, a) };
        let history: BTreeSet<Change> = later.history.drain(..).chain(earlier.history).collect();
        let excess = history.len().saturating_sub(HISTORY);
        later.history = history.into_iter().skip(excess).collect();
        Some(later)
    }
}

/// Cents as a decimal amount: `1250` → `12.50`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(status: Option<LeadStatus>) -> DispositionChange {
        DispositionChange { lead_status: Some(status), ..DispositionChange::default() }
    }

    #[test]
    fn a_change_counts_a_revision_and_records_who_set_what() {
        let first = Disposition::changed(None, &change(Some(LeadStatus::Spam)), "jane", 1_000).unwrap();
        assert_eq!((first.lead_status, first.revision, first.changed_by.as_str()), (Some(LeadStatus::Spam), 1, "jane"));
        let tags = DispositionChange { tags: Some(["vip".to_owned()].into()), value_cents: Some(Some(1250)), ..change(None) };
        let second = Disposition::changed(Some(&first), &tags, "bob", 2_000).unwrap();
        assert_eq!((second.lead_status, second.revision, second.value_cents), (None, 2, Some(1250)));
        let fields: Vec<_> = second.history.iter().map(|c| (c.changed_by.as_str(), c.fields.clone())).collect();
        assert_eq!(fields[0], ("jane", BTreeMap::from([("leadStatus".into(), "spam".into())])));
        assert_eq!(
            fields[1],
            ("bob", BTreeMap::from([("leadStatus".into(), "".into()), ("tags".into(), "vip".into()), ("value".into(), "12.50".into())]))
        );
        assert_eq!(Disposition::changed(Some(&second), &tags, "bob", 3_000), None, "the same change again changes nothing");
    }

    #[test]
    fn the_history_keeps_the_latest_changes() {
        let mut disposition = None;
        for i in 0..(HISTORY as i64 + 5) {
            let note = DispositionChange { note: Some(Some(format!("note {i}"))), ..DispositionChange::default() };
            disposition = Disposition::changed(disposition.as_ref(), &note, "jane", i);
        }
        let history = disposition.unwrap().history;
        assert_eq!(history.len(), HISTORY);
        assert_eq!(history.last().unwrap().fields["note"], format!("note {}", HISTORY + 4));
    }

    #[test]
    fn merging_keeps_the_later_revision_whatever_the_order() {
        let first = Disposition::changed(None, &change(Some(LeadStatus::GoodLead)), "jane", 1_000);
        let second = Disposition::changed(first.as_ref(), &change(Some(LeadStatus::Spam)), "bob", 2_000);
        let merged = Disposition::merge(first.clone(), second.clone());
        assert_eq!(merged, Disposition::merge(second.clone(), first.clone()));
        assert_eq!(merged, second);
        assert_eq!(Disposition::merge(None, first.clone()), first);
    }

    #[test]
    fn lead_statuses_read_back_and_refuse_others_by_name() {
        for status in LeadStatus::ALL {
            assert_eq!(LeadStatus::parse("leadStatus", status.as_str()), Ok(status));
        }
        let err = LeadStatus::parse("leadStatus", "hot").unwrap_err().to_string();
        assert_eq!(err, r#"leadStatus is not a lead status: "hot" (one of good-lead, not-a-lead, spam)"#);
        assert_eq!(
            (format_cents(1250), format_cents(7), format_cents(-1999), format_cents(0)),
            ("12.50".into(), "0.07".into(), "-19.99".into(), "0.00".into())
        );
    }
}
