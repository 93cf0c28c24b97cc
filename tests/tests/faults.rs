//! Issue 7: the database connection cut under load. `esep serve` reaches PostgreSQL through
//! a TCP proxy that the test controls; while the proxy drops every connection and refuses new
//! ones, requests fail cleanly (503 with Retry-After, a problem document, never a 500 or a
//! hang) and change nothing; once it is back, the same `esep` process answers again.
//! (Restarting the machine's PostgreSQL itself would disturb every other test running
//! against it; cutting the connections is what a restart does to the clients.)

mod common;

use common::{Server, backends, esep_ok, one, signed_in};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy to `upstream` that can cut every connection and refuse new ones.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    /// Bumped at every cut: connections of an older generation close.
    generation: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicU64::new(0));
        let (u, g) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                // The generation first: a cut between the two reads then still ends it.
                let born = g.load(Ordering::SeqCst);
                if !u.load(Ordering::SeqCst) {
                    drop(client); // refused, as a database that is restarting
                    continue;
                }
                let (g, upstream) = (g.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while g.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {}
                        _ = cut => {}
                    }
                    // Both sockets drop here: each side sees its connection end mid-stream.
                });
            }
        });
        Proxy {
            port,
            up,
            generation,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

// Multi-threaded: the proxy must run while the test thread blocks on starting the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_connection_answers_503_and_recovers_without_a_restart() {
    for db in backends() {
        if db.backend != "postgres" {
            eprintln!("note: SQLite is embedded; no connection to lose");
            continue;
        }
        let out = esep_ok(
            &db,
            &[
                "demo",
                "--accounts",
                "50",
                "--months",
                "1",
                "--consumers",
                "3",
            ],
        );
        let users = common::demo_logins(&out);
        let (_, login, accounts) = users.iter().find(|u| u.0 == "consumer").unwrap().clone();
        let number = one(
            &db,
            &format!(
                "SELECT u.number FROM upd u JOIN account a ON a.id = u.account_id WHERE a.number = '{}' ORDER BY u.period DESC LIMIT 1",
                accounts[0]
            ),
        );
        // postgres://user@127.0.0.1:5432/db?… → the same through the proxy.
        let (scheme_user, rest) = db.url.split_once('@').unwrap();
        let (hostport, path) = rest.split_once('/').unwrap();
        let proxy = Proxy::start(hostport.to_string()).await;
        let proxied = db.via(format!("{scheme_user}@127.0.0.1:{}/{path}", proxy.port));
        let server = Server::start(&proxied, &["--signin-ip-limit", "1000"]);
        let c = signed_in(&server, &login).await;
        let view = server.url(&format!("/api/v1/upds/{number}"));
        assert_eq!(c.get(&view).send().await.unwrap().status(), 200);

        // Load: 8 readers of the UPD for the whole test, each request with a deadline.
        let stop = Arc::new(AtomicBool::new(false));
        let log: Arc<std::sync::Mutex<Vec<(Instant, u16, Duration)>>> = Default::default();
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let (c, view, stop, log) = (c.clone(), view.clone(), stop.clone(), log.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let t = Instant::now();
                        let status =
                            tokio::time::timeout(Duration::from_secs(15), c.get(&view).send())
                                .await
                                .expect("no request hangs")
                                .map(|r| r.status().as_u16())
                                .unwrap_or(0);
                        log.lock().unwrap().push((t, status, t.elapsed()));
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(700)).await;
        let cut_at = Instant::now();
        proxy.cut();
        tokio::time::sleep(Duration::from_millis(300)).await;

        // While it is down: a write is refused cleanly and leaves nothing behind.
        let res = c
            .post(server.url("/api/v1/complaints"))
            .json(&json!({"kind": "complaint", "subject": "Written while the database was away", "body": "Must not be stored.", "account_number": accounts[0]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 503, "a write while the database is away");
        assert_eq!(
            res.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json")
        );
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["status"], 503, "{problem}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let restored_at = Instant::now();
        proxy.restore();

        // Back: the same process answers again within seconds.
        let deadline = Instant::now() + Duration::from_secs(30);
        let recovered_at = loop {
            let ok = log
                .lock()
                .unwrap()
                .iter()
                .any(|(t, s, _)| *t > restored_at && *s == 200);
            if ok {
                break Instant::now();
            }
            assert!(Instant::now() < deadline, "never recovered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::SeqCst);
        for r in readers {
            r.await.unwrap();
        }
        let log: Vec<(Instant, u16, Duration)> = log.lock().unwrap().clone();
        let during: Vec<_> = log
            .iter()
            .filter(|(t, _, d)| *t > cut_at + Duration::from_millis(100) && *t + *d < restored_at)
            .collect();
        let statuses: std::collections::BTreeSet<u16> = log.iter().map(|(_, s, _)| *s).collect();
        eprintln!(
            "[faults] {} requests; statuses {statuses:?}; {} while cut; recovered {:.2} s after the restore; slowest {:.2} s",
            log.len(),
            during.len(),
            (recovered_at - restored_at).as_secs_f64(),
            log.iter()
                .map(|(_, _, d)| d.as_secs_f64())
                .fold(0.0, f64::max)
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 503),
            "only 200 or 503, never a 500 or a broken connection: {statuses:?}"
        );
        assert!(
            !during.is_empty() && during.iter().all(|(_, s, _)| *s == 503),
            "every request while the database was away answered 503"
        );
        assert!(
            log.iter()
                .filter(|(t, _, _)| *t > recovered_at)
                .all(|(_, s, _)| *s == 200),
            "after recovery every request succeeds"
        );
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM complaint WHERE subject = 'Written while the database was away'"
            ),
            "0",
            "the refused write changed nothing"
        );
        // The same process, never restarted, still serves writes.
        let res = c
            .post(server.url("/api/v1/complaints"))
            .json(&json!({"kind": "complaint", "subject": "After the outage", "body": "Stored.", "account_number": accounts[0]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
}
