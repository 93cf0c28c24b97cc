//! Passwords (argon2id), session tokens and the sign-in rate limit.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
        .to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// [`verify_password`] in the given working memory (resized to what the hash's parameters
/// need), so that a thread checking passwords all day allocates it once.
pub fn verify_password_in(memory: &mut Vec<argon2::Block>, password: &str, hash: &str) -> bool {
    let Ok(parsed) = argon2::PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(params), Some(salt), Some(expected)) = (
        argon2::Params::try_from(&parsed),
        parsed.salt.as_ref(),
        parsed.hash.as_ref(),
    ) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    if memory.len() != blocks {
        memory.clear();
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    if argon
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            &mut memory[..],
        )
        .is_err()
    {
        return false;
    }
    // Output's equality is constant-time.
    argon2::password_hash::phc::Output::new(&out).is_ok_and(|o| &o == expected)
}

type Check = (String, String, tokio::sync::oneshot::Sender<bool>);

/// Checks a password on a fixed pool of one thread per core. Argon2id takes 19 MiB per check
/// by design; on tokio's blocking pool a burst of sign-ins would start hundreds of threads,
/// each keeping what it allocated, so the server's memory grew to 700 MiB under a sign-in
/// load. Here the threads, and so the memory, are bounded; checks beyond them wait their turn.
pub async fn verify_password_pooled(password: String, hash: String) -> bool {
    static POOL: std::sync::OnceLock<std::sync::mpsc::SyncSender<Check>> =
        std::sync::OnceLock::new();
    let sender = POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Check>(4096);
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    // Each thread's 19 MiB, allocated once and reused: a fresh allocation per
                    // check left malloc's arenas holding ~200 MiB after a burst of sign-ins
                    // (`cargo xtask bench api`).
                    let mut memory = Vec::new();
                    loop {
                        let next = rx.lock().map(|r| r.recv());
                        let Ok(Ok((password, hash, reply))) = next else {
                            return;
                        };
                        let _ = reply.send(verify_password_in(&mut memory, &password, &hash));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start a password-check thread: {e}");
            }
        }
        tx
    });
    let (reply, answer) = tokio::sync::oneshot::channel();
    if sender.try_send((password, hash, reply)).is_err() {
        return false; // the pool is gone or 4096 checks are waiting: refuse, never hang
    }
    answer.await.unwrap_or(false)
}

/// A hash to verify against when the login is unknown, so that the answer takes as long
/// as for a known login and does not reveal which logins exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password").unwrap_or_default())
}

/// A new session token (sent to the browser) and its SHA-256 (kept in the database).
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// A sliding-window limit: at most `max` events per `window` for each key.
pub struct RateLimiter {
    max: usize,
    window: Duration,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        RateLimiter {
            max,
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until the key may try again, or `None` if it may now.
    pub fn blocked_for(&self, key: &str) -> Option<u64> {
        let mut map = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let q = map.get_mut(key)?;
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            let oldest = *q.front()?;
            Some((self.window - now.duration_since(oldest)).as_secs().max(1))
        } else {
            None
        }
    }

    pub fn record(&self, key: &str) {
        let mut map = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            let now = Instant::now();
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        map.entry(key.to_string())
            .or_default()
            .push_back(Instant::now());
    }

    pub fn clear(&self, key: &str) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_reused_memory_check_agrees_with_the_library_on_every_input() {
        let h = hash_password("correct horse").unwrap();
        let mut memory = Vec::new();
        for _ in 0..2 {
            assert!(verify_password_in(&mut memory, "correct horse", &h));
            assert!(!verify_password_in(&mut memory, "correct horsE", &h));
        }
        assert_eq!(memory.len(), 19456, "19 MiB of 1 KiB blocks, kept");
        // A hash with other parameters (argon2i, m=8 MiB) resizes the memory.
        let other = argon2::password_hash::PasswordHasher::hash_password(
            &Argon2::new(
                argon2::Algorithm::Argon2i,
                argon2::Version::V0x13,
                argon2::Params::new(8192, 1, 1, None).unwrap(),
            ),
            b"pw",
        )
        .unwrap()
        .to_string();
        assert!(verify_password_in(&mut memory, "pw", &other));
        assert!(verify_password("pw", &other));
        assert!(!verify_password_in(&mut memory, "pw", "not a hash"));
        assert!(!verify_password_in(
            &mut memory,
            "pw",
            &h.replace("$argon2id$", "$argon2x$")
        ));
    }

    #[test]
    fn limiter_blocks_after_max_events_in_the_window() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        assert_eq!(l.blocked_for("k"), None);
        l.record("k");
        l.record("k");
        assert!(l.blocked_for("k").is_some());
        assert_eq!(l.blocked_for("other"), None);
        l.clear("k");
        assert_eq!(l.blocked_for("k"), None);
    }
}
