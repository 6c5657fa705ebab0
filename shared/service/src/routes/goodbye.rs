//! `POST /api/twilio/voice/goodbye`: a voicemail was left (the `<Record
//! action>`); thank the caller and hang up.

use crate::metrics::Counts;
use crate::reply::{Handled, Outcome, twiml};
use calltrack_twilio::twiml::Response;

pub fn handle() -> Handled {
    let response = Response::new().say("Thank you. Goodbye.").hangup();
    Handled { response: twiml(response.to_xml()), call_sid: None, outcome: Outcome::Goodbye, counts: Counts::default() }
}
