//! Posts, comments, reactions, visibility and feeds over HTTP.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_renders_markdown_tags_and_mentions_safely() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    app.user("bob").await;
    let r = alice
        .post(
            "/posts",
            json!({"body": "**Release** of #Ruche for @bob and @ghost <script>alert(1)</script> [x](javascript:alert(1)) <a href=\"javascript:alert(2)\" onclick=\"y()\">z</a>"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let html = r.json["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>Release</strong>"), "{html}");
    assert!(html.contains("href=\"/tags/ruche\""), "{html}");
    assert!(html.contains("href=\"/people/bob\""), "{html}");
    assert!(!html.contains("/people/ghost"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("href=\"javascript"), "{html}");
    assert!(!html.contains("onclick"), "{html}");
    assert_eq!(r.json["author"]["username"], "alice");
    assert_eq!(r.json["visibility"], "public");

    // The tag page and the API tag feed list it, whatever the case.
    let feed = alice.get("/tags/RUCHE").await;
    assert_eq!(feed.json["items"].as_array().unwrap().len(), 1);
    let b = app.browser_user("carol").await;
    let page = b.html("/tags/ruche").await;
    assert!(page.contains("<strong>Release</strong>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_oversized_and_invalid_posts_are_refused() {
    let app = TestApp::start_with(|c| c.content.max_post_chars = 100).await;
    let alice = app.user("alice").await;
    let cases = [
        (json!({"body": ""}), "post_empty"),
        (json!({"body": "   \n\t "}), "post_empty"),
        (json!({"body": "x".repeat(101)}), "post_too_long"),
        (
            json!({"body": "ok", "visibility": "everyone"}),
            "visibility_invalid",
        ),
        (json!({"text": "wrong field"}), "field_missing"),
    ];
    for (body, code) in cases {
        let r = alice.post("/posts", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.code(), code, "{body}");
    }
    let r = alice.post("/posts", json!({"body": "x".repeat(101)})).await;
    assert_eq!(r.message(), "A post can have at most 100 characters.");
    // Exactly at the limit is fine (characters, not bytes).
    assert_eq!(
        alice
            .post("/posts", json!({"body": "é".repeat(100)}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(app.count("content"), 1);

    // The composer shows the error and keeps the draft.
    let b = app.browser_user("bob").await;
    let csrf = b.csrf("/").await;
    let long = "y".repeat(101);
    let r = b
        .post_form("/posts", &[("csrf", &csrf), ("body", &long)])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("A post can have at most 100 characters."));
    assert!(html.contains(&long));
    assert_eq!(app.count("content"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_keeps_history_and_only_the_author_edits() {
    let app = TestApp::start().await;
    let _admin = app.user("admin").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let id = alice.post_text("first version #one").await;
    let r = alice
        .patch(
            &format!("/posts/{id}"),
            json!({"body": "second version #two"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["edited_at"].is_string());
    assert!(r.json["body_html"]
        .as_str()
        .unwrap()
        .contains("second version"));
    let revs = alice.get(&format!("/posts/{id}/revisions")).await;
    let items = revs.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["body"], "first version #one");
    // Hashtags follow the edit.
    assert_eq!(
        alice.get("/tags/one").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        alice.get("/tags/two").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Someone else cannot edit or delete it; nothing changes.
    let r = bob
        .patch(&format!("/posts/{id}"), json!({"body": "hijacked"}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_author"));
    let r = bob.delete(&format!("/posts/{id}")).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_author"));
    let r = alice
        .patch(&format!("/posts/{id}"), json!({"body": ""}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let now = alice.get(&format!("/posts/{id}")).await;
    assert_eq!(now.json["body"], "second version #two");
    assert_eq!(app.count("content_revisions"), 1);

    // The edit page is only for the author.
    let bb = app.browser_login("bob").await;
    assert_eq!(
        bb.get(&format!("/posts/{id}/edit")).await.status(),
        StatusCode::FORBIDDEN
    );
    let csrf = bb.csrf("/").await;
    let r = bb
        .post_form(
            &format!("/posts/{id}/edit"),
            &[("csrf", &csrf), ("body", "nope")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = bb
        .post_form(&format!("/posts/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        alice.get(&format!("/posts/{id}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_by_author_or_admin() {
    let app = TestApp::start().await;
    let admin = app.user("admin").await;
    let alice = app.user("alice").await;
    let p1 = alice.post_text("mine").await;
    let p2 = alice.post_text("moderated").await;
    assert_eq!(
        alice.delete(&format!("/posts/{p1}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        alice.get(&format!("/posts/{p1}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin.delete(&format!("/posts/{p2}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        alice.get("/feed").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Unknown ids and garbage ids are not found.
    assert_eq!(
        alice.delete("/posts/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(alice.get("/posts/abc").await.status, StatusCode::NOT_FOUND);

    // Deleting through the page.
    let b = app.browser_login("alice").await;
    let p3 = alice.post_text("via page").await;
    let csrf = b.csrf(&format!("/posts/{p3}")).await;
    let r = b
        .post_form(&format!("/posts/{p3}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        b.get(&format!("/posts/{p3}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threaded_comments() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = alice.post_text("Question: who knows #diesel?").await;
    let c1 = bob
        .post(
            &format!("/posts/{post}/comments"),
            json!({"body": "I do, @alice"}),
        )
        .await;
    assert_eq!(c1.status, StatusCode::CREATED);
    let c1_id = c1.json["id"].as_i64().unwrap();
    assert_eq!(c1.json["kind"], "comment");
    let c2 = alice
        .post(
            &format!("/posts/{c1_id}/comments"),
            json!({"body": "Thanks!"}),
        )
        .await;
    assert_eq!(c2.status, StatusCode::CREATED);
    assert_eq!(c2.json["reply_to_id"], c1_id);
    assert_eq!(c2.json["root_id"], post);

    let list = alice.get(&format!("/posts/{post}/comments")).await;
    let items = list.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        alice.get(&format!("/posts/{post}")).await.json["comment_count"],
        2
    );
    // Comments do not appear in feeds as posts.
    assert_eq!(
        alice.get("/feed").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Bad comments.
    let r = bob
        .post(&format!("/posts/{post}/comments"), json!({"body": ""}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = bob
        .post("/posts/424242/comments", json!({"body": "hello"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("content"), 3);

    // The post page shows the thread with the reply nested.
    let b = app.browser_user("carol").await;
    let html = b.html(&format!("/posts/{post}")).await;
    assert!(html.contains("I do,"));
    assert!(html.contains("class=\"comment depth-1\""));
    let csrf = extract_csrf(&html).unwrap();
    let r = b
        .post_form(
            &format!("/posts/{post}/comments"),
            &[("csrf", &csrf), ("body", "me too")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("content"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_one_per_kind_counted_and_listed() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let post = alice.post_text("Shipped!").await;
    for who in [&bob, &carol] {
        assert_eq!(
            who.put(&format!("/posts/{post}/reactions/bravo"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
    }
    // Twice is still one.
    assert_eq!(
        bob.put(&format!("/posts/{post}/reactions/bravo"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        bob.put(&format!("/posts/{post}/reactions/thanks"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let item = bob.get(&format!("/posts/{post}")).await;
    let reactions = item.json["reactions"].as_array().unwrap();
    let bravo = reactions.iter().find(|r| r["kind"] == "bravo").unwrap();
    assert_eq!(bravo["count"], 2);
    assert_eq!(bravo["mine"], true);
    let who = alice.get(&format!("/posts/{post}/reactions")).await;
    assert_eq!(who.json["bravo"].as_array().unwrap().len(), 2);
    assert_eq!(who.json["thanks"][0]["username"], "bob");
    assert_eq!(
        bob.delete(&format!("/posts/{post}/reactions/bravo"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.count("reactions"), 2);

    // Unknown kinds are refused.
    let r = bob.put(&format!("/posts/{post}/reactions/love")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "reaction_unknown")
    );
    assert!(r.message().contains("like, thanks, bravo, insightful"));
    assert_eq!(app.count("reactions"), 2);

    // From the page: a form button toggles.
    let b = app.browser_login("carol").await;
    let csrf = b.csrf(&format!("/posts/{post}")).await;
    let r = b
        .post_form(
            &format!("/posts/{post}/react"),
            &[("csrf", &csrf), ("kind", "insightful"), ("on", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("reactions"), 3);
    let r = b
        .post_form(
            &format!("/posts/{post}/react"),
            &[("csrf", &csrf), ("kind", "nonsense"), ("on", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("reactions"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_only_posts_reach_followers_and_mentions_only() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    assert_eq!(
        bob.post("/people/alice/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let r = alice
        .post(
            "/posts",
            json!({"body": "for my followers and @dave", "visibility": "followers"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(
        bob.get(&format!("/posts/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        dave.get(&format!("/posts/{id}")).await.status,
        StatusCode::OK
    );
    // Carol neither follows nor is mentioned: the post does not exist for her.
    assert_eq!(
        carol.get(&format!("/posts/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        carol.get(&format!("/posts/{id}/comments")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        carol
            .put(&format!("/posts/{id}/reactions/like"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = carol
        .post(&format!("/posts/{id}/comments"), json!({"body": "sneaky"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        carol.get("/people/alice/posts").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        bob.get("/people/alice/posts").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        bob.get("/feed").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A comment on it is as private as the post.
    let c = bob
        .post(&format!("/posts/{id}/comments"), json!({"body": "seen"}))
        .await;
    let cid = c.json["id"].as_i64().unwrap();
    assert_eq!(
        carol.get(&format!("/posts/{cid}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_feed_pagination_neither_skips_nor_repeats() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    bob.post("/people/alice/follow", json!({})).await;
    let mut expected = Vec::new();
    for i in 0..45 {
        let who = if i % 3 == 0 { &bob } else { &alice };
        expected.push(who.post_text(&format!("post {i}")).await);
        // Carol is not followed: never in Bob's feed.
        if i % 10 == 0 {
            carol.post_text("noise").await;
        }
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/feed?cursor={c}"),
            None => "/feed".to_string(),
        };
        let page = bob.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        for it in page.json["items"].as_array().unwrap() {
            seen.push(it["id"].as_i64().unwrap());
        }
        pages += 1;
        if pages == 1 {
            // New posts arrive while reading: they must not shift later pages.
            for _ in 0..5 {
                alice.post_text("arrived later").await;
            }
        }
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "every post exactly once, newest first");

    // A garbage cursor is a clear 400.
    for bad in ["garbage", "%%%", "bjpib2I"] {
        let r = bob.get(&format!("/feed?cursor={bad}")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "cursor_invalid"),
            "{bad}"
        );
    }
    // A list by name takes any name as a place in its order: it goes on
    // after it.
    let r = bob.get("/people?cursor=c").await;
    assert_eq!(r.status, StatusCode::OK);
    let names: Vec<&str> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["carol"]);
    // The page shows the same error.
    let b = app.browser_user("dave").await;
    assert_eq!(
        b.get("/?cursor=garbage").await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_home_feed_reaches_old_posts_across_many_others() {
    // The home feed reads growing id windows; a followed person whose posts are
    // thousands of ids apart must still fill the page, in order.
    let app = TestApp::start().await;
    let reader = app.user("reader").await;
    let quiet = app.user("quiet").await;
    app.user("busy").await;
    reader.post("/people/quiet/follow", json!({})).await;
    let old = quiet.post_text("an old post").await;
    {
        use diesel::connection::SimpleConnection;
        let mut conn = app.db.get().unwrap();
        let busy: i64 = 3;
        let now = chrono::Utc::now()
            .naive_utc()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        for _ in 0..30 {
            let rows: Vec<String> = (0..1000)
                .map(|_| format!("('post', {busy}, 'instance', 'noise', '<p>noise</p>', '{now}')"))
                .collect();
            let sql = format!(
                "INSERT INTO content (kind, author_id, visibility, body, body_html, created_at) VALUES {}",
                rows.join(",")
            );
            conn.batch_execute(&sql).unwrap();
        }
    }
    let recent = quiet.post_text("a recent post").await;
    let page = reader.get("/feed").await;
    let ids: Vec<i64> = page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![recent, old]);
    assert!(page.json["next_cursor"].is_null());
    // From a cursor between them (the last id shown).
    let page = reader.get(&format!("/feed?cursor={recent}")).await;
    assert_eq!(page.json["items"][0]["id"], old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reacting_from_the_feed_returns_to_the_feed() {
    let app = TestApp::start().await;
    let b = app.browser_user("alice").await;
    let bob = app.user("bob").await;
    let id = bob.post_text("react to me").await;
    let csrf = b.csrf("/").await;
    let r = b
        .client
        .post(app.url(&format!("/posts/{id}/react")))
        .header("referer", app.url("/people/bob?cursor=x"))
        .form(&[("csrf", csrf.as_str()), ("kind", "thanks"), ("on", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("/people/bob?cursor=x#c{id}")
    );
    // A foreign Referer is ignored.
    let r = b
        .client
        .post(app.url(&format!("/posts/{id}/react")))
        .header("referer", "https://elsewhere.example/")
        .form(&[("csrf", csrf.as_str()), ("kind", "thanks"), ("on", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], format!("/posts/{id}#c{id}"));
    assert_eq!(app.count("reactions"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_person_starts_on_the_site_stream_never_an_empty_page() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    alice.post_text("Hello from the site").await;
    bob.post(
        "/posts",
        json!({"body": "For my followers", "visibility": "followers"}),
    )
    .await;
    carol
        .post(
            "/posts",
            json!({"body": "Canteen menu", "visibility": "instance"}),
        )
        .await;
    for i in 0..21 {
        carol.post_text(&format!("Bulletin {i}")).await;
    }

    // Dan arrives: he follows nobody, so home is the site's stream.
    let dan = app.browser_user("dan").await;
    let html = dan.html("/").await;
    assert!(
        html.contains("<a href=\"/?stream=site\" aria-current=\"page\">This site</a>"),
        "{html}"
    );
    assert!(html.contains("Bulletin 20"), "{html}");
    assert!(!html.contains("For my followers"), "{html}");
    // Its next page keeps the stream.
    assert!(html.contains("href=\"/?stream=site&amp;cursor="), "{html}");
    let next = html
        .split("href=\"/?stream=site&amp;cursor=")
        .nth(1)
        .unwrap();
    let next = &next[..next.find('"').unwrap()];
    let html = dan.html(&format!("/?stream=site&cursor={next}")).await;
    assert!(
        html.contains("Hello from the site") && html.contains("Canteen menu"),
        "{html}"
    );
    // His own feed, when asked, says how to fill it.
    let html = dan.html("/?stream=following").await;
    assert!(
        html.contains("Follow colleagues from the People page"),
        "{html}"
    );
    let html = dan
        .get_lang("/?stream=following", "fr")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Suivez des collègues"), "{html}");

    // The API gives the same streams; the default stays the following one.
    let api = app.login_api("dan").await;
    let r = api.get("/feed").await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 0, "{:?}", r.json);
    let r = api.get("/feed?stream=site").await;
    let bodies: Vec<&str> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 20);
    assert_eq!(bodies[0], "Bulletin 20");
    assert!(!bodies.contains(&"For my followers"));
    let r = api.get("/feed?stream=everything").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "stream_invalid")
    );
    let r = api.get("/feed?stream=organisation").await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 20);

    // Once he follows someone, home is his own feed.
    api.post("/people/bob/follow", json!({})).await;
    let html = dan.html("/").await;
    assert!(
        html.contains("<a href=\"/?stream=following\" aria-current=\"page\">Following</a>"),
        "{html}"
    );
    assert!(html.contains("For my followers"), "{html}");
    assert!(!html.contains("Canteen menu"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_shows_the_latest_comments_under_each_post() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let quiet = ana.post_text("Nobody answers this one").await;
    let post = ana.post_text("Who has the 3D printer this week?").await;
    let mut ids = Vec::new();
    for body in [
        "First answer",
        "Second answer",
        "Third answer",
        "A fourth, deleted",
    ] {
        let r = bob
            .post(&format!("/posts/{post}/comments"), json!({"body": body}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        ids.push(r.json["id"].as_i64().unwrap());
    }
    assert_eq!(
        bob.delete(&format!("/posts/{}", ids[3])).await.status,
        StatusCode::NO_CONTENT
    );

    let b = app.browser_login("ana").await;
    let html = b.html("/?stream=site").await;
    let under = &html[html.find(&format!("id=\"c{post}\"")).unwrap()..];
    let under = &under[..under
        .find(&format!("id=\"c{quiet}\""))
        .unwrap_or(under.len())];
    // The last two, oldest first, and a link to all of them.
    let second = under.find("Second answer").expect("second shown");
    let third = under.find("Third answer").expect("third shown");
    assert!(second < third);
    assert!(!under.contains("First answer"));
    assert!(!under.contains("A fourth, deleted"));
    assert!(under.contains(&format!(
        "href=\"/posts/{post}#comments\">See all 3 comments</a>"
    )));
    // A post without comments has no list.
    let quiet_part = &html[html.find(&format!("id=\"c{quiet}\"")).unwrap()..];
    let quiet_part = &quiet_part[..quiet_part.find("</details>").unwrap()];
    assert!(!quiet_part.contains("latest-comments"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_shows_what_will_be_published_and_stores_nothing() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    app.user("bob").await;
    let before = app.count("content");
    let r = ana
        .post(
            "/preview",
            json!({"body": "**Soon** @bob #launch <script>alert(1)</script> @nobody"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let html = r.json["html"].as_str().unwrap();
    assert!(html.contains("<strong>Soon</strong>"));
    assert!(
        html.contains("/people/bob"),
        "a known person is a link: {html}"
    );
    assert!(html.contains("/tags/launch"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("/people/nobody"));
    assert_eq!(app.count("content"), before);
    let r = ana
        .post("/preview", json!({"body": "x".repeat(5001)}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "post_too_long")
    );
    let r = ana.post("/preview", json!({"text": "wrong field"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "field_missing")
    );

    // The page's preview: a fragment, with the form's token only.
    let b = app.browser_login("ana").await;
    let csrf = b.csrf("/").await;
    let r = b
        .post_form("/preview", &[("csrf", &csrf), ("body", "_hello_ @bob")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("<em>hello</em>"));
    let r = b
        .post_form("/preview", &[("csrf", "forged"), ("body", "hello")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = b
        .post_form("/preview", &[("csrf", &csrf), ("body", &"x".repeat(5001))])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("5000"));
    let anon = Browser::new(&app.base);
    let r = anon.post_form("/preview", &[("body", "hello")]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("content"), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_being_typed_suggest_people_those_one_follows_first() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let ana = app.user("ana").await;
    let marie = app.user("marie").await;
    marie
        .patch("/me", json!({"display_name": "Marie Curie"}))
        .await;
    app.user("martin").await;
    app.user("mallory").await;
    root.post("/admin/users/mallory/disable", json!({})).await;
    app.user("ma_x").await;

    let names = |v: &serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["username"].as_str().unwrap().to_string())
            .collect()
    };
    let r = ana.get("/mentions?q=ma").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(names(&r.json), ["ma_x", "marie", "martin"]);
    // A word of the name; the @ typed; following comes first.
    assert_eq!(names(&ana.get("/mentions?q=cur").await.json), ["marie"]);
    ana.post("/people/martin/follow", json!({})).await;
    assert_eq!(
        names(&ana.get("/mentions?q=%40ma").await.json),
        ["martin", "ma_x", "marie"]
    );
    // `_` and `%` are characters, not wildcards; nothing for nothing.
    assert_eq!(names(&ana.get("/mentions?q=ma_").await.json), ["ma_x"]);
    assert!(names(&ana.get("/mentions?q=%25").await.json).is_empty());
    assert!(names(&ana.get("/mentions?q=").await.json).is_empty());
    assert!(
        names(&ana.get("/mentions?q=ana").await.json).is_empty(),
        "not oneself"
    );

    // Someone one follows is offered even when many others come first.
    for i in 0..60 {
        app.create_account(&format!("maa{i:02}"), false);
    }
    app.user("mzimmer").await;
    ana.post("/people/mzimmer/follow", json!({})).await;
    let first = names(&ana.get("/mentions?q=m").await.json);
    assert_eq!(first.len(), 8);
    assert_eq!(&first[..2], ["martin", "mzimmer"]);

    // The page's suggestions need a session.
    let b = app.browser_login("ana").await;
    let r = b.get("/mentions?q=mar").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["items"][0]["display_name"], "");
    assert_eq!(
        Browser::new(&app.base)
            .get("/mentions?q=mar")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
