//! Password-guessing throttles, for logins and for a user's own password change.
//!
//! Two limits with different aims:
//!
//! - **Per address** (the peer, see [`super::Peer`]): strict. One address that fails
//!   [`PER_PEER`] times in [`WINDOW`] is refused outright until its oldest failure ages out:
//!   it is guessing, and nobody else is behind it.
//! - **Per username**: a delay, never a lock. The first [`FREE`] failures cost nothing
//!   (typos); after that each attempt waits a delay that doubles with every failure, up to
//!   [`MAX_DELAY`]. A lock per username would let anyone lock the real user out from
//!   everywhere by failing ten times; a capped delay only slows guessing.
//!
//! Attempts on one username pass two gates, each admitting one attempt per delay: one for
//! addresses that have failed recently, one for addresses that have not. So an attacker
//! failing from their own addresses keeps only *their* gate closed, and the real user at
//! another address gets in at once, or at worst (an attacker also burning fresh addresses)
//! after one capped delay. A fresh address becomes a failing one at its first failure, so
//! neither gate lets guesses through faster than one per delay.
//!
//! An attempt is reserved when it starts ([`Throttle::begin`]) and counted as a failure
//! until its outcome is known: a burst of concurrent guesses gets in no faster than the
//! same guesses one after another.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a failure is remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures one address may cause in the window (slows one host guessing many accounts).
pub const PER_PEER: usize = 30;
/// Failures of one username that cost no delay.
pub const FREE: usize = 10;
/// The delay after the first failure past [`FREE`]; it doubles with each further one.
const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest delay between two attempts on one username.
pub const MAX_DELAY: Duration = Duration::from_secs(30);
/// Past this many tracked names or addresses, the ones with nothing recent are dropped.
const MAX_TRACKED: usize = 100_000;

/// The gate of addresses with recent failures, and that of the others.
const FAILING: usize = 0;
const CLEAN: usize = 1;

#[derive(Default)]
pub struct Throttle {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    users: HashMap<String, Tally>,
    peers: HashMap<String, Tally>,
}

#[derive(Default)]
struct Tally {
    /// Failures within the window, oldest first (bounded: only the count matters).
    failures: VecDeque<Instant>,
    /// Attempts started and not finished yet.
    in_flight: usize,
    /// Per gate (usernames only): when the next attempt may start.
    next: [Option<Instant>; 2],
}

impl Tally {
    fn expire(&mut self, now: Instant) {
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.failures.pop_front();
        }
    }

    fn idle(&self, now: Instant) -> bool {
        self.in_flight == 0
            && self
                .failures
                .back()
                .is_none_or(|t| now.duration_since(*t) >= WINDOW)
    }
}

/// The delay before the next attempt on a username that has failed this many times.
pub fn delay(failures: usize) -> Duration {
    if failures < FREE {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE).min(16) as u32;
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// Whole seconds to wait, rounded up (a `Retry-After` of 0 would invite a busy loop).
fn seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// An attempt that passed the throttle. Report its outcome with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropped without one (the request was cancelled), it counts as
/// neither.
#[must_use = "report the outcome of the attempt"]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    user: String,
    peer: Option<String>,
    gate: usize,
    finished: bool,
}

impl Throttle {
    /// Start an attempt at `username`'s password from `peer`, or the seconds to wait.
    pub fn begin(&self, peer: Option<&str>, username: &str) -> Result<Attempt<'_>, u64> {
        self.begin_at(Instant::now(), peer, username)
    }

    fn begin_at(
        &self,
        now: Instant,
        peer: Option<&str>,
        username: &str,
    ) -> Result<Attempt<'_>, u64> {
        let mut state = self.lock();
        state.bound(now);
        // No address known (never the case behind `ConnectInfo`): treated as failing.
        let mut gate = FAILING;
        if let Some(p) = peer {
            if let Some(tally) = state.peers.get_mut(p) {
                tally.expire(now);
                if tally.failures.len() + tally.in_flight >= PER_PEER {
                    let oldest = tally.failures.front().copied().unwrap_or(now);
                    return Err(seconds(WINDOW.saturating_sub(now.duration_since(oldest))));
                }
                if tally.failures.is_empty() {
                    gate = CLEAN;
                }
            } else {
                gate = CLEAN;
            }
        }
        let user = state.users.entry(username.to_owned()).or_default();
        user.expire(now);
        if let Some(at) = user.next[gate] {
            if now < at {
                return Err(seconds(at - now));
            }
        }
        user.in_flight += 1;
        let wait = delay(user.failures.len() + user.in_flight);
        user.next[gate] = Some(now + wait);
        if let Some(p) = peer {
            state.peers.entry(p.to_owned()).or_default().in_flight += 1;
        }
        Ok(Attempt {
            throttle: self,
            user: username.to_owned(),
            peer: peer.map(str::to_owned),
            gate,
            finished: false,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every change under the lock is a few map operations that leave it consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    /// Bound memory under a flood of distinct names or addresses.
    fn bound(&mut self, now: Instant) {
        if self.users.len() > MAX_TRACKED {
            self.users.retain(|_, t| !t.idle(now));
        }
        if self.peers.len() > MAX_TRACKED {
            self.peers.retain(|_, t| !t.idle(now));
        }
    }
}

impl Attempt<'_> {
    /// The password was wrong: count it for the username and the address.
    pub fn failed(mut self) {
        self.finish(Instant::now(), false);
    }

    /// The password was right: the username starts afresh (its address's failures stay).
    pub fn succeeded(mut self) {
        self.finish(Instant::now(), true);
    }

    fn finish(&mut self, now: Instant, ok: bool) {
        if self.finished {
            return;
        }
        self.finished = true;
        let mut state = self.throttle.lock();
        if let Some(p) = &self.peer {
            if let Some(tally) = state.peers.get_mut(p) {
                tally.in_flight = tally.in_flight.saturating_sub(1);
                if !ok {
                    tally.failures.push_back(now);
                    while tally.failures.len() > PER_PEER {
                        tally.failures.pop_front();
                    }
                }
            }
        }
        if ok {
            state.users.remove(&self.user);
            return;
        }
        if let Some(user) = state.users.get_mut(&self.user) {
            user.in_flight = user.in_flight.saturating_sub(1);
            user.failures.push_back(now);
            // Past FREE + 16 failures the delay no longer grows: no need to keep more.
            while user.failures.len() > FREE + 16 {
                user.failures.pop_front();
            }
            let wait = delay(user.failures.len() + user.in_flight);
            let gate = &mut user.next[self.gate];
            *gate = Some(gate.map_or(now + wait, |at| at.max(now + wait)));
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Cancelled: neither a failure nor a success; just no longer in flight.
        let mut state = self.throttle.lock();
        if let Some(user) = state.users.get_mut(&self.user) {
            user.in_flight = user.in_flight.saturating_sub(1);
        }
        if let Some(tally) = self.peer.as_ref().and_then(|p| state.peers.get_mut(p)) {
            tally.in_flight = tally.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACKER: Option<&str> = Some("10.0.0.66");
    const VICTIM: Option<&str> = Some("10.0.0.1");

    /// Fail `n` times from `peer`, each attempt as soon as the throttle allows; returns the
    /// clock after the last failure.
    fn fail(t: &Throttle, mut now: Instant, peer: Option<&str>, user: &str, n: usize) -> Instant {
        for _ in 0..n {
            match t.begin_at(now, peer, user) {
                Ok(mut a) => a.finish(now, false),
                Err(wait) => {
                    assert!(wait <= MAX_DELAY.as_secs(), "capped: {wait}");
                    now += Duration::from_secs(wait);
                    let mut a = t.begin_at(now, peer, user).expect("in after the wait");
                    a.finish(now, false);
                }
            }
        }
        now
    }

    #[test]
    fn the_delay_doubles_and_is_capped() {
        assert_eq!(delay(0), Duration::ZERO);
        assert_eq!(delay(FREE - 1), Duration::ZERO);
        assert_eq!(delay(FREE), Duration::from_secs(1));
        assert_eq!(delay(FREE + 1), Duration::from_secs(2));
        assert_eq!(delay(FREE + 3), Duration::from_secs(8));
        assert_eq!(delay(FREE + 5), MAX_DELAY);
        assert_eq!(delay(usize::MAX), MAX_DELAY);
    }

    #[test]
    fn typos_are_free_then_each_attempt_waits() {
        let t = Throttle::default();
        let now = Instant::now();
        let now = fail(&t, now, ATTACKER, "admin", FREE);
        // The next attempt from anywhere that has failed waits a second...
        assert_eq!(t.begin_at(now, ATTACKER, "admin").err(), Some(1));
        // ...and gets in after it.
        let later = now + Duration::from_secs(1);
        assert!(t.begin_at(later, ATTACKER, "admin").is_ok());
    }

    #[test]
    fn many_failures_never_lock_the_right_password_out() {
        let t = Throttle::default();
        // Far more failures than the old lock allowed, from one address and from another.
        let now = fail(&t, Instant::now(), ATTACKER, "admin", 25);
        let now = fail(&t, now, Some("10.0.0.67"), "admin", 3);
        // The real user at an address that has not failed is not held up at all.
        let a = t
            .begin_at(now, VICTIM, "admin")
            .expect("a clean address gets in");
        a.succeeded();
    }

    #[test]
    fn the_same_address_gets_in_after_at_most_the_cap() {
        let t = Throttle::default();
        let now = fail(&t, Instant::now(), ATTACKER, "admin", 20);
        let wait = t
            .begin_at(now, ATTACKER, "admin")
            .err()
            .expect("a delay now");
        assert!(wait <= MAX_DELAY.as_secs());
        let now = now + Duration::from_secs(wait);
        t.begin_at(now, ATTACKER, "admin")
            .expect("in after the delay")
            .succeeded();
        // A success starts the username afresh.
        assert!(t.begin_at(now, ATTACKER, "admin").is_ok());
    }

    #[test]
    fn fresh_addresses_share_one_gate() {
        let t = Throttle::default();
        let now = fail(&t, Instant::now(), ATTACKER, "admin", FREE + 5);
        // A botnet's fresh addresses: the first gets in, the next one waits the delay.
        let mut first = t.begin_at(now, Some("192.0.2.1"), "admin").expect("first");
        first.finish(now, false);
        let wait = t.begin_at(now, Some("192.0.2.2"), "admin").err();
        assert_eq!(wait, Some(MAX_DELAY.as_secs()));
    }

    #[test]
    fn concurrent_attempts_are_counted_before_their_outcome() {
        let t = Throttle::default();
        let now = fail(&t, Instant::now(), ATTACKER, "admin", FREE - 1);
        let a = t
            .begin_at(now, ATTACKER, "admin")
            .expect("the last free one");
        // While it runs, a second attempt already waits as if the first had failed.
        assert!(t.begin_at(now, ATTACKER, "admin").is_err());
        drop(a);
    }

    #[test]
    fn one_address_failing_a_lot_is_refused_for_the_window() {
        let t = Throttle::default();
        let mut now = Instant::now();
        for i in 0..PER_PEER {
            now = fail(&t, now, ATTACKER, &format!("user{i}"), 1);
        }
        let wait = t.begin_at(now, ATTACKER, "someone-else").err();
        assert!(wait.is_some_and(|w| w > MAX_DELAY.as_secs()), "{wait:?}");
        // Others are not affected.
        assert!(t.begin_at(now, VICTIM, "someone-else").is_ok());
        // It ages out.
        assert!(t.begin_at(now + WINDOW, ATTACKER, "someone-else").is_ok());
    }

    #[test]
    fn a_cancelled_attempt_counts_as_nothing() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..3 * FREE {
            drop(t.begin_at(now, ATTACKER, "admin").expect("nothing counted"));
        }
    }
}
