use super::*;

/// A fixture with its placeholders filled in.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/src/mail/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("{{FROM}}", "ana@example.com")
        .replace(
            "{{REPLY}}",
            "ruche+r0123456789abcdef0123456789abcdef@mail.example.com",
        )
        .into_bytes()
}

fn reply_in(name: &str) -> String {
    let raw = fixture(name);
    let msg = MessageParser::default().parse(&raw).expect("parseable");
    assert_eq!(automatic(&msg), None, "{name} is written by a person");
    super::words_of(&msg)
}

#[test]
fn gmail_keeps_the_answer_and_drops_the_wrapped_quote_header() {
    assert_eq!(
        reply_in("gmail_en.eml"),
        "Thanks Bob, I will check page 12 tomorrow morning.\n\nCould you send the annex too?"
    );
}

#[test]
fn outlook_in_french_html_only_loses_its_header_block() {
    let w = reply_in("outlook_fr.eml");
    assert!(
        w.starts_with("Merci Bob, je regarde la page 12 dès lundi."),
        "{w}"
    );
    assert!(w.contains("Bonne journée"), "{w}");
    assert!(!w.contains("Envoyé"), "{w}");
    assert!(!w.contains("bob vous répond"), "{w}");
}

#[test]
fn thunderbird_loses_the_quote_and_the_signature() {
    let w = reply_in("thunderbird_en.eml");
    assert!(w.starts_with("Yes, the second finding is mine."), "{w}");
    assert!(w.contains("Friday."), "{w}");
    assert!(!w.contains("wrote"), "{w}");
    assert!(!w.contains("Quality, Lyon"), "{w}");
}

#[test]
fn a_phone_in_french_loses_its_sent_from_line() {
    assert_eq!(reply_in("apple_fr.eml"), "Parfait, à lundi pour la revue.");
}

#[test]
fn robots_are_recognised() {
    let why = |name: &str| {
        let raw = fixture(name);
        let msg = MessageParser::default().parse(&raw).unwrap();
        automatic(&msg)
    };
    assert_eq!(
        why("out_of_office.eml"),
        Some("an automatic message (Auto-Submitted)")
    );
    assert_eq!(why("bounce.eml"), Some("a delivery report"));
    let plain = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\nAuto-Submitted: no\r\n\r\nhello\r\n";
    let msg = MessageParser::default().parse(&plain[..]).unwrap();
    assert_eq!(automatic(&msg), None, "Auto-Submitted: no is a person");
}

#[test]
fn quoted_lines_and_blank_runs_go() {
    assert_eq!(
        own_words("\n\nYes.\n\n\n\nSee you.\n> old\n>> older\n"),
        "Yes.\n\nSee you."
    );
    assert_eq!(own_words("> only a quote\n"), "");
    assert_eq!(
        own_words("Fine by me.\r\n\r\n-----Original Message-----\r\nFrom: x\r\n"),
        "Fine by me."
    );
    assert_eq!(
        own_words("OK\n\nDe : Ruche <r@x>\nEnvoyé : lundi\nÀ : Ana\n\nBonjour"),
        "OK"
    );
    // "From:" in a sentence is not a header block.
    assert_eq!(
        own_words("From: the audit team, thanks.\nAll good."),
        "From: the audit team, thanks.\nAll good."
    );
}

#[test]
fn only_our_servers_authentication_results_count() {
    let msg = |results: &str| {
        format!("{results}From: Ana <ana@example.com>\r\nTo: r@x\r\nSubject: Re\r\n\r\nYes\r\n")
            .into_bytes()
    };
    let check = |raw: &[u8]| {
        let m = MessageParser::default().parse(raw).unwrap();
        authenticated(&m, raw, "mx.corp.example", "ana@example.com")
    };
    assert!(check(&msg(
        "Authentication-Results: mx.corp.example; spf=pass smtp.mailfrom=example.com;\r\n dkim=pass header.d=example.com header.s=s1; dmarc=pass header.from=example.com\r\n"
    )));
    assert!(check(&msg(
        "Authentication-Results: mx.corp.example 1; dkim=pass header.d=example.com\r\n"
    )));
    // Another server's word, a failure, another domain's signature, none.
    assert!(!check(&msg(
        "Authentication-Results: evil.example; dmarc=pass header.from=example.com\r\n"
    )));
    assert!(!check(&msg(
        "Authentication-Results: mx.corp.example; dkim=fail header.d=example.com; dmarc=fail header.from=example.com\r\n"
    )));
    assert!(!check(&msg(
        "Authentication-Results: mx.corp.example; dkim=pass header.d=attacker.example\r\n"
    )));
    assert!(!check(&msg("")));
}
