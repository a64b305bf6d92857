//! Live news for open pages (server-sent events from `/live`): the unread
//! count and the newer posts of a feed arrive without reloading, counted
//! through the audience rules, and stop with the session.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// An open `/live` connection, read as a browser's EventSource would.
struct Events {
    resp: reqwest::Response,
    buf: String,
}

impl Events {
    async fn open(b: &Browser, path: &str) -> Events {
        let resp = b
            .client
            .get(format!("{}{path}", b.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Events {
            resp,
            buf: String::new(),
        }
    }

    /// The next `news` event, or `None` when the server ended the stream.
    async fn next(&mut self) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if block.lines().any(|l| l == "event: news") {
                    let data = block
                        .lines()
                        .find_map(|l| l.strip_prefix("data: "))
                        .expect("data line");
                    return Some(serde_json::from_str(data).unwrap());
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .expect("no news in 10 s");
            match chunk.unwrap() {
                Some(bytes) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                None => return None,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_notifications_and_new_posts_arrive_without_reloading() {
    let app = TestApp::start().await;
    let bob = app.user("bob").await;
    let first = bob.post_text("Good morning").await;
    let ana = app.browser_user("ana").await;

    // The feed's page listens for newer posts of its stream.
    let home = ana.html("/").await;
    let live = format!("/live?stream=site&#38;after={first}");
    assert!(home.contains(&format!("data-live=\"{live}\"")), "{home}");
    assert!(home.contains("data-unread hidden"), "nothing unread yet");

    let mut news = Events::open(&ana, &live.replace("&#38;", "&")).await;
    assert_eq!(
        news.next().await.unwrap(),
        json!({"unread": 0, "posts": 0, "more": false})
    );
    // bob follows ana: she has a notification.
    bob.post("/people/ana/follow", json!({})).await;
    assert_eq!(
        news.next().await.unwrap(),
        json!({"unread": 1, "posts": 0, "more": false})
    );
    // A post for bob's followers is not hers to see, nor to count.
    let r = bob
        .post(
            "/posts",
            json!({"body": "for my followers", "visibility": "followers"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    bob.post_text("News for everyone").await;
    assert_eq!(
        news.next().await.unwrap(),
        json!({"unread": 1, "posts": 1, "more": false})
    );
    // Other pages show the count by the menu.
    let page = ana.html("/people").await;
    assert!(page.contains("data-live=\"/live\""));
    assert!(page.contains("data-unread title=\"Unread notifications\">1</b>"));
    // Reading the notifications empties it, on that page already.
    let page = ana.html("/notifications").await;
    assert!(page.contains("data-unread hidden"));
    bob.post_text("More news").await;
    assert_eq!(
        news.next().await.unwrap(),
        json!({"unread": 0, "posts": 2, "more": false})
    );

    // Signed out, the page hears nothing more: the stream ends.
    let csrf = ana.csrf("/").await;
    ana.post_form("/logout", &[("csrf", &csrf)]).await;
    bob.post_text("After hours").await;
    assert_eq!(news.next().await, None, "the stream ends with the session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_news_refuses_bad_requests_and_bounds_the_pages_it_serves() {
    let app = TestApp::start_with(|c| c.content.max_live_streams = 2).await;
    let anon = Browser::new(&app.base);
    let r = anon.get("/live").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "signin_required");

    let ana = app.browser_user("ana").await;
    for q in [
        "stream=everything",
        "after=abc",
        "after=-1",
        "stream=site&after=1e9",
    ] {
        let r = ana.get(&format!("/live?{q}")).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }

    // Two pages listen; a third is asked to come back later.
    let mut one = Events::open(&ana, "/live").await;
    let mut two = Events::open(&ana, "/live?stream=following").await;
    assert_eq!(
        one.next().await.unwrap(),
        json!({"unread": 0, "posts": null, "more": false})
    );
    assert_eq!(two.next().await.unwrap()["posts"], 0);
    let r = ana.get("/live").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "30");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "live_busy");
    // The pages themselves still work.
    assert_eq!(ana.get("/").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_written_through_another_process_reaches_pages_listening_on_this_one() {
    let app = TestApp::start().await;
    let other = app.another_server().await;
    let bob = app.user("bob").await;
    let bob_elsewhere = Api {
        base: other,
        token: bob.token.clone(),
        client: reqwest::Client::new(),
    };
    let ana = app.browser_user("ana").await;
    let mut news = Events::open(&ana, "/live?stream=site&after=0").await;
    assert_eq!(news.next().await.unwrap()["posts"], 0);
    bob_elsewhere
        .post_text("Written on the other process")
        .await;
    bob_elsewhere.post("/people/ana/follow", json!({})).await;
    let mut last = news.next().await.unwrap();
    if last["unread"] == 0 {
        last = news.next().await.unwrap();
    }
    assert_eq!(last, json!({"unread": 1, "posts": 1, "more": false}));
}
