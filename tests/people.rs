//! Profiles, photos, the directory and follows over HTTP.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_edit_and_view() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let r = alice
        .patch(
            "/me",
            json!({
                "display_name": "Alice Martin", "job_title": "Engineer", "department": "R&D",
                "site": "Lyon", "location": "Building B", "work_email": "Alice.Martin@Corp.example",
                "phone": "+33 4 72 00 00 00", "bio": "I like **Rust** <script>x</script>",
                "skills": ["Rust", "rust ", "RUST", "  Project   Management "],
                "languages": ["French", "English", "french"],
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["skills"], json!(["project management", "rust"]));
    assert_eq!(r.json["languages"], json!(["French", "English"]));
    assert_eq!(r.json["work_email"], "alice.martin@corp.example");
    assert!(r.json["bio_html"]
        .as_str()
        .unwrap()
        .contains("<strong>Rust</strong>"));
    assert!(!r.json["bio_html"].as_str().unwrap().contains("<script"));

    bob.post("/people/alice/follow", json!({})).await;
    alice.post_text("hello from Lyon").await;
    let p = bob.get("/people/alice").await;
    assert_eq!(p.json["followers_count"], 1);
    assert_eq!(p.json["following_count"], 0);
    assert_eq!(p.json["followed_by_me"], true);

    // The profile page shows the fields, counts and recent posts.
    let b = app.browser_login("bob").await;
    let html = b.html("/people/alice").await;
    assert!(
        html.contains("R&amp;D") || html.contains("R&#38;D"),
        "department is shown escaped"
    );
    for needle in [
        "Alice Martin",
        "Engineer",
        "Lyon",
        "project management",
        "hello from Lyon",
        "1 follower<",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    assert_eq!(
        b.get("/people/nobody").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.get("/people/nobody").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_profile_fields_are_refused_and_nothing_changes() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    alice.patch("/me", json!({"job_title": "Engineer"})).await;
    let cases = [
        (json!({"job_title": "x".repeat(101)}), "field_too_long"),
        (json!({"work_email": "nope"}), "field_invalid"),
        (json!({"phone": "call me"}), "field_invalid"),
        (json!({"bio": "b".repeat(2001)}), "field_too_long"),
        (json!({"skills": ["a".repeat(51)]}), "skill_invalid"),
        (
            json!({"skills": (0..31).map(|i| format!("s{i}")).collect::<Vec<_>>()}),
            "too_many",
        ),
        (json!({"locale": "de"}), "field_invalid"),
        (json!({"job_title": "line\u{0007}bell"}), "field_invalid"),
    ];
    for (body, code) in cases {
        let r = alice.patch("/me", body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}"
        );
    }
    let me = alice.get("/me").await;
    assert_eq!(me.json["profile"]["job_title"], "Engineer");
    assert_eq!(app.count("user_skills"), 0);

    // Through the page: the error is shown and the typed values kept.
    let b = app.browser_login("alice").await;
    let csrf = b.csrf("/profile/edit").await;
    let r = b
        .post_form(
            "/profile/edit",
            &[
                ("csrf", &csrf),
                ("job_title", "Lead"),
                ("work_email", "broken"),
                ("skills", "Rust, SQL"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("The field work_email is not valid."));
    assert!(html.contains("value=\"Lead\""));
    assert_eq!(
        alice.get("/me").await.json["profile"]["job_title"],
        "Engineer"
    );
    let r = b
        .post_form(
            "/profile/edit",
            &[
                ("csrf", &csrf),
                ("job_title", "Lead"),
                ("skills", "Rust, SQL, rust"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        alice.get("/me").await.json["profile"]["skills"],
        json!(["rust", "sql"])
    );
}

/// Submits the profile page's photo form.
async fn upload_photo(
    app: &TestApp,
    b: &Browser,
    csrf: &str,
    bytes: Vec<u8>,
    name: &'static str,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_string())
        .part(
            "photo",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
    b.client
        .post(app.url("/profile/photo"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(w, h, image::Rgb([1, 2, 3]))
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    out
}

fn webp(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbaImage::from_pixel(w, h, image::Rgba([1, 2, 3, 255]))
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::WebP,
        )
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_are_reencoded_and_bad_files_refused() {
    let app = TestApp::start_with(|c| c.people.max_photo_bytes = 1024 * 1024).await;
    let alice = app.user("alice").await;
    for (bytes, ct) in [
        (png(800, 600), "image/png"),
        (jpeg(300, 500), "image/jpeg"),
        (webp(64, 64), "image/webp"),
    ] {
        let r = alice.put_bytes("/me/photo", bytes, ct).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{ct}: {:?}", r.json);
    }
    let me = alice.get("/me").await;
    let url = me.json["profile"]["photo_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("/people/alice/photo?v=3"), "{url}");

    // The stored photo is a 256x256 JPEG.
    let b = app.browser_login("alice").await;
    let r = b.get(&url).await;
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));

    // Refusals leave the current photo in place.
    let too_big = vec![0u8; 1024 * 1024 + 1];
    let r = alice.put_bytes("/me/photo", too_big, "image/png").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "photo_too_large")
    );
    assert_eq!(r.message(), "The photo is too large: at most 1 MB.");
    let r = alice
        .put_bytes("/me/photo", b"%PDF-1.7 not an image".to_vec(), "image/png")
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "photo_type")
    );
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[0; 30]);
    let r = alice.put_bytes("/me/photo", gif, "image/gif").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut broken = png(100, 100);
    broken.truncate(60);
    let r = alice.put_bytes("/me/photo", broken, "image/png").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "photo_invalid")
    );
    let r = alice.put_bytes("/me/photo", Vec::new(), "image/png").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "photo_empty")
    );
    assert_eq!(
        alice.get("/me").await.json["profile"]["photo_url"],
        url.as_str()
    );
    assert_eq!(app.count("photos"), 1);

    // Through the page's upload form.
    let csrf = b.csrf("/profile/edit").await;
    let r = upload_photo(&app, &b, &csrf, b"hello, I am text".to_vec(), "cv.txt").await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Only PNG, JPEG and WebP photos are accepted."));
    let r = upload_photo(&app, &b, &csrf, vec![7u8; 1024 * 1024 + 10], "big.png").await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = upload_photo(&app, &b, "forged", png(10, 10), "a.png").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        alice.get("/me").await.json["profile"]["photo_url"],
        url.as_str()
    );
    let r = upload_photo(&app, &b, &csrf, png(50, 50), "a.png").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(alice.get("/me").await.json["profile"]["photo_url"]
        .as_str()
        .unwrap()
        .ends_with("v=4"));

    // Removing it.
    assert_eq!(
        alice.delete("/me/photo").await.status,
        StatusCode::NO_CONTENT
    );
    assert!(alice.get("/me").await.json["profile"]["photo_url"].is_null());
    assert_eq!(app.count("photos"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_filters_by_department_site_skill_and_name() {
    let app = TestApp::start().await;
    let people = [
        ("alice", "Alice Martin", "R&D", "Lyon", vec!["Rust", "SQL"]),
        ("bob", "Bob Durand", "Sales", "Paris", vec!["negotiation"]),
        ("carol", "Carol Petit", "r&d", "Paris", vec!["rust"]),
        ("dave", "Dave Leroy", "Finance", "Lyon", vec![]),
    ];
    let mut apis = Vec::new();
    for (u, name, dep, site, skills) in &people {
        let api = app.user(u).await;
        let r = api
            .patch(
                "/me",
                json!({"display_name": name, "department": dep, "site": site, "skills": skills}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        apis.push(api);
    }
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["username"].as_str().unwrap().to_string())
            .collect()
    };
    let a = &apis[0];
    assert_eq!(
        names(&a.get("/people").await.json),
        ["alice", "bob", "carol", "dave"]
    );
    assert_eq!(
        names(&a.get("/people?department=R%26D").await.json),
        ["alice", "carol"]
    );
    assert_eq!(
        names(&a.get("/people?site=paris").await.json),
        ["bob", "carol"]
    );
    assert_eq!(
        names(&a.get("/people?skill=RUST").await.json),
        ["alice", "carol"]
    );
    assert_eq!(
        names(&a.get("/people?skill=rust&site=Lyon").await.json),
        ["alice"]
    );
    assert_eq!(names(&a.get("/people?q=dur").await.json), ["bob"]);
    assert_eq!(
        names(&a.get("/people?q=%25").await.json),
        Vec::<String>::new()
    );

    // Accented capitals are letters like the others, on both databases
    // (SQLite's own lower() left "É" as it was).
    for (u, name, dep, site) in [
        ("emile", "Émile Zola", "ÉLECTRICITÉ", "Évry"),
        ("fanny", "Fanny Roux", "électricité", "ÉVRY"),
    ] {
        let api = app.user(u).await;
        let r = api
            .patch(
                "/me",
                json!({"display_name": name, "department": dep, "site": site}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    assert_eq!(
        names(&a.get("/people?department=%C3%89lectricit%C3%A9").await.json),
        ["emile", "fanny"]
    );
    assert_eq!(
        names(&a.get("/people?site=%C3%A9vry").await.json),
        ["emile", "fanny"]
    );
    assert_eq!(
        names(&a.get("/mentions?q=%C3%A9mi").await.json),
        ["emile"],
        "@émi finds Émile"
    );

    // The page filters the same way.
    let b = app.browser_login("dave").await;
    let html = b.html("/people?skill=rust").await;
    assert!(
        html.contains("Alice Martin")
            && html.contains("Carol Petit")
            && !html.contains("Bob Durand")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_pages_with_cursor() {
    let app = TestApp::start().await;
    let first = app.user("user_00").await;
    for i in 1..60 {
        app.create_account(&format!("user_{i:02}"), false);
    }
    let p1 = first.get("/people").await;
    assert_eq!(p1.json["items"].as_array().unwrap().len(), 50);
    let c = p1.json["next_cursor"].as_str().unwrap();
    let p2 = first.get(&format!("/people?cursor={c}")).await;
    let items = p2.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(items[0]["username"], "user_50");
    assert!(p2.json["next_cursor"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_unfollow_and_lists() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    assert_eq!(
        bob.post("/people/alice/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        bob.post("/people/alice/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        carol.post("/people/ALICE/follow", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.count("follows"), 2);
    let followers = alice.get("/people/alice/followers").await;
    let names: Vec<_> = followers.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].clone())
        .collect();
    assert_eq!(names, [json!("bob"), json!("carol")]);
    assert_eq!(
        bob.get("/people/bob/following").await.json["items"][0]["username"],
        "alice"
    );
    // One-way: Alice does not follow back.
    assert_eq!(
        alice.get("/people/alice/following").await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Bad follows.
    let r = alice.post("/people/alice/follow", json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "cannot_follow_self")
    );
    assert_eq!(
        alice.post("/people/ghost/follow", json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.count("follows"), 2);

    assert_eq!(
        bob.delete("/people/alice/follow").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.count("follows"), 1);

    // Through the pages.
    let b = app.browser_user("dave").await;
    let csrf = b.csrf("/people/alice").await;
    let r = b
        .post_form("/people/alice/follow", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.html("/people/alice").await;
    assert!(html.contains("Unfollow"));
    let html = b.html("/people/alice/followers").await;
    assert!(html.contains("@dave") && html.contains("@carol"));
    let r = b
        .post_form("/people/alice/unfollow", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("follows"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_up_to_the_configured_limit_are_accepted() {
    use rand::Rng;
    // Above the server's default 2 MB request limit, below the photo limit.
    let app = TestApp::start_with(|c| c.people.max_photo_bytes = 4 * 1024 * 1024).await;
    let alice = app.user("alice").await;
    let mut rng = rand::thread_rng();
    let noise = image::RgbImage::from_fn(1000, 1000, |_, _| {
        image::Rgb([rng.gen(), rng.gen(), rng.gen()])
    });
    let mut bytes = Vec::new();
    noise
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    assert!(
        bytes.len() > 2 * 1024 * 1024 && bytes.len() < 4 * 1024 * 1024,
        "{}",
        bytes.len()
    );
    let r = alice
        .put_bytes("/me/photo", bytes.clone(), "image/png")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.json);

    // And through the page's form.
    let b = app.browser_login("alice").await;
    let csrf = b.csrf("/profile/edit").await;
    let r = upload_photo(&app, &b, &csrf, bytes, "big.png").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(alice.get("/me").await.json["profile"]["photo_url"]
        .as_str()
        .unwrap()
        .ends_with("v=2"));
}
