//! Tracking numbers as the answer route needs them: from memory when read
//! lately, else from storage within the caller's budget, else the last one read.

use calltrack_core::ports::LookUpNumbers;
use calltrack_core::tracking_number::TrackingNumber;
use calltrack_twilio::fields::PhoneNumber;
use lambda_http::tracing;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a tracking number lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Known(TrackingNumber),
    /// Storage failed; this is the configuration last read.
    LastKnown(TrackingNumber),
    Unknown,
    /// Storage failed and the number was never read by this function.
    StorageDown,
}

impl Lookup {
    pub fn number(&self) -> Option<&TrackingNumber> {
        match self {
            Lookup::Known(n) | Lookup::LastKnown(n) => Some(n),
            Lookup::Unknown | Lookup::StorageDown => None,
        }
    }
}

/// The tracking numbers this function read, and when.
#[derive(Default)]
pub struct NumberCache {
    read: Mutex<HashMap<PhoneNumber, (TrackingNumber, Instant)>>,
}

impl NumberCache {
    /// `number`'s configuration: remembered when read within `fresh`, else read
    /// from `store` within `budget`, else the last one read.
    pub async fn lookup(&self, store: &impl LookUpNumbers, number: &PhoneNumber, fresh: Duration, budget: Duration) -> Lookup {
        let remembered = self.read.lock().expect("not poisoned").get(number).cloned();
        if let Some((config, read_at)) = &remembered
            && read_at.elapsed() < fresh
        {
            return Lookup::Known(config.clone());
        }
        match tokio::time::timeout(budget, store.tracking_number(number)).await {
            Ok(Ok(Some(config))) => {
                self.read.lock().expect("not poisoned").insert(number.clone(), (config.clone(), Instant::now()));
                Lookup::Known(config)
            }
            Ok(Ok(None)) => {
                self.read.lock().expect("not poisoned").remove(number);
                Lookup::Unknown
            }
            failed => {
                let reason = failed.map_or_else(|_| "timed out".to_owned(), |r| r.err().map(|e| e.to_string()).unwrap_or_default());
                tracing::error!(reason, number = mask(number.as_str()), "tracking number lookup failed");
                remembered.map_or(Lookup::StorageDown, |(config, _)| Lookup::LastKnown(config))
            }
        }
    }
}

/// A phone number for logs: the country code and last two digits only.
pub fn mask(number: &str) -> String {
    if !number.starts_with('+') || number.len() < 7 {
        return number.chars().map(|c| if c.is_ascii_digit() { '*' } else { c }).collect();
    }
    let (head, tail) = (&number[..3], &number[number.len() - 2..]);
    format!("{head}{}{tail}", "*".repeat(number.len() - 5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_numbers_keep_only_their_ends() {
        assert_eq!(mask("+12125550199"), "+12*******99");
        assert_eq!(mask("+44207"), "+*****");
        assert_eq!(mask("Anonymous"), "Anonymous");
    }
}
