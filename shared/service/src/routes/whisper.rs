//! `POST /api/twilio/voice/whisper?text=…`: what the business hears before it
//! is connected (the `<Number url>` of our `<Dial>`). The text is in the URL we
//! gave Twilio, so this needs no storage.

use crate::metrics::Counts;
use crate::reply::{Handled, Outcome, twiml};
use calltrack_twilio::params::{Params, query_of};
use calltrack_twilio::twiml::Response;
use calltrack_twilio::{Error, Webhook};

pub fn handle(hook: &Webhook) -> Result<Handled, Error> {
    let query = Params::from_form(query_of(&hook.url).as_bytes())?;
    let text = query.get("text").filter(|t| !t.is_empty()).ok_or(Error::Missing("text"))?;
    Ok(Handled {
        response: twiml(Response::new().say(text).to_xml()),
        call_sid: None,
        outcome: Outcome::Whispered,
        counts: Counts::default(),
    })
}
