//! Moderating a community from another instance, and documents uploaded by
//! members of other instances: the hosting instance stays the authority,
//! checks every act again and tells the member instances.

use federation_tests::{
    ask_to_join, client, eventually, sign_for, trusting_network, wait_count, with_headers, Api,
    Browser, Instance,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn member_status(i: &Instance, person: &str) -> String {
    for status in ["member", "pending", "invited", "banned"] {
        let n = i.count(&format!(
            "SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username LIKE '{person}' AND m.status = '{status}'"
        ));
        if n > 0 {
            return status.to_string();
        }
    }
    "none".to_string()
}

async fn wait_status(i: &Instance, person: &str, status: &str, what: &str) {
    eventually(10, what, || {
        let s = member_status(i, person);
        let want = status.to_string();
        async move { (s == want).then_some(()) }
    })
    .await;
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_on_another_instance_moderates_through_the_hosting_instance() {
    let [alpha, beta, gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let gus = gamma.user("gus").await;
    let (s, v) = ann
        .post(
            "/api/v1/communities",
            json!({"name": "ops", "title": "Operations", "visibility": "public", "join_policy": "request"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ops_b = ask_to_join(&bob, &alpha, "ops").await;
    let bob_a = beta.handle("bob");
    wait_status(&alpha, "bob@%", "pending", "bob's request on alpha").await;
    let (s, v) = ann
        .post(
            &format!("/api/v1/communities/ops/requests/{bob_a}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    wait_status(&beta, "bob", "member", "bob's acceptance on beta").await;

    // A plain member elsewhere moderates nothing.
    let ops_g = ask_to_join(&gus, &alpha, "ops").await;
    let gus_b = gamma.handle("gus");
    wait_status(&alpha, "gus@%", "pending", "gus's request on alpha").await;
    let (s, v) = bob
        .post(
            &format!("/api/v1/communities/{ops_b}/requests/{gus_b}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "community_moderators_only")
    );

    // The owner makes bob a moderator: beta learns it from the community.
    let (s, v) = ann
        .call(
            Method::PUT,
            &format!("/api/v1/communities/ops/members/{bob_a}/role"),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    eventually(10, "bob's role on beta", || {
        let bob = &bob;
        let ops_b = ops_b.clone();
        async move {
            let (_, v) = bob.get(&format!("/api/v1/communities/{ops_b}")).await;
            (v["my_role"] == "moderator").then_some(())
        }
    })
    .await;

    // bob reads the community's people as alpha lists them for a
    // moderator: ann the owner, himself, and gus's request.
    let (s, v) = bob
        .get(&format!("/api/v1/communities/{ops_b}/members"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["complete"], true);
    let people: Vec<(String, String, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["person"]["username"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
                m["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ann_b = alpha.handle("ann");
    for want in [
        (ann_b.as_str(), "owner", "member"),
        ("bob", "moderator", "member"),
        (gus_b.as_str(), "member", "pending"),
    ] {
        assert!(
            people
                .iter()
                .any(|(n, r, s)| (n.as_str(), r.as_str(), s.as_str()) == want),
            "{want:?} in {people:?}"
        );
    }
    // gus, who only asked to join, is not shown the requests.
    let (_, v) = gus
        .get(&format!("/api/v1/communities/{ops_g}/members"))
        .await;
    assert!(!v.to_string().contains("pending"), "{v}");

    // Mistakes are told at once, from the list alpha sent: nothing is sent.
    let sent_before = beta.count("SELECT COUNT(*) FROM deliveries");
    let (s, v) = bob
        .post(
            &format!("/api/v1/communities/{ops_b}/requests/{ann_b}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "community_no_request")
    );
    let (s, v) = bob
        .call(
            Method::PUT,
            &format!("/api/v1/communities/{ops_b}/members/{gus_b}/role"),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "community_owners_only")
    );
    let (s, v) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{ops_b}/members/{ann_b}"),
            None,
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "community_owners_only"),
        "a moderator does not remove the owner"
    );
    assert_eq!(beta.count("SELECT COUNT(*) FROM deliveries"), sent_before);
    assert_eq!(beta.count("SELECT COUNT(*) FROM fed_events"), 0);

    // bob's members page on beta, in both languages, lists gus's request
    // with the buttons of a moderator; he approves it there: alpha applies
    // it and tells gamma.
    let page = Browser::sign_in(&beta, "bob").await;
    let members = format!("/communities/{ops_b}/members");
    for (lang, approve) in [("en", "Approve"), ("fr", "Accepter")] {
        let (s, html) = page.page(&members, lang).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(&gus_b), "{html}");
        assert!(html.contains(approve), "{lang}: {html}");
        assert!(html.contains(&format!("/communities/{ops_b}/members/approve")));
    }
    let csrf = page.csrf(&members).await;
    let r = page
        .post_form(
            &format!("{members}/approve"),
            &[("csrf", &csrf), ("username", &gus_b)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(back, format!("{members}?sent=1"));
    let (_, html) = page.page(&back, "en").await;
    assert!(html.contains("Sent to the community"), "{html}");
    wait_status(&alpha, "gus@%", "member", "gus's approval on alpha").await;
    wait_status(&gamma, "gus", "member", "gus's acceptance on gamma").await;

    // bob invites cara, a colleague on beta the community does not know
    // yet: alpha sends her the invitation; she joins, then bob removes her.
    let cara = beta.user("cara").await;
    let (s, v) = bob
        .post(
            &format!("/api/v1/communities/{ops_b}/invitations"),
            json!({"username": "cara"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    wait_status(&beta, "cara", "invited", "cara's invitation on beta").await;
    let (s, v) = cara
        .post(&format!("/api/v1/communities/{ops_b}/join"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    wait_status(&beta, "cara", "member", "cara's membership on beta").await;
    let (s, v) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{ops_b}/members/cara?reason=moved"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    wait_status(&alpha, "cara@%", "none", "cara's removal on alpha").await;
    wait_status(&beta, "cara", "none", "cara's removal told to beta").await;

    // gus posts an advert; bob removes it from beta, with a reason.
    let (s, v) = gus
        .post(
            &format!("/api/v1/communities/{ops_g}/posts"),
            json!({"body": "Cheap watches, click here"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let advert =
        "SELECT COUNT(*) FROM content WHERE body LIKE '%Cheap watches%' AND deleted_at IS NULL";
    wait_count(&beta, advert, 1, "the advert on beta").await;
    let on_beta = beta.count("SELECT id FROM content WHERE body LIKE '%Cheap watches%'");
    let (s, v) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{ops_b}/posts/{on_beta}?reason=spam"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(beta.count(advert), 0, "gone on beta at once");
    wait_count(&alpha, advert, 0, "the removal on alpha").await;
    wait_count(&gamma, advert, 0, "the removal on gamma").await;
    // alpha logged it as bob's act; beta reads alpha's log.
    let (_, log) = ann.get("/api/v1/communities/ops/log").await;
    assert_eq!(log["items"][0]["action"], "remove_post", "{log}");
    assert_eq!(log["items"][0]["actor"], bob_a.as_str());
    assert_eq!(log["items"][0]["detail"], "spam");
    let (_, log) = bob.get(&format!("/api/v1/communities/{ops_b}/log")).await;
    assert_eq!(log["complete"], true);
    assert_eq!(log["items"][0]["action"], "remove_post", "{log}");
    assert_eq!(log["items"][0]["actor"], "bob");
    assert_eq!(log["items"][0]["target_user"], gus_b.as_str());

    // bob pins ann's post: pinned on alpha, then on gamma.
    let (s, v) = ann
        .post(
            "/api/v1/communities/ops/posts",
            json!({"body": "Shift rota for December"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let rota =
        "SELECT COUNT(*) FROM content WHERE body LIKE '%Shift rota%' AND pinned_at IS NOT NULL";
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM content WHERE body LIKE '%Shift rota%'",
        1,
        "the rota on beta",
    )
    .await;
    let rota_b = beta.count("SELECT id FROM content WHERE body LIKE '%Shift rota%'");
    let (s, v) = bob
        .call(
            Method::PUT,
            &format!("/api/v1/communities/{ops_b}/posts/{rota_b}/pin"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    wait_count(&alpha, rota, 1, "the pin on alpha").await;
    wait_count(&gamma, rota, 1, "the pin on gamma").await;

    // bob bans gus (gamma is told with Reject), then lifts the ban.
    let (s, v) = bob
        .call(
            Method::PUT,
            &format!("/api/v1/communities/{ops_b}/bans/{gus_b}"),
            Some(json!({"reason": "repeated spam"})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    wait_status(&alpha, "gus@%", "banned", "the ban on alpha").await;
    wait_status(&gamma, "gus", "none", "the ban told to gamma").await;
    let (s, v) = gus
        .post(&format!("/api/v1/communities/{ops_g}/join"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    wait_status(&gamma, "gus", "none", "a banned person's request refused").await;
    let (s, v) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{ops_b}/bans/{gus_b}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    wait_status(&alpha, "gus@%", "none", "the ban lifted on alpha").await;

    // bob renames the community from beta: alpha applies it and beta gets
    // the new settings back from alpha.
    let (s, v) = bob
        .call(
            Method::PATCH,
            &format!("/api/v1/communities/{ops_b}"),
            Some(json!({"title": "Operations and maintenance"})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let renamed = "SELECT COUNT(*) FROM users WHERE display_name = 'Operations and maintenance'";
    wait_count(&alpha, renamed, 1, "the new title on alpha").await;
    wait_count(&beta, renamed, 1, "the new title back on beta").await;
    let (s, v) = bob
        .call(
            Method::PATCH,
            &format!("/api/v1/communities/{ops_b}"),
            Some(json!({"title": ""})),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "community_title_required")
    );

    // bob gives it a picture from beta: alpha fetches it from beta (signed)
    // and logs it as bob's. Something that is not a picture is refused on
    // beta and nothing is sent.
    let put_picture = |body: Vec<u8>| {
        let (bob, ops_b) = (&bob, ops_b.clone());
        async move {
            let r = client()
                .put(format!("{}/api/v1/communities/{ops_b}/picture", bob.base))
                .bearer_auth(&bob.token)
                .body(body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = put_picture(b"not a picture".to_vec()).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "photo_type")
    );
    let mut img = Vec::new();
    image::RgbImage::from_pixel(16, 16, image::Rgb([20, 90, 200]))
        .write_to(&mut std::io::Cursor::new(&mut img), image::ImageFormat::Png)
        .unwrap();
    let (s, v) = put_picture(img).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let pictured =
        "SELECT COUNT(*) FROM photos p JOIN users u ON u.id = p.user_id WHERE u.username = 'ops'";
    wait_count(&alpha, pictured, 1, "the picture on alpha").await;
    let (_, log) = ann.get("/api/v1/communities/ops/log").await;
    assert_eq!(log["items"][0]["action"], "picture", "{log}");
    assert_eq!(log["items"][0]["actor"], bob_a.as_str());
    // Only alpha may fetch beta's copy of the picture.
    let own_copy = format!("{}/communities/{ops_b}/picture", beta.base);
    let (gus_key, gus_key_id) = gamma.private_key("gus");
    assert_eq!(
        federation_tests::signed_get(&own_copy, Some((&gus_key, &gus_key_id))).await,
        StatusCode::NOT_FOUND
    );

    // Forged acts, signed by someone who does not moderate, are refused by
    // alpha and change nothing.
    let gus_url = format!("{}/people/gus", gamma.base);
    let group = format!("{}/communities/ops", alpha.base);
    let rota_a = alpha.count("SELECT id FROM content WHERE body LIKE '%Shift rota%'");
    let inbox = format!("{group}/inbox");
    for (i, forged) in [
        json!({"type": "Delete", "object": format!("{}/posts/{rota_a}", alpha.base)}),
        json!({"type": "Remove", "object": format!("{}/posts/{rota_a}", alpha.base), "target": format!("{group}/featured")}),
        json!({"type": "Block", "object": format!("{}/people/ann", alpha.base), "target": group}),
        json!({"type": "Update", "object": {"type": "Group", "id": group, "name": "Hijacked"}}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut a = forged;
        a["id"] = json!(format!("{}/activities/forged-{i}", gamma.base));
        a["actor"] = json!(gus_url);
        let body = a.to_string();
        let r = with_headers(
            client().post(&inbox).body(body.clone()),
            sign_for(&inbox, Some(body.as_bytes()), &gus_key_id, &gus_key),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{a}");
    }
    assert_eq!(alpha.count(rota), 1);
    assert_eq!(member_status(&alpha, "ann"), "member");
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM users WHERE display_name = 'Hijacked'"),
        0
    );

    // The owner takes bob's role back: beta learns it, and bob's next act is
    // refused on beta before anything is sent.
    let (s, _) = ann
        .call(
            Method::PUT,
            &format!("/api/v1/communities/ops/members/{bob_a}/role"),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    eventually(10, "bob's role taken back on beta", || {
        let bob = &bob;
        let ops_b = ops_b.clone();
        async move {
            let (_, v) = bob.get(&format!("/api/v1/communities/{ops_b}")).await;
            (v["my_role"] == "member").then_some(())
        }
    })
    .await;
    let (s, v) = bob
        .call(
            Method::DELETE,
            &format!("/api/v1/communities/{ops_b}/posts/{rota_b}"),
            None,
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "community_moderators_only")
    );
    // Sent anyway (as if beta had not heard yet), alpha refuses it.
    let (bob_key, bob_key_id) = beta.private_key("bob");
    let bob_url = format!("{}/people/bob", beta.base);
    let body = json!({"id": format!("{}/activities/late", beta.base), "type": "Delete",
        "actor": bob_url, "object": format!("{}/posts/{rota_a}", alpha.base)})
    .to_string();
    let r = with_headers(
        client().post(&inbox).body(body.clone()),
        sign_for(&inbox, Some(body.as_bytes()), &bob_key_id, &bob_key),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        alpha.count(
            "SELECT COUNT(*) FROM content WHERE body LIKE '%Shift rota%' AND deleted_at IS NULL"
        ),
        1
    );
}

async fn upload(api: &Api, path: &str, body: &[u8]) -> (StatusCode, Value) {
    let r = client()
        .post(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .header("content-type", "application/pdf")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn download(api: &Api, doc: i64, version: i64) -> (StatusCode, Vec<u8>) {
    let r = client()
        .get(format!(
            "{}/api/v1/documents/{doc}/versions/{version}/file",
            api.base
        ))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_elsewhere_upload_documents_that_the_hosting_instance_keeps() {
    let [alpha, beta, gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let gus = gamma.user("gus").await;
    let (s, v) = ann
        .post(
            "/api/v1/communities",
            json!({"name": "lab", "title": "Lab", "visibility": "private", "join_policy": "request"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let lab_b = ask_to_join(&bob, &alpha, "lab").await;
    let lab_g = ask_to_join(&gus, &alpha, "lab").await;
    wait_count(
        &alpha,
        "SELECT COUNT(*) FROM community_members WHERE status = 'pending'",
        2,
        "both requests",
    )
    .await;
    for who in [beta.handle("bob"), gamma.handle("gus")] {
        let (s, v) = ann
            .post(
                &format!("/api/v1/communities/lab/requests/{who}/approve"),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    }
    wait_status(&beta, "bob", "member", "bob accepted").await;
    wait_status(&gamma, "gus", "member", "gus accepted").await;

    // Bad files are refused on beta, and nothing is sent or stored.
    let (s, v) = upload(
        &bob,
        &format!("/api/v1/communities/{lab_b}/documents?filename=empty.pdf"),
        b"",
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "document_empty"));
    let (s, v) = upload(
        &bob,
        &format!("/api/v1/communities/{lab_b}/documents?filename=../../etc/passwd"),
        b"x",
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "document_name_invalid")
    );
    assert_eq!(beta.count("SELECT COUNT(*) FROM documents"), 0);
    assert_eq!(beta.count("SELECT COUNT(*) FROM fed_events"), 0);

    // bob uploads from beta: alpha fetches the file and keeps its own copy,
    // which gamma reads through alpha.
    let (s, doc) = upload(
        &bob,
        &format!("/api/v1/communities/{lab_b}/documents?filename=results.pdf&note=First%20run"),
        b"%PDF results v1",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{doc}");
    let doc_b = doc["id"].as_i64().unwrap();
    let kept = "SELECT COUNT(*) FROM document_versions WHERE storage_key <> '' AND remote_url = ''";
    wait_count(&alpha, kept, 1, "alpha's copy of bob's document").await;
    wait_count(
        &gamma,
        "SELECT COUNT(*) FROM document_versions WHERE remote_url <> ''",
        1,
        "the document on gamma",
    )
    .await;
    assert!(
        gamma.count(&format!(
            "SELECT COUNT(*) FROM document_versions WHERE remote_url LIKE '{}/%'",
            alpha.base
        )) == 1,
        "gamma reads it from alpha, not from beta"
    );
    let doc_a = alpha.count("SELECT id FROM documents");
    let doc_g = gamma.count("SELECT id FROM documents");
    let (s, bytes) = download(&ann, doc_a, 1).await;
    assert_eq!((s, &bytes[..]), (StatusCode::OK, &b"%PDF results v1"[..]));
    let (s, bytes) = download(&gus, doc_g, 1).await;
    assert_eq!((s, &bytes[..]), (StatusCode::OK, &b"%PDF results v1"[..]));
    let (_, d) = ann.get(&format!("/api/v1/documents/{doc_a}")).await;
    assert_eq!(d["name"], "results.pdf");
    assert_eq!(d["created_by"], beta.handle("bob").as_str());
    // It is in the community's feed everywhere.
    let (_, f) = gus.get(&format!("/api/v1/communities/{lab_g}/posts")).await;
    assert!(f.to_string().contains("results.pdf"), "{f}");

    // ann adds version 2 on alpha: beta files it under bob's document.
    let (s, v) = upload(
        &ann,
        &format!("/api/v1/documents/{doc_a}/versions?filename=results-v2.pdf"),
        b"%PDF results v2",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    wait_count(
        &beta,
        &format!("SELECT COUNT(*) FROM document_versions WHERE document_id = {doc_b}"),
        2,
        "version 2 on beta",
    )
    .await;
    assert_eq!(beta.count("SELECT COUNT(*) FROM documents"), 1);
    let (s, bytes) = download(&bob, doc_b, 2).await;
    assert_eq!((s, &bytes[..]), (StatusCode::OK, &b"%PDF results v2"[..]));

    // gus, a plain member on gamma, may not replace bob's document: gamma
    // refuses at once, and a Create forged with gus's key is refused by
    // alpha before it fetches anything.
    let (s, v) = upload(
        &gus,
        &format!("/api/v1/documents/{doc_g}/versions?filename=results-v3.pdf"),
        b"%PDF forged by gus",
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "document_not_editable")
    );
    let (gus_key, gus_key_id) = gamma.private_key("gus");
    let gus_url = format!("{}/people/gus", gamma.base);
    let group = format!("{}/communities/lab", alpha.base);
    let forged = json!({
        "id": format!("{}/activities/forged-version", gamma.base),
        "type": "Create",
        "actor": gus_url,
        "to": [group],
        "object": {"id": format!("{}/posts/987653", gamma.base), "type": "Note",
                   "attributedTo": gus_url, "content": "v3", "to": [group], "audience": group,
                   "attachment": [{"type": "Document", "name": "results.pdf", "mediaType": "application/pdf",
                       "url": format!("{}/documents/{doc_g}/versions/9/file", gamma.base),
                       "ruche:document": format!("{}/documents/{doc_a}", alpha.base),
                       "ruche:version": 9, "ruche:size": 18}]}
    });
    let inbox = format!("{group}/inbox");
    let body = forged.to_string();
    let r = with_headers(
        client().post(&inbox).body(body.clone()),
        sign_for(&inbox, Some(body.as_bytes()), &gus_key_id, &gus_key),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "document_not_editable");
    assert_eq!(alpha.count(kept), 2);

    // bob, its uploader, adds version 3 from beta: alpha keeps it as
    // version 3, beta and gamma show three versions of one document.
    let (s, v) = upload(
        &bob,
        &format!("/api/v1/documents/{doc_b}/versions?filename=results-v3.pdf"),
        b"%PDF results v3",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    wait_count(&alpha, kept, 3, "alpha's copy of bob's version 3").await;
    wait_count(
        &gamma,
        "SELECT COUNT(*) FROM document_versions",
        3,
        "version 3 on gamma",
    )
    .await;
    let (s, bytes) = download(&gus, doc_g, 3).await;
    assert_eq!((s, &bytes[..]), (StatusCode::OK, &b"%PDF results v3"[..]));
    assert_eq!(
        alpha.count(&format!(
            "SELECT COUNT(*) FROM document_versions WHERE document_id = {doc_a}"
        )),
        3
    );

    // gus may not delete bob's document; bob may, from beta, and it goes
    // everywhere.
    let (s, v) = gus
        .call(Method::DELETE, &format!("/api/v1/documents/{doc_g}"), None)
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::FORBIDDEN, "community_moderators_only")
    );
    let (s, v) = bob
        .call(Method::DELETE, &format!("/api/v1/documents/{doc_b}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let live = "SELECT COUNT(*) FROM documents WHERE deleted_at IS NULL";
    assert_eq!(beta.count(live), 0);
    wait_count(&alpha, live, 0, "the deletion on alpha").await;
    wait_count(&gamma, live, 0, "the deletion on gamma").await;
    let (s, _) = download(&ann, doc_a, 1).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A forged upload whose file does not match its checksum is refused by
    // alpha and leaves nothing there.
    let (s, doc) = upload(
        &bob,
        &format!("/api/v1/communities/{lab_b}/documents?filename=notes.pdf"),
        b"%PDF notes",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{doc}");
    wait_count(&alpha, kept, 4, "alpha's copy of the notes").await;
    let notes = doc["id"].as_i64().unwrap();
    let (bob_key, bob_key_id) = beta.private_key("bob");
    let bob_url = format!("{}/people/bob", beta.base);
    let group = format!("{}/communities/lab", alpha.base);
    let note_id = format!("{}/posts/987654", beta.base);
    let forged = json!({
        "id": format!("{}/activities/forged-doc", beta.base),
        "type": "Create",
        "actor": bob_url,
        "to": [group],
        "object": {"id": note_id, "type": "Note", "attributedTo": bob_url, "content": "notes",
                   "to": [group], "audience": group,
                   "attachment": [{"type": "Document", "name": "notes.pdf", "mediaType": "application/pdf",
                       "url": format!("{}/documents/{notes}/versions/1/file", beta.base),
                       "ruche:document": format!("{}/documents/{notes}", beta.base),
                       "ruche:version": 1, "ruche:size": 10,
                       "ruche:sha256": "00".repeat(32)}]}
    });
    let inbox = format!("{group}/inbox");
    let body = forged.to_string();
    let before = alpha.count("SELECT COUNT(*) FROM content");
    let r = with_headers(
        client().post(&inbox).body(body.clone()),
        sign_for(&inbox, Some(body.as_bytes()), &bob_key_id, &bob_key),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "document_checksum");
    assert_eq!(alpha.count("SELECT COUNT(*) FROM content"), before);
    assert_eq!(alpha.count(kept), 4);
}
