//! End to end in real headless Chromium (through ChromeDriver's W3C WebDriver
//! protocol): sign up, post, and see the post in the feed, at phone and
//! desktop widths. Skipped when ChromeDriver is absent, unless
//! RUCHE_REQUIRE_BROWSER=1 (as in CI), where its absence fails the test.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    process: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Driver {
    async fn start(width: u32, height: u32) -> Option<Driver> {
        Driver::start_in(width, height, "en").await
    }

    /// A browser whose language (what it asks pages in) is `lang`.
    async fn start_in(width: u32, height: u32, lang: &str) -> Option<Driver> {
        let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(driver) = driver else {
            assert!(
                std::env::var("RUCHE_REQUIRE_BROWSER").is_err(),
                "RUCHE_REQUIRE_BROWSER is set but chromedriver is not installed"
            );
            eprintln!(
                "skipped: chromedriver is not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut options = json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display()),
                format!("--window-size={},{height}", width.max(500)),
                format!("--lang={lang}"),
            ],
            "prefs": {"intl.accept_languages": lang},
        });
        // A headless window is at least 500 pixels wide: a phone's screen is
        // emulated (its width, a touch screen), so that the page is laid out
        // at exactly `width`.
        if width < 500 {
            options["mobileEmulation"] = json!({"deviceMetrics": {
                "width": width, "height": height, "pixelRatio": 2.0, "touch": true, "mobile": true
            }});
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Some(Driver {
            process,
            base,
            session,
            http,
            _profile: profile,
        })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(v["value"]["error"].is_null(), "{path}: {v}");
        v["value"].clone()
    }
    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }
    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_string()
    }
    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }
    /// Clicks an element as a person would: scrolled to the middle of the
    /// screen first, so that the phone's bottom menu bar does not cover it.
    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "arguments[0].scrollIntoView({block: 'center'});", "args": [{ELEMENT: el}]})),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }
    async fn script(&self, js: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
        .await
    }
    async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
    /// The page source once it contains `needle` (the browser may still be
    /// following the form's redirect), or None after five seconds.
    async fn wait_for_source(&self, needle: &str) -> Option<String> {
        for _ in 0..50 {
            let html = self.source().await;
            if html.contains(needle) {
                return Some(html);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
    /// Waits until the page (a new one, after a form sent from it) no
    /// longer holds `needle`.
    async fn wait_without(&self, needle: &str) {
        for _ in 0..50 {
            if !self.source().await.contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{needle} still on the page");
    }
    async fn wait_for_url(&self, suffix: &str) -> bool {
        for _ in 0..50 {
            if self.url().await.ends_with(suffix) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
    async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::write(dir.join(name), png).unwrap();
    }
}

impl Drop for Driver {
    /// Ends the WebDriver session first, so that ChromeDriver closes
    /// Chromium (killing the driver alone leaves the browser running), and
    /// this also when a test failed. Drop cannot wait on async code: the
    /// DELETE is written on a plain socket.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://").to_string();
        if let Ok(mut sock) = std::net::TcpStream::connect(&addr) {
            let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                self.session
            );
            if sock.write_all(request.as_bytes()).is_ok() {
                let mut answer = Vec::new();
                let _ = sock.read_to_end(&mut answer);
            }
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The three steps of getting started, as a newcomer goes through them:
/// a profile with a photo, a colleague of the same department followed,
/// a community joined; no page wider than the screen.
async fn getting_started(d: &Driver, width: u32) {
    let fits = |step: &'static str| async move {
        let overflow = d
            .script("return document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{step} is wider than the {width}px window by {overflow}"
        );
        d.screenshot(&format!("welcome-{step}-{width}.png")).await;
    };
    fits("profile").await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("me.png");
    std::fs::write(&photo, png(800, 600)).unwrap();
    d.type_into("#photo", &photo.display().to_string()).await;
    d.type_into("#job_title", "Technicienne de maintenance")
        .await;
    d.type_into("#department", "Maintenance").await;
    d.type_into("#skills", "hydraulique, soudure").await;
    d.click("form[action='/welcome/profile'] button[type=submit]")
        .await;
    assert!(
        d.wait_for_url("/welcome?step=people").await,
        "after the profile step: {}",
        d.url().await
    );
    let html = d.source().await;
    assert!(html.contains("Same department"), "a colleague is suggested");
    fits("people").await;
    // The step comes back, without the colleague now followed.
    d.click("form[action='/people/colleague/follow'] button")
        .await;
    d.wait_without("/people/colleague/follow").await;
    assert!(d.url().await.ends_with("/welcome?step=people"));
    d.click("form[action='/welcome/step'] input[value='communities'] ~ button")
        .await;
    assert!(d.wait_for_url("/welcome?step=communities").await);
    fits("communities").await;
    d.click("form[action='/communities/maintenance/join'] button")
        .await;
    d.wait_without("/communities/maintenance/join").await;
    assert!(d.url().await.ends_with("/welcome?step=communities"));
    d.click("form[action='/welcome/finish'] button").await;
    assert!(d.wait_for_url("/").await, "finished: {}", d.url().await);
    assert!(!d.source().await.contains("getting-started"));
}

async fn sign_up_post_and_read(width: u32, height: u32, user: &str) {
    let app = TestApp::start().await;
    // A colleague of the department the newcomer will give, and a
    // community of their trade.
    let colleague = app.user("colleague").await;
    colleague
        .patch(
            "/me",
            json!({"display_name": "Jean-Baptiste Dupont-Lefèvre", "department": "maintenance"}),
        )
        .await;
    let r = colleague
        .post(
            "/communities",
            json!({"name": "maintenance", "title": "Maintenance des installations industrielles du site"}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let Some(d) = Driver::start(width, height).await else {
        return;
    };
    d.goto(&app.url("/signup")).await;
    d.type_into("#username", user).await;
    d.type_into("#email", &format!("{user}@example.com")).await;
    d.type_into("#password", PASSWORD).await;
    d.click("form[action='/signup'] button[type=submit]").await;
    assert!(
        d.wait_for_url("/welcome").await,
        "after sign-up: {}",
        d.url().await
    );
    getting_started(&d, width).await;

    // Live news, without reloading: the colleague follows back and writes.
    colleague
        .post(&format!("/people/{user}/follow"), json!({}))
        .await;
    colleague.post_text("Welcome to the team!").await;
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = d
            .script(
                "var c = document.querySelector('[data-unread]');
                 var b = document.querySelector('.new-posts');
                 return {count: c.hidden ? '' : c.textContent, banner: b.hidden ? '' : b.textContent,
                         title: document.title};",
            )
            .await;
        if seen["count"] == "1" && seen["banner"] != "" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["count"], "1", "{seen}");
    assert_eq!(seen["banner"], "1 new post: show it", "{seen}");
    assert!(
        seen["title"].as_str().unwrap().starts_with("(1) "),
        "{seen}"
    );
    d.screenshot(&format!("live-{width}.png")).await;
    d.click(".new-posts a").await;
    d.wait_for_source("Welcome to the team!")
        .await
        .expect("the new post after a click");

    // A mention is suggested while typed, and taken with Enter; the
    // preview shows it as it will be published.
    d.type_into("#body", "Thanks @coll").await;
    let mut listed = Value::Null;
    for _ in 0..50 {
        listed = d
            .script("var l = document.querySelector('.composer .mentions'); return l && !l.hidden ? l.textContent : null;")
            .await;
        if !listed.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        listed.as_str().is_some_and(|t| t.contains("@colleague")),
        "suggestions: {listed}"
    );
    d.type_into("#body", "\u{E007}").await;
    let typed = d
        .script("return document.querySelector('#body').value")
        .await;
    assert_eq!(typed, "Thanks @colleague ");
    d.click(".composer .preview-toggle").await;
    let mut preview = Value::Null;
    for _ in 0..50 {
        preview = d
            .script("var p = document.querySelector('.composer .preview'); return p && !p.hidden ? p.innerHTML : null;")
            .await;
        if !preview.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        preview
            .as_str()
            .is_some_and(|h| h.contains("/people/colleague")),
        "preview: {preview}"
    );
    d.screenshot(&format!("preview-{width}.png")).await;

    d.goto(&app.url("/")).await;
    let text = format!("Hello from a {width}px screen #e2e");
    d.type_into("#body", &text).await;
    d.click("form[action='/posts'] button[type=submit]").await;
    let html = d
        .wait_for_source(&format!("Hello from a {width}px screen"))
        .await
        .expect("post not in the feed");
    assert!(html.contains("href=\"/tags/e2e\""));
    // Nothing overflows sideways: no horizontal scrolling on a phone.
    let overflow = d
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "page is wider than the {width}px window by {overflow}"
    );
    // The composer's field is reachable with the keyboard and labelled.
    let label = d
        .script("return document.querySelector(\"label[for='body']\").textContent")
        .await;
    assert!(!label.as_str().unwrap().is_empty());
    d.screenshot(&format!("feed-{width}.png")).await;

    // A picture from the phone: chosen in the composer, described, posted.
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("chantier.png");
    std::fs::write(&photo, png(1200, 900)).unwrap();
    d.type_into("#files-post", &photo.display().to_string())
        .await;
    d.type_into("#files-post-alt-0", "The scaffolding on site B")
        .await;
    d.type_into("#body", "Site B this morning").await;
    d.click("form[action='/posts'] button[type=submit]").await;
    let html = d
        .wait_for_source("alt=\"The scaffolding on site B\"")
        .await
        .expect("the picture in the feed");
    assert!(html.contains("class=\"gallery single\""));
    let v = d
        .script(
            "var img = document.querySelector('.gallery img');
             return {loaded: img.complete && img.naturalWidth > 0,
                     right: img.getBoundingClientRect().right,
                     overflow: document.documentElement.scrollWidth - window.innerWidth};",
        )
        .await;
    d.screenshot(&format!("picture-{width}.png")).await;
    let widths = d
        .script(
            "var out = []; var el = document.querySelector('.gallery img');
             while (el) { out.push(el.tagName + '.' + el.className + ':' + Math.round(el.getBoundingClientRect().width)); el = el.parentElement; }
             return out.join(' < ') + ' inner ' + window.innerWidth;",
        )
        .await;
    assert!(v["overflow"].as_f64().unwrap() <= 0.0, "{v}");
    assert!(
        v["right"].as_f64().unwrap() <= f64::from(width),
        "{v} {widths}"
    );
    let inner = d.script("return window.innerWidth").await;
    assert_eq!(
        inner.as_i64(),
        Some(i64::from(width)),
        "laid out at {width} pixels"
    );
    // The thumbnail is served (the browser may still be loading it).
    for _ in 0..50 {
        let loaded = d
            .script("var img = document.querySelector('.gallery img'); return img.complete && img.naturalWidth > 0;")
            .await;
        if loaded == Value::Bool(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let loaded = d
        .script("var img = document.querySelector('.gallery img'); return img.naturalWidth;")
        .await;
    assert!(
        loaded.as_i64().unwrap_or(0) > 0,
        "the thumbnail was not shown"
    );
    d.screenshot(&format!("picture-{width}.png")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_width_sign_up_post_and_read() {
    sign_up_post_and_read(375, 812, "phoneuser").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_width_sign_up_post_and_read() {
    sign_up_post_and_read(1280, 900, "deskuser").await;
}

/// Content as people really write it: long names, words, addresses and
/// links, a deep thread, a community with a document.
async fn realistic_site(app: &TestApp) -> (Api, Vec<String>) {
    let user = "mcdupontdelatour";
    let r = app
        .client()
        .post(app.url("/api/v1/accounts"))
        .json(&json!({
            "username": user,
            "email": "marie-christine.dupont-de-la-tour@direction-regionale-industrielle.example.com",
            "password": PASSWORD
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let me = app.login_api(user).await;
    let r = me
        .patch(
            "/me",
            json!({
                "display_name": "Marie-Christine Dupont de la Tour-Vauban",
                "job_title": "Responsable de la transformation numérique et de l'innovation",
                "department": "Direction des systèmes d'information et des infrastructures",
                "site": "Établissement de Saint-Quentin-en-Yvelines",
                "location": "Bâtiment Montgolfier, troisième étage, aile nord",
                "work_email": "marie-christine.dupont-de-la-tour@direction-regionale-industrielle.example.com",
                "phone": "+33 1 23 45 67 89",
                "bio": "Voir https://intranet.example.com/documents/procedures/qualite/2026/rapport-annuel-de-conformite-des-sites-industriels-version-finale.pdf",
                "skills": ["Gestion de projets internationaux", "Conduite du changement", "Interopérabilité des systèmes", "Cybersécurité industrielle"],
                "languages": ["Français", "English", "Deutsch", "Español", "Português", "Italiano", "Nederlands"]
            }),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let bob = app.user("bob").await;
    bob.post(&format!("/people/{user}/follow"), json!({})).await;
    me.post("/people/bob/follow", json!({})).await;
    let text = "Compte rendu : https://intranet.example.com/documents/procedures/qualite/2026/rapport-annuel-de-conformite-des-sites-industriels-version-finale.pdf \
                et Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenhalterung #transformation @bob";
    // A field report with three photos and a file with a long name, among
    // the posts of the feed.
    let mut media = Vec::new();
    for (name, bytes, ct) in [
        ("vanne-nord.png", png(1600, 1200), "image/png"),
        ("vanne-sud.png", png(900, 1600), "image/png"),
        ("compteur.png", png(800, 800), "image/png"),
        (
            "Relevé-des-pressions-de-la-semaine-quarante-neuf-atelier-de-conditionnement.csv",
            b"jour,bar\nlundi,3\n".to_vec(),
            "text/csv",
        ),
    ] {
        let r = me
            .client
            .post(format!(
                "{}/api/v1/media?filename={}&alt={}",
                me.base,
                urlencode(name),
                urlencode("Photo du terrain")
            ))
            .bearer_auth(&me.token)
            .header("content-type", ct)
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let v: Value = r.json().await.unwrap();
        media.push(v["id"].as_i64().unwrap());
    }
    let r = me
        .post(
            "/posts",
            json!({"body": "Rapport de terrain : fuite sur la vanne nord", "media_ids": media}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let report = r.json["id"].as_i64().unwrap();
    let post = me.post_text(text).await;
    let mut parent = post;
    let mut deepest = post;
    for depth in 1..=8 {
        let r = bob
            .post(
                &format!("/posts/{parent}/comments"),
                json!({"body": format!("Réponse de niveau {depth} avec https://intranet.example.com/un/lien/particulierement/long/{depth}/qui/ne/se/coupe/pas/facilement")}),
            )
            .await;
        parent = r.json["id"].as_i64().unwrap();
        deepest = parent;
    }
    me.post(
        "/communities",
        json!({
            "name": "transformation",
            "title": "Transformation numérique des sites industriels et logistiques",
            "description": "Échanges entre Saint-Quentin-en-Yvelines, Villefranche-sur-Saône et https://partenaire.example.com/espace-collaboratif/transformation-numerique"
        }),
    )
    .await;
    bob.post("/communities/transformation/join", json!({}))
        .await;
    let p = me
        .post(
            "/communities/transformation/posts",
            json!({"body": "Annonce : Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenhalterung"}),
        )
        .await;
    me.put(&format!(
        "/communities/transformation/posts/{}/pin",
        p.json["id"]
    ))
    .await;
    let doc = upload_file(
        &me,
        "/communities/transformation/documents",
        "Procédure-de-mise-en-conformité-des-installations-classées-version-définitive-2026.pdf",
        b"%PDF-1.4 a document",
        "application/pdf",
    )
    .await;
    assert!(doc.status.is_success(), "{:?}", doc.json);
    let doc = doc.json["id"].as_i64().unwrap();
    // Polls: one the reader has to answer, one they answered (results in
    // bars), with long answers.
    let open = me
        .post(
            "/polls",
            json!({"body": "Quelle date pour la revue de direction trimestrielle ?", "options": ["Mardi 12 janvier, le matin avant la réunion de production", "Jeudi 14 janvier", "Vendredi 15 janvier (en visioconférence depuis Villefranche-sur-Saône)"], "community": "transformation"}),
        )
        .await;
    assert!(open.status.is_success(), "{:?}", open.json);
    let answered = bob
        .post(
            "/polls",
            json!({"body": "Quels ateliers pour la journée qualité ?", "options": ["Sécurité", "Amélioration continue", "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenhalterung"], "multiple": true}),
        )
        .await;
    let answered_id = answered.json["id"].as_i64().unwrap();
    let first = answered.json["poll"]["options"][0]["id"].clone();
    let third = answered.json["poll"]["options"][2]["id"].clone();
    let r = me
        .post(
            &format!("/polls/{answered_id}/votes"),
            json!({"choices": [first, third]}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    // Ideas: one voted for and under review, one declined with a reason,
    // with long titles.
    let idea = me
        .post(
            "/ideas",
            json!({"community": "transformation", "title": "Mutualiser les écrans des salles de réunion entre Saint-Quentin-en-Yvelines et Villefranche-sur-Saône", "body": "Les écrans sont inutilisés **la moitié du temps**."}),
        )
        .await;
    assert!(idea.status.is_success(), "{:?}", idea.json);
    let idea = idea.json["id"].as_i64().unwrap();
    bob.send_json(
        reqwest::Method::PUT,
        &format!("/ideas/{idea}/vote"),
        json!({}),
    )
    .await;
    me.send_json(
        reqwest::Method::PUT,
        &format!("/ideas/{idea}/status"),
        json!({"status": "under_review", "reason": "Étude avec les services généraux"}),
    )
    .await;
    let declined = bob
        .post(
            "/ideas",
            json!({"community": "transformation", "title": "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenhalterung"}),
        )
        .await;
    let declined = declined.json["id"].as_i64().unwrap();
    let r = me
        .send_json(
            reqwest::Method::PUT,
            &format!("/ideas/{declined}/status"),
            json!({"status": "declined", "reason": "Hors du périmètre de la communauté"}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    // Questions: one answered with an accepted answer, one open.
    let question = me
        .post(
            "/questions",
            json!({"community": "transformation", "title": "Qui renouvelle les habilitations chariot élévateur à Villefranche-sur-Saône ?", "body": "La mienne expire en **mars**."}),
        )
        .await;
    assert!(question.status.is_success(), "{:?}", question.json);
    let question = question.json["id"].as_i64().unwrap();
    let answered = bob
        .post(
            &format!("/posts/{question}/comments"),
            json!({"body": "Le service sécurité, chaque printemps : https://partenaire.example.com/espace-collaboratif/habilitations/chariots-elevateurs"}),
        )
        .await;
    let answered = answered.json["id"].as_i64().unwrap();
    me.post(
        &format!("/posts/{question}/comments"),
        json!({"body": "Merci !"}),
    )
    .await;
    let r = me
        .send_json(
            reqwest::Method::PUT,
            &format!("/questions/{question}/accepted"),
            json!({"answer": answered}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    bob.post(
        "/questions",
        json!({"title": "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenhalterung ?"}),
    )
    .await;
    // Events: one full with a waiting list, answered; one online.
    let soon = (chrono::Utc::now() + chrono::Duration::days(9))
        .format("%Y-%m-%dT09:00")
        .to_string();
    let event = me
        .post(
            "/events",
            json!({"community": "transformation", "title": "Formation sécurité incendie — ligne 3, équipe de nuit",
                   "starts_at": soon, "time_zone": "Europe/Paris", "capacity": 1,
                   "place": "Villefranche-sur-Saône, bâtiment B, salle de formation Marie-Curie (2e étage)",
                   "online_url": "https://visioconference.partenaire.example.com/salles/formation-securite-incendie-ligne-3",
                   "body": "Apportez votre **badge** et vos chaussures de sécurité."}),
        )
        .await;
    assert!(event.status.is_success(), "{:?}", event.json);
    let event = event.json["id"].as_i64().unwrap();
    for (who, answer) in [(&me, "going"), (&bob, "going")] {
        let r = who
            .send_json(
                reqwest::Method::PUT,
                &format!("/events/{event}/rsvp"),
                json!({ "answer": answer }),
            )
            .await;
        assert!(r.status.is_success(), "{:?}", r.json);
    }
    bob.post(
        "/events",
        json!({"title": "Point hebdo qualité", "starts_at": soon, "time_zone": "America/Montreal",
               "online_url": "https://meet.example/qualite"}),
    )
    .await;
    // A must-read of the community, asked of the reader, confirmed by nobody yet.
    let must = bob
        .post(
            "/communities/transformation/posts",
            json!({"body": "**Nouvelle procédure d'habilitation** : chaque opérateur de Villefranche-sur-Saône et de Saint-Quentin-en-Yvelines la lit avant le 15 janvier."}),
        )
        .await;
    assert!(must.status.is_success(), "{:?}", must.json);
    let must = must.json["id"].as_i64().unwrap();
    let r = me.put(&format!("/posts/{must}/must-read")).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    // A survey of the reader's, answered by bob; bob's quiz, taken by the
    // reader; and bob's survey, still to answer.
    let survey = me
        .post(
            "/surveys",
            json!({"community": "transformation", "title": "Retour sur le déménagement de l'atelier de Villefranche-sur-Saône",
                   "body": "Deux minutes pour nous aider à préparer le prochain.",
                   "questions": [
                       {"kind": "one", "prompt": "Avez-vous été prévenu assez tôt ?", "choices": ["Oui, largement", "Juste à temps", "Non, trop tard"]},
                       {"kind": "several", "prompt": "Qu'est-ce qui a manqué ?", "choices": ["Des cartons", "Un plan des nouveaux postes", "Des informations sur le parking"]},
                       {"kind": "scale", "prompt": "Votre satisfaction globale"},
                       {"kind": "text", "prompt": "Une suggestion pour la prochaine fois ?", "optional": true}]}),
        )
        .await;
    assert!(survey.status.is_success(), "{:?}", survey.json);
    let survey = survey.json["id"].as_i64().unwrap();
    let q = bob.get(&format!("/surveys/{survey}")).await.json["questions_list"].clone();
    let id_of = |i: usize| q[i]["id"].as_i64().unwrap();
    let choice = |i: usize, c: usize| q[i]["choices"][c]["id"].as_i64().unwrap();
    let r = bob
        .post(
            &format!("/surveys/{survey}/responses"),
            json!({"answers": [
                {"question": id_of(0), "choices": [choice(0, 1)]},
                {"question": id_of(1), "choices": [choice(1, 1), choice(1, 2)]},
                {"question": id_of(2), "scale": 4},
                {"question": id_of(3), "text": "Un plan affiché à l'entrée de l'atelier dès le premier jour, avec les numéros de postes et les issues de secours."}]}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let quiz = bob
        .post(
            "/surveys",
            json!({"community": "transformation", "title": "Sécurité sur site : testez-vous", "quiz": true,
                   "questions": [
                       {"kind": "one", "prompt": "Où se trouve le point de rassemblement ?", "choices": ["Parking visiteurs", "Toit-terrasse", "Cantine"], "correct": [0],
                        "explanation": "Le parking visiteurs, loin des bâtiments et accessible aux secours."},
                       {"kind": "several", "prompt": "Que porte-t-on dans l'atelier ?", "choices": ["Casque", "Sandales", "Chaussures de sécurité"], "correct": [0, 2],
                        "explanation": "Casque et chaussures de sécurité, toujours."}]}),
        )
        .await;
    assert!(quiz.status.is_success(), "{:?}", quiz.json);
    let quiz = quiz.json["id"].as_i64().unwrap();
    let q = me.get(&format!("/surveys/{quiz}")).await.json["questions_list"].clone();
    let r = me
        .post(
            &format!("/surveys/{quiz}/responses"),
            json!({"answers": [
                {"question": q[0]["id"], "choices": [q[0]["choices"][0]["id"]]},
                {"question": q[1]["id"], "choices": [q[1]["choices"][0]["id"]]}]}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let to_answer = bob
        .post(
            "/surveys",
            json!({"community": "transformation", "title": "Horaires de la cantine",
                   "questions": [
                       {"kind": "one", "prompt": "Quel créneau vous convient ?", "choices": ["11 h 30 – 12 h 30", "12 h – 13 h", "12 h 30 – 13 h 30"]},
                       {"kind": "scale", "prompt": "La qualité des repas"},
                       {"kind": "text", "prompt": "Un commentaire ?", "optional": true}]}),
        )
        .await;
    assert!(to_answer.status.is_success(), "{:?}", to_answer.json);
    let to_answer = to_answer.json["id"].as_i64().unwrap();
    let pages = vec![
        "/".to_string(),
        format!("/posts/{post}"),
        format!("/posts/{deepest}"),
        "/people".into(),
        format!("/people/{user}"),
        "/people/bob".into(),
        format!("/people/{user}/followers"),
        format!("/people/{user}/following"),
        "/profile/edit".into(),
        "/welcome?step=profile".into(),
        "/welcome?step=people".into(),
        "/welcome?step=communities".into(),
        "/tags/transformation".into(),
        "/settings".into(),
        "/notifications".into(),
        "/admin".into(),
        "/admin/federation".into(),
        "/communities".into(),
        "/communities/transformation".into(),
        "/communities/transformation/members".into(),
        "/communities/transformation/settings".into(),
        "/communities/transformation/documents".into(),
        format!("/documents/{doc}"),
        "/communities/transformation/ideas".into(),
        "/ideas?order=recent".into(),
        "/ideas/new".into(),
        "/ideas/new?community=transformation".into(),
        format!("/posts/{idea}"),
        "/questions".into(),
        "/communities/transformation/questions?filter=solved".into(),
        "/questions/new?community=transformation".into(),
        format!("/posts/{question}"),
        "/events".into(),
        "/events/new?community=transformation".into(),
        format!("/posts/{event}"),
        format!("/events/{event}/attendees"),
        "/communities/transformation/events".into(),
        format!("/posts/{must}/readers"),
        "/must-read".into(),
        format!("/surveys/{to_answer}"),
        format!("/surveys/{survey}/results"),
        format!("/surveys/{quiz}"),
        "/surveys/new?community=transformation".into(),
        "/surveys/new?quiz=1".into(),
        format!("/posts/{report}"),
        format!("/posts/{}", open.json["id"]),
        format!("/posts/{answered_id}"),
        "/polls/new".into(),
        "/polls/new?community=transformation".into(),
        "/search".into(),
        "/search?q=transformation".into(),
        "/search?q=transformation&type=people".into(),
        "/search?q=transformation&type=communities".into(),
    ];
    (me, pages)
}

/// Every main page, in English and in French, is no wider than the
/// window, and the menu takes one row at the top (phones: plus one bar at
/// the bottom).
async fn every_main_page_fits(width: u32, height: u32) {
    let app = TestApp::start().await;
    let (me, pages) = realistic_site(&app).await;
    let Some(d) = Driver::start(width, height).await else {
        return;
    };
    d.goto(&app.url("/login")).await;
    d.type_into("#login", "mcdupontdelatour").await;
    d.type_into("#password", PASSWORD).await;
    d.click("form[action='/login'] button[type=submit]").await;
    assert!(d.wait_for_url("/").await, "signed in: {}", d.url().await);
    let inner = d.script("return window.innerWidth").await;
    assert_eq!(
        inner.as_i64(),
        Some(i64::from(width)),
        "laid out at {width} pixels"
    );
    let mut problems = Vec::new();
    for lang in ["en", "fr"] {
        let r = me.patch("/me", json!({"locale": lang})).await;
        assert!(r.status.is_success(), "{:?}", r.json);
        for path in &pages {
            d.goto(&app.url(path)).await;
            let html = d.source().await;
            assert!(html.contains(&format!("lang=\"{lang}\"")), "{path} {lang}");
            let v = d
                .script(
                    "var top = document.querySelector('header.top');
                     var nav = document.querySelector('nav.main');
                     var wide = [];
                     document.querySelectorAll('main *').forEach(function (el) {
                       var r = el.getBoundingClientRect();
                       if (r.right > window.innerWidth + 1 && wide.length < 3) {
                         wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
                       }
                     });
                     var apart = [];
                     document.querySelectorAll('input[type=checkbox]').forEach(function (box) {
                       var label = document.querySelector('label[for=' + box.id + ']');
                       var b = box.getBoundingClientRect();
                       var l = label ? label.getBoundingClientRect() : null;
                       if (!l || b.bottom < l.top || b.top > l.top + 30) { apart.push(box.id); }
                     });
                     return {
                       apart: apart,
                       overflow: document.documentElement.scrollWidth - window.innerWidth,
                       header: top.getBoundingClientRect().height,
                       nav: nav.getBoundingClientRect().height,
                       wide: wide
                     };",
                )
                .await;
            let overflow = v["overflow"].as_f64().unwrap();
            let header = v["header"].as_f64().unwrap();
            let nav = v["nav"].as_f64().unwrap();
            if overflow > 0.0 {
                problems.push(format!(
                    "{path} ({lang}): {overflow}px wider than the window: {}",
                    v["wide"]
                ));
                d.screenshot(&format!("overflow-{width}-{lang}-{}.png", problems.len()))
                    .await;
            }
            if v["apart"].as_array().is_some_and(|a| !a.is_empty()) {
                problems.push(format!(
                    "{path} ({lang}): checkboxes not on their label's line: {}",
                    v["apart"]
                ));
            }
            if header > 64.0 || nav > 72.0 {
                problems.push(format!(
                    "{path} ({lang}): header {header}px, menu {nav}px high"
                ));
            }
        }
        let report = pages.last().unwrap().clone();
        let idea_at = pages
            .iter()
            .position(|p| p == "/ideas/new?community=transformation")
            .unwrap()
            + 1;
        for (name, path) in [
            ("feed", "/"),
            ("profile", pages[4].as_str()),
            ("community", "/communities/transformation"),
            ("report", report.as_str()),
            ("admin", "/admin"),
            ("welcome", "/welcome?step=people"),
            ("poll", pages[pages.len() - 8].as_str()),
            ("poll-results", pages[pages.len() - 7].as_str()),
            ("poll-new", "/polls/new"),
            ("ideas", "/communities/transformation/ideas"),
            ("idea", pages[idea_at].as_str()),
            ("questions", "/questions"),
            ("question-new", "/questions/new?community=transformation"),
            ("question", pages[idea_at + 4].as_str()),
            ("idea-new", "/ideas/new?community=transformation"),
            ("events", "/events"),
            ("event-new", "/events/new?community=transformation"),
            ("event", pages[idea_at + 7].as_str()),
            ("event-attendees", pages[idea_at + 8].as_str()),
            ("must-read-readers", pages[idea_at + 10].as_str()),
            ("must-read", "/must-read"),
            ("survey", pages[idea_at + 12].as_str()),
            ("survey-results", pages[idea_at + 13].as_str()),
            ("quiz-taken", pages[idea_at + 14].as_str()),
            ("survey-new", "/surveys/new?community=transformation"),
            ("quiz-new", "/surveys/new?quiz=1"),
        ] {
            d.goto(&app.url(path)).await;
            d.screenshot(&format!("{name}-{width}-{lang}.png")).await;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_page_fits_a_phone_in_both_languages() {
    every_main_page_fits(375, 812).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_page_fits_a_desktop_in_both_languages() {
    every_main_page_fits(1280, 900).await;
}

/// Signing in through the company's identity provider, as a person does:
/// the button of the sign-in page, the provider's own login page, and back
/// signed in, at phone width in French and desktop width in English.
async fn signs_in_through_the_provider(width: u32, height: u32, lang: &str, says: &str) {
    use ruche::config::{SsoClaims, SsoProvider};
    if !oidc::available() {
        return;
    }
    let planned = oidc::plan();
    let p = SsoProvider {
        id: "corp".into(),
        name: "Contoso".into(),
        issuer: planned.issuer.clone(),
        client_id: oidc::CLIENT_ID.into(),
        client_secret: oidc::CLIENT_SECRET.into(),
        scopes: vec!["email".into(), "profile".into(), "work".into()],
        allowed_domains: vec![],
        passwords: true,
        admin_group: String::new(),
        claims: SsoClaims::default(),
    };
    let app = TestApp::start_with(move |c| c.accounts.sso = vec![p]).await;
    let accounts = json!({"claire": {
        "email": "claire.fontaine@corp.example", "email_verified": true,
        "preferred_username": "claire.fontaine", "name": "Claire Fontaine",
        "department": "Qualité", "site": "Lyon"
    }});
    let _provider = planned.start(&app.base, "corp", accounts, 0).await;
    let Some(d) = Driver::start_in(width, height, lang).await else {
        return;
    };
    d.goto(&app.url("/login")).await;
    let html = d.source().await;
    assert!(html.contains(says), "{says:?} not on the sign-in page");
    let overflow = d
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert_eq!(
        overflow.as_i64(),
        Some(0),
        "the sign-in page is wider than the screen"
    );
    d.screenshot(&format!("sso-login-{width}-{lang}.png")).await;
    d.click("a.sso").await;
    // The provider's own page.
    let mut at_provider = false;
    for _ in 0..50 {
        if d.url().await.contains("/interaction/") {
            at_provider = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(at_provider, "not at the provider: {}", d.url().await);
    d.type_into("input[name=login]", "claire").await;
    d.type_into("input[name=password]", "any password").await;
    d.click("button[type=submit]").await;
    // Back here, signed in as the account the provider's claims made.
    let back = d.wait_for_source("claire_fontaine").await;
    assert!(
        back.is_some(),
        "not signed in: {} {}",
        d.url().await,
        d.source().await
    );
    assert!(d.url().await.starts_with(&app.base));
    d.screenshot(&format!("sso-signed-in-{width}-{lang}.png"))
        .await;
    assert_eq!(app.count("sso_identities"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_signs_in_through_the_provider_in_french() {
    signs_in_through_the_provider(375, 812, "fr", "Se connecter avec Contoso").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_signs_in_through_the_provider_in_english() {
    signs_in_through_the_provider(1280, 900, "en", "Sign in with Contoso").await;
}

/// Turning two-step sign-in on, as a person does on a phone: the QR code
/// fits the screen, the first code turns it on, the recovery codes show.
async fn turns_on_two_step_sign_in(width: u32, height: u32, lang: &str, says: &str) {
    let app = TestApp::start().await;
    app.create_account("ann", false);
    let Some(d) = Driver::start_in(width, height, lang).await else {
        return;
    };
    d.goto(&app.url("/login")).await;
    d.type_into("#login", "ann").await;
    d.type_into("#password", PASSWORD).await;
    d.click("form[action='/login'] button[type=submit]").await;
    assert!(d.wait_for_url("/").await, "signed in: {}", d.url().await);
    d.goto(&app.url("/settings#second-step")).await;
    d.click("form[action='/settings/second-step'] button[type=submit]")
        .await;
    let page = d
        .wait_for_source("class=\"secret\"")
        .await
        .expect("the setup shows");
    let secret = page
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let overflow = d
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    // (negative on a desktop: the vertical scroll bar's width)
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "the settings page is wider than the screen: {overflow}"
    );
    d.script("document.getElementById('second-step').scrollIntoView()")
        .await;
    d.screenshot(&format!("second-step-setup-{width}-{lang}.png"))
        .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&secret).unwrap())
        .build()
        .unwrap()
        .generate(now)
        .to_string();
    d.type_into("#second-code", &code).await;
    d.click("form[action='/settings/second-step/enable'] button[type=submit]")
        .await;
    assert!(d.wait_for_source(says).await.is_some(), "codes not shown");
    d.screenshot(&format!("second-step-codes-{width}-{lang}.png"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_turns_on_two_step_sign_in_in_french() {
    turns_on_two_step_sign_in(375, 812, "fr", "Vos codes de secours").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_turns_on_two_step_sign_in_in_english() {
    turns_on_two_step_sign_in(1280, 900, "en", "Your recovery codes").await;
}

/// A partner invited as a guest signs up with the link through the pages
/// (sign-up is closed), fills the profile step, and reads their feed: the
/// community's posts only, no composer and no directory in the menu, a
/// "guest" badge; nothing wider than the window.
async fn guest_signs_up_and_reads(width: u32, height: u32, lang: &str, says: &str) {
    let app = TestApp::start().await;
    let root = app.user("root").await;
    let ana = app.user("ana").await;
    let r = ana
        .post(
            "/communities",
            json!({"name": "projet_x", "title": "Projet X — sous-traitance", "visibility": "public"}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{:?}", r.json);
    let r = ana
        .post(
            "/communities/projet_x/posts",
            json!({"body": "Planning du projet X : jalon 2 en mars, revue des plans le 12"}),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{:?}", r.json);
    ana.post_text("Réunion générale lundi pour tout le site")
        .await;
    let r = root.patch("/admin/site", json!({"signup": "closed"})).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let code = {
        let mut c = app.db.get().unwrap();
        let (ana_id, group): (i64, i64) = {
            use diesel::prelude::*;
            use ruche::db::schema::users;
            let id = |c: &mut ruche::db::DbConn, n: &str| -> i64 {
                users::table
                    .filter(users::username.eq(n))
                    .select(users::id)
                    .first(c)
                    .unwrap()
            };
            (id(&mut c, "ana"), id(&mut c, "projet_x"))
        };
        ruche::accounts::create_invitation(
            &mut c,
            &app.config.accounts,
            Some(ana_id),
            Some(ruche::accounts::invitation::SendTo {
                address: "nina@partner.example",
                locale: lang,
                community: Some(group),
                guest: true,
            }),
        )
        .unwrap()
        .1
    };
    let Some(d) = Driver::start_in(width, height, lang).await else {
        return;
    };
    d.goto(&app.url(&format!("/invitations/{code}"))).await;
    d.screenshot(&format!("guest-invitation-{width}-{lang}.png"))
        .await;
    d.click("a.button-link").await;
    assert!(d.wait_for_source("name=\"invite\"").await.is_some());
    d.type_into("#username", "nina").await;
    d.type_into("#email", "nina@partner.example").await;
    d.type_into("#password", PASSWORD).await;
    d.screenshot(&format!("guest-signup-{width}-{lang}.png"))
        .await;
    d.click("form[action='/signup'] button[type=submit]").await;
    assert!(d.wait_for_url("/welcome").await, "{}", d.url().await);
    d.type_into("#display_name", "Nina Okafor").await;
    d.type_into("#job_title", "Cheffe de projet, Partenaire SA")
        .await;
    d.click("form[action='/welcome/profile'] button[type=submit]")
        .await;
    let html = d.wait_for_source(says).await.expect("the guest's feed");
    assert!(html.contains("jalon 2"), "the community's post");
    assert!(!html.contains("Réunion générale"), "not the site's");
    assert!(!html.contains("href=\"/people\""), "no directory");
    assert!(!html.contains("action=\"/posts\""), "no composer");
    for (name, path) in [("feed", "/"), ("community", "/communities/projet_x")] {
        d.goto(&app.url(path)).await;
        let overflow = d
            .script("return document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{path}: {overflow}px too wide"
        );
        d.screenshot(&format!("guest-{name}-{width}-{lang}.png"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_guest_signs_up_and_reads_in_french() {
    guest_signs_up_and_reads(375, 812, "fr", "Vous êtes invité").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_guest_signs_up_and_reads_in_english() {
    guest_signs_up_and_reads(1280, 900, "en", "You are a guest").await;
}

/// A passkey made by Chromium's own (virtual) authenticator: added from the
/// settings, then signing in with one button, without the user name or the
/// password. The site is named `localhost`, as browsers offer passkeys only
/// to a host.
/// With `directory`, the person is of the company's directory: no password
/// of this site, so none is asked (they just signed in with the
/// directory's).
async fn adds_a_passkey_and_signs_in_with_it(
    width: u32,
    height: u32,
    lang: &str,
    says: &str,
    directory: bool,
) {
    let slapd = match directory {
        true if !common::ldap::available() => return,
        true => Some(common::ldap::Slapd::start(common::ldap::COMPANY).await),
        false => None,
    };
    let ldap = slapd.as_ref().map(|s| s.config());
    let app = TestApp::start_with(move |c| {
        c.base_url = c.base_url.replace("127.0.0.1", "localhost");
        if let Some(ldap) = ldap {
            c.accounts.ldap = ldap;
        }
    })
    .await;
    let base = app.config.base_url.clone();
    let (login, password) = match directory {
        true => ("alice", "alice directory secret"),
        false => {
            app.create_account("ann", false);
            ("ann", PASSWORD)
        }
    };
    let Some(d) = Driver::start_in(width, height, lang).await else {
        return;
    };
    let authenticator = d
        .cmd(
            reqwest::Method::POST,
            "/webauthn/authenticator",
            Some(json!({
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserVerified": true,
            })),
        )
        .await;
    let authenticator = authenticator.as_str().unwrap().to_string();
    d.goto(&format!("{base}/login")).await;
    d.type_into("#login", login).await;
    d.type_into("#password", password).await;
    d.click("form[action='/login'] button[type=submit]").await;
    assert!(d.wait_for_url("/").await, "signed in: {}", d.url().await);
    d.goto(&format!("{base}/settings#passkeys")).await;
    d.type_into("#passkey-new-name", "Ordinateur").await;
    if !directory {
        d.type_into("#passkey-new-password", PASSWORD).await;
    }
    d.click("form[data-passkey-add] button[type=submit]").await;
    let page = d
        .wait_for_source("<li><code>")
        .await
        .expect("the recovery codes show");
    assert!(page.contains(says), "{says}");
    let overflow = d
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "the settings page is wider than the screen: {overflow}"
    );
    let who = if directory { "directory-" } else { "" };
    d.screenshot(&format!("passkey-added-{who}{width}-{lang}.png"))
        .await;
    let held = d
        .cmd(
            reqwest::Method::GET,
            &format!("/webauthn/authenticator/{authenticator}/credentials"),
            None,
        )
        .await;
    let held = held.as_array().unwrap();
    assert_eq!(held.len(), 1, "one passkey in the authenticator");
    assert_eq!(held[0]["isResidentCredential"], true, "discoverable");
    assert_eq!(app.count("passkeys"), 1);
    d.click("[data-passkey-codes] a").await;
    let page = d
        .wait_for_source("class=\"passkeys\"")
        .await
        .expect("the passkey is listed");
    assert!(page.contains("Ordinateur"));
    d.script("document.getElementById('passkeys').scrollIntoView()")
        .await;
    d.screenshot(&format!("passkey-listed-{who}{width}-{lang}.png"))
        .await;

    // Signed out, the passkey alone signs in.
    d.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    d.goto(&format!("{base}/login?next=/communities")).await;
    d.wait_for_source("data-passkey-login").await.unwrap();
    d.screenshot(&format!("passkey-login-{who}{width}-{lang}.png"))
        .await;
    d.click("[data-passkey-login]").await;
    assert!(
        d.wait_for_source("action=\"/logout\"").await.is_some(),
        "signed in with the passkey: {}",
        d.url().await
    );
    assert!(d.url().await.ends_with(&format!("{base}/communities")));
    assert_eq!(app.count("sessions"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_adds_a_passkey_and_signs_in_with_it_in_french() {
    adds_a_passkey_and_signs_in_with_it(375, 812, "fr", "Vos codes de secours", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_of_the_directory_adds_a_passkey_without_a_password_in_french() {
    adds_a_passkey_and_signs_in_with_it(375, 812, "fr", "Vos codes de secours", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_adds_a_passkey_and_signs_in_with_it_in_english() {
    adds_a_passkey_and_signs_in_with_it(1280, 900, "en", "Your recovery codes", false).await;
}

/// The identity part of the console with everything in it (a directory
/// synced, a group pushed with a long name, someone whose second step is
/// on) fits the screen, and turning that second step off works from it.
async fn identity_console(width: u32, height: u32, lang: &str, says: &str) {
    if !common::ldap::available() {
        return;
    }
    let slapd = common::ldap::Slapd::start(common::ldap::COMPANY).await;
    let cfg = slapd.config();
    let app = TestApp::start_with(move |c| {
        c.accounts.ldap = cfg;
        c.accounts.ldap.sync_minutes = 60;
    })
    .await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    // The scheduled sync runs at start-up.
    let mut synced = false;
    for _ in 0..200 {
        let v = root.get("/admin/identity").await;
        if !v.json["directory"]["last_sync"].is_null() {
            synced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(synced, "the directory was synced at start-up");
    // A group pushed over SCIM, named as companies name them.
    let token = {
        let mut c = app.db.get().unwrap();
        ruche::accounts::provisioning::create_client(&mut c, "Microsoft Entra ID").unwrap()
    };
    let scim = |path: &str, body: Value| {
        let (url, token) = (app.url(&format!("/scim/v2{path}")), token.clone());
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/scim+json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::CREATED);
            r.json::<Value>().await.unwrap()
        }
    };
    let user = scim(
        "/Users",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "gaelle.lefebvre-de-saint-exupery@contoso.example", "active": true,
               "name": {"givenName": "Gaëlle", "familyName": "Lefebvre de Saint-Exupéry"}}),
    )
    .await;
    scim(
        "/Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
               "displayName": "Ventes et relations clients Île-de-France — grands comptes internationaux",
               "members": [{"value": user["id"]}]}),
    )
    .await;
    // Someone whose second step is on.
    let ann = app.user("ann").await;
    let setup = ann.post("/me/second-step/app", json!({})).await;
    let secret = setup.json["secret"].as_str().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(now)
        .to_string();
    let on = ann
        .post("/me/second-step/app/enable", json!({"code": code}))
        .await;
    assert!(on.status.is_success(), "{}", on.json);

    let Some(d) = Driver::start_in(width, height, lang).await else {
        return;
    };
    d.goto(&app.url("/login")).await;
    d.type_into("#login", "root").await;
    d.type_into("#password", PASSWORD).await;
    d.click("form[action='/login'] button[type=submit]").await;
    assert!(d.wait_for_url("/").await, "signed in: {}", d.url().await);
    d.goto(&app.url("/admin#identity")).await;
    let page = d.source().await;
    assert!(page.contains(says), "{says}");
    assert!(page.contains("grands comptes internationaux"));
    let overflow = d
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "the console is wider than the screen: {overflow}"
    );
    d.script("document.getElementById('identity').scrollIntoView()")
        .await;
    d.screenshot(&format!("identity-{width}-{lang}.png")).await;
    d.script("document.getElementById('groups').scrollIntoView()")
        .await;
    d.screenshot(&format!("identity-groups-{width}-{lang}.png"))
        .await;
    d.goto(&app.url("/admin?q=ann#people")).await;
    d.screenshot(&format!("accounts-second-step-{width}-{lang}.png"))
        .await;
    // The question is asked (and answered yes here).
    d.script("window.confirm = function () { return true; }")
        .await;
    d.click("form[action='/admin/users/ann/second-step'] button[type=submit]")
        .await;
    assert!(
        d.wait_for_url("notice=step_reset#people").await,
        "turned off: {}",
        d.url().await
    );
    let r = app.token_request("ann", PASSWORD).await;
    assert_eq!(
        r.status(),
        reqwest::StatusCode::CREATED,
        "no code asked now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_identity_console_in_french() {
    identity_console(375, 812, "fr", "Dernière synchronisation").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_identity_console_in_english() {
    identity_console(1280, 900, "en", "Last sync").await;
}

/// A poll answered as a person does on a phone or a desktop: an answer
/// picked by its label, "Vote", then the results as bars; nothing wider
/// than the window.
async fn votes_in_a_poll(width: u32, height: u32, lang: &str, says: &str) {
    let app = TestApp::start().await;
    let ann = app.user("ann").await;
    app.create_account("bob", false);
    let r = ann
        .post(
            "/polls",
            json!({"body": "Which day suits the **safety walk**?", "options": ["Monday morning, before the production meeting", "Wednesday", "Friday afternoon"]}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let second = r.json["poll"]["options"][1]["id"].as_i64().unwrap();
    let Some(d) = Driver::start_in(width, height, lang).await else {
        return;
    };
    d.goto(&app.url("/login")).await;
    d.type_into("#login", "bob").await;
    d.type_into("#password", PASSWORD).await;
    d.click("form[action='/login'] button[type=submit]").await;
    assert!(d.wait_for_url("/").await, "signed in: {}", d.url().await);
    d.goto(&app.url(&format!("/posts/{id}"))).await;
    d.screenshot(&format!("poll-vote-{width}-{lang}.png")).await;
    d.click(&format!("label[for='poll{id}-{second}']")).await;
    d.click(&format!(
        "form[action='/polls/{id}/vote'] button[type=submit]"
    ))
    .await;
    let page = d.wait_for_source("<progress").await.expect("results shown");
    assert!(page.contains(says), "{page}");
    let overflow = d
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "the poll is wider than the screen: {overflow}"
    );
    d.screenshot(&format!("poll-voted-{width}-{lang}.png"))
        .await;
    let r = ann.get(&format!("/polls/{id}")).await;
    assert_eq!(r.json["options"][1]["votes"], 1, "{}", r.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_votes_in_a_poll_in_french() {
    votes_in_a_poll(375, 812, "fr", "1 votant").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_votes_in_a_poll_in_english() {
    votes_in_a_poll(1280, 900, "en", "1 voter").await;
}

/// Asking a question as a person does: the questions already asked like
/// the title being typed show under it (from the page's script), and the
/// audience is offered only outside communities.
async fn asks_a_question(width: u32, height: u32, lang: &str, says: &str) {
    let app = TestApp::start().await;
    let ann = app.user("ann").await;
    app.create_account("bob", false);
    let r = ann
        .post(
            "/questions",
            json!({"title": "Who renews the forklift licences in Villefranche?"}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let Some(d) = Driver::start_in(width, height, lang).await else {
        return;
    };
    d.goto(&app.url("/login")).await;
    d.type_into("#login", "bob").await;
    d.type_into("#password", PASSWORD).await;
    d.click("form[action='/login'] button[type=submit]").await;
    assert!(d.wait_for_url("/").await, "signed in: {}", d.url().await);
    d.goto(&app.url("/questions/new")).await;
    d.type_into("#title", "forklift licence").await;
    let page = d
        .wait_for_source("forklift licences in Villefranche?</a>")
        .await
        .expect("the similar question shown while typing");
    assert!(page.contains(says), "{says}");
    let hidden = d
        .script("return document.getElementById('similar').hidden")
        .await;
    assert_eq!(hidden.as_bool(), Some(false));
    d.screenshot(&format!("question-similar-{width}-{lang}.png"))
        .await;
    // Outside communities, the question's audience is chosen.
    let shown = d
        .script("return document.getElementById('audience').getBoundingClientRect().height > 0")
        .await;
    assert_eq!(shown.as_bool(), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_asks_a_question_in_french() {
    asks_a_question(375, 812, "fr", "Déjà demandé").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_asks_a_question_in_english() {
    asks_a_question(1280, 900, "en", "Already asked").await;
}
