//! Federation benchmarks on real `ruche` processes (build with
//! `cargo build --release -p ruche -p federation-tests`, then run
//! `target/release/fed_bench`). Prints:
//! - inbox throughput: signed Create activities accepted and stored per
//!   second by one instance, from several senders;
//! - delivery throughput: one post to 50 follower instances (time until the
//!   last is acknowledged), then 20 posts (deliveries per second);
//! - cross-site latency from publishing on one instance to the post being
//!   in a follower's feed on another (p50, p99);
//! - `community`: a community of 2,000 members on 20 instances: arrival of
//!   each post everywhere, deliveries per post, the host's CPU and memory,
//!   and the same for documents uploaded by a member on another instance;
//! - `poll`: a poll followed from 20 instances, voted by 2,000 people of
//!   those instances: votes accepted per second, and the time from the last
//!   vote until every instance has the final counts.
//! - `poll-sites [votes per second] [pin]`: the same end to end between 21
//!   real Ruche instances: 2,000 people of 20 instances vote through their
//!   own instance's API in a poll of the 21st, as fast as they can or at
//!   the pace given; the time from the last vote until the API of every
//!   instance shows the final counts. `pin` runs the poll's instance on one
//!   core and the 20 others on the rest.
//!
//! `RUCHE_TEST_DATABASE_URL` runs the instances on PostgreSQL;
//! `FED_BENCH_ALPHA_TRACE=file` writes every statement of the poll's
//! instance of `poll-sites` to that file (`RUCHE_SQL_TRACE`);
//! `FED_BENCH_POOL` sets the receiving instance's connection pool for the
//! inbox figure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use federation_tests::{
    client, extra_host, follow, network, sign_for, wide_network, with_headers, ForeignServer,
    Instance,
};
use reqwest::StatusCode;
use serde_json::json;

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = args.get(1).cloned().unwrap_or_default();
    if only.is_empty() || only == "inbox" {
        inbox().await;
    }
    if only.is_empty() || only == "delivery" {
        delivery().await;
    }
    if only.is_empty() || only == "latency" {
        latency().await;
    }
    if only.is_empty() || only == "community" {
        community().await;
    }
    if only.is_empty() || only == "poll" {
        poll().await;
    }
    if only.is_empty() || only == "poll-sites" {
        // `poll-sites [votes per second] [pin]`: cast the votes at that
        // pace (0: as fast as they are taken); `pin` gives alpha a core of
        // its own (taskset).
        let rate = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(0.0);
        let pin = args.get(3).is_some_and(|p| p == "pin");
        poll_sites(rate, pin).await;
    }
}

/// A poll of a person followed by 2,000 people on 20 instances (stand-in
/// servers), each of whom votes once, as Mastodon sends votes (a signed
/// Create of a Note naming the answer). The poll's instance counts each
/// vote and publishes the counts as an Update of the Question; a burst of
/// votes makes few Updates (an older count is covered by a newer one).
async fn poll() {
    const INSTANCES: usize = 20;
    const PER_INSTANCE: usize = 100;
    const CLIENTS: usize = 16;
    const ANSWERS: [&str; 3] = ["Morning", "Afternoon", "Night"];
    let [mut alpha, _beta, _gamma] = network();
    alpha.set_env("RUCHE_FEDERATION_MODE", "open");
    alpha.start().await;
    let ann = alpha.user("ann").await;
    let ann_id = alpha.count("SELECT id FROM users WHERE username = 'ann'");
    let ann_url = format!("{}/people/ann", alpha.base);
    let mut sites = Vec::new();
    for i in 1..=INSTANCES {
        sites.push(ForeignServer::start_on(&extra_host(i)).await);
    }
    // 2,000 people of those instances, with their keys, following ann.
    for (i, site) in sites.iter().enumerate() {
        let domain = seed_people(&alpha, site, i + 1, "v", PER_INSTANCE);
        alpha.exec(&format!(
            "INSERT INTO follows (follower_id, followee_id, created_at, accepted) \
             SELECT id, {ann_id}, '2026-01-01 00:00:00', TRUE FROM users WHERE domain = '{domain}'"
        ));
    }
    let (s, v) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Which shift for the inventory?", "options": ANSWERS}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let poll_url = format!("{}/posts/{}", alpha.base, v["id"]);
    let t0 = Instant::now();
    while sites.iter().any(|s| s.count_type("Create") == 0) {
        assert!(t0.elapsed() < Duration::from_secs(30), "poll not delivered");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    println!(
        "poll: on {INSTANCES} instances ({} followers) after {:.0} ms",
        INSTANCES * PER_INSTANCE,
        t0.elapsed().as_secs_f64() * 1000.0
    );
    // Sign every vote first: the figure is the poll's instance's.
    let inbox = format!("{}/people/ann/inbox", alpha.base);
    let mut requests = Vec::with_capacity(INSTANCES * PER_INSTANCE);
    let mut expected = [0i64; 3];
    for site in &sites {
        for j in 0..PER_INSTANCE {
            let voter = format!("{}/users/v{j}", site.base);
            let answer = (j * 7 + site.port as usize) % ANSWERS.len();
            expected[answer] += 1;
            let body = json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{voter}#votes/1/activity"),
                "type": "Create",
                "actor": voter,
                "to": ann_url,
                "object": {
                    "id": format!("{voter}#votes/1"),
                    "type": "Note",
                    "name": ANSWERS[answer],
                    "attributedTo": voter,
                    "inReplyTo": poll_url,
                    "to": ann_url
                }
            })
            .to_string();
            let headers = sign_for(
                &inbox,
                Some(body.as_bytes()),
                &format!("{voter}#main-key"),
                &site.private_pem(),
            );
            requests.push((body, headers));
        }
    }
    let total = requests.len();
    let pid = alpha.pid().unwrap();
    let (cpu0, _, _) = proc_usage(pid);
    let deliveries0 = alpha.count("SELECT COUNT(*) FROM deliveries");
    let started = Instant::now();
    let accepted = send_all(&inbox, requests, CLIENTS).await;
    let last_vote = Instant::now();
    let voting = started.elapsed().as_secs_f64();
    println!(
        "poll: {accepted} of {total} votes accepted in {voting:.2} s ({:.0} votes/s, {CLIENTS} concurrent senders)",
        accepted as f64 / voting
    );
    // Every instance shows the final counts once it received an Update
    // with them.
    let right = |v: &serde_json::Value| {
        v["type"] == "Update"
            && v["object"]["votersCount"] == total as i64
            && (0..3).all(|i| v["object"]["oneOf"][i]["replies"]["totalItems"] == expected[i])
    };
    let mut arrived: Vec<Option<f64>> = vec![None; INSTANCES];
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrived.iter().any(Option::is_none) {
        for (i, site) in sites.iter().enumerate() {
            if arrived[i].is_none()
                && site
                    .received
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|(_, _, v)| right(v))
            {
                arrived[i] = Some(last_vote.elapsed().as_secs_f64() * 1000.0);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the final counts did not reach every instance"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (cpu1, rss, hwm) = proc_usage(pid);
    let mut times: Vec<f64> = arrived.into_iter().flatten().collect();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let updates: Vec<usize> = sites.iter().map(|s| s.count_type("Update")).collect();
    let deliveries = alpha.count("SELECT COUNT(*) FROM deliveries") - deliveries0;
    println!(
        "poll: final counts on every instance {:.0} ms after the last vote (first {:.0} ms, p50 {:.0} ms)",
        times.last().copied().unwrap_or(f64::NAN),
        times.first().copied().unwrap_or(f64::NAN),
        pct(&times, 0.5),
    );
    println!(
        "poll: {} Updates per instance for {total} votes (min {}, max {}), {deliveries} deliveries; poll's instance CPU {:.2} s ({:.2} ms per vote), memory {rss:.0} MiB resident, {hwm:.0} MiB peak",
        updates.iter().sum::<usize>() / INSTANCES,
        updates.iter().min().unwrap(),
        updates.iter().max().unwrap(),
        cpu1 - cpu0,
        (cpu1 - cpu0) * 1000.0 / total as f64,
    );
}

/// The poll figure end to end between real Ruche instances: a poll of a
/// person of alpha, followed from 20 other Ruche instances, each with 100
/// people who vote through their own instance's API. Each vote goes from
/// the voter's instance to alpha (a signed Create of a Note; alpha fetches
/// each voter's actor document to check the signature), alpha counts it
/// and sends the counts to the 20 instances (an Update of the Question),
/// and each stores them. Timed from the answer to the last vote until the
/// API of every instance shows the final counts to its people. The
/// delivery settings are those of `config/default.toml`, not the tests'
/// quicker ones.
async fn poll_sites(rate: f64, pin: bool) {
    const INSTANCES: usize = 20;
    const PER_INSTANCE: usize = 100;
    const CLIENTS: usize = 16;
    const ANSWERS: [&str; 3] = ["Morning", "Afternoon", "Night"];
    let mut sites = wide_network(INSTANCES);
    let mut alpha = sites.remove(0);
    for i in std::iter::once(&mut alpha).chain(sites.iter_mut()) {
        i.set_env("RUCHE_FEDERATION_POLL_INTERVAL_MS", "200");
        i.set_env("RUCHE_FEDERATION_RETRY_BASE_MS", "30000");
        i.set_env("RUCHE_FEDERATION_RETRY_MAX_MS", "3600000");
        i.set_env("RUCHE_FEDERATION_REQUEST_TIMEOUT_SECONDS", "10");
    }
    if let Ok(t) = std::env::var("FED_BENCH_ALPHA_TRACE") {
        alpha.set_env("RUCHE_SQL_TRACE", &t);
    }
    // Sites of one organisation: each trusts alpha, alpha trusts each.
    for s in &sites {
        alpha.trust(&s.host, "member");
        s.trust(&alpha.host, "member");
    }
    let t0 = Instant::now();
    alpha.start().await;
    for s in sites.iter_mut() {
        s.start().await;
    }
    println!(
        "poll-sites: {} Ruche instances started in {:.1} s",
        INSTANCES + 1,
        t0.elapsed().as_secs_f64()
    );
    if pin {
        // As if alpha had a machine of its own: one core for alpha, the
        // other for the 20 other instances.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(cores >= 2, "pinning needs two cores");
        let pin_to = |pid: u32, core: &str| {
            let ok = std::process::Command::new("taskset")
                .args(["-p", "-c", core, &pid.to_string()])
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "taskset failed");
        };
        pin_to(alpha.pid().unwrap(), "0");
        for s in &sites {
            pin_to(s.pid().unwrap(), &format!("1-{}", cores - 1));
        }
    }
    let ann = alpha.user("ann").await;
    let handle = alpha.handle("ann");
    // On each site, voter0 follows ann (so that the poll reaches the site)
    // and 99 more people are seeded beside them, with an API token each.
    let mut tokens: Vec<Vec<String>> = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let v0 = s.user("voter0").await;
        follow(&v0, s, &handle).await;
        tokens.push(seed_voters(s, i + 1, PER_INSTANCE));
    }
    let (st, v) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Which shift for the inventory?", "options": ANSWERS}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let alpha_poll = v["id"].as_i64().unwrap();
    let poll_url = format!("{}/posts/{alpha_poll}", alpha.base);
    // The poll as each site stored it.
    let t0 = Instant::now();
    let find = format!("SELECT COALESCE(MAX(id), 0) FROM content WHERE ap_id = '{poll_url}'");
    let mut local = [0i64; INSTANCES];
    while local.contains(&0) {
        for (i, s) in sites.iter().enumerate() {
            if local[i] == 0 {
                local[i] = s.count(&find);
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "poll not delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "poll-sites: the poll on {INSTANCES} instances after {:.0} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    );
    // Each voter's answer, its id on the voter's site, and the requests in
    // turn over the sites, as people of every site vote at once.
    let c = client();
    let mut expected = [0i64; 3];
    let mut per_site: Vec<Vec<(String, String, serde_json::Value)>> = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let r = c
            .get(format!("{}/api/v1/polls/{}", s.base, local[i]))
            .bearer_auth(&tokens[i][0])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let view: serde_json::Value = r.json().await.unwrap();
        let ids: Vec<i64> = ANSWERS
            .iter()
            .map(|a| {
                view["options"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|o| o["name"] == *a)
                    .and_then(|o| o["id"].as_i64())
                    .unwrap()
            })
            .collect();
        let url = format!("{}/api/v1/polls/{}/votes", s.base, local[i]);
        per_site.push(
            tokens[i]
                .iter()
                .enumerate()
                .map(|(j, token)| {
                    let answer = (j * 7 + i) % ANSWERS.len();
                    expected[answer] += 1;
                    (
                        url.clone(),
                        token.clone(),
                        json!({"choices": [ids[answer]]}),
                    )
                })
                .collect(),
        );
    }
    let mut votes = Vec::new();
    for j in 0..PER_INSTANCE {
        for site in &per_site {
            votes.push(site[j].clone());
        }
    }
    votes.reverse(); // taken from the end
    let total = votes.len() as i64;
    let pids: Vec<u32> = std::iter::once(&alpha)
        .chain(sites.iter())
        .map(|i| i.pid().unwrap())
        .collect();
    let cpu = |pids: &[u32]| pids.iter().map(|p| proc_usage(*p).0).sum::<f64>();
    let (alpha_cpu0, all_cpu0) = (proc_usage(pids[0]).0, cpu(&pids));
    let deliveries0 = alpha.count("SELECT COUNT(*) FROM deliveries");
    let queue = Arc::new(std::sync::Mutex::new(votes));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let queue = queue.clone();
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            loop {
                let next = {
                    let mut q = queue.lock().unwrap();
                    q.pop().map(|v| (q.len(), v))
                };
                let Some((left, (url, token, body))) = next else {
                    break;
                };
                if rate > 0.0 {
                    // The k-th vote is not cast before k / rate seconds.
                    let k = total as usize - 1 - left;
                    let due = started + Duration::from_secs_f64(k as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let r = c
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                if r.status().is_success() {
                    ok += 1;
                } else {
                    eprintln!(
                        "refused: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
            }
            ok
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    let last_vote = Instant::now();
    let voting = started.elapsed().as_secs_f64();
    println!(
        "poll-sites: {accepted} of {total} votes taken by the voters' instances in {voting:.2} s ({:.0} votes/s, {CLIENTS} concurrent clients{})",
        accepted as f64 / voting,
        if rate > 0.0 {
            format!(", paced at {rate} votes/s")
        } else {
            String::new()
        }
    );
    // What a person of each instance sees: alpha first (it has counted
    // every vote), then the 20 voters' instances (the counts came back).
    let shows_all = |v: &serde_json::Value| {
        v["voters"] == total
            && ANSWERS.iter().enumerate().all(|(k, a)| {
                v["options"].as_array().is_some_and(|o| {
                    o.iter()
                        .any(|o| o["name"] == *a && o["votes"] == expected[k])
                })
            })
    };
    let mut readers: Vec<(String, String)> = vec![(
        format!("{}/api/v1/polls/{alpha_poll}", alpha.base),
        ann.token.clone(),
    )];
    for (i, s) in sites.iter().enumerate() {
        readers.push((
            format!("{}/api/v1/polls/{}", s.base, local[i]),
            tokens[i][PER_INSTANCE - 1].clone(),
        ));
    }
    let mut arrived: Vec<Option<f64>> = vec![None; readers.len()];
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrived.iter().any(Option::is_none) {
        for (k, (url, token)) in readers.iter().enumerate() {
            if arrived[k].is_some() {
                continue;
            }
            let r = c.get(url).bearer_auth(token).send().await.unwrap();
            let v: serde_json::Value = r.json().await.unwrap_or_default();
            if shows_all(&v) {
                arrived[k] = Some(last_vote.elapsed().as_secs_f64() * 1000.0);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the final counts did not reach every instance: {arrived:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (alpha_cpu1, all_cpu1) = (proc_usage(pids[0]).0, cpu(&pids));
    let (_, rss, hwm) = proc_usage(pids[0]);
    let at_alpha = arrived[0].unwrap();
    let mut times: Vec<f64> = arrived[1..].iter().flatten().copied().collect();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let deliveries = alpha.count("SELECT COUNT(*) FROM deliveries") - deliveries0;
    println!(
        "poll-sites: every vote counted on alpha {at_alpha:.0} ms after the last vote; final counts shown on every instance {:.0} ms after it (first {:.0} ms, p50 {:.0} ms)",
        times.last().copied().unwrap_or(f64::NAN),
        times.first().copied().unwrap_or(f64::NAN),
        pct(&times, 0.5),
    );
    println!(
        "poll-sites: alpha queued {deliveries} deliveries of counts ({:.1} per instance); CPU alpha {:.2} s ({:.2} ms per vote), all {} instances {:.2} s ({:.2} ms per vote); alpha memory {rss:.0} MiB resident, {hwm:.0} MiB peak",
        deliveries as f64 / INSTANCES as f64,
        alpha_cpu1 - alpha_cpu0,
        (alpha_cpu1 - alpha_cpu0) * 1000.0 / total as f64,
        INSTANCES + 1,
        all_cpu1 - all_cpu0,
        (all_cpu1 - all_cpu0) * 1000.0 / total as f64,
    );
}

/// Seeds `voter1` … `voter{n-1}` beside `voter0` on a Ruche instance (the
/// `i`-th site), with voter0's password and key pair, and gives each of
/// them an API token; returns the tokens in that order.
fn seed_voters(site: &Instance, i: usize, n: usize) -> Vec<String> {
    let names: Vec<String> = (1..n).map(|j| format!("('voter{j}')")).collect();
    site.exec(&format!(
        "INSERT INTO users (username, email, password_hash, public_key, private_key, created_at) \
         SELECT x.column1, x.column1 || '@{host}', u.password_hash, u.public_key, u.private_key, u.created_at \
         FROM users u, (VALUES {}) AS x WHERE u.username = 'voter0'",
        names.join(","),
        host = site.host
    ));
    let tokens: Vec<String> = (0..n).map(|j| format!("ruche_bench{i}x{j}")).collect();
    let rows: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(j, t)| format!("('voter{j}', '{}')", ruche::accounts::secrets::digest(t)))
        .collect();
    site.exec(&format!(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) \
         SELECT u.id, 'bench', x.column2, u.created_at FROM users u JOIN (VALUES {}) AS x ON x.column1 = u.username",
        rows.join(",")
    ));
    tokens
}

/// CPU time (user + system) of a process, in seconds, and its resident and
/// peak resident memory in MiB, from /proc.
fn proc_usage(pid: u32) -> (f64, f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = 100.0; // CLK_TCK on Linux
    let cpu = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (cpu / ticks, kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
}

/// Posts signed activities (body, signature headers) to `inbox` from
/// `clients` concurrent senders; returns how many were accepted (a refusal
/// is printed).
async fn send_all(
    inbox: &str,
    requests: Vec<(String, Vec<(&'static str, String)>)>,
    clients: usize,
) -> usize {
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let queue = queue.clone();
        let inbox = inbox.to_string();
        tasks.push(tokio::spawn(async move {
            let c = client();
            let mut ok = 0usize;
            loop {
                let next = queue.lock().unwrap().pop();
                let Some((body, headers)) = next else { break };
                let r = with_headers(c.post(&inbox).body(body), headers)
                    .send()
                    .await
                    .unwrap();
                if r.status() == StatusCode::ACCEPTED {
                    ok += 1;
                } else {
                    eprintln!(
                        "refused: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
            }
            ok
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    accepted
}

/// Stores `n` people (`{prefix}0`, …) of the stand-in server `site`, the
/// `i`-th extra host, in `home`'s database at once, with the server's key
/// (all its actors share it) and profiles fresh enough not to be fetched;
/// returns their domain.
fn seed_people(
    home: &federation_tests::Instance,
    site: &ForeignServer,
    i: usize,
    prefix: &str,
    n: usize,
) -> String {
    let domain = format!("{}:{}", extra_host(i), site.port);
    let pem = site.public_pem();
    let rows: Vec<String> = (0..n)
        .map(|j| {
            let ap = format!("{}/users/{prefix}{j}", site.base);
            format!(
                "('{prefix}{j}@{domain}', '{ap}', '!', '{domain}', '{ap}', '{ap}/inbox', '{base}/inbox', '{ap}#main-key', '{pem}', '2026-01-01 00:00:00', '2099-01-01 00:00:00')",
                base = site.base
            )
        })
        .collect();
    home.exec(&format!(
        "INSERT INTO users (username, email, password_hash, domain, ap_id, inbox, shared_inbox, key_id, public_key, created_at, fetched_at) VALUES {}",
        rows.join(",")
    ));
    domain
}

/// A community of 2,000 members spread over 20 instances: each post must
/// reach every member instance, with one delivery per instance. The member
/// instances are stand-in servers that acknowledge and timestamp what they
/// receive; the members are seeded in the hosting instance's database.
async fn community() {
    const INSTANCES: usize = 20;
    const PER_INSTANCE: usize = 100;
    const POSTS: usize = 30;
    let [mut alpha, mut beta, _gamma] = network();
    alpha.set_env("RUCHE_FEDERATION_MODE", "open");
    alpha.start().await;
    beta.trust("alpha.test", "member");
    beta.start().await;
    let ann = alpha.user("ann").await;
    let (s, v) = ann
        .post(
            "/api/v1/communities",
            json!({"name": "all_hands", "title": "All hands"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mut sites = Vec::new();
    for i in 1..=INSTANCES {
        sites.push(ForeignServer::start_on(&extra_host(i)).await);
    }
    // Seed 2,000 remote members (100 per instance) in one go.
    let community = alpha.count("SELECT id FROM users WHERE username = 'all_hands'");
    for (i, site) in sites.iter().enumerate() {
        let domain = seed_people(&alpha, site, i + 1, "m", PER_INSTANCE);
        alpha.exec(&format!(
            "INSERT INTO community_members (community_id, user_id, role, status, created_at, updated_at) \
             SELECT {community}, id, 'member', 'member', '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM users WHERE domain = '{domain}'"
        ));
    }
    let members = alpha.count(&format!(
        "SELECT COUNT(*) FROM community_members WHERE community_id = {community} AND status = 'member'"
    ));
    println!(
        "community: {members} members ({INSTANCES} instances x {PER_INSTANCE}, plus the owner)"
    );
    let announces = |sites: &[ForeignServer]| -> Vec<usize> {
        sites.iter().map(|s| s.count_type("Announce")).collect()
    };
    // One post first (connections, caches).
    let t0 = Instant::now();
    let (s, _) = ann
        .post(
            "/api/v1/communities/all_hands/posts",
            json!({"body": "Welcome"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    while announces(&sites).contains(&0) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "warm-up post not delivered"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!(
        "community: first post on every instance after {:.0} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    );
    let pid = alpha.pid().unwrap();
    let (cpu0, _, _) = proc_usage(pid);
    let deliveries0 = alpha.count("SELECT COUNT(*) FROM deliveries");
    let mut last_arrivals = Vec::new();
    let mut all_arrivals = Vec::new();
    let t_all = Instant::now();
    for p in 0..POSTS {
        let before = announces(&sites);
        let t0 = Instant::now();
        let (s, _) = ann
            .post(
                "/api/v1/communities/all_hands/posts",
                json!({"body": format!("Announcement {p}")}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let mut arrived: Vec<Option<f64>> = vec![None; INSTANCES];
        let deadline = Instant::now() + Duration::from_secs(30);
        while arrived.iter().any(Option::is_none) {
            let now = announces(&sites);
            for (i, n) in now.iter().enumerate() {
                if arrived[i].is_none() && *n > before[i] {
                    arrived[i] = Some(t0.elapsed().as_secs_f64() * 1000.0);
                }
            }
            assert!(
                Instant::now() < deadline,
                "post {p} did not reach every instance"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let times: Vec<f64> = arrived.into_iter().flatten().collect();
        last_arrivals.push(times.iter().cloned().fold(0.0, f64::max));
        all_arrivals.extend(times);
    }
    let wall = t_all.elapsed().as_secs_f64();
    let (cpu1, rss, hwm) = proc_usage(pid);
    let deliveries = alpha.count("SELECT COUNT(*) FROM deliveries") - deliveries0;
    last_arrivals.sort_by(|a, b| a.partial_cmp(b).unwrap());
    all_arrivals.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "community: {POSTS} posts; arrival on an instance p50 {:.0} ms, p99 {:.0} ms; last instance per post p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        pct(&all_arrivals, 0.5),
        pct(&all_arrivals, 0.99),
        pct(&last_arrivals, 0.5),
        pct(&last_arrivals, 0.99),
        last_arrivals.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "community: {deliveries} deliveries for {POSTS} posts ({:.1} per post, {INSTANCES} member instances, {members} members)",
        deliveries as f64 / POSTS as f64
    );
    println!(
        "community: hosting instance CPU {:.2} s over {wall:.1} s ({:.1} ms per post), memory {rss:.0} MiB resident, {hwm:.0} MiB peak",
        cpu1 - cpu0,
        (cpu1 - cpu0) * 1000.0 / POSTS as f64
    );

    // Documents uploaded by a member on another Ruche instance (beta): the
    // hosting instance fetches each file from beta, keeps a copy and
    // announces it to the 20 member instances.
    const DOCS: usize = 20;
    const DOC_BYTES: usize = 1024 * 1024;
    let bob = beta.user("bob").await;
    let handle = format!("all_hands@{}:{}", alpha.host, alpha.port);
    let (s, v) = bob
        .get(&format!("/api/v1/communities/lookup?q=!{handle}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = bob
        .post(&format!("/api/v1/communities/{handle}/join"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let t0 = Instant::now();
    while beta.count("SELECT COUNT(*) FROM community_members WHERE status = 'member'") == 0 {
        assert!(t0.elapsed() < Duration::from_secs(30), "bob not accepted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut doc_times = Vec::new();
    let (cpu0, _, _) = proc_usage(pid);
    for d in 0..DOCS {
        let before = announces(&sites);
        let body: Vec<u8> = (0..DOC_BYTES).map(|i| (i * 31 + d) as u8).collect();
        let t0 = Instant::now();
        let r = client()
            .post(format!(
                "{}/api/v1/communities/{handle}/documents?filename=report-{d}.bin",
                beta.base
            ))
            .bearer_auth(&bob.token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = announces(&sites);
            if now.iter().zip(&before).all(|(n, b)| n > b) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "document {d} did not reach every instance"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        doc_times.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let (cpu1, _, hwm) = proc_usage(pid);
    doc_times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "community: {DOCS} documents of {} MiB uploaded on another instance; on every member instance after p50 {:.0} ms, max {:.0} ms; hosting instance CPU {:.1} ms per document, {hwm:.0} MiB peak",
        DOC_BYTES / (1024 * 1024),
        pct(&doc_times, 0.5),
        doc_times.last().copied().unwrap_or(f64::NAN),
        (cpu1 - cpu0) * 1000.0 / DOCS as f64,
    );
}

async fn inbox() {
    const N: usize = 3000;
    const CLIENTS: usize = 16;
    let [_alpha, mut beta, _gamma] = network();
    if let Ok(n) = std::env::var("FED_BENCH_POOL") {
        beta.set_env("RUCHE_DATABASE_POOL_SIZE", &n);
    }
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "partner");
    beta.start().await;
    let bob = beta.user("bob").await;
    let _ = bob;
    let bob_url = format!("{}/people/bob", beta.base);
    let inbox = format!("{}/inbox", beta.base);
    let fb = foreign.base.clone();
    let senders = [
        format!("{fb}/users/alice"),
        format!("{fb}/users/gary"),
        format!("{fb}/u/carol"),
    ];
    let key_ids = [
        format!("{fb}/users/alice#main-key"),
        format!("{fb}/users/gary/main-key"),
        format!("{fb}/u/carol#main-key"),
    ];
    // Sign everything first: the figure is the receiver's, not our signer's.
    let mut requests = Vec::with_capacity(N);
    for i in 0..N {
        let s = i % senders.len();
        let body = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/statuses/{i}/activity", senders[s]),
            "type": "Create",
            "actor": senders[s],
            "object": {
                "id": format!("{}/statuses/{i}", senders[s]),
                "type": "Note",
                "attributedTo": senders[s],
                "content": format!("<p>@bob report number {i}</p>"),
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [bob_url],
                "tag": [{"type": "Mention", "href": bob_url, "name": "@bob"}]
            }
        })
        .to_string();
        let headers = sign_for(
            &inbox,
            Some(body.as_bytes()),
            &key_ids[s],
            &foreign.private_pem(),
        );
        requests.push((body, headers));
    }
    // Warm-up: one activity per sender, so that their keys are fetched.
    let warm: Vec<_> = requests.drain(..senders.len()).collect();
    for (body, headers) in warm {
        let req = with_headers(client().post(&inbox).body(body), headers);
        assert_eq!(req.send().await.unwrap().status(), StatusCode::ACCEPTED);
    }
    let started = Instant::now();
    let accepted = send_all(&inbox, requests, CLIENTS).await;
    let secs = started.elapsed().as_secs_f64();
    let stored = beta.count("SELECT COUNT(*) FROM content");
    println!(
        "inbox: {accepted} signed Create activities from 3 senders, {CLIENTS} concurrent clients: {:.0} accepted/s ({secs:.2} s); {stored} stored in all",
        accepted as f64 / secs
    );
}

async fn delivery() {
    const FOLLOWERS: usize = 50;
    const POSTS: usize = 20;
    let [mut alpha, _beta, _gamma] = network();
    alpha.set_env("RUCHE_FEDERATION_MODE", "open");
    alpha.start().await;
    let ann = alpha.user("ann").await;
    let ann_url = format!("{}/people/ann", alpha.base);
    let inbox = format!("{}/people/ann/inbox", alpha.base);
    let mut sites = Vec::new();
    for i in 1..=FOLLOWERS {
        let s = ForeignServer::start_on(&extra_host(i)).await;
        let key_id = format!("{}/users/alice#main-key", s.base);
        let (st, b) = s
            .send(&inbox, "mastodon_follow.json", &key_id, &ann_url)
            .await;
        assert_eq!(st, StatusCode::ACCEPTED, "{b}");
        sites.push(s);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while alpha.count("SELECT COUNT(*) FROM follows") < FOLLOWERS as i64 {
        assert!(Instant::now() < deadline, "follows not stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let creates =
        |sites: &[ForeignServer]| -> usize { sites.iter().map(|s| s.count_type("Create")).sum() };
    // One post to 50 instances.
    let t0 = Instant::now();
    let (s, _) = ann.post("/api/v1/posts", json!({"body": "fan-out"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let mut first = None;
    loop {
        let n = creates(&sites);
        if n > 0 && first.is_none() {
            first = Some(t0.elapsed());
        }
        if n >= FOLLOWERS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let last = t0.elapsed();
    println!(
        "delivery: one post to {FOLLOWERS} instances: first acknowledged after {:.0} ms, last after {:.0} ms",
        first.unwrap().as_secs_f64() * 1000.0,
        last.as_secs_f64() * 1000.0
    );
    // Sustained: POSTS posts to 50 instances.
    let before = creates(&sites);
    let t0 = Instant::now();
    for i in 0..POSTS {
        let (s, _) = ann
            .post("/api/v1/posts", json!({"body": format!("bulletin {i}")}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let target = before + POSTS * FOLLOWERS;
    while creates(&sites) < target {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "delivery: {} deliveries ({POSTS} posts x {FOLLOWERS} instances) acknowledged in {secs:.2} s: {:.0} deliveries/s",
        POSTS * FOLLOWERS,
        (POSTS * FOLLOWERS) as f64 / secs
    );
}

async fn latency() {
    const ROUNDS: usize = 100;
    let [mut alpha, mut beta, _gamma] = network();
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let (_, p) = bob
        .get(&format!(
            "/api/v1/people/lookup?q=@ann@alpha.test:{}",
            alpha.port
        ))
        .await;
    let name = p["username"].as_str().unwrap().to_string();
    bob.post(&format!("/api/v1/people/{name}/follow"), json!({}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while beta.count("SELECT COUNT(*) FROM follows WHERE accepted") == 0 {
        assert!(Instant::now() < deadline, "follow not accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut samples = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let t0 = Instant::now();
        let (s, _) = ann
            .post(
                "/api/v1/posts",
                json!({"body": format!("latency probe {i}")}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let probe = format!("probe {i}<");
        loop {
            // Read the follower's feed as Bob would.
            let (_, feed) = bob.get("/api/v1/feed").await;
            let seen = feed["items"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|it| it["body_html"].as_str().is_some_and(|b| b.contains(&probe)))
            });
            if seen {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(t0.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "latency: publish on alpha -> in bob's feed on beta, {ROUNDS} posts: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        pct(&samples, 0.5),
        pct(&samples, 0.99),
        samples.last().copied().unwrap_or(f64::NAN)
    );
}
