//! Endorsements across sites: a colleague of another site endorses a
//! person's skill; the person's site keeps it and counts it, and the sites
//! that show that person show the count their site publishes. Withdrawn,
//! or gone with the endorser's account, it stops counting everywhere.

use federation_tests::{eventually, follow, network, Api, ForeignServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The count and `mine` of the skill `skill` on the profile of `username`
/// as `api` sees it.
async fn endorsed(api: &Api, username: &str, skill: &str) -> (i64, bool) {
    let (s, p) = api.get(&format!("/api/v1/people/{username}")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let e: Vec<Value> = p["endorsements"].as_array().cloned().unwrap_or_default();
    let e = e
        .iter()
        .find(|e| e["skill"] == skill)
        .unwrap_or_else(|| panic!("{skill} not on {p}"));
    (e["count"].as_i64().unwrap(), e["mine"].as_bool().unwrap())
}

async fn wait_endorsed(api: &Api, username: &str, skill: &str, n: i64, what: &str) {
    eventually(30, what, || async {
        (endorsed(api, username, skill).await.0 == n).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endorsement_from_another_site_counts_where_the_person_lives_and_where_they_are_shown() {
    let [mut alpha, mut beta, mut gamma] = network();
    let foreign = ForeignServer::start().await;
    for (a, others) in [
        (&alpha, ["beta.test", "gamma.test"]),
        (&beta, ["alpha.test", "gamma.test"]),
        (&gamma, ["alpha.test", "beta.test"]),
    ] {
        for o in others {
            a.trust(o, "member");
        }
    }
    beta.trust(&foreign.authority(), "partner");
    alpha.start().await;
    beta.start().await;
    gamma.start().await;
    let ann = alpha.user("ann").await;
    let bea = beta.user("bea").await;
    let gil = gamma.user("gil").await;
    let (s, v) = bea
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"job_title": "Soudeuse", "skills": ["Soudure TIG", "Peinture"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // gamma shows bea (gil follows her); alpha looks her up.
    let bea_on_gamma = follow(&gil, &gamma, &format!("@{}", beta.handle("bea"))).await;
    let (s, p) = ann
        .get(&format!("/api/v1/people/lookup?q=@{}", beta.handle("bea")))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let bea_on_alpha = p["username"].as_str().unwrap().to_string();
    assert_eq!(
        endorsed(&ann, &bea_on_alpha, "soudure tig").await,
        (0, false)
    );

    // A skill she does not declare cannot be endorsed, here or there.
    let (s, v) = ann
        .call(
            Method::PUT,
            &format!("/api/v1/people/{bea_on_alpha}/endorsements/plomberie"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("skill_not_declared")),
        "{v}"
    );

    // ann endorses bea's welding from alpha: beta counts it, and gamma
    // shows beta's count.
    let path = format!("/api/v1/people/{bea_on_alpha}/endorsements/Soudure%20TIG");
    let (s, v) = ann.call(Method::PUT, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        endorsed(&ann, &bea_on_alpha, "soudure tig").await,
        (1, true)
    );
    wait_endorsed(
        &bea,
        "bea",
        "soudure tig",
        1,
        "beta to count ann's endorsement",
    )
    .await;
    assert_eq!(endorsed(&bea, "bea", "peinture").await, (0, false));
    assert_eq!(
        beta.count(
            "SELECT COUNT(*) FROM endorsements e JOIN users u ON u.id = e.endorser_id WHERE u.username LIKE 'ann@%'"
        ),
        1
    );
    wait_endorsed(
        &gil,
        &bea_on_gamma,
        "soudure tig",
        1,
        "gamma to show beta's count",
    )
    .await;
    // gamma's expert finder weighs it.
    let (_, x) = gil.get("/api/v1/experts?topic=soudure").await;
    assert_eq!(
        x["items"][0]["person"]["username"],
        bea_on_gamma.as_str(),
        "{x}"
    );
    assert_eq!(x["items"][0]["endorsements"], 1, "{x}");
    // gil endorses her too: two on beta, two shown on gamma.
    let (s, v) = gil
        .call(
            Method::PUT,
            &format!("/api/v1/people/{bea_on_gamma}/endorsements/soudure%20tig"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    wait_endorsed(
        &bea,
        "bea",
        "soudure tig",
        2,
        "beta to count gil's endorsement",
    )
    .await;
    wait_endorsed(&gil, &bea_on_gamma, "soudure tig", 2, "gamma to show two").await;

    // A server of another kind (a partner) speaks the same terms, and is
    // held to the same rules.
    let fb = foreign.base.clone();
    let bea_url = format!("{}/people/bea", beta.base);
    let inbox = format!("{}/inbox", beta.base);
    let like = |n: u32, skill: &str, object: &str| {
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", {"ruche": "https://ruche.social/ns#"}],
            "id": format!("{fb}/users/alice/endorse/{n}"),
            "type": "Like",
            "actor": format!("{fb}/users/alice"),
            "object": object,
            "ruche:skill": skill,
        })
    };
    let (s, body) = foreign
        .send_value(&inbox, &like(1, "plomberie", &bea_url))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("skill_not_declared"), "{body}");
    // Nobody of beta: nothing to endorse.
    let (s, body) = foreign
        .send_value(
            &inbox,
            &like(2, "soudure tig", &format!("{}/people/ann", alpha.base)),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    let (s, body) = foreign
        .send_value(&inbox, &like(3, "Soudure TIG", &bea_url))
        .await;
    assert!(s.is_success(), "{s} {body}");
    assert_eq!(endorsed(&bea, "bea", "soudure tig").await.0, 3);
    // Nobody undoes another's endorsement.
    let undo = |n: u32, actor: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{fb}/users/alice/undo/{n}"),
            "type": "Undo",
            "actor": format!("{fb}/users/alice"),
            "object": {"type": "Like", "actor": actor, "object": bea_url, "ruche:skill": "soudure tig"},
        })
    };
    let ann_url = format!("{}/people/ann", alpha.base);
    let (s, body) = foreign.send_value(&inbox, &undo(1, &ann_url)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(endorsed(&bea, "bea", "soudure tig").await.0, 3);
    let (s, body) = foreign
        .send_value(&inbox, &undo(2, &format!("{fb}/users/alice")))
        .await;
    assert!(s.is_success(), "{s} {body}");
    assert_eq!(endorsed(&bea, "bea", "soudure tig").await.0, 2);

    // ann withdraws: beta and gamma count one.
    let (s, v) = ann.call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // (alpha shows what beta published when it last read bea's profile,
    // or what it keeps itself: it follows nobody there, so it may be a
    // count behind until it reads her profile again.)
    assert!(!endorsed(&ann, &bea_on_alpha, "soudure tig").await.1);
    wait_endorsed(
        &bea,
        "bea",
        "soudure tig",
        1,
        "beta to drop ann's endorsement",
    )
    .await;
    wait_endorsed(&gil, &bea_on_gamma, "soudure tig", 1, "gamma to show one").await;

    // gil leaves gamma: his endorsement goes with his account, on beta too.
    let (s, v) = gil
        .call(
            Method::DELETE,
            "/api/v1/me",
            Some(json!({"password": federation_tests::PASSWORD})),
        )
        .await;
    assert!(s.is_success(), "{v}");
    wait_endorsed(
        &bea,
        "bea",
        "soudure tig",
        0,
        "beta to drop gil's endorsement",
    )
    .await;
    assert_eq!(beta.count("SELECT COUNT(*) FROM endorsements"), 0);
}
