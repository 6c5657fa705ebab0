//! `Call::merge` on its own, without storage: any order of a call's callbacks,
//! with any of them repeated, merges into the same call.

use calltrack_core::call::{Call, CallUpdate};
use calltrack_core::fixtures::*;
use proptest::prelude::*;
use std::collections::HashSet;

fn lifecycle() -> Vec<CallUpdate> {
    let number = number("tenant-a", "user-1", None);
    let call = Lifecycle::new(1);
    let mut updates = call.forwarded(Some(&number), 20, 45);
    updates.push(call.parent_status(1, "ringing", 0, None));
    updates
}

/// What storage does: each distinct event once, merged into what is there.
fn fold(updates: &[CallUpdate]) -> Call {
    let mut seen = HashSet::new();
    let mut call: Option<Call> = None;
    for update in updates.iter().filter(|u| seen.insert(u.event.id)) {
        call = Some(Call::apply(call.take(), update.call.clone()).call);
    }
    call.expect("at least one update")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_order_with_any_repeats_merges_into_the_same_call(
        order in Just((0..lifecycle().len()).collect::<Vec<_>>()).prop_shuffle(),
        repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let updates = lifecycle();
        let mut delivered: Vec<CallUpdate> = order.iter().map(|&i| updates[i].clone()).collect();
        for repeat in repeats {
            let again = delivered[repeat.index(delivered.len())].clone();
            delivered.insert(repeat.index(delivered.len() + 1), again);
        }
        prop_assert_eq!(fold(&delivered), fold(&updates));
    }

    #[test]
    fn merge_is_commutative_and_idempotent(a in 0..lifecycle().len(), b in 0..lifecycle().len()) {
        let updates = lifecycle();
        let (a, b) = (updates[a].call.clone(), updates[b].call.clone());
        prop_assert_eq!(a.clone().merge(b.clone()), b.clone().merge(a.clone()));
        prop_assert_eq!(a.clone().merge(a.clone()), a);
    }
}

#[test]
fn the_status_never_moves_backwards() {
    let call = Lifecycle::new(2);
    let completed = call.parent_status(3, "completed", 50, Some(50)).call;
    let ringing = call.parent_status(1, "ringing", 1, None).call;
    let merged = completed.clone().merge(ringing.clone());
    assert_eq!(merged.status, completed.status);
    assert_eq!(ringing.merge(completed.clone()).status, completed.status);
}
