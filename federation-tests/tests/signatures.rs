//! HTTP signatures between real processes: RFC 9421 both ways between Ruche
//! instances (each learns from the other's actors that it reads them), with
//! a server that reads only RFC 9421 (as one built on Fedify may), and back
//! to draft-cavage, remembered, for a server that claims RFC 9421 but
//! refuses it.

use federation_tests::{eventually, network, wait_count, ForeignServer, Signatures};
use reqwest::StatusCode;
use serde_json::{json, Value};

const AS: &str = "https://www.w3.org/ns/activitystreams";

fn is_rfc9421(signature: &str) -> bool {
    signature.starts_with("sig1=:")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9421_between_ruche_instances_and_with_fedify_shaped_servers() {
    let [mut alpha, mut beta, _gamma] = network();
    let fedify = ForeignServer::start().await;
    let claims = ForeignServer::start_on(&federation_tests::extra_host(1)).await;
    for i in [&mut alpha, &mut beta] {
        i.trust(&fedify.authority(), "member");
        i.trust(&claims.authority(), "member");
    }
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;

    // Between Ruche instances: ann follows bob, bob posts; both instances
    // now know the other reads RFC 9421, and the post arrives.
    let (s, p) = ann
        .get(&format!("/api/v1/people/lookup?q={}", beta.handle("bob")))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, v) = ann
        .post(
            &format!("/api/v1/people/{}/follow", p["username"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert!(s.is_success(), "{v}");
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM follows WHERE accepted = TRUE",
        1,
        "the follow on beta",
    )
    .await;
    let (s, v) = bob
        .post("/api/v1/posts", json!({"body": "Signed the new way"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    wait_count(
        &alpha,
        "SELECT COUNT(*) FROM content WHERE body LIKE '%new way%'",
        1,
        "bob's post on alpha",
    )
    .await;
    let rfc = |host: &str| {
        format!("SELECT COUNT(*) FROM peers WHERE domain LIKE '{host}%' AND signatures = 'rfc9421'")
    };
    assert_eq!(alpha.count(&rfc("beta.test")), 1);
    assert_eq!(beta.count(&rfc("alpha.test")), 1);

    // A server that reads only RFC 9421: draft-cavage is refused there, so
    // Ruche must sign its answers the new way. Its Follow, signed with
    // RFC 9421, is accepted; the Accept and bob's next post reach it signed
    // with RFC 9421.
    fedify.read_signatures(Signatures::Rfc9421Only);
    let bob_url = format!("{}/people/bob", beta.base);
    let alice = format!("{}/users/alice", fedify.base);
    let follow = json!({"@context": AS, "id": format!("{}/follows/1", fedify.base), "type": "Follow",
                        "actor": alice, "object": bob_url});
    let (s, b) = fedify
        .send_rfc9421(
            &format!("{}/inbox", beta.base),
            &format!("{alice}#main-key"),
            &follow,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (s, v) = bob
        .post("/api/v1/posts", json!({"body": "Hello Fedify"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let got = eventually(10, "the Accept and the post at the RFC 9421 server", || {
        let got: Vec<(String, String, Value)> = fedify.received();
        async move {
            (got.iter().any(|r| r.2["type"] == "Accept")
                && got.iter().any(|r| r.2["type"] == "Create"))
            .then_some(got)
        }
    })
    .await;
    assert!(got.iter().all(|(_, sig, _)| is_rfc9421(sig)), "{got:?}");
    assert_eq!(beta.count(&rfc(&fedify.authority())), 1);
    // Signed the old way, its requests are read too.
    let (s, b) = fedify
        .send_value(&format!("{}/inbox", beta.base), &json!({"@context": AS,
            "id": format!("{}/follows/1/undo", fedify.base), "type": "Undo", "actor": alice, "object": follow}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");

    // A server whose actor claims RFC 9421 (FEP-844e) but answers 401 to
    // it: the Follow is sent again with draft-cavage, and the instance is
    // remembered as draft-cavage only.
    claims.read_signatures(Signatures::CavageOnly);
    let mut claimer: Value = serde_json::from_str(&federation_tests::fixture(
        "mastodon_actor.json",
        &claims.base,
        &claims.public_pem(),
        "",
    ))
    .unwrap();
    claimer["id"] = json!(format!("{}/users/claire", claims.base));
    claimer["preferredUsername"] = json!("claire");
    claimer["inbox"] = json!(format!("{}/users/claire/inbox", claims.base));
    claimer["publicKey"]["id"] = json!(format!("{}/users/claire#main-key", claims.base));
    claimer["publicKey"]["owner"] = claimer["id"].clone();
    claimer["generator"] = json!({"type": "Application", "implements": [
        {"name": "RFC-9421: HTTP Message Signatures", "href": "https://datatracker.ietf.org/doc/html/rfc9421"}]});
    claims.publish("/users/claire", "application/activity+json", &claimer);
    let (s, p) = bob
        .get(&format!(
            "/api/v1/people/lookup?q=claire@{}",
            claims.authority()
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, v) = bob
        .post(
            &format!("/api/v1/people/{}/follow", p["username"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let got = eventually(10, "the Follow, signed the old way", || {
        let got = claims.received();
        async move { got.into_iter().find(|r| r.2["type"] == "Follow") }
    })
    .await;
    assert!(!is_rfc9421(&got.1), "{}", got.1);
    assert_eq!(
        beta.count(&format!(
            "SELECT COUNT(*) FROM peers WHERE domain = '{}' AND signatures = 'cavage'",
            claims.authority()
        )),
        1
    );
}
