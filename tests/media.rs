//! Pictures and files attached to posts and comments, over HTTP: uploads
//! (re-encoded pictures without their metadata, thumbnails, files as
//! sent), attaching them, who may fetch them, the composer form keeping
//! them after an error, and bad files refused with nothing stored.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A JPEG of `w` × `h` pixels whose EXIF says "rotate 90° clockwise to
/// show" (orientation 6) and names the camera, as a phone's photo does.
fn phone_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            image::Rgb([200, 30, 30])
        } else {
            image::Rgb([30, 30, 200])
        }
    });
    let mut plain = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut plain),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    // TIFF, little-endian: IFD0 with Orientation (0x0112) = 6 and Make
    // (0x010F) = "PhoneCam" (8 bytes + NUL, stored after the IFD).
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    // Make: type ASCII (2), count 9, offset 8 + 2 + 2*12 + 4 = 38.
    tiff.extend_from_slice(&0x010Fu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&9u32.to_le_bytes());
    tiff.extend_from_slice(&38u32.to_le_bytes());
    // Orientation: type SHORT (3), count 1, value 6.
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&6u16.to_le_bytes());
    tiff.extend_from_slice(&0u16.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(b"PhoneCam\0");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

async fn upload(api: &Api, filename: &str, bytes: &[u8], ct: &str, alt: &str) -> Resp {
    let r = api
        .client
        .post(format!(
            "{}/api/v1/media?filename={}&alt={}",
            api.base,
            urlencode(filename),
            urlencode(alt)
        ))
        .bearer_auth(&api.token)
        .header("content-type", ct)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    Resp {
        status,
        json: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// GET of a path of the site (a file's address), with or without a
/// signed-in session.
async fn fetch(app: &TestApp, path: &str) -> (StatusCode, Vec<u8>, reqwest::header::HeaderMap) {
    let r = app.client().get(app.url(path)).send().await.unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (s, r.bytes().await.unwrap().to_vec(), h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_report_with_photos_and_a_file_is_one_post() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    // A phone's photo: turned upright, its EXIF gone, a thumbnail made.
    let photo = phone_jpeg(300, 200);
    assert!(photo.windows(8).any(|w| w == b"PhoneCam"));
    let r = upload(
        &alice,
        "IMG_0042.JPG",
        &photo,
        "image/jpeg",
        "The leaking pump",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["kind"], "image");
    assert_eq!(
        (r.json["width"].as_i64(), r.json["height"].as_i64()),
        (Some(200), Some(300))
    );
    assert_eq!(r.json["alt"], "The leaking pump");
    assert_eq!(r.json["filename"], "IMG_0042.jpg");
    let photo_id = r.json["id"].as_i64().unwrap();
    let url = r.json["url"].as_str().unwrap().to_string();
    let thumb = r.json["thumbnail_url"].as_str().unwrap().to_string();
    let r = upload(
        &alice,
        "report.pdf",
        b"%PDF-1.4 pressure log",
        "application/pdf",
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["kind"], "file");
    assert_eq!(r.json["thumbnail_url"], Value::Null);
    let pdf_id = r.json["id"].as_i64().unwrap();
    let pdf_url = r.json["url"].as_str().unwrap().to_string();

    // Not attached yet: its owner's only.
    assert_eq!(fetch(&app, &url).await.0, StatusCode::NOT_FOUND);

    let r = alice
        .post(
            "/posts",
            json!({"body": "Pump 3 leaks again", "media_ids": [photo_id, pdf_id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let post = r.json["id"].as_i64().unwrap();
    assert_eq!(r.json["media"][0]["id"], photo_id);
    assert_eq!(r.json["media"][1]["id"], pdf_id);

    // Anyone given the post (bob sees it on the site stream) gets the
    // files it names.
    let feed = bob.get("/feed?stream=site").await;
    assert_eq!(
        feed.json["items"][0]["media"][0]["url"],
        url.as_str(),
        "{:?}",
        feed.json
    );
    let (s, bytes, h) = fetch(&app, &url).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (200, 300), "turned upright");
    // The left half (red) is now the top: a 90° clockwise turn.
    let top = img.to_rgb8().get_pixel(100, 20).0;
    assert!(top[0] > 150 && top[2] < 100, "{top:?}");
    assert!(!bytes.windows(8).any(|w| w == b"PhoneCam"), "EXIF removed");
    assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    let (s, small, _) = fetch(&app, &thumb).await;
    assert_eq!(s, StatusCode::OK);
    let t = image::load_from_memory(&small).unwrap();
    assert!(t.width() <= 480 && t.height() <= 480);
    let (s, pdf, h) = fetch(&app, &pdf_url).await;
    assert_eq!(
        (s, &pdf[..]),
        (StatusCode::OK, &b"%PDF-1.4 pressure log"[..])
    );
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    // A guessed address is nothing.
    // (Its last character changed: a secret that ends in 0 gets a 1.)
    let last = if url.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &url[..url.len() - 1]);
    assert_eq!(fetch(&app, &wrong).await.0, StatusCode::NOT_FOUND);

    // A picture says it all: no text needed.
    let r = upload(&alice, "site.png", &png(64, 48), "image/png", "").await;
    let only = r.json["id"].as_i64().unwrap();
    let r = alice
        .post("/posts", json!({"body": "", "media_ids": [only]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    // Without anything, a post is still refused.
    let r = alice.post("/posts", json!({"body": " "})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "post_empty")
    );

    // A comment carries pictures too.
    let r = upload(&bob, "valve.png", &png(32, 32), "image/png", "The valve").await;
    let bobs = r.json["id"].as_i64().unwrap();
    let r = bob
        .post(
            &format!("/posts/{post}/comments"),
            json!({"body": "Same here", "media_ids": [bobs]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["media"][0]["alt"], "The valve");

    // Uploads are attached once, by their owner only, at most ten at once.
    let contents = app.count("content");
    let r = alice
        .post("/posts", json!({"body": "again", "media_ids": [photo_id]}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "media_unknown")
    );
    let r = upload(&bob, "mine.png", &png(8, 8), "image/png", "").await;
    let not_hers = r.json["id"].as_i64().unwrap();
    let r = alice
        .post("/posts", json!({"body": "stolen", "media_ids": [not_hers]}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "media_unknown")
    );
    let r = alice
        .post(
            "/posts",
            json!({"body": "many", "media_ids": (1..=11).collect::<Vec<i64>>()}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "too_many"));
    assert_eq!(app.count("content"), contents, "nothing stored");

    // Deleted with its post, the file is gone at once.
    let r = alice.delete(&format!("/posts/{post}")).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    assert_eq!(fetch(&app, &url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&app, &pdf_url).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_of_a_followers_only_post_reaches_followers_only() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    bob.post("/people/alice/follow", json!({})).await;
    let r = upload(&alice, "plan.png", &png(40, 40), "image/png", "Floor plan").await;
    let id = r.json["id"].as_i64().unwrap();
    let url = r.json["url"].as_str().unwrap().to_string();
    let r = alice
        .post(
            "/posts",
            json!({"body": "For my team", "visibility": "followers", "media_ids": [id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let post = r.json["id"].as_i64().unwrap();
    // bob follows alice: the post, and the address of its picture.
    let feed = bob.get("/feed").await;
    assert_eq!(feed.json["items"][0]["media"][0]["url"], url.as_str());
    // carol does not: neither the post nor anything naming the picture.
    assert_eq!(
        carol.get(&format!("/posts/{post}")).await.status,
        StatusCode::NOT_FOUND
    );
    for path in [
        "/feed",
        "/feed?stream=site",
        "/feed?stream=organisation",
        "/people/alice/posts",
    ] {
        let r = carol.get(path).await;
        assert!(!r.json.to_string().contains(&url), "{path}: {:?}", r.json);
    }
    let page = app.browser_login("carol").await;
    for path in ["/", "/?stream=site", "/people/alice"] {
        assert!(!page.html(path).await.contains(&url), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_and_nothing_is_stored() {
    let app = TestApp::start_with(|c| c.content.max_attachment_bytes = 100_000).await;
    let alice = app.user("alice").await;
    let cases: Vec<(&str, Vec<u8>, &str, StatusCode, &str)> = vec![
        (
            "photo.png",
            b"this is not a picture".to_vec(),
            "image/png",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "image_type",
        ),
        (
            "photo.jpg",
            b"%PDF-1.4 pretending".to_vec(),
            "image/jpeg",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "image_type",
        ),
        (
            "big.bin",
            vec![7u8; 150_000],
            "application/octet-stream",
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
        ),
        (
            "bomb.png",
            png_declaring(30_000, 30_000),
            "image/png",
            StatusCode::BAD_REQUEST,
            "image_dimensions",
        ),
        (
            "../../etc/passwd",
            b"root:x:0:0".to_vec(),
            "text/plain",
            StatusCode::BAD_REQUEST,
            "file_name_invalid",
        ),
        (
            "..\\boot.ini",
            b"x".to_vec(),
            "text/plain",
            StatusCode::BAD_REQUEST,
            "file_name_invalid",
        ),
        (
            ".htaccess",
            b"x".to_vec(),
            "text/plain",
            StatusCode::BAD_REQUEST,
            "file_name_invalid",
        ),
        (
            "empty.txt",
            Vec::new(),
            "text/plain",
            StatusCode::BAD_REQUEST,
            "file_empty",
        ),
        (
            "",
            b"x".to_vec(),
            "text/plain",
            StatusCode::BAD_REQUEST,
            "file_name_invalid",
        ),
    ];
    for (name, bytes, ct, status, code) in cases {
        let r = upload(&alice, name, &bytes, ct, "").await;
        assert_eq!((r.status, r.code()), (status, code), "{name}: {:?}", r.json);
        assert!(!r.message().is_empty());
    }
    // A PNG whose data is cut short decodes to nothing.
    let mut broken = png(64, 64);
    broken.truncate(60);
    let r = upload(&alice, "cut.png", &broken, "image/png", "").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "image_invalid")
    );
    let r = upload(&alice, "a.png", &png(4, 4), "image/png", &"x".repeat(1501)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "field_too_long")
    );
    assert_eq!(app.count("media"), 0);
    assert_eq!(files_on_disk(&app), 0);
    // The message is in the reader's language.
    let r = alice
        .client
        .post(format!("{}/api/v1/media?filename=x.png", alice.base))
        .bearer_auth(&alice.token)
        .header("content-type", "image/png")
        .header("accept-language", "fr")
        .body(b"nope".to_vec())
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("image"),
        "{v}"
    );
    // Uploads left waiting are bounded per person.
    for i in 0..50 {
        let r = upload(&alice, &format!("note-{i}.txt"), b"x", "text/plain", "").await;
        assert_eq!(r.status, StatusCode::CREATED, "{i}: {:?}", r.json);
    }
    let r = upload(&alice, "one-too-many.txt", b"x", "text/plain", "").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "media_pending")
    );
    assert_eq!(app.count("media"), 50);
}

/// The composer's form with files, as a browser sends it.
async fn compose(
    page: &Browser,
    path: &str,
    csrf: &str,
    body: &str,
    files: Vec<(&str, Vec<u8>, &str)>,
    alts: &[&str],
    kept: &[String],
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_string())
        .text("body", body.to_string())
        .text("visibility", "public");
    for k in kept {
        form = form.text("media", k.clone());
    }
    for a in alts {
        form = form.text("alt", a.to_string());
    }
    for (name, bytes, ct) in files {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str(ct)
            .unwrap();
        form = form.part("files", part);
    }
    page.client
        .post(format!("{}{path}", page.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_posts_pictures_and_keeps_them_after_an_error() {
    let app = TestApp::start().await;
    let page = app.browser_user("alice").await;
    let csrf = page.csrf("/").await;
    // Too long a text: the page comes back with the text, the audience and
    // the picture already sent.
    let long = "x".repeat(6000);
    let r = compose(
        &page,
        "/posts",
        &csrf,
        &long,
        vec![("pump.png", png(50, 50), "image/png")],
        &["Pump 3"],
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("pump.png"),
        "the upload is listed again: {html}"
    );
    let marker = "name=\"media\" value=\"";
    let at = html.find(marker).expect("the upload is kept in the form") + marker.len();
    let kept = html[at..html[at..].find('"').unwrap() + at].to_string();
    assert_eq!(app.count("content"), 0);
    // Sent again, shorter, with one more file: one post, both attached in
    // order, the first with its description.
    let r = compose(
        &page,
        "/posts",
        &csrf,
        "Pump 3 leaks",
        vec![("log.csv", b"t,bar\n1,3\n".to_vec(), "text/csv")],
        &[],
        &[kept],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = page.html("/").await;
    assert!(home.contains("alt=\"Pump 3\""), "the picture in the feed");
    assert!(home.contains("log.csv"));
    assert!(home.contains("class=\"gallery single\""));
    // A bad file in the form: refused with its reason, nothing posted.
    let r = compose(
        &page,
        "/posts",
        &csrf,
        "Another",
        vec![("fake.jpg", b"not a jpeg".to_vec(), "image/jpeg")],
        &[],
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.text().await.unwrap().contains("PNG, JPEG"));
    assert_eq!(app.count("content"), 1);
    // A text field is read within bounds, whatever the form's size.
    let r = compose(
        &page,
        "/posts",
        &csrf,
        &"y".repeat(300_000),
        vec![],
        &[],
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("content"), 1);
    // A form without files still works as before.
    let r = page
        .post_form("/posts", &[("csrf", &csrf), ("body", "Plain text")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A forged form stores no file.
    let before = app.count("media");
    let r = compose(
        &page,
        "/posts",
        "forged",
        "x",
        vec![("a.png", png(4, 4), "image/png")],
        &[],
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("media"), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_deleted_posts_and_forgotten_uploads_are_removed() {
    use diesel::prelude::*;
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let r = upload(&alice, "kept.png", &png(20, 20), "image/png", "").await;
    let kept = r.json["id"].as_i64().unwrap();
    let r = alice
        .post("/posts", json!({"body": "stays", "media_ids": [kept]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = upload(&alice, "gone.png", &png(20, 20), "image/png", "").await;
    let gone = r.json["id"].as_i64().unwrap();
    let r = alice
        .post("/posts", json!({"body": "deleted", "media_ids": [gone]}))
        .await;
    let deleted = r.json["id"].as_i64().unwrap();
    assert!(alice
        .delete(&format!("/posts/{deleted}"))
        .await
        .status
        .is_success());
    let r = upload(&alice, "forgotten.txt", b"x", "text/plain", "").await;
    let forgotten = r.json["id"].as_i64().unwrap();
    let r = upload(&alice, "fresh.txt", b"x", "text/plain", "").await;
    let fresh = r.json["id"].as_i64().unwrap();
    // Two pictures (file and thumbnail each) and two files.
    assert_eq!(files_on_disk(&app), 6);
    let mut conn = app.db.get().unwrap();
    {
        use ruche::db::schema::media;
        let old = ruche::db::now() - chrono::Duration::hours(25);
        diesel::update(media::table.find(forgotten))
            .set(media::created_at.eq(old))
            .execute(&mut *conn)
            .unwrap();
    }
    let store = ruche::storage::LocalDisk::new(app.config.documents.path.clone().into());
    let n = ruche::content::media::purge(&mut conn, &store).unwrap();
    assert_eq!(n, 2, "the deleted post's picture and the forgotten upload");
    assert_eq!(files_on_disk(&app), 3);
    let left: Vec<i64> = {
        use ruche::db::schema::media;
        media::table
            .order(media::id)
            .select(media::id)
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(left, vec![kept, fresh]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_written_from_the_feed_returns_to_the_feed() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let post = alice.post_text("Who has the key of room 4?").await;
    let page = app.browser_user("bob").await;
    let home = page.html("/?stream=site").await;
    assert!(home.contains(&format!("action=\"/posts/{post}/comments\"")));
    assert!(home.contains("name=\"back\" value=\"/?stream=site\""));
    let csrf = extract_csrf(&home).unwrap();
    let r = page
        .post_form(
            &format!("/posts/{post}/comments"),
            &[("csrf", &csrf), ("body", "I do"), ("back", "/?stream=site")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/?stream=site#c{post}").as_str()
    );
    let r = alice.get(&format!("/posts/{post}/comments")).await;
    assert!(r.json.to_string().contains("I do"), "{:?}", r.json);
    // Anywhere but this site: back to the thread instead.
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let r = page
            .post_form(
                &format!("/posts/{post}/comments"),
                &[("csrf", &csrf), ("body", "again"), ("back", evil)],
            )
            .await;
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            to.starts_with(&format!("/posts/{post}#c")),
            "{evil} -> {to}"
        );
    }
}
