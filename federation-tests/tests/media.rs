//! Pictures and files of posts between real instances, and with a server
//! shaped as Mastodon: what is sent (attachments Mastodon shows, at
//! addresses it can fetch), what is read (Mastodon's attachments, copied
//! here when first shown), and nothing crossing to whoever may not see it.

use federation_tests::{client, eventually, network, ForeignServer, Instance};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbaImage::from_pixel(w, h, image::Rgba([20, 140, 60, 255]))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn upload(base: &str, token: &str, name: &str, bytes: Vec<u8>, ct: &str, alt: &str) -> Value {
    let r = client()
        .post(format!("{base}/api/v1/media?filename={name}&alt={alt}"))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn get_bytes(url: &str) -> (StatusCode, Vec<u8>) {
    let r = client().get(url).send().await.unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

/// The feed items of `path` for a person of `home`.
async fn items(home: &Instance, token: &str, path: &str) -> Vec<Value> {
    let r = client()
        .get(format!("{}/api/v1{path}", home.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pictures_cross_to_followers_on_other_instances_and_to_mastodon() {
    let [mut alpha, mut beta, mut gamma] = network();
    let foreign = ForeignServer::start().await;
    alpha.trust("beta.test", "member");
    alpha.trust("gamma.test", "member");
    alpha.trust(&foreign.authority(), "partner");
    beta.trust("alpha.test", "member");
    beta.trust(&foreign.authority(), "partner");
    gamma.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let gus = gamma.user("gus").await;

    // bob (beta) and Mastodon's alice follow ann; gus (gamma) does not.
    let (s, p) = bob
        .get(&format!("/api/v1/people/lookup?q=@{}", alpha.handle("ann")))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let ann_b = p["username"].as_str().unwrap().to_string();
    let (s, v) = bob
        .post(&format!("/api/v1/people/{ann_b}/follow"), json!({}))
        .await;
    assert!(s.is_success(), "{v}");
    let ann_url = format!("{}/people/ann", alpha.base);
    let (s, b) = foreign
        .send(
            &format!("{}/people/ann/inbox", alpha.base),
            "mastodon_follow.json",
            &format!("{}/users/alice#main-key", foreign.base),
            &ann_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    eventually(10, "both follows accepted", || async {
        (alpha.count("SELECT COUNT(*) FROM follows WHERE accepted") == 2).then_some(())
    })
    .await;

    // ann posts a photo with its description, for her followers only.
    let photo = upload(
        &ann.base,
        &ann.token,
        "dock.png",
        png(120, 80),
        "image/png",
        "Dock%203",
    )
    .await;
    let (s, post) = ann
        .post(
            "/api/v1/posts",
            json!({"body": "Dock 3 is ready", "visibility": "followers", "media_ids": [photo["id"]]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{post}");

    // Mastodon receives an attachment it shows, at an address it can fetch
    // without signing.
    let create = eventually(10, "the Create at Mastodon", || async {
        foreign.received().into_iter().find(|(_, _, v)| {
            v["type"] == "Create" && v["object"]["content"].to_string().contains("Dock 3")
        })
    })
    .await
    .2;
    let a = &create["object"]["attachment"][0];
    assert_eq!(a["type"], "Image", "{create}");
    assert_eq!(a["mediaType"], "image/png");
    assert_eq!(a["name"], "Dock 3");
    assert_eq!(
        (a["width"].as_i64(), a["height"].as_i64()),
        (Some(120), Some(80))
    );
    let address = a["url"].as_str().unwrap().to_string();
    assert!(address.starts_with(&alpha.base), "{address}");
    let (s, bytes) = get_bytes(&address).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 120);

    // bob sees it on beta, served by beta (which copied it from alpha).
    let item = eventually(10, "the post on beta", || async {
        items(&beta, &bob.token, "/feed")
            .await
            .into_iter()
            .find(|i| i["body"].as_str().unwrap_or("").contains("Dock 3"))
    })
    .await;
    let m = &item["media"][0];
    assert_eq!(m["kind"], "image", "{item}");
    assert_eq!(m["alt"], "Dock 3");
    let shown = format!("{}{}", beta.base, m["url"].as_str().unwrap());
    let (s, bytes) = get_bytes(&shown).await;
    assert_eq!(s, StatusCode::OK, "{shown}");
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (120, 80));
    let thumb = format!("{}{}", beta.base, m["thumbnail_url"].as_str().unwrap());
    assert_eq!(get_bytes(&thumb).await.0, StatusCode::OK);

    // gamma was not given the post: nothing of it, nor its picture's
    // address, is there.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        gamma.count("SELECT COUNT(*) FROM content WHERE body LIKE '%Dock 3%'"),
        0
    );
    assert_eq!(gamma.count("SELECT COUNT(*) FROM media"), 0);
    let everything = items(&gamma, &gus.token, "/feed?stream=organisation").await;
    assert!(!Value::Array(everything).to_string().contains(&address));

    // A Mastodon post with a picture and a PDF reaches bob (mentioned);
    // beta copies the files when bob first looks, and only then.
    foreign.publish_file(
        "/system/media_attachments/files/000/000/001/original/dock.png",
        "image/png",
        png(64, 48),
    );
    foreign.publish_file(
        "/system/media_attachments/files/000/000/002/original/dock-plan.pdf",
        "application/pdf",
        b"%PDF-1.4 dock plan".to_vec(),
    );
    let bob_url = format!("{}/people/bob", beta.base);
    let (s, b) = foreign
        .send(
            &format!("{}/inbox", beta.base),
            "mastodon_create_note_with_media.json",
            &format!("{}/users/alice#main-key", foreign.base),
            &bob_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let id = eventually(10, "the Mastodon post on beta", || async {
        let n = beta.count("SELECT COUNT(*) FROM content WHERE body LIKE '%new dock%'");
        (n == 1).then(|| beta.count("SELECT id FROM content WHERE body LIKE '%new dock%'"))
    })
    .await;
    let (s, item) = bob.get(&format!("/api/v1/posts/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{item}");
    assert!(
        foreign.fetched_files.lock().unwrap().is_empty(),
        "nothing fetched before it is shown"
    );
    let picture = &item["media"][0];
    assert_eq!(picture["kind"], "image", "{item}");
    assert_eq!(picture["alt"], "The new loading dock, seen from the yard");
    let pdf = &item["media"][1];
    assert_eq!(
        (pdf["kind"].as_str(), pdf["filename"].as_str()),
        (Some("file"), Some("dock-plan.pdf"))
    );
    let (s, bytes) = get_bytes(&format!(
        "{}{}",
        beta.base,
        picture["url"].as_str().unwrap()
    ))
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 64);
    let (s, bytes) = get_bytes(&format!("{}{}", beta.base, pdf["url"].as_str().unwrap())).await;
    assert_eq!(
        (s, &bytes[..]),
        (StatusCode::OK, &b"%PDF-1.4 dock plan"[..])
    );
    // Copied once: shown again from beta's copy.
    let (s, _) = get_bytes(&format!(
        "{}{}",
        beta.base,
        picture["url"].as_str().unwrap()
    ))
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(foreign.fetched_files.lock().unwrap().len(), 2);
    // A file its server no longer has is given up at the first try, and
    // no longer shown.
    let gone = &item["media"][2];
    assert_eq!(gone["alt"], "A picture removed since");
    let (s, _) = get_bytes(&format!("{}{}", beta.base, gone["url"].as_str().unwrap())).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, again) = bob.get(&format!("/api/v1/posts/{id}")).await;
    assert_eq!(again["media"].as_array().unwrap().len(), 2, "{again}");
}
