//! The web interface: every page renders in English and French, carries the
//! security headers, loads nothing from outside and labels its fields.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

async fn setup() -> (TestApp, Browser, i64) {
    let app = TestApp::start().await;
    let b = app.browser_user("alice").await;
    let bob = app.user("bob").await;
    bob.patch(
        "/me",
        json!({"display_name": "Bob", "department": "Sales", "skills": ["Excel"]}),
    )
    .await;
    let id = bob.post_text("Hello #team and @alice").await;
    bob.post(
        &format!("/posts/{id}/comments"),
        json!({"body": "a comment"}),
    )
    .await;
    bob.post(
        "/communities",
        json!({"name": "crew", "title": "Crew", "description": "The *crew*"}),
    )
    .await;
    let p = bob
        .post("/communities/crew/posts", json!({"body": "Crew news"}))
        .await;
    bob.put(&format!("/communities/crew/posts/{}/pin", p.json["id"]))
        .await;
    (app, b, id)
}

fn pages(id: i64) -> Vec<String> {
    vec![
        "/".into(),
        format!("/posts/{id}"),
        "/people".into(),
        "/people/bob".into(),
        "/people/bob/followers".into(),
        "/people/bob/following".into(),
        "/profile/edit".into(),
        "/tags/team".into(),
        "/settings".into(),
        "/notifications".into(),
        "/search".into(),
        "/search?q=team".into(),
        "/search?q=team&type=people".into(),
        "/search?q=team&type=communities".into(),
        "/admin".into(),
        "/admin/federation".into(),
        "/communities".into(),
        "/communities/crew".into(),
        "/communities/crew/members".into(),
        "/communities/crew/settings".into(),
        "/communities/crew/documents".into(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_in_both_languages_with_security_headers() {
    let (app, b, id) = setup().await;
    // Alice signed up with no Accept-Language: reset to "follow the browser".
    let csrf = b.csrf("/settings").await;
    b.post_form("/settings/language", &[("csrf", &csrf), ("locale", "")])
        .await;
    for path in pages(id) {
        for (lang, word, html_lang) in [
            ("en-GB,en;q=0.9", "Feed", "en"),
            ("fr-FR,fr;q=0.9", "Fil", "fr"),
        ] {
            let r = b.get_lang(&path, lang).await;
            assert_eq!(r.status(), StatusCode::OK, "{path} {lang}");
            let h = r.headers().clone();
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
                "{csp}"
            );
            assert_eq!(h["x-content-type-options"], "nosniff");
            let html = r.text().await.unwrap();
            assert!(
                html.contains(&format!("<html lang=\"{html_lang}\">")),
                "{path} {lang}"
            );
            assert!(
                html.contains(&format!("<span>{word}</span></a>")),
                "{path} {lang}: nav in the right language"
            );
            assert!(html.contains("name=\"viewport\""), "{path}");
            assert!(!html.contains("??"), "{path} {lang}: missing translation");
            assert!(!html.contains("<script>"), "{path}: no inline script");
            // The policy refuses inline styles: one would be silently lost.
            assert!(!html.contains(" style=\""), "{path}: inline style");
            for attr in [
                "src=\"http",
                "href=\"http://",
                "href=\"https://",
                "src=\"//",
                "href=\"//",
            ] {
                assert!(!html.contains(attr), "{path}: external asset {attr}");
            }
            check_labels(&path, &html);
        }
    }
    // Signed-out pages too.
    let anon = Browser::new(&app.base);
    for path in ["/login", "/signup"] {
        let html = anon.get_lang(path, "fr").await.text().await.unwrap();
        assert!(html.contains("lang=\"fr\""));
        check_labels(path, &html);
    }
    // Static assets are served locally.
    for path in [
        "/static/style.css",
        "/static/app.js",
        "/static/icon.svg",
        "/static/icons.svg",
    ] {
        assert_eq!(anon.get(path).await.status(), StatusCode::OK, "{path}");
    }
}

/// Every visible form field has a `<label for=...>`.
fn check_labels(path: &str, html: &str) {
    for tag in ["<input ", "<textarea ", "<select "] {
        for chunk in html.split(tag).skip(1) {
            let el = &chunk[..chunk.find('>').unwrap()];
            if el.contains("type=\"hidden\"") {
                continue;
            }
            let id = el
                .split("id=\"")
                .nth(1)
                .map(|s| &s[..s.find('"').unwrap()])
                .unwrap_or_else(|| panic!("{path}: field without id: {el}"));
            assert!(
                html.contains(&format!("for=\"{id}\"")),
                "{path}: no label for {id}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_setting_overrides_the_browser() {
    let (_app, b, _) = setup().await;
    let csrf = b.csrf("/settings").await;
    let r = b
        .post_form("/settings/language", &[("csrf", &csrf), ("locale", "fr")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.get_lang("/", "en-US").await.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("Publier"));
    let r = b
        .post_form(
            "/settings/language",
            &[("csrf", &csrf), ("locale", "klingon")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = b.get_lang("/", "en-US").await.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_visitors_are_sent_to_sign_in() {
    let (app, b, id) = setup().await;
    let anon = Browser::new(&app.base);
    for path in pages(id) {
        let r = anon.get(&path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        let expected = if path == "/" {
            "/login".to_string()
        } else {
            format!("/login?next={}", urlencode(&path))
        };
        assert_eq!(r.headers()["location"], expected.as_str(), "{path}");
    }
    let r = app
        .client()
        .get(app.url("/people/bob/photo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Unknown pages are a translated 404.
    let r = anon.get_lang("/no/such/page", "fr").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Introuvable"));
    // Signed in, error pages keep the navigation.
    let r = b.get_lang("/posts/999999", "fr").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Introuvable") && html.contains("href=\"/settings\""),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_redirects_only_to_local_pages() {
    let (app, _b, _) = setup().await;
    for (next, expected) in [
        ("/people", "/people"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
    ] {
        let b = Browser::new(&app.base);
        let csrf = b.csrf("/login").await;
        let r = b
            .post_form(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("login", "bob"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.headers()["location"], expected, "{next}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_page_lists_mentions_and_marks_them_read() {
    let (app, b, id) = setup().await;
    let alice = app.login_api("alice").await;
    let n = alice.get("/notifications").await;
    assert_eq!(n.json["unread"], 1, "{}", n.json);
    let html = b.html("/notifications").await;
    assert!(html.contains("mentioned you"), "{html}");
    assert!(html.contains(&format!("href=\"/posts/{id}\"")), "{html}");
    let n = alice.get("/notifications").await;
    assert_eq!(n.json["unread"], 0, "the page marked it read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_search_by_handle_explains_an_untrusted_instance() {
    let (_app, b, _) = setup().await;
    let html = b.html("/people?q=%40someone%40elsewhere.example").await;
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("elsewhere.example is not trusted"), "{html}");
    // A local name still filters the directory.
    let html = b.html("/people?q=bob").await;
    assert!(html.contains("href=\"/people/bob\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn communities_are_created_joined_and_moderated_from_the_pages() {
    let app = TestApp::start().await;
    let alice = app.browser_user("alice").await;
    let bob = app.browser_user("bob").await;

    // A bad name is explained next to the form, and nothing is created.
    let csrf = alice.csrf("/communities").await;
    let r = alice
        .post_form(
            "/communities",
            &[
                ("csrf", &csrf),
                ("name", "../etc"),
                ("title", "Ops"),
                ("visibility", "private"),
                ("join_policy", "request"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(
        html.contains("value=\"Ops\""),
        "the form keeps what was typed"
    );
    assert_eq!(app.count("communities"), 0);
    let r = alice
        .post_form(
            "/communities",
            &[
                ("csrf", &csrf),
                ("name", "ops"),
                ("title", "Ops"),
                ("visibility", "private"),
                ("join_policy", "request"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/communities/ops");

    // Bob asks to join; until approved he only sees that members read it.
    let page = bob.html("/communities/ops").await;
    assert!(page.contains("Ask to join"), "{page}");
    let csrf_b = bob.csrf("/communities/ops").await;
    let r = bob
        .post_form("/communities/ops/join", &[("csrf", &csrf_b)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = bob.html("/communities/ops").await;
    assert!(
        page.contains("Request sent") && page.contains("Only members read"),
        "{page}"
    );
    let r = bob
        .post_form(
            "/communities/ops/posts",
            &[("csrf", &csrf_b), ("body", "let me in")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Alice approves from the members page (in French), then posts.
    let members = alice
        .get_lang("/communities/ops/members", "fr")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        members.contains("Demande envoyée") && members.contains("Accepter"),
        "{members}"
    );
    let r = alice
        .post_form(
            "/communities/ops/members/approve",
            &[("csrf", &csrf), ("username", "bob")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = alice
        .post_form(
            "/communities/ops/posts",
            &[("csrf", &csrf), ("body", "Shift plan for **May**")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = bob.html("/communities/ops").await;
    assert!(page.contains("<strong>May</strong>"), "{page}");
    let home = bob.html("/").await;
    assert!(
        home.contains("<strong>May</strong>") && home.contains("!ops"),
        "the home feed gathers communities"
    );

    // Only a moderator sees the moderation controls; the log lists the acts.
    assert!(!page.contains("/pin\""));
    let mine = alice.html("/communities/ops").await;
    assert!(mine.contains("/pin\""));
    let log = bob.html("/communities/ops/members").await;
    assert!(
        log.contains("approved") && log.contains("created the community"),
        "{log}"
    );
    assert_eq!(
        bob.get("/communities/ops/settings").await.status(),
        StatusCode::FORBIDDEN
    );
    let r = alice
        .post_form(
            "/communities/ops/settings",
            &[
                ("csrf", &csrf),
                ("title", "Ops"),
                ("visibility", "secret"),
                ("join_policy", "invitation"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Secret: a non-member gets the same 404 page as for nothing at all.
    let carol = app.browser_user("carol").await;
    assert_eq!(
        carol.get("/communities/ops").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        carol.get("/communities/ops/members").await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(!carol
        .html("/communities")
        .await
        .contains("/communities/ops"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_returns_to_the_page_asked_for() {
    let (app, _b, _) = setup().await;
    let anon = Browser::new(&app.base);
    let r = anon.get("/communities/crew/documents?sort=name").await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        location,
        "/login?next=%2Fcommunities%2Fcrew%2Fdocuments%3Fsort%3Dname"
    );
    // The sign-in page carries it, and signing in goes there.
    let html = anon.html(&location).await;
    assert!(
        html.contains("name=\"next\" value=\"/communities/crew/documents?sort=name\""),
        "{html}"
    );
    let csrf = anon.csrf(&location).await;
    let r = anon
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("login", "bob"),
                ("password", PASSWORD),
                ("next", "/communities/crew/documents?sort=name"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/communities/crew/documents?sort=name"
    );
    // A sign-in page asked with another site as its destination shows,
    // and leads, home.
    let other = Browser::new(&app.base);
    let html = other.html("/login?next=%2F%2Fevil.example%2F").await;
    assert!(html.contains("name=\"next\" value=\"/\""), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_and_threads_keep_what_the_reader_chose() {
    let app = TestApp::start_with(|c| c.content.max_post_chars = 50).await;
    let alice = app.browser_user("alice").await;
    let bob = app.user("bob").await;

    // A post refused for its length comes back with its draft and the
    // audience chosen, not the widest one.
    let csrf = alice.csrf("/").await;
    let long = "x".repeat(60);
    let r = alice
        .post_form(
            "/posts",
            &[
                ("csrf", &csrf),
                ("body", &long),
                ("visibility", "followers"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains(&long), "the draft is kept");
    assert!(
        html.contains("<option value=\"followers\" selected>"),
        "the audience is kept: {html}"
    );
    assert_eq!(html.matches(" selected>").count(), 1, "{html}");
    assert_eq!(app.count("content"), 0, "nothing was published");
    // A fresh composer chooses nothing for the reader but the first entry.
    let html = alice.html("/").await;
    assert_eq!(html.matches(" selected>").count(), 0, "{html}");

    // The trust form of the administration keeps every field.
    let r = alice
        .post_form(
            "/admin/federation",
            &[
                ("csrf", &csrf),
                ("domain", "no way"),
                ("level", "partner"),
                ("reason", "Lyon plant"),
                ("expires", "2099-12-31"),
                ("allow_private", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    for kept in [
        "value=\"no way\"",
        "<option value=\"partner\" selected>",
        "value=\"Lyon plant\"",
        "value=\"2099-12-31\"",
        "value=\"1\" checked>",
    ] {
        assert!(html.contains(kept), "{kept}: {html}");
    }
    assert_eq!(app.count("instances"), 0);
    // A filter of the communities directory stays chosen.
    let html = alice.html("/communities?mine=1").await;
    assert!(html.contains("<option value=\"1\" selected>"), "{html}");

    // A thread: post, comment, reply. Depth is a class (inline styles are
    // refused by the page's policy).
    let post = bob.post_text("Thread start").await;
    let c1 = bob
        .post(
            &format!("/posts/{post}/comments"),
            json!({"body": "first level"}),
        )
        .await;
    let c1 = c1.json["id"].as_i64().unwrap();
    let c2 = bob
        .post(
            &format!("/posts/{c1}/comments"),
            json!({"body": "second level"}),
        )
        .await;
    let c2 = c2.json["id"].as_i64().unwrap();
    let html = alice.html(&format!("/posts/{post}")).await;
    assert!(html.contains("class=\"comment depth-0\""), "{html}");
    assert!(html.contains("class=\"comment depth-1\""), "{html}");
    assert!(!html.contains("style=\""), "{html}");
    // A comment refused for its length comes back in its form.
    let long_comment = "y".repeat(60);
    let r = alice
        .post_form(
            &format!("/posts/{post}/comments"),
            &[("csrf", &csrf), ("body", &long_comment)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("maxlength=\"50\">{long_comment}</textarea>")),
        "{html}"
    );
    // A comment's own page shows the replies under it.
    let html = alice.html(&format!("/posts/{c1}")).await;
    assert!(html.contains("second level"), "{html}");
    assert!(!html.contains("No comments yet"), "{html}");
    let html = alice.html(&format!("/posts/{c2}")).await;
    assert!(html.contains("No comments yet"), "{html}");

    // Deleting asks first (app.js reads data-confirm), in the reader's
    // language.
    let mine = app.login_api("alice").await.post_text("Mine").await;
    let html = alice.html(&format!("/posts/{mine}")).await;
    assert!(
        html.contains(&format!(
            "action=\"/posts/{mine}/delete\" class=\"inline\" data-confirm=\"Delete this post?"
        )),
        "{html}"
    );
    let js = alice.get("/static/app.js").await.text().await.unwrap();
    assert!(js.contains("data-confirm") && js.contains("window.confirm"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_agree_with_their_noun_in_both_languages() {
    let app = TestApp::start().await;
    let alice = app.browser_user("alice").await;
    let bob = app.user("bob").await;
    bob.post("/communities", json!({"name": "solo", "title": "Solo"}))
        .await;
    for (lang, one) in [("en", "1 member<"), ("fr", "1 membre<")] {
        let html = alice
            .get_lang("/communities/solo", lang)
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(one), "{lang}: {html}");
    }
    let carol = app.user("carol").await;
    carol.post("/communities/solo/join", json!({})).await;
    let html = alice.html("/communities/solo").await;
    assert!(html.contains("2 members<"), "{html}");
    // Followers: "0 followers" in English, "0 abonné" in French.
    for (lang, text) in [
        ("en", "0 followers"),
        ("fr", "0 abonné<"),
        ("fr", "0 abonnement<"),
    ] {
        let html = alice
            .get_lang("/people/bob", lang)
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(text), "{lang} {text}: {html}");
    }
    let a = app.login_api("alice").await;
    a.post("/people/bob/follow", json!({})).await;
    let html = alice.html("/people/bob").await;
    assert!(html.contains("1 follower<"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_page_shows_one_status_and_no_buttons_against_oneself() {
    let app = TestApp::start().await;
    let bob = app.browser_user("bob").await;
    let api = app.login_api("bob").await;
    app.user("carol").await;
    app.user("dan").await;
    api.post("/communities", json!({"name": "ops", "title": "Ops"}))
        .await;
    let r = api
        .post("/communities/ops/invitations", json!({"username": "carol"}))
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let dan = app.login_api("dan").await;
    dan.post("/communities/ops/join", json!({})).await;
    let p = api
        .post("/communities/ops/posts", json!({"body": "To remove"}))
        .await;
    let pid = p.json["id"].as_i64().unwrap();
    api.delete(&format!("/communities/ops/posts/{pid}?reason=off%20topic"))
        .await;
    let html = bob.html("/communities/ops/members").await;
    // Carol is invited, not yet a member: one badge.
    let at = html.find("@carol").unwrap();
    let start = html[..at].rfind("<li class=\"person\">").unwrap();
    let carol = &html[start..at];
    assert!(carol.contains("Invited"), "{carol}");
    assert!(!carol.contains(">Member<"), "{carol}");
    // The owner is offered no Remove or Ban against themselves; Dan is.
    assert!(!html.contains("name=\"username\" value=\"bob\""), "{html}");
    assert!(html.contains("name=\"username\" value=\"dan\""), "{html}");
    assert!(html.contains("data-confirm=\"Ban this person"), "{html}");
    // A refused invitation says why on the members page, and keeps the
    // name typed.
    let csrf = bob.csrf("/communities/ops/members").await;
    let r = bob
        .post_form(
            "/communities/ops/members/invite",
            &[("csrf", &csrf), ("username", "dan")],
        )
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let page = r.text().await.unwrap();
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(
        page.contains("aria-describedby=\"invite-help\" value=\"dan\""),
        "{page}"
    );
    // Moderation log entries link to the people and posts they name.
    assert!(html.contains("<a href=\"/people/bob\">bob</a>"), "{html}");
    assert!(
        html.contains(&format!("<a href=\"/posts/{pid}\">#{pid}</a>")),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn french_pages_say_sizes_dates_and_hints_in_french() {
    let (app, b, _) = setup().await;
    let bob = app.login_api("bob").await;
    let doc = upload_file(
        &bob,
        "/communities/crew/documents",
        "plan.pdf",
        &vec![b'x'; 1_500_000],
        "application/pdf",
    )
    .await;
    assert!(doc.status.is_success(), "{:?}", doc.json);
    let id = doc.json["id"].as_i64().unwrap();
    let crew = app.browser_login("bob").await;
    for (lang, size) in [("fr", "1,5\u{202f}Mo"), ("en", "1.5\u{202f}MB")] {
        let html = crew
            .get_lang(&format!("/documents/{id}"), lang)
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(size), "{lang}: {html}");
        // Dates are <time> elements, shown in the reader's zone by app.js.
        assert!(html.contains("<time datetime=\""), "{html}");
        let html = crew
            .get_lang("/communities/crew/documents", lang)
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("<time datetime=\""), "{html}");
    }
    let html = crew
        .get_lang("/communities/crew/members", "fr")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("placeholder=\"nom, ou nom@site\""), "{html}");
    let _ = b;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_post_shows_once_as_an_announcement() {
    let (_app, b, _) = setup().await;
    let html = b.html("/communities/crew").await;
    assert!(html.contains("Announcements"), "{html}");
    assert_eq!(html.matches("Crew news").count(), 1, "{html}");
}
