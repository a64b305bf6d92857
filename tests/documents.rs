//! Documents of communities: uploads, versions, downloads, deletion and bad
//! files, over HTTP.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

async fn upload(api: &Api, path: &str, filename: &str, bytes: &[u8]) -> Resp {
    upload_file(api, path, filename, bytes, "application/pdf").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_upload_versions_download_and_delete_documents() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    alice
        .post("/communities", json!({"name": "legal", "title": "Legal", "visibility": "private", "join_policy": "request"}))
        .await;
    bob.post("/communities/legal/join", json!({})).await;
    alice
        .post("/communities/legal/requests/bob/approve", json!({}))
        .await;

    let r = upload(
        &bob,
        "/communities/legal/documents",
        "Contract v1 é.pdf",
        b"%PDF-1 first",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(r.json["versions"][0]["version"], 1);
    assert_eq!(r.json["versions"][0]["size"], 12);
    assert_eq!(r.json["versions"][0]["filename"], "Contract v1 é.pdf");
    assert_eq!(files_on_disk(&app), 1);

    // The upload shows in the community feed and in members' home feeds.
    let feed = alice.get("/communities/legal/posts").await;
    assert_eq!(feed.json["items"][0]["kind"], "document");
    assert!(feed.json["items"][0]["body_html"]
        .as_str()
        .unwrap()
        .contains(&format!("/documents/{id}")));
    assert!(alice.get("/feed").await.json["items"][0]["body"]
        .as_str()
        .unwrap()
        .contains("Contract"));

    // A new version keeps the first; both download as attachments.
    let r = upload(
        &alice,
        &format!("/documents/{id}/versions"),
        "Contract v2.pdf",
        b"%PDF-1 second",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["versions"].as_array().unwrap().len(), 2);
    for (v, body) in [(1, &b"%PDF-1 first"[..]), (2, &b"%PDF-1 second"[..])] {
        let res = bob
            .client
            .get(format!(
                "{}/api/v1/documents/{id}/versions/{v}/file",
                bob.base
            ))
            .bearer_auth(&bob.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert!(res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"));
        assert_eq!(&res.bytes().await.unwrap()[..], body);
    }
    let feed = bob.get("/communities/legal/posts").await;
    assert!(feed.json["items"][0]["body"]
        .as_str()
        .unwrap()
        .contains("v2"));

    // Someone who is not a member neither lists nor downloads; nor uploads.
    assert_eq!(
        carol.get("/communities/legal/documents").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        carol
            .get(&format!("/documents/{id}/versions/1/file"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        carol.get(&format!("/documents/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    let r = upload(&carol, "/communities/legal/documents", "x.pdf", b"x").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );

    // Only the uploader or a moderator deletes; then every version is gone.
    let r = carol.delete(&format!("/documents/{id}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = alice.delete(&format!("/documents/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        bob.get(&format!("/documents/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(files_on_disk(&app), 0);
    assert!(bob.get("/communities/legal/documents").await.json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let log = alice.get("/communities/legal/log").await;
    assert_eq!(log.json["items"][0]["action"], "delete_document");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_and_leave_nothing_behind() {
    let app = TestApp::start_with(|c| c.documents.max_bytes = 1000).await;
    let alice = app.user("alice").await;
    alice
        .post("/communities", json!({"name": "ops", "title": "Ops"}))
        .await;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "empty.txt",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "document_empty",
        ),
        (
            "big.bin",
            vec![7u8; 1001],
            StatusCode::PAYLOAD_TOO_LARGE,
            "document_too_large",
        ),
        (
            "../../etc/passwd",
            b"x".to_vec(),
            StatusCode::BAD_REQUEST,
            "document_name_invalid",
        ),
        (
            "a/b.txt",
            b"x".to_vec(),
            StatusCode::BAD_REQUEST,
            "document_name_invalid",
        ),
        (
            "..\\win.ini",
            b"x".to_vec(),
            StatusCode::BAD_REQUEST,
            "document_name_invalid",
        ),
        (
            ".htaccess",
            b"x".to_vec(),
            StatusCode::BAD_REQUEST,
            "document_name_invalid",
        ),
        (
            "C:boot.ini",
            b"x".to_vec(),
            StatusCode::BAD_REQUEST,
            "document_name_invalid",
        ),
        (
            "",
            b"x".to_vec(),
            StatusCode::BAD_REQUEST,
            "document_name_invalid",
        ),
    ];
    for (name, bytes, status, code) in cases {
        let r = upload(&alice, "/communities/ops/documents", name, &bytes).await;
        assert_eq!((r.status, r.code()), (status, code), "{name}");
        assert!(!r.message().is_empty());
    }
    let r = upload(&alice, "/communities/nope/documents", "a.txt", b"x").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("documents"), 0);
    assert_eq!(app.count("document_versions"), 0);
    assert_eq!(app.count("content"), 0);
    assert_eq!(files_on_disk(&app), 0);
    // Exactly at the limit is fine.
    let r = upload(&alice, "/communities/ops/documents", "ok.bin", &[1u8; 1000]).await;
    assert_eq!(r.status, StatusCode::CREATED);

    // The page form explains the same errors.
    let b = app.browser_login("alice").await;
    let csrf = b.csrf("/communities/ops/documents").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![1u8; 2000]).file_name("big.bin"),
        );
    let r = b
        .client
        .post(format!("{}/communities/ops/documents", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("role=\"alert\""));
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("note", "Minutes of **Monday**")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"minutes".to_vec())
                .file_name("minutes.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let r = b
        .client
        .post(format!("{}/communities/ops/documents", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = b.html(r.headers()["location"].to_str().unwrap()).await;
    assert!(page.contains("minutes.txt"), "{page}");
    assert_eq!(app.count("documents"), 2);
    assert_eq!(files_on_disk(&app), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_goes_with_its_last_feed_entry_and_its_files_with_the_next_clean_up() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    alice
        .post("/communities", json!({"name": "ops", "title": "Ops"}))
        .await;
    bob.post("/communities/ops/join", json!({})).await;
    let r = upload(&bob, "/communities/ops/documents", "plan.pdf", b"%PDF plan").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let r = upload(
        &bob,
        &format!("/documents/{id}/versions"),
        "plan.pdf",
        b"%PDF plan 2",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let feed = alice.get("/communities/ops/posts").await;
    let entries: Vec<i64> = feed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "document")
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(entries.len(), 2, "{:?}", feed.json);

    // A moderator removes one entry: the document stays with both versions.
    let r = alice
        .delete(&format!(
            "/communities/ops/posts/{}?reason=duplicate",
            entries[0]
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let d = bob.get(&format!("/documents/{id}")).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.json["versions"].as_array().unwrap().len(), 2);

    // The last entry goes: the document goes with it, its files with the
    // next clean-up (the hourly housekeeping's, run here at once).
    let r = bob.delete(&format!("/posts/{}", entries[1])).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        bob.get(&format!("/documents/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(bob.get("/communities/ops/documents").await.json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(files_on_disk(&app), 2);
    let store = ruche::storage::LocalDisk::new(app.config.documents.path.clone().into());
    let mut conn = app.db.get().unwrap();
    assert_eq!(ruche::documents::purge_files(&mut conn, &store).unwrap(), 2);
    assert_eq!(files_on_disk(&app), 0);
}

/// The queue of words to read from documents uploaded elsewhere
/// (`documents::words`), on a database alone (no server, whose own loop
/// would take the rows first): what is due, taken once, retried after a
/// passing failure, given up after a lasting one, and once read, found.
#[test]
fn words_of_documents_from_elsewhere_are_read_retried_or_given_up() {
    use diesel::connection::SimpleConnection;
    use ruche::documents::words;
    use ruche::error::{AppError, ErrorKind};

    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = fresh_database(dir.path());
    let db = ruche::db::Db::open(&url, 2).unwrap();
    db.migrate().unwrap();
    let mut pooled = db.get().unwrap();
    let c = &mut *pooled;
    let t = "'2026-01-01 00:00:00'";
    c.batch_execute(&format!(
        "INSERT INTO users (id, username, email, password_hash, display_name, domain, actor_type, created_at) VALUES
           (1, 'ann', 'ann@here.test', '!', 'Ann', NULL, 'person', {t}),
           (2, 'bob@far.test', 'bob@far.test', '!', 'Bob', 'far.test', 'person', {t}),
           (3, 'lab@far.test', 'lab@far.test', '!', 'Lab', 'far.test', 'group', {t}),
           (4, 'carl', 'carl@here.test', '!', 'Carl', NULL, 'person', {t});
         INSERT INTO communities (actor_id, visibility, join_policy, partners, created_at) VALUES (3, 'private', 'request', FALSE, {t});
         INSERT INTO community_members (community_id, user_id, role, status, created_at, updated_at) VALUES (3, 1, 'member', 'member', {t}, {t});
         INSERT INTO content (id, kind, author_id, visibility, community_id, body, body_html, created_at) VALUES
           (10, 'document', 2, 'community', 3, 'procedure.md', '<p>procedure.md</p>', {t}),
           (11, 'document', 2, 'community', 3, 'releve.md', '<p>releve.md</p>', {t}),
           (12, 'document', 2, 'community', 3, 'releve.md', '<p>releve.md</p>', {t});
         INSERT INTO documents (id, community_id, ap_id, name, created_by, created_at, updated_at) VALUES
           (1, 3, 'https://far.test/documents/1', 'procedure.md', 2, {t}, {t}),
           (2, 3, 'https://far.test/documents/2', 'releve.md', 2, {t}, {t});
         INSERT INTO document_versions (id, document_id, version, filename, content_type, size, sha256, storage_key, remote_url, content_id, uploaded_by, created_at, note_html) VALUES
           (1, 1, 1, 'procedure.md', 'text/markdown', 40, '', '', 'https://far.test/files/1', 10, 2, {t}, ''),
           (2, 2, 1, 'releve.md', 'text/markdown', 40, '', '', 'https://far.test/files/2', 11, 2, {t}, ''),
           (3, 2, 2, 'releve.md', 'text/markdown', 40, '', '', 'https://far.test/files/3', 12, 2, {t}, '');
         INSERT INTO document_words_due (version_id, attempts, next_attempt_at) VALUES (1, 0, {t}), (2, 0, {t}), (3, 0, {t});"
    ))
    .unwrap();
    let left = |c: &mut ruche::db::DbConn| -> Vec<(i64, i32)> {
        use diesel::prelude::*;
        use ruche::db::schema::document_words_due as d;
        d::table
            .order(d::version_id)
            .select((d::version_id, d::attempts))
            .load(c)
            .unwrap()
    };

    // The older version of a document is not read at all.
    let due = words::due(c, 10).unwrap();
    let ids: Vec<i64> = due.iter().map(|d| d.version_id).collect();
    assert_eq!(ids, [1, 3]);
    assert_eq!(left(c), [(1, 0), (3, 0)]);
    // Taken: another process gets nothing meanwhile.
    assert!(words::due(c, 10).unwrap().is_empty());

    // Its instance unreachable: tried again later. Not what was announced:
    // given up.
    let unreachable = AppError::new(ErrorKind::BadGateway, "remote_unreachable");
    words::done(c, &due[0], Err(unreachable)).unwrap();
    words::done(c, &due[1], Err(AppError::bad_request("document_checksum"))).unwrap();
    assert_eq!(left(c), [(1, 1)]);
    assert!(words::due(c, 10).unwrap().is_empty(), "not due yet");

    // Due again, and read this time: kept, indexed, found by a member only.
    c.batch_execute(&format!(
        "UPDATE document_words_due SET next_attempt_at = {t}"
    ))
    .unwrap();
    let due = words::due(c, 10).unwrap();
    assert_eq!(due.len(), 1);
    words::done(
        c,
        &due[0],
        Ok("Étalonnage des clés dynamométriques chaque trimestre".to_string()),
    )
    .unwrap();
    assert!(left(c).is_empty());
    let search = |c: &mut ruche::db::DbConn, viewer: i64, q: &str| -> Vec<i64> {
        ruche::search::run(
            c,
            viewer,
            q,
            ruche::search::Tab::Content,
            &ruche::search::PeopleFilter::default(),
            0,
        )
        .unwrap()
        .content
        .iter()
        .map(|h| h.id)
        .collect()
    };
    assert_eq!(search(c, 1, "etalonnage"), [10]);
    assert_eq!(search(c, 1, "cles dynamometriques"), [10]);
    assert!(search(c, 4, "etalonnage").is_empty());
    drop(pooled);
    drop(db);
    drop_database(&pg);
}
