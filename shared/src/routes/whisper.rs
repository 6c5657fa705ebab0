//! `POST /api/twilio/voice/whisper?text=…`: what the business hears before it
//! is connected (the `<Number url>` of our `<Dial>`). The text is in the URL we
//! gave Twilio, so this needs no storage.

use crate::app::{Handled, twiml};
use crate::error::Error;
use crate::metrics::Counts;
use crate::params::{Params, query_of};
use crate::twiml::Response;
use crate::webhook::Webhook;

pub fn handle(hook: &Webhook) -> Result<Handled, Error> {
    let query = Params::from_form(query_of(&hook.url).as_bytes())?;
    let text = query.get("text").filter(|t| !t.is_empty()).ok_or(Error::Missing("text"))?;
    Ok(Handled { response: twiml(Response::new().say(text).to_xml()), call_sid: None, outcome: "whispered", counts: Counts::default() })
}
