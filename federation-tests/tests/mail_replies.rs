//! A reply by e-mail to a notification about another instance's post
//! becomes a comment there: bob, on beta, is mentioned by ann of alpha;
//! he answers the e-mail, and his comment reaches ann's post on alpha.

#[path = "../../tests/common/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use federation_tests::{eventually, network};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_by_e_mail_reaches_the_posts_instance() {
    if !smtp::available() {
        return;
    }
    let server = smtp::Smtp::start().await;
    let [mut alpha, mut beta, _gamma] = network();
    beta.set_env("RUCHE_MAIL_SMTP_URL", &server.url());
    beta.set_env("RUCHE_MAIL_NOTIFY_DELAY_SECONDS", "1");
    beta.set_env("RUCHE_MAIL_RETRY_BASE_MS", "100");
    beta.set_env("RUCHE_MAIL_REPLY_TO", "ruche@reply.beta.test");
    for (a, other) in [(&alpha, "beta.test"), (&beta, "alpha.test")] {
        a.trust(other, "member");
    }
    alpha.start().await;
    beta.start().await;
    let ann = alpha.user("ann").await;
    beta.user("bob").await;
    server
        .confirm_addresses_with(&federation_tests::client(), &beta.base, 1)
        .await;

    let (status, post) = ann
        .post(
            "/api/v1/posts",
            json!({"body": format!("@{} can you take the second finding?", beta.handle("bob"))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let post = post["id"].as_i64().unwrap();

    // bob's e-mail, with its own reply address.
    let m = server.wait_kind("notification", 1).await.remove(0);
    assert_eq!(m.to, "bob@beta.test");
    let reply_to = m.header("Reply-To").expect("a reply address");
    let address = reply_to
        .rsplit_once('<')
        .map_or(reply_to, |(_, a)| a.trim_end_matches('>'))
        .to_string();
    assert!(address.ends_with("@reply.beta.test"), "{address}");

    // His mail server pipes his Thunderbird reply into beta.
    let path = format!(
        "{}/../src/mail/fixtures/thunderbird_en.eml",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{FROM}}", "bob@beta.test")
        .replace("{{REPLY}}", &address);
    let (code, out) = beta.cli_input(&["mail", "receive", "--to", &address], raw.as_bytes());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("written"), "{out}");

    // The comment is bob's on alpha, under ann's post, without the quote
    // and the signature.
    let sql = format!(
        "SELECT COUNT(*) FROM content c JOIN users u ON u.id = c.author_id \
         WHERE c.reply_to_id = {post} AND u.username = '{}' \
         AND c.body LIKE '%action plan before%' AND c.body NOT LIKE '%Quality, Lyon%' \
         AND c.body NOT LIKE '%wrote%'",
        beta.handle("bob")
    );
    eventually(15, "bob's e-mailed reply on alpha", || {
        let n = alpha.count(&sql);
        async move { (n == 1).then_some(()) }
    })
    .await;
}
