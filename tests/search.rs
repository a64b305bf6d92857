//! Search: the matching rules (French and English, accents, stems,
//! beginnings, phrases, filters), the audience (nothing found, counted or
//! faceted that the reader may not see), the index following edits and
//! deletions, `ruche admin reindex`, bad queries, and the page.

mod common;

use std::collections::BTreeSet;
use std::io::Write;

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
        // Longer beginnings (completed from the index's words on SQLite).
        ("Meetin", set(&[p4])),
        ("réunio", set(&[p1, p5])),
        ("plan réunio", set(&[])),
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
        // Filters alone list what passes them.
        ("from:@bob", set(&[p5, c1])),
        ("kind:comment", set(&[c1])),
        ("#certification -plan", set(&[])),
        ("after:2000-01-01", set(&[p1, p2, p3, p4, p5, c1])),
        ("before:2000-01-01", set(&[])),
        ("from:@nobody", set(&[])),
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
        "/communities/labo/documents",
        "zephyr-specification.txt",
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
    let in_labo_found = found(&carl, "in:!labo").await;
    assert!(in_labo_found.contains(&in_labo), "{in_labo_found:?}");
    assert!(!in_labo_found.contains(&open) && !in_labo_found.contains(&in_secret));
    assert_eq!(found(&carl, "in:!labo prototype").await, set(&[in_labo]));
}

#[tokio::test]
async fn edits_and_deletions_leave_the_index_and_reindex_rebuilds_it() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let id = ana
        .post_text("Inventaire des pièces détachées #stock_lyon")
        .await;
    assert_eq!(found(&bob, "inventaire").await, set(&[id]));
    assert_eq!(found(&bob, "#stock_lyon").await, set(&[id]));
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
    assert!(
        found(&bob, "#stock_lyon").await.is_empty(),
        "and the old tags"
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

/// A zip of XML parts, as Office and OpenDocument files are.
fn zipped(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A one-page PDF saying `text` (Helvetica, WinAnsi).
fn pdf(text: &str) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 14.into()]),
            Operation::new("Td", vec![72.into(), 720.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn the_words_inside_documents_are_found_and_hostile_files_only_by_name() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let carl = app.user("carl").await;
    let r = ana
        .post(
            "/communities",
            json!({"name": "usine", "title": "Usine", "visibility": "private", "join_policy": "invitation"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let docx = zipped(&[(
        "word/document.xml",
        "<w:document><w:body><w:p><w:r><w:t>Procédure de lubrification</w:t></w:r></w:p></w:body></w:document>".as_bytes(),
    )]);
    let xlsx = zipped(&[
        (
            "xl/sharedStrings.xml",
            b"<sst><si><t>Inventory of bearings</t></si></sst>".as_slice(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            b"<worksheet><sheetData><row><c><v>0</v></c></row></sheetData></worksheet>".as_slice(),
        ),
    ]);
    let pptx = zipped(&[(
        "ppt/slides/slide1.xml",
        b"<p:sld><a:t>Kaizen workshop</a:t></p:sld>".as_slice(),
    )]);
    let odt = zipped(&[(
        "content.xml",
        "<office:document-content><office:body><text:p>Consignes de sécurité incendie</text:p></office:body></office:document-content>".as_bytes(),
    )]);
    let md = "# Checklist\n\nVérifier les **extincteurs** chaque mois."
        .as_bytes()
        .to_vec();
    // 100 MB of one letter: some hundred kilobytes once zipped.
    let bomb = zipped(&[(
        "word/document.xml",
        vec![b'a'; 100 * 1024 * 1024].as_slice(),
    )]);
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "procedure.docx",
            docx,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "stock.xlsx",
            xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "atelier.pptx",
            pptx,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            "consignes.odt",
            odt,
            "application/vnd.oasis.opendocument.text",
        ),
        ("checklist.md", md, "text/markdown"),
        (
            "rapport.pdf",
            pdf("Rapport de maintenance preventive"),
            "application/pdf",
        ),
        (
            "corrompu.pdf",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ntruncated".to_vec(),
            "application/pdf",
        ),
        ("bombe.docx", bomb, "application/octet-stream"),
    ];
    let mut ids = std::collections::HashMap::new();
    for (name, bytes, ct) in &files {
        let r = upload_file(&ana, "/communities/usine/documents", name, bytes, ct).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {:?}", r.json);
        ids.insert(*name, r.json["id"].as_i64().unwrap());
    }
    let found_docs = |r: Value| -> Vec<String> {
        r["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["path"].as_str().unwrap().to_string())
            .collect()
    };
    for (q, name) in [
        ("lubrification", "procedure.docx"),
        ("bearing ", "stock.xlsx"),
        ("kaizen", "atelier.pptx"),
        ("securite incendie", "consignes.odt"),
        ("extincteur ", "checklist.md"),
        ("maintenance préventive", "rapport.pdf"),
        ("corrompu", "corrompu.pdf"),
        ("bombe", "bombe.docx"),
    ] {
        let r = search(&ana, q, "content").await;
        assert_eq!(
            found_docs(r.clone()),
            vec![format!("/documents/{}", ids[name])],
            "{q} finds {name}: {r}"
        );
        assert_eq!(r["content"][0]["kind"], "document");
        // Never for someone outside the private community.
        assert_eq!(
            search(&carl, q, "content").await["counts"]["content"],
            0,
            "{q}"
        );
    }
    // The bomb's letters were not read.
    assert_eq!(
        search(&ana, "aaaa", "content").await["counts"]["content"],
        0
    );

    // A new version replaces the words of the earlier one; the document is
    // found once.
    let doc = ids["procedure.docx"];
    let v2 = zipped(&[(
        "word/document.xml",
        b"<w:document><w:body><w:p><w:r><w:t>Graissage mensuel</w:t></w:r></w:p></w:body></w:document>".as_slice(),
    )]);
    let r = upload_file(
        &ana,
        &format!("/documents/{doc}/versions"),
        "procedure.docx",
        &v2,
        "application/octet-stream",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(
        search(&ana, "lubrification", "content").await["counts"]["content"],
        0
    );
    assert_eq!(
        found_docs(search(&ana, "graissage", "content").await),
        vec![format!("/documents/{doc}")]
    );
    assert_eq!(
        found_docs(search(&ana, "procedure kind:document", "content").await),
        vec![format!("/documents/{doc}")],
        "one result for the document, not one per version"
    );
    // The words are kept: a rebuilt index finds them again.
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
    assert_eq!(
        found_docs(search(&ana, "graissage", "content").await),
        vec![format!("/documents/{doc}")]
    );
    assert_eq!(
        search(&ana, "kaizen", "content").await["counts"]["content"],
        1
    );
}

#[tokio::test]
async fn the_expert_finder_ranks_by_visible_evidence_and_respects_opting_out() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let dora = app.user("dora").await;
    let eve = app.user("eve").await;
    let frank = app.user("frank").await;
    let gus = app.user("gus").await;
    for (who, body) in [
        (
            &bob,
            json!({"display_name": "Bob", "job_title": "Technicien", "skills": ["Soudure", "Peinture"]}),
        ),
        (
            &frank,
            json!({"display_name": "Frank", "skills": ["Soudure"]}),
        ),
        (
            &gus,
            json!({"display_name": "Gus", "job_title": "Responsable soudure"}),
        ),
    ] {
        assert_eq!(who.patch("/me", body).await.status, StatusCode::OK);
    }
    // dora writes about it, and colleagues found it insightful.
    let mut doras = Vec::new();
    for body in [
        "Soudure TIG : les réglages qui marchent",
        "Retour d'expérience sur la soudure laser",
        "Welding checklist before an audit",
    ] {
        doras.push(dora.post_text(body).await);
    }
    for p in &doras[..2] {
        let r = ana.put(&format!("/posts/{p}/reactions/insightful")).await;
        assert!(r.status.is_success(), "{:?}", r.json);
    }
    let r = bob
        .put(&format!("/posts/{}/reactions/thanks", doras[0]))
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    // A like is no evidence of knowing.
    let r = gus
        .put(&format!("/posts/{}/reactions/like", doras[1]))
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    // eve writes about it only in a private community ana is not in.
    let r = eve
        .post(
            "/communities",
            json!({"name": "atelier", "title": "Atelier", "visibility": "private", "join_policy": "invitation"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for _ in 0..3 {
        let r = eve
            .post(
                "/communities/atelier/posts",
                json!({"body": "Soudure des cadres, série 12"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // frank leaves the finder.
    assert_eq!(frank.get("/me/finder").await.json["listed"], true);
    let r = frank
        .send_json(reqwest::Method::PUT, "/me/finder", json!({"listed": false}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(frank.get("/me/finder").await.json["listed"], false);

    let experts = |r: Value| -> Vec<String> {
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["person"]["username"].as_str().unwrap().to_string())
            .collect()
    };
    let r = ana.get("/experts?topic=soudure").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(
        experts(r.json.clone()),
        vec!["bob", "dora", "gus"],
        "{}",
        r.json
    );
    let bob_x = &r.json["items"][0];
    assert_eq!(bob_x["skills"], json!(["soudure"]));
    assert_eq!(bob_x["contributions"], 0);
    let dora_x = &r.json["items"][1];
    assert_eq!(
        dora_x["contributions"], 2,
        "the English post does not say soudure"
    );
    assert_eq!(dora_x["reactions"], 3);
    assert_eq!(dora_x["examples"].as_array().unwrap().len(), 2);
    assert!(dora_x["examples"][0]["snippet_html"]
        .as_str()
        .unwrap()
        .contains("<mark>soudure</mark>"));
    assert_eq!(r.json["items"][2]["title"], true);
    // A member of the private community sees eve's evidence too.
    let r = eve.get("/experts?topic=soudure").await;
    assert!(experts(r.json).contains(&"eve".to_string()));
    // frank is back once he says so.
    frank
        .send_json(reqwest::Method::PUT, "/me/finder", json!({"listed": true}))
        .await;
    assert!(experts(ana.get("/experts?topic=soudure").await.json).contains(&"frank".to_string()));
    // Topics in any form, English stems too.
    let r = ana.get("/experts?topic=welding").await;
    assert_eq!(experts(r.json), vec!["dora"]);
    assert!(experts(ana.get("/experts?topic=plomberie").await.json).is_empty());
    let r = ana.get("/experts?topic=").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "search_empty");

    // The page, in French, with the evidence; the setting in the settings.
    let b = app.browser_user("hana").await;
    let r = b.get_lang("/experts?topic=soudure", "fr").await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Compétences :") && html.contains("/people/bob"),
        "{html}"
    );
    assert!(
        html.contains("3 réactions « éclairant » ou « merci »"),
        "{html}"
    );
    let csrf = b.csrf("/settings").await;
    let r = b.post_form("/settings/finder", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.html("/settings").await;
    assert!(
        html.contains("id=\"finder-listed\" type=\"checkbox\" name=\"listed\" >"),
        "unticked"
    );
}

#[tokio::test]
async fn colleagues_endorse_declared_skills_and_the_finder_counts_them() {
    let app = TestApp::start().await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carl = app.user("carl").await;
    let dan = app.user("dan").await;
    for (who, skills) in [
        (&bob, json!(["Soudure", "Peinture"])),
        (&carl, json!(["Soudure"])),
    ] {
        assert_eq!(
            who.patch("/me", json!({"skills": skills})).await.status,
            StatusCode::OK
        );
    }
    // Bad endorsements change nothing.
    let r = bob.put("/people/bob/endorsements/soudure").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "endorse_self")
    );
    let r = ana.put("/people/bob/endorsements/plomberie").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "skill_not_declared")
    );
    assert!(r.message().contains("plomberie"));
    assert_eq!(
        ana.put("/people/nobody/endorsements/soudure").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.count("endorsements"), 0);
    // Two colleagues endorse bob's welding, one twice (once counts).
    for who in [&ana, &dan, &dan] {
        let r = who.put("/people/bob/endorsements/Soudure").await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.json);
    }
    let p = ana.get("/people/bob").await.json;
    let soudure = p["endorsements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["skill"] == "soudure")
        .unwrap()
        .clone();
    assert_eq!(
        (soudure["count"].clone(), soudure["mine"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(
        carl.get("/people/bob").await.json["endorsements"][1]["mine"],
        false
    );
    // The finder puts the endorsed welder first, and says why.
    let r = carl.get("/experts?topic=soudure").await.json;
    assert_eq!(r["items"][0]["person"]["username"], "bob", "{r}");
    assert_eq!(r["items"][0]["endorsements"], 2);
    assert_eq!(r["items"][1]["person"]["username"], "carl");
    assert_eq!(r["items"][1]["endorsements"], 0);
    // Withdrawn, and gone with the skill.
    assert_eq!(
        ana.delete("/people/bob/endorsements/soudure").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        carl.get("/experts?topic=soudure").await.json["items"][0]["endorsements"],
        1
    );
    bob.patch("/me", json!({"skills": ["Peinture"]})).await;
    assert_eq!(app.count("endorsements"), 0);

    // From the profile page: the button, then its pressed state.
    bob.patch("/me", json!({"skills": ["Soudure"]})).await;
    let b = app.browser_user("eve").await;
    let html = b.html("/people/bob").await;
    assert!(
        html.contains("action=\"/people/bob/endorsements\""),
        "{html}"
    );
    let csrf = b.csrf("/people/bob").await;
    let r = b
        .post_form(
            "/people/bob/endorsements",
            &[("csrf", &csrf), ("skill", "soudure"), ("on", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = b.get_lang("/people/bob", "fr").await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("aria-pressed=\"true\"") && html.contains("Recommandé"),
        "{html}"
    );
    assert!(
        !b.html("/people/eve").await.contains("/endorsements\""),
        "no button on one's own profile"
    );
}
