//! One-time websocket tickets: a script holding a token, or a page that cannot send its
//! cookie, trades its identity for a ticket valid 30 seconds and usable once, and puts
//! that in the websocket URL instead of a long-lived secret.
//!
//! A ticket sits in a URL, where it is easier to leak than a header, so it is worth as
//! little as possible: it opens one websocket (a GET with `Upgrade: websocket`, on the path
//! it was issued for if one was named) and nothing else, and it dies with its user's
//! sessions (it carries the session epoch of its issue).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(30);

/// What a ticket stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub user_id: i64,
    /// The user's session epoch when it was issued: ending the sessions ends the ticket.
    pub epoch: i64,
    /// The only path it opens, if the issue request named one.
    pub path: Option<String>,
}

#[derive(Default)]
pub struct Tickets {
    live: Mutex<HashMap<String, (Ticket, Instant)>>,
}

impl Tickets {
    pub fn issue(&self, ticket: Ticket) -> String {
        let secret = crate::store::tokens::new_secret();
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, (_, t)| now.duration_since(*t) < TTL);
        live.insert(secret.clone(), (ticket, now));
        secret
    }

    /// What a valid ticket stands for; the ticket is gone afterwards either way.
    pub fn redeem(&self, secret: &str) -> Option<Ticket> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let (ticket, at) = live.remove(secret)?;
        (at.elapsed() < TTL).then_some(ticket)
    }

    /// Drop a user's unused tickets (their sessions were just ended). The epoch check at
    /// redemption refuses them anyway; this only frees them early.
    pub fn forget_user(&self, user_id: i64) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, (t, _)| t.user_id != user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_only_and_forgotten_with_the_user() {
        let tickets = Tickets::default();
        let t = Ticket {
            user_id: 7,
            epoch: 3,
            path: Some("/api/events/ws".into()),
        };
        let secret = tickets.issue(t.clone());
        assert_eq!(tickets.redeem(&secret), Some(t.clone()));
        assert_eq!(tickets.redeem(&secret), None, "used");
        let secret = tickets.issue(t.clone());
        let other = tickets.issue(Ticket { user_id: 8, ..t });
        tickets.forget_user(7);
        assert_eq!(tickets.redeem(&secret), None, "forgotten");
        assert!(tickets.redeem(&other).is_some(), "others' stay");
    }
}
