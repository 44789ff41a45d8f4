//! Login throttling: failures are counted per peer address and per username over a
//! sliding window; past the limit, logins are refused before any password is checked.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures a username may see in the window (slows guessing one account from many hosts).
const PER_USER: usize = 10;
/// Failures one address may cause in the window (slows one host guessing many accounts).
const PER_PEER: usize = 30;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// Seconds to wait if this login must be refused now.
    pub fn check(&self, peer: Option<&str>, username: &str) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for (key, limit) in keys(peer, username) {
            if let Some(q) = map.get_mut(&key) {
                while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                    q.pop_front();
                }
                if q.len() >= limit {
                    let oldest = *q.front().unwrap_or(&now);
                    let secs = WINDOW.saturating_sub(now.duration_since(oldest)).as_secs() + 1;
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        wait
    }

    pub fn failed(&self, peer: Option<&str>, username: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of distinct names: drop everything old first.
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for (key, limit) in keys(peer, username) {
            let q = map.entry(key).or_default();
            q.push_back(now);
            while q.len() > limit {
                q.pop_front();
            }
        }
    }

    pub fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("user:{username}"));
    }
}

fn keys(peer: Option<&str>, username: &str) -> Vec<(String, usize)> {
    let mut keys = vec![(format!("user:{username}"), PER_USER)];
    if let Some(p) = peer {
        keys.push((format!("peer:{p}"), PER_PEER));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_and_success_clears_the_user() {
        let t = Throttle::default();
        for _ in 0..PER_USER {
            assert!(t.check(Some("1.2.3.4"), "admin").is_none());
            t.failed(Some("1.2.3.4"), "admin");
        }
        assert!(
            t.check(Some("5.6.7.8"), "admin").is_some(),
            "per user, from anywhere"
        );
        assert!(
            t.check(Some("1.2.3.4"), "other").is_none(),
            "not yet per peer"
        );
        t.succeeded("admin");
        assert!(t.check(Some("5.6.7.8"), "admin").is_none());
    }
}
