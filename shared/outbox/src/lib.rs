//! What a change to a call sets off, and the workers that carry it out. The
//! calls table's stream is dispatched ([`dispatch`]): each webhook event is
//! queued for each endpoint that wants it, and a finished recording for its
//! copy into our bucket. The webhook queue's consumer ([`deliver`]) sends them;
//! the callback queue's ([`work`]) applies deferred callbacks and copies
//! recordings ([`copy`]).
//! [`lambda`] is each function's init and event loop.

pub mod copy;
pub mod deliver;
pub mod dispatch;
pub mod lambda;
pub mod work;
