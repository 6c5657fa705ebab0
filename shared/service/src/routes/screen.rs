//! `POST /api/twilio/voice/screen?text=…`: the business's side of a screened
//! call, the `<Number url>` of our `<Dial>` when its tracking number screens.
//! Asked first without `Digits`: the whisper, then the prompt, in a `<Gather>`
//! that posts the key pressed back here. Asked again with `Digits`: `1` ends
//! this TwiML and Twilio connects the caller; any other key hangs up the
//! business's leg, as no key at all does after the `<Gather>`. The caller's
//! `<Dial>` then ends unbridged (`DialBridged=false`) and goes on to voicemail,
//! so the business's own voicemail never becomes a conversation. Needs no
//! storage: the whisper's text is in the URL we gave Twilio.

use crate::context::Context;
use crate::metrics::Counts;
use crate::reply::{Handled, Outcome, twiml};
use crate::route::Route;
use calltrack_twilio::params::{Params, query_of};
use calltrack_twilio::twiml::{Gather, Response};
use calltrack_twilio::{Error, Webhook};

/// Seconds the business has to press a key once the prompt has been said.
pub(crate) const PRESS_TIMEOUT_SECONDS: u32 = 6;

pub fn handle<S>(cx: &Context<'_, S>, hook: &Webhook) -> Result<Handled, Error> {
    let (response, outcome) = match pressed_one(hook) {
        Some(true) => (Response::new(), Outcome::Accepted),
        Some(false) => (Response::new().hangup(), Outcome::Declined),
        None => {
            let query = Params::from_form(query_of(&hook.url).as_bytes())?;
            let whisper = query.get("text").filter(|t| !t.trim().is_empty());
            let prompt = press_one(&cx.url(Route::Screen), whisper, &cx.settings.screen_prompt);
            (prompt, Outcome::Screened)
        }
    };
    Ok(Handled { response: twiml(response.to_xml()), call_sid: None, outcome, counts: Counts::default() })
}

/// Whether the key pressed was `1`; `None` when no key was pressed yet (the
/// first request, before the `<Gather>`).
pub(crate) fn pressed_one(hook: &Webhook) -> Option<bool> {
    hook.params.get("Digits").map(|digits| digits.trim() == "1")
}

/// `first` (when any), then `prompt`, said while a `<Gather>` of one key listens
/// and posts it to `action`; without a key, a hang-up.
pub(crate) fn press_one(action: &str, first: Option<&str>, prompt: &str) -> Response {
    let mut gather = Gather::new().num_digits(1).timeout(PRESS_TIMEOUT_SECONDS).action(action);
    if let Some(first) = first {
        gather = gather.say(first);
    }
    Response::new().gather(gather.say(prompt)).hangup()
}
