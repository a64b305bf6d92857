//! The people directory the organisation's member sites share: a member
//! site finds the people of another member site in its search and its
//! expert finder although nobody there follows them; never the people of a
//! partner site, nor a person who chose not to be listed, nor one who left.

use federation_tests::{eventually, network, signed_get, Api};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn people_found(api: &Api, q: &str) -> Vec<String> {
    let (s, v) = api.get(&format!("/api/v1/search?q={q}&type=people")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut names: Vec<String> = v["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn local_parts(names: &[String]) -> Vec<&str> {
    names.iter().map(|n| n.split('@').next().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_sites_find_each_others_people_and_partner_sites_do_not() {
    let [mut alpha, mut beta, mut gamma] = network();
    alpha.trust("beta.test", "member");
    alpha.trust("gamma.test", "partner");
    beta.trust("alpha.test", "member");
    beta.trust("gamma.test", "partner");
    gamma.trust("alpha.test", "partner");
    gamma.trust("beta.test", "partner");
    for i in [&mut alpha, &mut beta, &mut gamma] {
        i.set_env("RUCHE_FEDERATION_DIRECTORY_SYNC_SECONDS", "1");
    }
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let bea = beta.user("bea").await;
    let bob = beta.user("bob").await;
    let bill = beta.user("bill").await;
    let gil = gamma.user("gil").await;
    for (who, title) in [
        (&bea, "Soudeuse"),
        (&bob, "Soudeur"),
        (&bill, "Soudeur"),
        (&gil, "Soudeur"),
    ] {
        let (s, v) = who
            .call(
                Method::PATCH,
                "/api/v1/me",
                Some(json!({"job_title": title, "skills": ["Soudure TIG"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // bob chooses not to be listed to the other sites.
    let (s, v) = bob
        .call(
            Method::PUT,
            "/api/v1/me/finder",
            Some(json!({"shared": false})),
        )
        .await;
    assert_eq!(
        (s, v["shared"].clone(), v["listed"].clone()),
        (StatusCode::OK, json!(false), json!(true))
    );

    // Nobody on alpha follows or looked up anyone of beta, yet.
    let found = eventually(60, "alpha finds the welders of beta", || async {
        let f = people_found(&ann, "soudure").await;
        (f.len() >= 2).then_some(f)
    })
    .await;
    assert_eq!(local_parts(&found), ["bea", "bill"], "{found:?}");
    assert!(found.iter().all(|n| n.ends_with(&beta.authority())));
    // And the expert finder weighs their declared skills.
    let (_, x) = ann.get("/api/v1/experts?topic=soudure").await;
    let experts: Vec<&str> = x["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["person"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(experts.len(), 2, "{x}");
    assert!(experts.contains(&beta.handle("bea").as_str()), "{x}");

    // beta's list is read by member sites only: a partner (gamma) gets
    // the 404 of a page that does not exist, as does an unsigned request.
    // gamma's instance actor signs (its key is made when gamma first
    // fetches something).
    let (s, v) = gil
        .get(&format!("/api/v1/people/lookup?q=@{}", beta.handle("bea")))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let gamma_key = gamma
        .texts("SELECT value AS t FROM settings WHERE name = 'instance_private_key'")
        .remove(0);
    let gamma_key_id = format!("{}/actor#main-key", gamma.base);
    let list = format!("{}/directory", beta.base);
    assert_eq!(
        signed_get(&list, Some((&gamma_key, &gamma_key_id))).await,
        StatusCode::NOT_FOUND
    );
    assert_ne!(signed_get(&list, None).await, StatusCode::OK);
    // Gamma lists nobody to alpha (a partner), so gil is never found.
    assert!(!people_found(&ann, "soudure")
        .await
        .iter()
        .any(|n| n.starts_with("gil@")));

    // bill leaves beta, and bea stops being listed: alpha stops finding them.
    let (s, v) = bill
        .call(
            Method::DELETE,
            "/api/v1/me",
            Some(json!({"password": federation_tests::PASSWORD})),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let (s, _) = bea
        .call(
            Method::PUT,
            "/api/v1/me/finder",
            Some(json!({"shared": false})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    eventually(60, "alpha forgets who beta no longer lists", || async {
        people_found(&ann, "soudure").await.is_empty().then_some(())
    })
    .await;
    let (_, x) = ann.get("/api/v1/experts?topic=soudure").await;
    assert_eq!(x["items"], json!([]), "{x}");
    // bea is still known (for follows and threads), only not found.
    let (s, p) = ann
        .get(&format!("/api/v1/people/{}", beta.handle("bea")))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    // Listed again, found again.
    bea.call(
        Method::PUT,
        "/api/v1/me/finder",
        Some(json!({"shared": true})),
    )
    .await;
    eventually(60, "alpha finds bea again", || async {
        let f: Vec<String> = people_found(&ann, "soudure").await;
        (f.len() == 1).then_some(())
    })
    .await;
}
