//! Search: the matching rules (French and English, accents, stems,
//! beginnings, phrases, filters), the audience (nothing found, counted or
//! faceted that the reader may not see), the index following edits and
//! deletions, `ruche admin reindex`, bad queries, and the page.

mod common;

use std::collections::BTreeSet;

use common::{upload_file, Api, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn enc(s: &str) -> String {
    common::urlencode(s)
}

async fn search(api: &Api, q: &str, tab: &str) -> Value {
    let r = api.get(&format!("/search?q={}&type={tab}", enc(q))).await;
    assert_eq!(r.status, StatusCode::OK, "{q}: {:?}", r.json);
    r.json
}

/// The ids of the content found for `q`.
async fn found(api: &Api, q: &str) -> BTreeSet<i64> {
    let r = search(api, q, "content").await;
    let ids: BTreeSet<i64> = r["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        r["counts"]["content"].as_i64().unwrap(),
        ids.len() as i64,
        "{q}: the count is what is listed"
    );
    ids
}

async fn people(api: &Api, q: &str) -> Vec<String> {
    search(api, q, "people").await["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap().to_string())
        .collect()
}

async fn post(api: &Api, body: Value) -> i64 {
    let r = api.post("/posts", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    r.json["id"].as_i64().unwrap()
}

fn set(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().copied().collect()
}

#[tokio::test]
async fn words_match_in_any_form_in_french_and_english() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let r = bob
        .patch(
            "/me",
            json!({
                "display_name": "Bernard Lefèvre",
                "job_title": "Technicien de maintenance",
                "department": "Qualité",
                "site": "Lyon Gerland",
                "skills": ["Soudure", "Automatisme"],
                "languages": ["Français", "English"],
                "bio": "Twenty years on the assembly lines."
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let p1 = ana
        .post_text("Réunion de l'équipe Qualité à Lyon demain")
        .await;
    let p2 = ana.post_text("The audits of the new plant are done").await;
    let p3 = ana
        .post_text("Plan qualité 2027 : ISO-9001 #certification")
        .await;
    let p4 = ana
        .post_text("Meeting notes: a plan for the quality review")
        .await;
    let p5 = bob.post_text("Les réunions du lundi sont annulées").await;
    let r = bob
        .post(
            &format!("/posts/{p2}/comments"),
            json!({"body": "Bravo pour les audits !"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let c1 = r.json["id"].as_i64().unwrap();
    let r = ana
        .post(
            "/communities",
            json!({"name": "qualite_lyon", "title": "Qualité Lyon", "description": "Les audits et la certification du site", "visibility": "public", "join_policy": "open"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);

    let table: Vec<(&str, BTreeSet<i64>)> = vec![
        // Accents folded, both ways.
        ("reunion", set(&[p1, p5])),
        ("RÉUNION ", set(&[p1, p5])),
        // Plural and singular, French and English stems.
        ("réunions ", set(&[p1, p5])),
        ("audit ", set(&[p2, c1])),
        ("meetings ", set(&[p4])),
        // The word being typed.
        ("Qual", set(&[p1, p3, p4])),
        ("lyo", set(&[p1])),
        // Every word must match.
        ("réunion lyon ", set(&[p1])),
        // Phrases: these words, in this order.
        ("\"plan qualité\"", set(&[p3])),
        ("\"qualité plan\"", set(&[])),
        ("ISO-9001", set(&[p3])),
        ("iso 9001 ", set(&[p3])),
        // Filters.
        ("#certification", set(&[p3])),
        ("#Certification plan ", set(&[p3])),
        ("from:@bob réunion ", set(&[p5])),
        ("de:@ana réunion ", set(&[p1])),
        ("audits kind:comment", set(&[c1])),
        ("audits type:publication", set(&[p2])),
        ("plan -meeting", set(&[p3])),
        ("lyon before:2000-12-31", set(&[])),
        ("lyon after:2000-01-01", set(&[p1])),
        ("zzzunknown", set(&[])),
    ];
    for (q, want) in &table {
        for who in [&ana, &bob] {
            assert_eq!(&found(who, q).await, want, "query {q:?}");
        }
    }

    // Snippets highlight the forms that matched, escaped.
    let r = search(&ana, "reunions ", "content").await;
    let snippets: Vec<&str> = r["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["snippet_html"].as_str().unwrap())
        .collect();
    assert!(
        snippets.contains(&"Les <mark>réunions</mark> du lundi sont annulées"),
        "{snippets:?}"
    );
    let comment = &search(&ana, "audits kind:comment", "content").await["content"][0];
    assert_eq!(comment["kind"], "comment");
    assert_eq!(comment["path"], format!("/posts/{p2}#c{c1}"));
    assert_eq!(comment["author"]["username"], "bob");

    // People over every field of the profile.
    for q in [
        "lefevre",
        "Lefèvre",
        "bernard",
        "technicien",
        "techniciens ",
        "qual",
        "soudure",
        "automatism",
        "gerland",
        "english",
        "assembly line ",
        "maintenance lyon ",
    ] {
        assert_eq!(people(&ana, q).await, vec!["bob"], "people: {q:?}");
    }
    assert!(people(&ana, "plombier").await.is_empty());
    // The directory's box reads the same index.
    let r = ana.get("/people?q=lefevre").await;
    assert_eq!(r.json["items"][0]["username"], "bob", "{:?}", r.json);
    let r = ana.get("/people?q=technicien").await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    // Communities by name, title and description.
    for q in ["qualite", "Qualité Lyon", "certification", "audit "] {
        let r = search(&ana, q, "communities").await;
        assert_eq!(r["communities"][0]["name"], "qualite_lyon", "{q}: {r}");
    }
    let r = ana.get("/communities?q=certif").await;
    assert_eq!(r.json["items"][0]["name"], "qualite_lyon", "{:?}", r.json);

    // Facets count the people found, and narrow them.
    let carl = app.user("carl").await;
    carl.patch(
        "/me",
        json!({"display_name": "Carl Martin", "job_title": "Technicien réseau", "department": "Informatique", "site": "Paris"}),
    )
    .await;
    let r = search(&ana, "technicien ", "people").await;
    assert_eq!(r["counts"]["people"], 2);
    let departments: Vec<(String, i64)> = r["facets"]["department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        departments,
        vec![("Informatique".to_string(), 1), ("Qualité".to_string(), 1)]
    );
    assert_eq!(r["facets"]["instance"][0]["value"], "here");
    assert_eq!(r["facets"]["skill"][0]["count"], 1);
    let r = ana.get("/search?q=technicien&type=people&site=paris").await;
    assert_eq!(r.json["people"][0]["username"], "carl");
    assert_eq!(r.json["counts"]["people"], 1);
    let r = ana
        .get("/search?q=technicien&type=people&skill=soudure")
        .await;
    assert_eq!(r.json["people"][0]["username"], "bob");
    let r = ana
        .get("/search?q=technicien&type=people&instance=elsewhere.example")
        .await;
    assert_eq!(r.json["counts"]["people"], 0);
}

#[tokio::test]
async fn nothing_is_found_or_counted_that_the_reader_may_not_see() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carl = app.user("carl").await;
    // bob follows ana; carl does not.
    assert!(bob
        .post("/people/ana/follow", json!({}))
        .await
        .status
        .is_success());
    let followers = post(
        &ana,
        json!({"body": "Zephyr roadmap for followers", "visibility": "followers"}),
    )
    .await;
    let open = ana.post_text("Zephyr launch day is public").await;
    for (name, visibility, join) in [
        ("labo", "private", "open"),
        ("zephyr_secret", "secret", "invitation"),
    ] {
        let r = ana
            .post(
                "/communities",
                json!({"name": name, "title": format!("Zephyr {name}"), "visibility": visibility, "join_policy": join}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    }
    let r = ana
        .post(
            "/communities/labo/posts",
            json!({"body": "Zephyr prototype results"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let in_labo = r.json["id"].as_i64().unwrap();
    let r = ana
        .post(
            "/communities/zephyr_secret/posts",
            json!({"body": "Zephyr acquisition"}),
        )
        .await;
    let in_secret = r.json["id"].as_i64().unwrap();
    // A comment under the private community's post, and a document there.
    let r = ana
        .post(
            &format!("/posts/{in_labo}/comments"),
            json!({"body": "Zephyr measurements attached"}),
        )
        .await;
    let labo_comment = r.json["id"].as_i64().unwrap();
    let r = upload_file(
        &ana,
        "/communities/labo/documents?filename=zephyr-specification.txt",
        "zephyr",
        b"Zephyr specification",
        "text/plain",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    // Comments in the open thread stay visible to all.
    let r = carl
        .post(
            &format!("/posts/{open}/comments"),
            json!({"body": "Zephyr: see you there"}),
        )
        .await;
    let open_comment = r.json["id"].as_i64().unwrap();

    let all = found(&ana, "zephyr").await;
    assert!(all.contains(&followers) && all.contains(&in_labo) && all.contains(&in_secret));
    assert!(all.contains(&labo_comment));
    assert_eq!(
        search(&ana, "zephyr kind:document", "content").await["counts"]["content"],
        1
    );
    assert_eq!(
        found(&bob, "zephyr").await,
        set(&[followers, open, open_comment])
    );
    assert_eq!(found(&carl, "zephyr").await, set(&[open, open_comment]));
    // Not in the other tabs' counts either: carl knows of the private
    // community (it may be found) but not of the secret one.
    let r = search(&carl, "zephyr", "communities").await;
    assert_eq!(r["counts"]["communities"], 1, "{r}");
    assert_eq!(r["communities"][0]["name"], "labo");
    assert_eq!(
        search(&ana, "zephyr", "communities").await["counts"]["communities"],
        2
    );
    for q in [
        "zephyr kind:document",
        "in:!labo",
        "in:!zephyr_secret zephyr",
        "specification",
    ] {
        let r = search(&carl, q, "content").await;
        assert_eq!(r["counts"]["content"], 0, "{q}: {r}");
        assert!(r["content"].as_array().unwrap().is_empty());
    }
    // Joining the private community opens its posts to carl.
    assert!(found(&carl, "prototype").await.is_empty());
    let r = carl.post("/communities/labo/join", json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    assert_eq!(found(&carl, "prototype").await, set(&[in_labo]));
    assert!(found(&carl, "zephyr").await.contains(&labo_comment));
}

#[tokio::test]
async fn edits_and_deletions_leave_the_index_and_reindex_rebuilds_it() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let id = ana.post_text("Inventaire des pièces détachées").await;
    assert_eq!(found(&bob, "inventaire").await, set(&[id]));
    let r = ana
        .patch(
            &format!("/posts/{id}"),
            json!({"body": "Stock of spare parts"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert!(
        found(&bob, "inventaire").await.is_empty(),
        "the old words go"
    );
    assert_eq!(found(&bob, "spare part ").await, set(&[id]));
    let keep = ana.post_text("Spare keys are at the desk").await;
    assert_eq!(
        ana.delete(&format!("/posts/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(found(&bob, "spare").await, set(&[keep]));
    assert_eq!(
        app.count("content_search"),
        1,
        "the deleted post left the index"
    );

    // A deleted account: its profile and its posts leave the index.
    let r = bob.patch("/me", json!({"job_title": "Magasinier"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let bobs = bob.post_text("Magasin fermé lundi").await;
    assert_eq!(people(&ana, "magasinier").await, vec!["bob"]);
    assert_eq!(found(&ana, "magasin").await, set(&[bobs]));
    let r = bob
        .delete_json("/me", json!({"password": common::PASSWORD}))
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    assert!(people(&ana, "magasinier").await.is_empty());
    assert!(found(&ana, "magasin").await.is_empty());

    // `ruche admin reindex` makes the same index again from the tables.
    let before = app.count("content_search");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruche"))
        .args(["admin", "reindex"])
        .env("RUCHE_DATABASE_URL", &app.config.database.url)
        .env("RUCHE_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("search index rebuilt"), "{said}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("100%"));
    assert_eq!(app.count("content_search"), before);
    assert_eq!(found(&app.user("carl").await, "spare").await, set(&[keep]));
}

#[tokio::test]
async fn bad_queries_get_clear_errors_and_the_page_keeps_them() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    for (path, code) in [
        ("/search?q=", "search_empty"),
        ("/search?q=%20%20", "search_empty"),
        ("/search?q=lyon&type=videos", "search_type_unknown"),
        ("/search?q=after:hier", "search_date_invalid"),
        ("/search?q=kind:video", "search_kind_unknown"),
    ] {
        let r = ana.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(r.code(), code, "{path}");
        assert!(!r.message().is_empty());
    }
    let long = "a".repeat(301);
    let r = ana.get(&format!("/search?q={long}")).await;
    assert_eq!(r.code(), "search_too_long");
    assert!(r.message().contains("300"), "{}", r.message());

    // The page: the box in the menu, the results with their marks, the
    // query kept after an error, in French too.
    let b = app.browser_user("bea").await;
    let api = app.login_api("bea").await;
    api.post_text("Réunion <b>qualité</b> jeudi").await;
    let html = b.html("/").await;
    assert!(
        html.contains("action=\"/search\""),
        "the menu has a search box"
    );
    let html = b.html("/search?q=reunion").await;
    assert!(
        html.contains("<mark>Réunion</mark> &lt;b&gt;qualité&lt;/b&gt; jeudi"),
        "{html}"
    );
    assert!(html.contains("value=\"reunion\""));
    let r = b.get_lang("/search?q=reunion%20after:hier", "fr").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("AAAA-MM-JJ"), "{html}");
    assert!(html.contains("value=\"reunion after:hier\""));
    let html = b.html("/search").await;
    assert!(
        html.contains("from:@ana"),
        "an empty search shows how to search"
    );
}
