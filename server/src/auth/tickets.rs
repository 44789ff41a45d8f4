//! One-time websocket tickets: a script holding a token, or a page that cannot send its
//! cookie, trades its identity for a ticket valid 30 seconds and usable once, and puts
//! that in the websocket URL instead of a long-lived secret.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Tickets {
    live: Mutex<HashMap<String, (i64, Instant)>>,
}

impl Tickets {
    pub fn issue(&self, user_id: i64) -> String {
        let ticket = crate::store::tokens::new_secret();
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, (_, t)| now.duration_since(*t) < TTL);
        live.insert(ticket.clone(), (user_id, now));
        ticket
    }

    /// The user of a valid ticket; the ticket is gone afterwards either way.
    pub fn redeem(&self, ticket: &str) -> Option<i64> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let (uid, at) = live.remove(ticket)?;
        (at.elapsed() < TTL).then_some(uid)
    }
}
