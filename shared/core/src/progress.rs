//! A total order over a call leg's callbacks, so that storage can refuse to move
//! a call backwards when Twilio delivers its callbacks late or out of order.

use calltrack_twilio::fields::CallStatus;
use calltrack_twilio::voice::CallWebhook;

/// How far a call leg has got. Ordered by stage (queued < initiated < ringing <
/// in-progress < ended), then by `SequenceNumber`, then by status, which only
/// separates two different endings of one leg so that the order stays total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallProgress {
    stage: u8,
    sequence_number: u32,
    status: CallStatus,
}

impl CallProgress {
    /// A callback without a `SequenceNumber` (the answer webhook) counts as 0.
    pub fn new(status: CallStatus, sequence_number: Option<u32>) -> Self {
        let stage = match status {
            CallStatus::Queued => 0,
            CallStatus::Initiated => 1,
            CallStatus::Ringing => 2,
            CallStatus::InProgress => 3,
            CallStatus::Completed | CallStatus::Busy | CallStatus::Failed | CallStatus::NoAnswer | CallStatus::Canceled => 4,
        };
        CallProgress { stage, sequence_number: sequence_number.unwrap_or(0), status }
    }

    /// Where a call status callback (or the answer webhook) puts its leg.
    pub fn of(hook: &CallWebhook) -> Self {
        CallProgress::new(hook.status, hook.sequence_number)
    }

    pub fn status(self) -> CallStatus {
        self.status
    }

    /// The same order as one number, for a storage condition such as
    /// `attribute_not_exists(progress) OR progress < :new`.
    pub fn key(self) -> u64 {
        (u64::from(self.stage) << 40) | (u64::from(self.sequence_number) << 8) | self.status as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CallStatus::*;
    use proptest::prelude::*;

    #[test]
    fn stages_order_before_sequence_numbers() {
        let order = [
            CallProgress::new(Queued, Some(0)),
            CallProgress::new(Initiated, Some(0)),
            CallProgress::new(Ringing, Some(1)),
            CallProgress::new(InProgress, Some(2)),
            CallProgress::new(Completed, Some(3)),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        // A ringing callback numbered late never overtakes an ended call.
        assert!(CallProgress::new(Ringing, Some(9)) < CallProgress::new(Busy, Some(1)));
        // Within one stage, the later callback wins.
        assert!(CallProgress::new(Completed, Some(3)) < CallProgress::new(Completed, Some(4)));
        assert_eq!(CallProgress::new(Ringing, None), CallProgress::new(Ringing, Some(0)));
    }

    #[test]
    fn every_ending_outranks_every_live_status() {
        for ended in CallStatus::ALL.iter().filter(|s| s.is_terminal()) {
            for live in CallStatus::ALL.iter().filter(|s| !s.is_terminal()) {
                assert!(CallProgress::new(*live, Some(u32::MAX)) < CallProgress::new(*ended, Some(0)), "{live} vs {ended}");
            }
        }
    }

    #[test]
    fn each_sequence_number_outranks_the_one_before() {
        for n in 0..1000 {
            assert!(CallProgress::new(Ringing, Some(n)).key() < CallProgress::new(Ringing, Some(n + 1)).key(), "{n}");
        }
        assert!(CallProgress::new(Completed, Some(u32::MAX)).key() < CallProgress::new(Busy, Some(u32::MAX)).key());
    }

    fn progress() -> impl Strategy<Value = CallProgress> {
        // Twilio's sequence numbers are small; large ones test the key's bounds.
        let sequence_number = prop_oneof![(0u32..64).prop_map(Some), any::<Option<u32>>()];
        (prop::sample::select(CallStatus::ALL), sequence_number).prop_map(|(s, n)| CallProgress::new(s, n))
    }

    proptest! {
        #[test]
        fn key_has_the_same_order(a in progress(), b in progress()) {
            prop_assert_eq!(a.cmp(&b), a.key().cmp(&b.key()));
        }
    }
}
