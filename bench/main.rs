//! Feed benchmark: seeds a realistic site (posts with pictures and files
//! among them), starts the real `ruche` server as a separate process and
//! reads feeds over HTTP with concurrent clients: the home stream (people
//! followed) and the site stream. Prints latency percentiles, throughput
//! and the server's memory; with `--upload-photo`, also the memory the
//! server takes to process a 12-megapixel phone photo; with `--digests`,
//! the time and memory to write a daily e-mail digest for every person
//! and hand it to a local SMTP server (`aiosmtpd`, started here, which
//! discards what it receives); with `--notification-mails N`, how many
//! notification e-mails a second the mail worker writes and hands to that
//! server (N mentions recorded at once, each wanted by e-mail at once).
//!
//!     cargo run --release --bin ruche-bench                      # SQLite
//!     cargo run --release --bin ruche-bench -- --database-url postgres://postgres@127.0.0.1/postgres

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use rand::{Rng, SeedableRng};
use ruche::accounts::secrets;

#[derive(Parser, Debug)]
#[command(about = "Seed a site and measure home-feed reads over HTTP")]
struct Args {
    /// PostgreSQL server to use (a fresh database is created on it and dropped
    /// afterwards); SQLite in a temporary folder when absent.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// People each person follows.
    #[arg(long, default_value_t = 100)]
    follows: usize,
    #[arg(long, default_value_t = 500_000)]
    posts: usize,
    /// Comments, as a fraction of posts.
    #[arg(long, default_value_t = 0.2)]
    comment_ratio: f64,
    /// Reactions, as a fraction of posts.
    #[arg(long, default_value_t = 0.6)]
    reaction_ratio: f64,
    /// Documents with text (as extracted at upload), in five communities
    /// (four public, one private of 300 members).
    #[arg(long, default_value_t = 5_000)]
    documents: usize,
    /// Posts with pictures or files (one to three), as a fraction of posts.
    #[arg(long, default_value_t = 0.15)]
    media_ratio: f64,
    /// Posts that are polls (three answers, twenty voters each), as a
    /// fraction of posts: the feed shows their answers and counts.
    #[arg(long, default_value_t = 0.05)]
    poll_ratio: f64,
    /// Posts that are events (a place, thirty places, twelve answers:
    /// going, maybe, not going, some waiting), as a fraction of posts: the
    /// feed shows their dates, counts and the reader's answer.
    #[arg(long, default_value_t = 0.03)]
    event_ratio: f64,
    /// Must-reads for everyone here among the newest posts, each confirmed
    /// by half of the people: the feeds lift those the reader has not
    /// read to their top.
    #[arg(long, default_value_t = 3)]
    must_reads: usize,
    /// Before the feeds, have an administrator mark a new post as a
    /// must-read for everyone (each told, an e-mail queued for each) and
    /// report how long that one write transaction takes.
    #[arg(long)]
    mark_everyone: bool,
    /// The streams read, one measurement each: `following` (home), `site`,
    /// `organisation`; and `people`, `communities`: the suggestions the
    /// home page shows (three of each, through the API); `search`: searches
    /// of posts and comments (`/api/v1/search`, a word, two words, a word
    /// being typed, a phrase, a word with a filter, in turn).
    #[arg(long, value_delimiter = ',', default_value = "following,site")]
    streams: Vec<String>,
    /// After the feeds, upload a 12-megapixel JPEG (4000 × 3000) and report
    /// the server's peak memory around it.
    #[arg(long)]
    upload_photo: bool,
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of measured load (after a short warm-up).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Also read the second page of each feed (cursor), counted separately.
    #[arg(long)]
    second_page: bool,
    /// Before the feeds, make every person's daily digest due at once
    /// (covering the newest `--digest-posts` posts) and report the time
    /// until all are written and handed to SMTP, and the server's memory.
    #[arg(long)]
    digests: bool,
    #[arg(long, default_value_t = 20_000)]
    digest_posts: i64,
    /// Record this many mentions at once (each person wants mentions by
    /// e-mail at once) and report how fast their e-mails are written and
    /// handed to SMTP.
    #[arg(long, default_value_t = 0)]
    notification_mails: usize,
    /// Keep the seeded database: SQLite in this folder, or the PostgreSQL
    /// database (its name is printed), for inspection.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let (url, pg) = match &args.database_url {
        Some(admin) => {
            let name = format!("ruche_bench_{}", std::process::id());
            let mut c = diesel::PgConnection::establish(admin)?;
            c.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let (prefix, _) = admin.rsplit_once('/').unwrap();
            (format!("{prefix}/{name}"), Some((admin.clone(), name)))
        }
        None => {
            let folder = args
                .keep
                .clone()
                .unwrap_or_else(|| dir.path().to_path_buf());
            std::fs::create_dir_all(&folder)?;
            let _ = std::fs::remove_file(folder.join("bench.db"));
            (
                format!("sqlite://{}", folder.join("bench.db").display()),
                None,
            )
        }
    };
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("== Ruche feed benchmark on {backend}");
    let result = run(&args, &url);
    if let Some((admin, name)) = pg.filter(|(_, name)| {
        let keep = args.keep.is_some();
        if keep {
            println!("kept database {name}");
        }
        !keep
    }) {
        let mut c = diesel::PgConnection::establish(&admin)?;
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    }
    result
}

fn run(args: &Args, url: &str) -> anyhow::Result<()> {
    let db = ruche::db::Db::open(url, 2)?;
    db.migrate()?;
    let t = Instant::now();
    let tokens = seed(args, &db)?;
    println!(
        "seeded {} people, {} follows, {} posts ({} with attachments, about {} polls of 20 voters, about {} events of 12 answers, {} must-reads read by half), {} comments, {} reactions, {} documents in {:.1}s",
        args.users,
        args.users * args.follows,
        args.posts,
        (args.posts as f64 * args.media_ratio) as usize,
        (args.posts as f64 * args.poll_ratio) as usize,
        (args.posts as f64 * args.event_ratio) as usize,
        args.must_reads,
        (args.posts as f64 * args.comment_ratio) as usize,
        (args.posts as f64 * args.reaction_ratio) as usize,
        args.documents,
        t.elapsed().as_secs_f64()
    );
    if args.mark_everyone {
        mark_everyone(&db)?;
    }
    drop(db);

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe()?.with_file_name("ruche");
    anyhow::ensure!(
        exe.exists(),
        "build the server first: cargo build --release (looked for {})",
        exe.display()
    );
    // An SMTP server that accepts and discards, for the digests.
    let _smtp = match args.digests || args.notification_mails > 0 {
        true => Some(smtp_sink()?),
        false => None,
    };
    let mut command = Command::new(&exe);
    command
        .arg("serve")
        .env("RUCHE_DATABASE_URL", url)
        .env("RUCHE_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUCHE_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("RUCHE_LOG", "warn")
        .stdout(Stdio::null());
    if let Some((_, smtp_port)) = &_smtp {
        command.env(
            "RUCHE_MAIL_SMTP_URL",
            format!("smtp://127.0.0.1:{smtp_port}"),
        );
        // Notification e-mails leave as soon as they are recorded.
        command.env("RUCHE_MAIL_NOTIFY_DELAY_SECONDS", "0");
    }
    let mut server = Server(command.spawn()?);
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = reqwest::Client::new();
        // Start-up builds the search index of the seeded site first.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3600) {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "server ready in {:.1} s (it built the search index of the seeded site first)",
            started.elapsed().as_secs_f64()
        );
        if let Some(size) = index_size(url) {
            println!("search index: {:.1} MB", size as f64 / 1e6);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let pid = server.0.id();
        // On SQLite the database file is mapped into the server's memory:
        // its pages count as resident but belong to the page cache.
        println!(
            "server idle memory: {:.1} MB resident, {:.1} MB of it private",
            rss_kb(pid, "VmRSS") as f64 / 1024.0,
            rss_kb(pid, "RssAnon") as f64 / 1024.0
        );

        if args.digests {
            digests(args, url, pid).await?;
        }
        if args.notification_mails > 0 {
            notification_mails(args, url, pid).await?;
        }
        let tokens = Arc::new(tokens);
        for stream in &args.streams {
            // Warm-up.
            let warm = Duration::from_secs(2);
            load(&base, stream, &tokens, args.clients, warm, false).await;
            let (first, second, elapsed) = load(
                &base,
                stream,
                &tokens,
                args.clients,
                Duration::from_secs(args.seconds),
                args.second_page,
            )
            .await;
            let what = match stream.as_str() {
                "people" | "communities" => format!("{stream} suggestions"),
                "search" => "search of posts and comments, first page".to_string(),
                _ => format!("{stream} stream, first page"),
            };
            report(&what, &first, elapsed);
            if args.second_page {
                report(&format!("{stream} stream, second page"), &second, elapsed);
            }
        }
        println!(
            "server memory: {:.1} MB resident now ({:.1} MB private), {:.1} MB peak",
            rss_kb(pid, "VmRSS") as f64 / 1024.0,
            rss_kb(pid, "RssAnon") as f64 / 1024.0,
            rss_kb(pid, "VmHWM") as f64 / 1024.0
        );
        if args.upload_photo {
            upload_photo(&base, &tokens[0], pid).await;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    server.0.kill().ok();
    Ok(())
}

/// The size of the search index on PostgreSQL (tables, TOAST and GIN
/// indexes), in bytes; on SQLite, the pages of its FTS5 tables when the
/// bundled SQLite has `dbstat`.
fn index_size(url: &str) -> Option<i64> {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let db = ruche::db::Db::open(url, 1).ok()?;
    let mut c = db.get().ok()?;
    let sql = match &mut *c {
        ruche::db::DbConn::Pg(_) => {
            "SELECT CAST(pg_total_relation_size('content_search') + pg_total_relation_size('actor_search') AS BIGINT) AS n"
        }
        ruche::db::DbConn::Sqlite(_) => {
            "SELECT CAST(SUM(pgsize) AS BIGINT) AS n FROM dbstat WHERE name LIKE 'content_search%' OR name LIKE 'actor_search%'"
        }
    };
    diesel::sql_query(sql)
        .get_result::<Size>(&mut *c)
        .ok()
        .map(|s| s.n)
}

/// Starts `aiosmtpd` with its discarding handler on a free port.
fn smtp_sink() -> anyhow::Result<(Server, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Sink"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("--digests needs aiosmtpd (pip install aiosmtpd): {e}"))?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok((Server(child), port));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("aiosmtpd did not start (pip install aiosmtpd)")
}

/// Makes every person's digest due at once and waits until the server has
/// written and sent (or dropped, when there was nothing new) all of them.
async fn digests(args: &Args, url: &str, pid: u32) -> anyhow::Result<()> {
    use diesel::prelude::*;
    use ruche::db::schema::{content, mail_digests, mail_queue};
    let db = ruche::db::Db::open(url, 1)?;
    let mut c = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    // The server gives everyone a digest row when its mail worker starts.
    let people = args.users as i64;
    let t = Instant::now();
    loop {
        let rows: i64 = mail_digests::table.count().get_result(&mut *c)?;
        if rows >= people {
            break;
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(300),
            "only {rows} digest rows after 300 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "digest rows for {people} people ready {:.1}s after start-up",
        t.elapsed().as_secs_f64()
    );
    let newest: Option<i64> = content::table
        .select(diesel::dsl::max(content::id))
        .first(&mut *c)?;
    let since = newest.unwrap_or(0) - args.digest_posts;
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let before = rss_kb(pid, "VmRSS") as f64 / 1024.0;
    let t = Instant::now();
    diesel::update(mail_digests::table)
        .set((
            mail_digests::content_mark.eq(since),
            mail_digests::notification_mark.eq(0),
            mail_digests::next_at.eq(ruche::db::now() - chrono::Duration::minutes(1)),
        ))
        .execute(&mut *c)?;
    let count = |c: &mut ruche::db::DbConn, status: &str| -> anyhow::Result<i64> {
        Ok(mail_queue::table
            .filter(mail_queue::kind.eq("digest"))
            .filter(mail_queue::status.eq(status))
            .count()
            .get_result(c)?)
    };
    let (sent, dropped, failed) = loop {
        let (s, d, f) = (
            count(&mut c, "sent")?,
            count(&mut c, "dropped")?,
            count(&mut c, "failed")?,
        );
        if s + d + f >= people {
            break (s, d, f);
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(900),
            "only {} of {people} digests done after 900 s",
            s + d + f
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let secs = t.elapsed().as_secs_f64();
    println!(
        "digests for {people} people (the newest {} posts) written and handed to SMTP in {secs:.1}s ({:.0}/s): {sent} sent, {dropped} with nothing new, {failed} failed; server {before:.1} MB resident before, {:.1} MB peak during",
        args.digest_posts,
        people as f64 / secs,
        rss_kb(pid, "VmHWM") as f64 / 1024.0
    );
    Ok(())
}

/// Records `--notification-mails` mentions at once, as the site records
/// them (each queued for an e-mail), and waits until the server's mail
/// worker has written and handed all of them to SMTP.
async fn notification_mails(args: &Args, url: &str, pid: u32) -> anyhow::Result<()> {
    use diesel::prelude::*;
    use ruche::db::schema::{content, mail_queue, users};
    use ruche::notifications::{self, NewNotification};
    let db = ruche::db::Db::open(url, 1)?;
    let mut c = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = args.notification_mails;
    let people: Vec<i64> = users::table
        .filter(users::domain.is_null())
        .filter(users::actor_type.eq("person"))
        .order(users::id)
        .select(users::id)
        .limit(n as i64)
        .load(&mut *c)?;
    let posts: Vec<(i64, i64)> = content::table
        .filter(content::root_id.is_null())
        .filter(content::visibility.eq_any(["public", "instance"]))
        .filter(content::deleted_at.is_null())
        .order(content::id.desc())
        .select((content::id, content::author_id))
        .limit(n as i64)
        .load(&mut *c)?;
    anyhow::ensure!(
        !people.is_empty() && !posts.is_empty(),
        "no people or posts open to the site to mention"
    );
    let before_rows: i64 = mail_queue::table
        .filter(mail_queue::kind.eq("notification"))
        .count()
        .get_result(&mut *c)?;
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let t = Instant::now();
    ruche::db::write(&mut c, |c| {
        for i in 0..n {
            let (post, author) = posts[i % posts.len()];
            let mut person = people[i % people.len()];
            if person == author {
                person = people[(i + 1) % people.len()];
            }
            notifications::record(
                c,
                NewNotification::to(person, "mention", author).about_content(Some(post)),
            )?;
        }
        Ok::<_, ruche::error::AppError>(())
    })?;
    let queued: i64 = mail_queue::table
        .filter(mail_queue::kind.eq("notification"))
        .count()
        .get_result(&mut *c)?;
    let queued = queued - before_rows;
    let recorded = t.elapsed().as_secs_f64();
    let done = |c: &mut ruche::db::DbConn| -> anyhow::Result<(i64, i64)> {
        let rows: Vec<String> = mail_queue::table
            .filter(mail_queue::kind.eq("notification"))
            .filter(mail_queue::status.ne("pending"))
            .select(mail_queue::status)
            .load(c)?;
        let sent = rows.iter().filter(|s| *s == "sent").count() as i64;
        Ok((sent, rows.len() as i64 - sent))
    };
    let (sent, other) = loop {
        let (sent, other) = done(&mut c)?;
        if sent + other >= queued + before_rows {
            break (sent, other);
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(900),
            "only {} of {queued} notification e-mails done after 900 s",
            sent + other
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let secs = t.elapsed().as_secs_f64();
    println!(
        "notification e-mails: {n} mentions recorded in {recorded:.1}s, {queued} e-mails written and handed to SMTP in {secs:.1}s ({:.0}/s): {sent} sent, {other} dropped or failed; server {:.1} MB peak",
        queued as f64 / secs,
        rss_kb(pid, "VmHWM") as f64 / 1024.0
    );
    Ok(())
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn report(what: &str, lat: &[Duration], elapsed: Duration) {
    if lat.is_empty() {
        println!("{what}: no requests");
        return;
    }
    let mut v: Vec<f64> = lat.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    println!(
        "{what}: {} requests, {:.0} req/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        v.len(),
        v.len() as f64 / elapsed.as_secs_f64(),
        p(0.50),
        p(0.90),
        p(0.99),
        v[v.len() - 1]
    );
}

/// `clients` concurrent readers for `duration`; returns first-page and
/// second-page latencies.
/// The searches of `--streams search` (URL-encoded), over the seeded words.
/// Every seeded post says "Weekly {word} number {n}: all is on track.
/// #{word}", one word of ten: each search matches about a tenth of them.
/// The last two find documents by their text (`--documents`).
const SEARCHES: [&str; 8] = [
    "customer",
    "release%20weekly",
    "revi",
    "%22all%20is%20on%20track%22%20meeting",
    "%23idea%20weekly",
    "reports%20kind:post",
    "calibration%20torque",
    "warranty%20kind:document",
];

async fn load(
    base: &str,
    stream: &str,
    tokens: &Arc<Vec<String>>,
    clients: usize,
    duration: Duration,
    second_page: bool,
) -> (Vec<Duration>, Vec<Duration>, Duration) {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let tokens = tokens.clone();
        let base = base.to_string();
        let stream = stream.to_string();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
            let (mut first, mut second) = (Vec::new(), Vec::new());
            while start.elapsed() < duration {
                let token = &tokens[rng.gen_range(0..tokens.len())];
                let t = Instant::now();
                let suggestions = matches!(stream.as_str(), "people" | "communities");
                let searching = stream == "search";
                let path = match (suggestions, searching) {
                    (true, _) => format!("{base}/api/v1/suggestions/{stream}?limit=3"),
                    (_, true) => format!(
                        "{base}/api/v1/search?q={}",
                        SEARCHES[rng.gen_range(0..SEARCHES.len())]
                    ),
                    _ => format!("{base}/api/v1/feed?stream={stream}"),
                };
                let r = client.get(path).bearer_auth(token).send().await;
                let Ok(r) = r else { continue };
                assert!(r.status().is_success(), "{stream} answered {}", r.status());
                let body: serde_json::Value = r.json().await.unwrap();
                first.push(t.elapsed());
                assert!(
                    suggestions
                        || (searching && body["counts"]["content"].as_i64().unwrap_or(0) > 0)
                        || !body["items"].as_array().unwrap_or(&Vec::new()).is_empty(),
                    "nothing found: {body}"
                );
                if second_page {
                    if let Some(c) = body["next_cursor"].as_str() {
                        let t = Instant::now();
                        let r = client
                            .get(format!("{base}/api/v1/feed?stream={stream}&cursor={c}"))
                            .bearer_auth(token)
                            .send()
                            .await;
                        if let Ok(r) = r {
                            let _ = r.bytes().await;
                            second.push(t.elapsed());
                        }
                    }
                }
            }
            (first, second)
        }));
    }
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for t in tasks {
        let (f, s) = t.await.unwrap();
        first.extend(f);
        second.extend(s);
    }
    (first, second, start.elapsed())
}

/// Uploads a 12-megapixel JPEG of camera-like noise as a phone would, and
/// prints the time and the server's resident memory before, and its peak
/// (`VmHWM`, reset first where the kernel allows).
async fn upload_photo(base: &str, token: &str, pid: u32) {
    let (w, h) = (4000u32, 3000u32);
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let n: u8 = rng.gen_range(0..40);
        image::Rgb([
            ((x / 16) % 200) as u8 + n,
            ((y / 16) % 200) as u8 + n,
            120 + n,
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&img)
        .unwrap();
    drop(img);
    // Writing 5 to clear_refs resets the peak, so that it shows the upload.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let before = rss_kb(pid, "VmRSS") as f64 / 1024.0;
    let t = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/media?filename=IMG_0001.jpg"))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    assert!(status.is_success(), "upload answered {status}: {v}");
    println!(
        "12-megapixel photo ({:.1} MB JPEG, {w} x {h}) uploaded in {:.0} ms, stored as {} x {}: server {:.1} MB resident before, {:.1} MB peak during",
        jpeg.len() as f64 / 1e6,
        t.elapsed().as_secs_f64() * 1000.0,
        v["width"],
        v["height"],
        before,
        rss_kb(pid, "VmHWM") as f64 / 1024.0
    );
}

/// Five communities (four public, the last private) of 300 members each,
/// and `--documents` documents spread over them, each with one version,
/// its entry (content ids after `last_content`) and about 300 words of
/// extracted text (a few thousand characters, as a procedure or a report
/// has).
fn seed_documents(
    args: &Args,
    conn: &mut ruche::db::DbConn,
    last_content: usize,
    ts: &dyn Fn(i64) -> String,
) -> anyhow::Result<()> {
    let n = args.users;
    let docs = args.documents;
    if docs == 0 {
        return Ok(());
    }
    let vocabulary = [
        "procedure",
        "safety",
        "calibration",
        "torque",
        "inspection",
        "maintenance",
        "supplier",
        "quality",
        "audit",
        "checklist",
        "welding",
        "assembly",
        "tolerance",
        "drawing",
        "revision",
        "approval",
        "training",
        "incident",
        "warehouse",
        "forklift",
        "invoice",
        "budget",
        "forecast",
        "contract",
        "warranty",
        "shipment",
        "packaging",
        "label",
        "batch",
        "sample",
        "laboratory",
        "measurement",
        "sensor",
        "firmware",
        "network",
        "backup",
        "password",
        "badge",
        "visitor",
        "evacuation",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let member = |c: usize, k: usize| (c * 997 + k * 31) % n + 1;
    let mut sql = String::from("BEGIN;");
    for c in 1..=5 {
        let id = n + c;
        let vis = if c == 5 { "private" } else { "public" };
        sql.push_str(&format!(
            "INSERT INTO users (id, username, email, password_hash, is_admin, disabled, display_name, actor_type, created_at) VALUES ({id}, 'team{c}', 'team{c}@communities.invalid', '!', FALSE, FALSE, 'Team {c}', 'group', '{}');
             INSERT INTO communities (actor_id, visibility, join_policy, partners, created_by, created_at) VALUES ({id}, '{vis}', 'request', FALSE, 1, '{}');",
            ts(86_400 * 300),
            ts(86_400 * 300)
        ));
        let mut seen = std::collections::HashSet::new();
        let members: Vec<String> = (0..300)
            .map(|k| (k, member(c, k)))
            .filter(|(_, u)| seen.insert(*u))
            .map(|(k, u)| {
                let role = if k == 0 { "owner" } else { "member" };
                format!(
                    "({id}, {u}, '{role}', 'member', '{0}', '{0}')",
                    ts(86_400 * 200)
                )
            })
            .collect();
        sql.push_str(&format!(
            "INSERT INTO community_members (community_id, user_id, role, status, created_at, updated_at) VALUES {};",
            members.join(",")
        ));
    }
    sql.push_str("COMMIT;");
    conn.batch_execute(&sql)?;
    let mut entries = Vec::with_capacity(docs);
    let mut documents = Vec::with_capacity(docs);
    let mut versions = Vec::with_capacity(docs);
    let mut texts = Vec::with_capacity(docs);
    for d in 1..=docs {
        let c = d % 5 + 1;
        let community = n + c;
        let author = member(c, rng.gen_range(0..300));
        let entry = last_content + d;
        let when = ts(((docs - d) * 3_000) as i64);
        let title = format!(
            "{} {} {d}",
            vocabulary[d % vocabulary.len()],
            vocabulary[(d / 7) % vocabulary.len()]
        );
        let text: Vec<&str> = (0..300)
            .map(|_| vocabulary[rng.gen_range(0..vocabulary.len())])
            .collect();
        entries.push(format!(
            "({entry}, 'document', {author}, 'community', {community}, 'Added {title}.pdf', '<p>Added {title}.pdf</p>', '{when}')"
        ));
        documents.push(format!(
            "({d}, {community}, '{title}.pdf', {author}, '{when}', '{when}')"
        ));
        versions.push(format!(
            "({d}, {d}, 1, '{title}.pdf', 'application/pdf', 250000, '{d:064x}', 'bench-{d}', '', {entry}, {author}, '{when}', '')"
        ));
        texts.push(format!("({d}, '{}')", text.join(" ")));
    }
    let batched =
        |conn: &mut ruche::db::DbConn, head: &str, rows: Vec<String>| -> anyhow::Result<()> {
            conn.batch_execute("BEGIN")?;
            for chunk in rows.chunks(500) {
                conn.batch_execute(&format!("{head} VALUES {}", chunk.join(",")))?;
            }
            conn.batch_execute("COMMIT")?;
            Ok(())
        };
    batched(
        conn,
        "INSERT INTO content (id, kind, author_id, visibility, community_id, body, body_html, created_at)",
        entries,
    )?;
    batched(
        conn,
        "INSERT INTO documents (id, community_id, name, created_by, created_at, updated_at)",
        documents,
    )?;
    batched(
        conn,
        "INSERT INTO document_versions (id, document_id, version, filename, content_type, size, sha256, storage_key, remote_url, content_id, uploaded_by, created_at, note_html)",
        versions,
    )?;
    batched(conn, "INSERT INTO document_texts (version_id, text)", texts)?;
    if let ruche::db::DbConn::Pg(c) = conn {
        // Rows given their ids: the sequences go past them.
        c.batch_execute(
            "SELECT setval('users_id_seq', (SELECT MAX(id) FROM users));
             SELECT setval('content_id_seq', (SELECT MAX(id) FROM content));
             SELECT setval('documents_id_seq', (SELECT MAX(id) FROM documents));
             SELECT setval('document_versions_id_seq', (SELECT MAX(id) FROM document_versions));",
        )?;
    }
    Ok(())
}

/// Inserts the site with multi-row statements; returns API tokens of the
/// first 2,000 people.
/// Inserts rows (`VALUES` tuples) after a statement's head, in batches.
type Batched<'a> = dyn Fn(&mut ruche::db::DbConn, &str, &mut dyn Iterator<Item = String>) -> anyhow::Result<()>
    + 'a;

/// Polls among the posts: three answers each (their ids follow from the
/// insertion order of a fresh database) and twenty voters, counted as the
/// server counts them.
fn seed_polls(
    conn: &mut ruche::db::DbConn,
    poll_ids: &[usize],
    users: usize,
    ts: &dyn Fn(i64) -> String,
    batched: &Batched<'_>,
) -> anyhow::Result<()> {
    const ANSWERS: [&str; 3] = ["Monday", "Wednesday", "Friday"];
    const VOTERS: usize = 20;
    let mut rng = rand::rngs::StdRng::seed_from_u64(19);
    let closes = ts(-86_400 * 7);
    let mut options = Vec::with_capacity(poll_ids.len() * 3);
    let mut votes = Vec::with_capacity(poll_ids.len() * VOTERS);
    let mut polls = Vec::with_capacity(poll_ids.len());
    for (i, poll) in poll_ids.iter().enumerate() {
        let mut counts = [0i64; 3];
        let mut voters = std::collections::BTreeSet::new();
        while voters.len() < VOTERS.min(users) {
            voters.insert(rng.gen_range(1..=users));
        }
        for v in voters {
            let k = rng.gen_range(0..3);
            counts[k] += 1;
            let option = i * 3 + k + 1;
            votes.push(format!("({option}, {poll}, {v}, '{}')", ts(60)));
        }
        for (k, name) in ANSWERS.iter().enumerate() {
            options.push(format!("({poll}, {k}, '{name}', {})", counts[k]));
        }
        polls.push(format!(
            "({poll}, FALSE, '{closes}', 'voted', FALSE, {VOTERS})"
        ));
    }
    batched(
        conn,
        "INSERT INTO polls (content_id, multiple, closes_at, results, anonymous, voters)",
        &mut polls.into_iter(),
    )?;
    batched(
        conn,
        "INSERT INTO poll_options (content_id, position, name, votes)",
        &mut options.into_iter(),
    )?;
    batched(
        conn,
        "INSERT INTO poll_votes (option_id, content_id, user_id, created_at)",
        &mut votes.into_iter(),
    )
}

/// Events among the posts: a week or so ahead, thirty places (some full
/// with people waiting), twelve answers each, counted as the server counts
/// them.
fn seed_events(
    conn: &mut ruche::db::DbConn,
    event_ids: &[usize],
    users: usize,
    ts: &dyn Fn(i64) -> String,
    batched: &Batched<'_>,
) -> anyhow::Result<()> {
    const ANSWERS: usize = 12;
    let mut rng = rand::rngs::StdRng::seed_from_u64(29);
    let mut details = Vec::with_capacity(event_ids.len());
    let mut rsvps = Vec::with_capacity(event_ids.len() * ANSWERS);
    for (i, event) in event_ids.iter().enumerate() {
        let capacity = if i % 4 == 0 { 8 } else { 30 };
        let (mut going, mut maybe, mut waiting) = (0, 0, 0);
        let mut people = std::collections::BTreeSet::new();
        while people.len() < ANSWERS.min(users) {
            people.insert(rng.gen_range(1..=users));
        }
        for p in people {
            let (answer, wait) = match rng.gen_range(0..10) {
                0..=5 if going < capacity => {
                    going += 1;
                    ("going", false)
                }
                0..=5 => {
                    waiting += 1;
                    ("going", true)
                }
                6..=8 => {
                    maybe += 1;
                    ("maybe", false)
                }
                _ => ("declined", false),
            };
            rsvps.push(format!("({event}, {p}, '{answer}', {wait}, '{}')", ts(120)));
        }
        let start = ts(-86_400 * (2 + (i as i64 % 12)));
        let end = ts(-86_400 * (2 + (i as i64 % 12)) - 7_200);
        details.push(format!(
            "({event}, 'Workshop {event}', '{start}', '{end}', 'Europe/Paris', 'Building B, room {}', '', {capacity}, TRUE, {going}, {maybe}, {waiting})",
            100 + i % 50
        ));
    }
    batched(
        conn,
        "INSERT INTO event_details (content_id, title, starts_at, ends_at, time_zone, place, online_url, capacity, waiting_list, going, maybe, waiting)",
        &mut details.into_iter(),
    )?;
    batched(
        conn,
        "INSERT INTO event_rsvps (content_id, user_id, answer, waiting, answered_at)",
        &mut rsvps.into_iter(),
    )
}

/// An administrator marks a new post as a must-read for everyone, with
/// e-mail on (as a site that sends notifications has it): one write
/// transaction that tells each person and queues their e-mail.
fn mark_everyone(db: &ruche::db::Db) -> anyhow::Result<()> {
    use diesel::prelude::*;
    use ruche::db::schema::{content, users};
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let conn = &mut *conn;
    diesel::update(users::table.find(1))
        .set(users::is_admin.eq(true))
        .execute(conn)?;
    ruche::mails::set_notify_delay(conn, Some(300))?;
    let at = chrono::Utc::now().naive_utc();
    let id: i64 = diesel::insert_into(content::table)
        .values((
            content::kind.eq("post"),
            content::author_id.eq(1),
            content::visibility.eq(ruche::audience::Visibility::Instance),
            content::body.eq("The plant closes on the 24th at noon."),
            content::body_html.eq("<p>The plant closes on the 24th at noon.</p>"),
            content::created_at.eq(at),
        ))
        .returning(content::id)
        .get_result(conn)?;
    let admin = ruche::accounts::find_by_id(conn, 1)?;
    let t = Instant::now();
    let view = ruche::content::must_read::mark(conn, &admin, id, true)?
        .ok_or_else(|| anyhow::anyhow!("not marked"))?;
    let audience = view.tally.map(|t| t.audience).unwrap_or(0);
    println!(
        "must-read for everyone: {audience} people told and e-mails queued in {:.2}s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Must-reads for everyone here (an administrator's mark), each confirmed
/// by every other person.
fn seed_must_reads(
    conn: &mut ruche::db::DbConn,
    ids: &[usize],
    users: usize,
    ts: &dyn Fn(i64) -> String,
    batched: &Batched<'_>,
) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    conn.batch_execute(&format!(
        "INSERT INTO must_reads (content_id, author_id, community_id, scope, marked_by, marked_at) \
         SELECT id, author_id, community_id, 'site', 1, '{}' FROM content WHERE id IN ({})",
        ts(600),
        list.join(", ")
    ))?;
    let mut reads = ids
        .iter()
        .flat_map(|id| (1..=users).step_by(2).map(move |u| (*id, u)))
        .map(|(id, u)| format!("({id}, {u}, '{}')", ts(300)));
    batched(
        conn,
        "INSERT INTO must_read_confirmations (content_id, user_id, read_at)",
        &mut reads,
    )
}

fn seed(args: &Args, db: &ruche::db::Db) -> anyhow::Result<Vec<String>> {
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let conn = &mut *conn;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let hash = secrets::hash_password("benchmark password")?;
    let now = chrono::Utc::now().naive_utc();
    let ts = |secs_ago: i64| {
        (now - chrono::Duration::seconds(secs_ago))
            .format("%Y-%m-%d %H:%M:%S%.6f")
            .to_string()
    };
    let departments = [
        "R&D",
        "Sales",
        "Finance",
        "Support",
        "Marketing",
        "Legal",
        "IT",
        "Operations",
    ];
    let sites = ["Lyon", "Paris", "Nantes", "Lille", "Toulouse", "Grenoble"];

    let exec = |conn: &mut ruche::db::DbConn, sql: &str| -> anyhow::Result<()> {
        conn.batch_execute(sql)?;
        Ok(())
    };
    let batched = |conn: &mut ruche::db::DbConn,
                   head: &str,
                   rows: &mut dyn Iterator<Item = String>|
     -> anyhow::Result<()> {
        let mut buf: Vec<String> = Vec::with_capacity(1000);
        let flush = |conn: &mut ruche::db::DbConn, buf: &mut Vec<String>| -> anyhow::Result<()> {
            if !buf.is_empty() {
                exec(conn, &format!("{head} VALUES {}", buf.join(",")))?;
                buf.clear();
            }
            Ok(())
        };
        exec(conn, "BEGIN")?;
        for (i, r) in rows.enumerate() {
            buf.push(r);
            if buf.len() == 1000 {
                flush(conn, &mut buf)?;
            }
            if i % 100_000 == 99_999 {
                exec(conn, "COMMIT")?;
                exec(conn, "BEGIN")?;
            }
        }
        flush(conn, &mut buf)?;
        exec(conn, "COMMIT")
    };

    let n = args.users;
    batched(
        conn,
        "INSERT INTO users (username, email, password_hash, is_admin, disabled, display_name, job_title, department, site, created_at)",
        &mut (1..=n).map(|i| {
            format!(
                "('user{i}', 'user{i}@example.com', '{hash}', FALSE, FALSE, 'Person {i}', 'Engineer', '{}', '{}', '{}')",
                departments[i % departments.len()],
                sites[i % sites.len()],
                ts(86_400 * 400)
            )
        }),
    )?;
    let follows: Vec<String> = (1..=n)
        .flat_map(|i| {
            let mut set = std::collections::BTreeSet::new();
            while set.len() < args.follows.min(n - 1) {
                let j = rng.gen_range(1..=n);
                if j != i {
                    set.insert(j);
                }
            }
            set.into_iter()
                .map(move |j| format!("({i}, {j}, '{}')", ts(86_400)))
        })
        .collect();
    batched(
        conn,
        "INSERT INTO follows (follower_id, followee_id, created_at)",
        &mut follows.into_iter(),
    )?;
    let words = [
        "project", "release", "customer", "meeting", "idea", "question", "report", "update",
        "plan", "review",
    ];
    // Posts and comments interleave in id order, as they do when people write
    // them over time: about one comment for every `1 / comment_ratio` posts.
    let posts = args.posts;
    let comments = (posts as f64 * args.comment_ratio) as usize;
    let total = posts + comments;
    let mut rng2 = rand::rngs::StdRng::seed_from_u64(7);
    let mut rng6 = rand::rngs::StdRng::seed_from_u64(17);
    let mut poll_ids: Vec<usize> = Vec::new();
    let mut event_ids: Vec<usize> = Vec::new();
    let mut rng7 = rand::rngs::StdRng::seed_from_u64(23);
    let mut post_ids: Vec<usize> = Vec::with_capacity(posts);
    let mut rows: Vec<String> = Vec::with_capacity(total);
    let mut tags: Vec<String> = Vec::with_capacity(posts);
    for id in 1..=total {
        let remaining_posts = posts - post_ids.len();
        let remaining_comments = total - id + 1 - remaining_posts;
        let is_comment = !post_ids.is_empty()
            && remaining_comments > 0
            && (remaining_posts == 0
                || rng2.gen_bool(args.comment_ratio / (1.0 + args.comment_ratio)));
        let when = ts((total - id) as i64 * 50);
        let author = rng2.gen_range(1..=n);
        if is_comment {
            // Mostly on recent posts.
            let back = rng2.gen_range(0..post_ids.len().min(2000));
            let root = post_ids[post_ids.len() - 1 - back];
            rows.push(format!(
                "('comment', {author}, {root}, {root}, 'instance', 'Good point {id}', '<p>Good point {id}</p>', '{when}')"
            ));
        } else {
            let w = words[id % words.len()];
            let vis = if id % 10 == 0 {
                "followers"
            } else {
                "instance"
            };
            let poll = args.poll_ratio > 0.0 && rng6.gen_bool(args.poll_ratio.min(1.0));
            let event = !poll && args.event_ratio > 0.0 && rng7.gen_bool(args.event_ratio.min(1.0));
            if event {
                event_ids.push(id);
                rows.push(format!(
                    "('event', {author}, NULL, NULL, '{vis}', 'Agenda of the {w} workshop number {id}.', '<p>Agenda of the {w} workshop number {id}.</p>', '{when}')"
                ));
            } else if poll {
                poll_ids.push(id);
                rows.push(format!(
                    "('poll', {author}, NULL, NULL, '{vis}', 'Which day for the {w} number {id}?', '<p>Which day for the {w} number {id}?</p>', '{when}')"
                ));
            } else {
                rows.push(format!(
                    "('post', {author}, NULL, NULL, '{vis}', 'Weekly {w} number {id}: all is on track. #{w}', '<p>Weekly {w} number {id}: all is on track. <a href=\"/tags/{w}\" class=\"hashtag\">#{w}</a></p>', '{when}')"
                ));
            }
            post_ids.push(id);
            tags.push(format!("({id}, '{w}')"));
        }
    }
    batched(
        conn,
        "INSERT INTO content (kind, author_id, reply_to_id, root_id, visibility, body, body_html, created_at)",
        &mut rows.into_iter(),
    )?;
    batched(
        conn,
        "INSERT INTO content_tags (content_id, tag)",
        &mut tags.into_iter(),
    )?;
    seed_polls(conn, &poll_ids, n, &ts, &batched)?;
    seed_events(conn, &event_ids, n, &ts, &batched)?;
    // The newest plain posts everyone here reads, as must-reads.
    let must: Vec<usize> = post_ids
        .iter()
        .rev()
        .filter(|id| *id % 10 != 0 && !poll_ids.contains(id) && !event_ids.contains(id))
        .take(args.must_reads)
        .copied()
        .collect();
    seed_must_reads(conn, &must, n, &ts, &batched)?;
    // Pictures (and now and then a file) on some posts, as field reports
    // have; the rows only: feeds never read the files.
    let mut rng5 = rand::rngs::StdRng::seed_from_u64(13);
    let with_media = (posts as f64 * args.media_ratio) as usize;
    let media_rows: Vec<String> = (0..with_media)
        .flat_map(|_| {
            let post = post_ids[rng5.gen_range(0..post_ids.len())];
            let n = rng5.gen_range(1..=3);
            let file = rng5.gen_bool(0.2);
            (0..n).map(move |pos| {
                let secret = format!("{:032x}", (post as u128) << 8 | pos as u128);
                if file && pos == n - 1 {
                    format!("(1, {post}, {pos}, 'file', 'report-{post}.pdf', 'application/pdf', 180000, 0, 0, '', '{secret}', '{secret}', '', '', '2026-01-01 00:00:00')")
                } else {
                    format!("(1, {post}, {pos}, 'image', 'IMG_{post}_{pos}.jpg', 'image/jpeg', 450000, 2048, 1536, 'Photo {pos} of the report', '{secret}', '{secret}', '{secret}', '', '2026-01-01 00:00:00')")
                }
            })
        })
        .collect();
    let mut seen_media = std::collections::HashSet::new();
    batched(
        conn,
        "INSERT INTO media (owner_id, content_id, position, kind, filename, content_type, size, width, height, alt, secret, storage_key, thumb_key, remote_url, created_at)",
        &mut media_rows
            .into_iter()
            .filter(|r| seen_media.insert(r.split(',').take(3).collect::<String>())),
    )?;
    seed_documents(args, conn, total, &ts)?;
    let reactions = (posts as f64 * args.reaction_ratio) as usize;
    let kinds = ["like", "thanks", "bravo", "insightful"];
    let mut seen = std::collections::HashSet::new();
    let mut rng4 = rand::rngs::StdRng::seed_from_u64(11);
    let rows: Vec<String> = std::iter::from_fn(|| {
        let c = post_ids[rng4.gen_range(0..post_ids.len())];
        let u = rng4.gen_range(1..=n);
        let k = kinds[rng4.gen_range(0..4)];
        Some((c, u, k))
    })
    .filter(|key| seen.insert(*key))
    .take(reactions)
    .map(|(c, u, k)| format!("({c}, {u}, '{k}', '{}')", ts(10)))
    .collect();
    batched(
        conn,
        "INSERT INTO reactions (content_id, user_id, kind, created_at)",
        &mut rows.into_iter(),
    )?;

    let token_users = n.min(2000);
    let tokens: Vec<String> = (0..token_users)
        .map(|_| format!("ruche_{}", secrets::random_token()))
        .collect();
    batched(
        conn,
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at)",
        &mut tokens.iter().enumerate().map(|(i, t)| {
            format!(
                "({}, 'bench', '{}', '{}')",
                i + 1,
                secrets::digest(t),
                ts(0)
            )
        }),
    )?;
    match conn {
        ruche::db::DbConn::Sqlite(c) => {
            c.batch_execute("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")?
        }
        // What autovacuum does on a live server: statistics and the
        // visibility map (index-only scans).
        // Then a checkpoint, so that the seeding's writes are not flushed
        // in the middle of the measurement.
        ruche::db::DbConn::Pg(c) => {
            c.batch_execute("VACUUM ANALYZE")?;
            c.batch_execute("CHECKPOINT")?
        }
    }
    Ok(tokens)
}
