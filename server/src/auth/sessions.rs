//! Where sessions live: in SQLite (they survive a restart), with the live ones in memory in
//! front, so an ordinary request does not wait for a database round trip to find its
//! session. Writes go to both; a miss in memory falls through to SQLite.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{CachingSessionStore, Result, SessionStore};
use tower_sessions_sqlx_store::SqliteStore;

/// The store the session layer uses.
pub type Sessions = CachingSessionStore<SessionCache, SqliteStore>;

pub fn sessions(sqlite: SqliteStore) -> Sessions {
    CachingSessionStore::new(SessionCache::default(), sqlite)
}

/// At most this many sessions are kept in memory; past it the expired ones go, and if that
/// is not enough, all of them (they are still in SQLite, so nobody is logged out).
const CAPACITY: usize = 10_000;

/// The in-memory side: a bounded map of session records.
#[derive(Debug, Clone, Default)]
pub struct SessionCache(Arc<Mutex<HashMap<Id, Record>>>);

impl SessionCache {
    fn map(&self) -> MutexGuard<'_, HashMap<Id, Record>> {
        // A panic while holding the lock cannot leave the map half-written (each operation
        // is one HashMap call), so a poisoned lock is still good.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl SessionStore for SessionCache {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // The SQLite store has already picked an id that is free there.
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let mut map = self.map();
        if map.len() >= CAPACITY && !map.contains_key(&record.id) {
            let now = OffsetDateTime::now_utc();
            map.retain(|_, r| r.expiry_date > now);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let mut map = self.map();
        match map.get(id) {
            Some(r) if r.expiry_date > OffsetDateTime::now_utc() => Ok(Some(r.clone())),
            Some(_) => {
                map.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.map().remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i128, expires_in: time::Duration) -> Record {
        Record {
            id: Id(id),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn keeps_live_sessions_forgets_expired_and_stays_bounded() {
        let cache = SessionCache::default();
        cache
            .save(&record(1, time::Duration::hours(1)))
            .await
            .unwrap();
        cache
            .save(&record(2, time::Duration::seconds(-1)))
            .await
            .unwrap();
        assert!(cache.load(&Id(1)).await.unwrap().is_some());
        assert!(cache.load(&Id(2)).await.unwrap().is_none(), "expired");
        cache.delete(&Id(1)).await.unwrap();
        assert!(cache.load(&Id(1)).await.unwrap().is_none(), "deleted");
        for i in 0..(CAPACITY as i128 + 10) {
            cache
                .save(&record(i, time::Duration::hours(1)))
                .await
                .unwrap();
        }
        assert!(cache.map().len() <= CAPACITY);
    }
}
