//! Documents are found by their text on every member instance of their
//! community: a member instance reads the words of a file its community's
//! instance keeps, and the community's instance those of a member's upload
//! it copied; never for anyone who may not see the document.

use federation_tests::{ask_to_join, client, eventually, trusting_network, wait_count, Api};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn upload(api: &Api, community: &str, name: &str, body: &str) -> Value {
    let r = client()
        .post(format!(
            "{}/api/v1/communities/{community}/documents?filename={name}",
            api.base
        ))
        .bearer_auth(&api.token)
        .header("content-type", "text/markdown")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// The kinds and paths of what a search of `q` finds for `api`.
async fn found(api: &Api, q: &str) -> Vec<(String, String)> {
    let (s, v) = api.get(&format!("/api/v1/search?q={q}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap().to_string(),
                h["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_is_found_by_its_words_on_every_instance_of_its_community() {
    let [alpha, beta, _gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let carl = beta.user("carl").await;
    let (s, v) = ann
        .post(
            "/api/v1/communities",
            json!({"name": "qualite", "title": "Qualité", "visibility": "private", "join_policy": "request"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let qualite = ask_to_join(&bob, &alpha, "qualite").await;
    wait_count(
        &alpha,
        "SELECT COUNT(*) FROM community_members WHERE status = 'pending'",
        1,
        "bob's request",
    )
    .await;
    let (s, v) = ann
        .post(
            &format!(
                "/api/v1/communities/qualite/requests/{}/approve",
                beta.handle("bob")
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username = 'bob' AND m.status = 'member'",
        1,
        "bob accepted",
    )
    .await;

    // ann uploads on alpha; beta learns of the version, then reads its
    // words from alpha's file.
    upload(
        &ann,
        "qualite",
        "procedure.md",
        "# Procédure\n\nÉtalonnage des clés dynamométriques chaque trimestre.",
    )
    .await;
    let hits = eventually(30, "beta to find the document by its words", || async {
        let f = found(&bob, "etalonnage").await;
        (!f.is_empty()).then_some(f)
    })
    .await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].0, "document");
    assert!(hits[0].1.starts_with("/documents/"), "{hits:?}");
    // Stemmed and folded as ours are.
    assert_eq!(found(&bob, "cles%20dynamometriques").await.len(), 1);
    assert_eq!(
        beta.count("SELECT COUNT(*) FROM document_words_due"),
        0,
        "nothing left to read"
    );
    // carl, on the same instance but not a member, finds nothing.
    assert!(found(&carl, "etalonnage").await.is_empty());
    let (_, v) = carl.get("/api/v1/search?q=etalonnage").await;
    assert_eq!(v["counts"]["content"], 0, "{v}");

    // bob uploads from beta: alpha keeps a copy, and reads its words.
    upload(
        &bob,
        &qualite,
        "releve.md",
        "Relevé du couple de serrage des brides, atelier B.",
    )
    .await;
    eventually(30, "alpha to find bob's document by its words", || async {
        (found(&ann, "serrage").await.len() == 1).then_some(())
    })
    .await;
    assert_eq!(alpha.count("SELECT COUNT(*) FROM document_words_due"), 0);
}
