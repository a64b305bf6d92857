//! Suggestions across instances: people and communities of the
//! organisation's member instances known here are suggested like local
//! ones; those of a partner instance are not, and a member instance
//! demoted to partner stops being suggested at once.

use federation_tests::{network, Api};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn suggested(api: &Api, what: &str) -> Vec<Value> {
    let (s, v) = api
        .get(&format!("/api/v1/suggestions/{what}?limit=50"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

fn has_person(list: &[Value], username: &str) -> bool {
    list.iter().any(|p| p["username"] == username)
}

fn has_community(list: &[Value], name: &str) -> bool {
    list.iter().any(|c| c["community"]["name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_and_communities_of_member_instances_are_suggested_and_of_partners_not() {
    let [mut alpha, mut beta, mut gamma] = network();
    alpha.trust("beta.test", "member");
    alpha.trust("gamma.test", "partner");
    beta.trust("alpha.test", "member");
    gamma.trust("alpha.test", "partner");
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let bea = beta.user("bea").await;
    let gil = gamma.user("gil").await;
    for who in [&ann, &bea, &gil] {
        let (s, v) = who
            .call(
                Method::PATCH,
                "/api/v1/me",
                Some(json!({"department": "Qualité"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    for (who, name) in [(&bea, "qualite_beta"), (&gil, "qualite_gamma")] {
        let (s, v) = who
            .post(
                "/api/v1/communities",
                json!({"name": name, "title": "Qualité", "partners": true}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    // ann comes across them (a mention, a link, a search): alpha knows them.
    let mut known = Vec::new();
    for handle in [beta.handle("bea"), gamma.handle("gil")] {
        let (s, p) = ann.get(&format!("/api/v1/people/lookup?q=@{handle}")).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!(p["department"], "Qualité", "the department crossed");
        known.push(p["username"].as_str().unwrap().to_string());
    }
    let mut communities = Vec::new();
    for handle in [beta.handle("qualite_beta"), gamma.handle("qualite_gamma")] {
        let (s, c) = ann
            .get(&format!("/api/v1/communities/lookup?q=!{handle}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        communities.push(c["name"].as_str().unwrap().to_string());
    }

    let people = suggested(&ann, "people").await;
    assert!(
        has_person(&people, &known[0]),
        "bea of beta (member): {people:?}"
    );
    assert!(
        !has_person(&people, &known[1]),
        "gil of gamma (partner): {people:?}"
    );
    let bea_s = people.iter().find(|p| p["username"] == known[0]).unwrap();
    assert_eq!(bea_s["domain"], beta.authority());
    assert_eq!(bea_s["reasons"][0], json!({"kind": "same_department"}));
    let list = suggested(&ann, "communities").await;
    assert!(has_community(&list, &communities[0]), "{list:?}");
    assert!(!has_community(&list, &communities[1]), "{list:?}");
    let beta_c = list
        .iter()
        .find(|c| c["community"]["name"] == communities[0])
        .unwrap();
    assert!(
        !beta_c["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!({"kind": "of_your_site"})),
        "a community of another instance is not of this site"
    );

    // beta is a partner now: its people and communities are not suggested.
    alpha.trust("beta.test", "partner");
    let people = suggested(&ann, "people").await;
    assert!(!has_person(&people, &known[0]), "{people:?}");
    let list = suggested(&ann, "communities").await;
    assert!(!has_community(&list, &communities[0]), "{list:?}");
}
