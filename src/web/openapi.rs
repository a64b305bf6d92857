//! The OpenAPI 3.1 document, generated from the same route table that builds
//! the API router, so the two cannot drift apart.

use serde_json::{json, Map, Value};

use super::api::{LAST_PAGE, QUERY_MAX, ROUTES};
use crate::Config;

/// Text without a NUL character (no text of the API may hold one).
const TEXT: &str = "^[^\\x00]*$";
/// Text with something other than spaces in it.
const NOT_BLANK: &str = "^[^\\x00]*[^\\s\\x00][^\\x00]*$";
/// One line of a profile: spaces around it are dropped, and no control
/// character may stay inside.
const ONE_LINE: &str = "^\\s*[^\\x00-\\x1f\\x7f-\\x9f]*\\s*$";
/// A host name in punycode, with an optional port.
const DOMAIN: &str = "^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.?(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?$";
/// `@name@domain` (a person; `!name@domain` for a community), or an
/// address: what the lookups read.
const HANDLE: &str = "^(?:@?[A-Za-z0-9_.-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?::[1-9][0-9]{0,3})?|https?://[A-Za-z0-9.-]+(?::[1-9][0-9]{0,3})?/[A-Za-z0-9/_.~-]*)$";
/// One line that is not blank (spaces around it are dropped).
const NAME_LINE: &str = "^\\s*[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?\\s*$";
/// A skill: no comma, no control character but spaces (which run together).
const SKILL: &str = "^[^,\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]*$";
/// A file name as kept: no folder, no `..`, no `:`, not hidden.
const FILE_NAME: &str =
    "^\\s*[^\\s./\\\\:\\x00-\\x1f\\x7f-\\x9f](?:[^/\\\\:.\\x00-\\x1f\\x7f-\\x9f]|\\.(?!\\.))*\\s*$";

fn query(name: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema})
}

fn text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max, "pattern": TEXT})
}

/// A page number, from 0.
fn page(max: i64) -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": max, "default": 0})
}

fn id_cursor() -> Value {
    json!({"type": "string", "pattern": crate::feed::cursor::ID_PATTERN,
        "description": "next_cursor of the previous page"})
}

fn name_cursor() -> Value {
    json!({"type": "string", "pattern": TEXT,
        "description": "next_cursor of the previous page (the list goes on after this name)"})
}

/// The query parameters of a route, as its handler reads them.
fn query_params(method: &str, path: &str) -> Vec<Value> {
    let community = || {
        query(
            "community",
            json!({"type": "string", "pattern": TEXT,
        "description": "a community's name; every one the reader may read when absent"}),
            false,
        )
    };
    match (method, path) {
        ("get", "/feed") => vec![
            query("cursor", id_cursor(), false),
            query(
                "stream",
                json!({"type": "string", "enum": ["", "following", "site", "organisation"], "default": "following"}),
                false,
            ),
        ],
        ("get", "/tags/{tag}" | "/communities/{name}/posts" | "/people/{username}/posts") => {
            vec![query("cursor", id_cursor(), false)]
        }
        ("get", "/people/{username}/followers" | "/people/{username}/following") => {
            vec![query("cursor", name_cursor(), false)]
        }
        ("get", "/communities") => vec![
            query("q", text(QUERY_MAX), false),
            query("mine", json!({"type": "boolean", "default": false}), false),
            query("cursor", name_cursor(), false),
        ],
        ("get", "/people/lookup") => vec![query(
            "q",
            json!({"type": "string", "pattern": HANDLE, "maxLength": QUERY_MAX}),
            true,
        )],
        ("get", "/communities/lookup") => vec![query(
            "q",
            json!({"type": "string", "pattern": HANDLE.replacen("@?", "!?", 1), "maxLength": QUERY_MAX}),
            true,
        )],
        ("get", "/people") => {
            let mut p: Vec<Value> = ["q", "department", "site", "skill"]
                .into_iter()
                .map(|n| query(n, text(QUERY_MAX), false))
                .collect();
            p.push(query("cursor", name_cursor(), false));
            p
        }
        ("get", "/mentions") => vec![query("q", text(QUERY_MAX), false)],
        ("get", "/admin/users") => vec![
            query("q", text(QUERY_MAX), false),
            query(
                "show",
                json!({"type": "string", "enum": ["", "all", "admins", "disabled", "remote"], "default": "all"}),
                false,
            ),
            query("cursor", name_cursor(), false),
        ],
        ("get", "/suggestions/people" | "/suggestions/communities") => vec![query(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": crate::onboarding::suggestions::MAX, "default": 10}),
            false,
        )],
        ("get", "/events") => vec![
            community(),
            query(
                "when",
                json!({"type": "string", "enum": ["", "upcoming", "past", "mine"], "default": "upcoming"}),
                false,
            ),
            query("page", page(LAST_PAGE), false),
        ],
        ("get", "/ideas") => vec![
            community(),
            query(
                "status",
                json!({"type": "string", "enum": ["", "new", "under_review", "accepted", "done", "declined"]}),
                false,
            ),
            query(
                "order",
                json!({"type": "string", "enum": ["", "votes", "recent"], "default": "votes"}),
                false,
            ),
            query("page", page(LAST_PAGE), false),
        ],
        ("get", "/questions") => vec![
            community(),
            query(
                "filter",
                json!({"type": "string", "enum": ["", "all", "unanswered", "open", "solved"], "default": "all"}),
                false,
            ),
            query("page", page(LAST_PAGE), false),
        ],
        ("get", "/questions/similar") => vec![query("q", text(QUERY_MAX), false)],
        ("get", "/must-reads") => vec![
            query(
                "filter",
                json!({"type": "string", "enum": ["", "pending", "followed"], "default": "pending"}),
                false,
            ),
            query("page", page(LAST_PAGE), false),
        ],
        ("get", "/search") => {
            let mut p = vec![
                query(
                    "q",
                    json!({"type": "string", "pattern": NOT_BLANK, "maxLength": crate::search::query::MAX_QUERY}),
                    true,
                ),
                query(
                    "type",
                    json!({"type": "string", "enum": ["", "content", "posts", "people", "communities"], "default": "content"}),
                    false,
                ),
                query("page", page(crate::search::MAX_PAGE), false),
            ];
            for n in ["department", "site", "skill", "instance"] {
                p.push(query(n, text(QUERY_MAX), false));
            }
            p
        }
        ("get", "/experts") => vec![query(
            "topic",
            json!({"type": "string", "pattern": NOT_BLANK, "maxLength": crate::search::query::MAX_QUERY}),
            true,
        )],
        ("post", "/communities/{name}/documents" | "/documents/{id}/versions") => vec![
            query(
                "filename",
                json!({"type": "string", "minLength": 1, "maxLength": crate::storage::MAX_NAME, "pattern": FILE_NAME}),
                true,
            ),
            query("note", text(2000), false),
        ],
        ("post", "/media") => vec![
            query(
                "filename",
                json!({"type": "string", "minLength": 1, "maxLength": crate::storage::MAX_NAME, "pattern": FILE_NAME}),
                true,
            ),
            query("alt", text(crate::content::media::MAX_ALT), false),
        ],
        (
            "delete",
            "/communities/{name}/members/{username}"
            | "/communities/{name}/posts/{id}"
            | "/admin/instances/{domain}",
        ) => vec![query("reason", text(500), false)],
        _ => Vec::new(),
    }
}

/// A path parameter's schema, by its name.
fn path_param(name: &str) -> Value {
    let schema = match name {
        "id" | "version" => json!({"type": "integer", "minimum": 1, "maximum": i64::MAX}),
        "kind" => json!({"type": "string", "enum": crate::content::REACTIONS}),
        "app" => json!({"type": "string", "enum": crate::apps::App::ALL.map(|a| a.as_str())}),
        "domain" => json!({"type": "string", "pattern": DOMAIN, "maxLength": 253}),
        _ => json!({"type": "string", "minLength": 1, "pattern": TEXT}),
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

fn schemas() -> Value {
    let s = |v: Value| v;
    let mut main = json!({
        "Error": s(json!({"type": "object", "required": ["error"], "properties": {
            "error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}}})),
        "SignUp": {"type": "object", "required": ["username", "email", "password"], "properties": {
            "username": {"type": "string", "pattern": "^[a-z0-9_]{3,30}$"},
            "email": {"type": "string", "format": "email"},
            "password": {"type": "string", "minLength": 10, "maxLength": 256},
            "invite": {"type": ["string", "null"], "description": "Invitation code when sign-up is by invitation"}}},
        "PasswordForgot": {"type": "object", "required": ["login"], "properties": {
            "login": {"type": "string", "minLength": 1, "maxLength": 254, "description": "Username or e-mail"}}},
        "PasswordReset": {"type": "object", "required": ["token", "password"], "properties": {
            "token": {"type": "string", "description": "The secret at the end of the e-mailed link"},
            "password": {"type": "string", "minLength": 10, "maxLength": 256}}},
        "InvitationCreate": {"type": "object", "properties": {
            "email": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 0}, {"type": "string", "format": "email", "maxLength": 254}], "description": "Also send the link to this address"},
            "locale": {"type": ["string", "null"], "enum": ["en", "fr", null]}}},
        "InvitationByEmail": {"type": "object", "required": ["email"], "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "guest": {"type": "boolean", "description": "As a partner's guest, who sees only the communities they are invited to (403 guests_off when the site does not allow guests)"}}},
        "EmailChange": {"type": "object", "required": ["email", "password"], "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "password": {"type": "string"}}},
        "EmailConfirm": {"type": "object", "required": ["token"], "properties": {
            "token": {"type": "string", "maxLength": 100}}},
        "MailPreferences": {"type": "object", "additionalProperties": false, "properties": {
            "mention": {"type": "string", "enum": ["now", "digest", "never"]},
            "reply": {"type": "string", "enum": ["now", "digest", "never"]},
            "community_invite": {"type": "string", "enum": ["now", "digest", "never"]},
            "community_request": {"type": "string", "enum": ["now", "digest", "never"]},
            "follow": {"type": "string", "enum": ["now", "digest", "never"]},
            "reaction": {"type": "string", "enum": ["now", "digest", "never"]},
            "community_accepted": {"type": "string", "enum": ["now", "digest", "never"]},
            "community_post": {"type": "string", "enum": ["now", "digest", "never"]},
            "document_updated": {"type": "string", "enum": ["now", "digest", "never"]},
            "poll_closed": {"type": "string", "enum": ["now", "digest", "never"]},
            "idea_status": {"type": "string", "enum": ["now", "digest", "never"]},
            "answer_accepted": {"type": "string", "enum": ["now", "digest", "never"]},
            "event_reminder": {"type": "string", "enum": ["now", "digest", "never"]},
            "event_place": {"type": "string", "enum": ["now", "digest", "never"]},
            "event_changed": {"type": "string", "enum": ["now", "digest", "never"]},
            "must_read": {"type": "string", "enum": ["now", "digest", "never"]},
            "must_read_reminder": {"type": "string", "enum": ["now", "digest", "never"]},
            "digest": {"type": "string", "enum": ["daily", "weekly", "never"]},
            "time_zone": {"type": "string", "description": "A zone of the time zone database (Europe/Paris): the digest leaves at 8:00 there"}}},
        "AppCode": {"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string", "description": "The 6 digits the authenticator app shows"}}},
        "PasswordProof": {"type": "object", "required": ["password"], "properties": {
            "password": {"type": "string", "description": "The account's current password"}}},
        "PasskeyAdd": {"type": "object", "required": ["ceremony", "credential"], "properties": {
            "ceremony": {"type": "string"},
            "name": {"type": "string", "maxLength": 60, "description": "Empty: \"Passkey\" and the date"},
            "credential": {"type": "object", "description": "The authenticator's answer (a PublicKeyCredential of navigator.credentials.create, as WebAuthn's JSON)"}}},
        "PasskeyRename": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "maxLength": 60}}},
        "PasskeyToken": {"type": "object", "required": ["ceremony", "credential"], "properties": {
            "ceremony": {"type": "string"},
            "credential": {"type": "object", "description": "The authenticator's answer (a PublicKeyCredential of navigator.credentials.get, as WebAuthn's JSON)"},
            "name": {"type": ["string", "null"], "description": "The token's name"}}},
        "PasswordToken": {"type": "object", "required": ["login", "password"], "properties": {
            "login": {"type": "string", "description": "Username or e-mail"},
            "password": {"type": "string"}, "name": {"type": ["string", "null"]},
            "code": {"type": ["string", "null"], "description": "The code of the authenticator app, or a recovery code, when the account's two-step sign-in is on"}}},
        "ProfileUpdate": {"type": "object", "description": "Only the fields given change (null: unchanged)", "properties": {
            "display_name": {"type": ["string", "null"], "maxLength": 100, "pattern": ONE_LINE},
            "job_title": {"type": ["string", "null"], "maxLength": 100, "pattern": ONE_LINE},
            "department": {"type": ["string", "null"], "maxLength": 100, "pattern": ONE_LINE},
            "site": {"type": ["string", "null"], "maxLength": 100, "pattern": ONE_LINE},
            "location": {"type": ["string", "null"], "maxLength": 100, "pattern": ONE_LINE},
            "work_email": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 0}, {"type": "string", "format": "email", "maxLength": 254}]},
            "phone": {"type": ["string", "null"], "maxLength": 30, "pattern": "^\\s*[0-9 +().-]*\\s*$"},
            "bio": {"type": ["string", "null"], "maxLength": 2000, "description": "Markdown"},
            "skills": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 50, "pattern": SKILL}, "maxItems": 30},
            "languages": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 100, "pattern": ONE_LINE}, "maxItems": 10},
            "locale": {"type": ["string", "null"], "enum": ["", "en", "fr", null]}}},
        "PasswordChange": {"type": "object", "required": ["current_password", "new_password"], "properties": {
            "current_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 10}}},
        "AccountDelete": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}}},
        "TokenCreate": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 100, "pattern": NOT_BLANK}}},
    });
    // Posts, communities and the site, apart (one `json!` has a bounded depth).
    let posts = json!({
        "PostCreate": {"type": "object", "required": ["body"], "properties": {
            "body": {"type": "string", "pattern": NOT_BLANK, "description": "Markdown, at most content.max_post_chars characters; may be empty with attachments"},
            "visibility": {"type": ["string", "null"], "enum": ["", "public", "organisation", "instance", "followers", null], "default": "public"},
            "media_ids": {"type": "array", "maxItems": 10, "uniqueItems": true, "items": {"type": "integer", "minimum": 1, "maximum": i64::MAX}, "description": "uploads (POST /media) to attach, in order; with them the body may be empty"}}},
        "PostEdit": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "pattern": NOT_BLANK}, "title": {"type": ["string", "null"], "maxLength": 150, "pattern": NOT_BLANK, "description": "an idea's new title (ideas only)"}}},
        "Finder": {"type": "object", "properties": {"listed": {"type": ["boolean", "null"], "description": "whether one appears in \"Who knows about …?\""}, "shared": {"type": ["boolean", "null"], "description": "whether the organisation's other sites may list one in their search and expert finder"}}},
        "InstanceEntry": {"type": "object", "required": ["level"], "properties": {
            "level": {"type": "string", "enum": ["member", "partner", "blocked"]},
            "reason": {"type": "string", "maxLength": 500},
            "expires_at": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": "^\\s*$"}, {"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}],
                "description": "RFC 3339 time or YYYY-MM-DD; none for no expiry"},
            "allow_private": {"type": "boolean", "default": false}}},
        "CommentCreate": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "pattern": NOT_BLANK},
            "media_ids": {"type": "array", "maxItems": 10, "uniqueItems": true, "items": {"type": "integer", "minimum": 1, "maximum": i64::MAX}, "description": "uploads (POST /media) to attach, in order; with them the body may be empty"}}},
        "CommunityCreate": {"type": "object", "required": ["name", "title"], "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9_]{3,30}$"},
            "title": {"type": "string", "maxLength": 100, "pattern": NOT_BLANK},
            "description": {"type": "string", "maxLength": 5000, "description": "Markdown"},
            "visibility": {"type": "string", "enum": ["public", "organisation", "private", "secret"], "default": "public"},
            "join_policy": {"type": "string", "enum": ["open", "request", "invitation"], "default": "open"},
            "partners": {"type": "boolean", "default": false, "description": "Let partner instances take part (not with organisation)"}}},
        "CommunitySettings": {"type": "object", "properties": {
            "title": {"type": ["string", "null"], "maxLength": 100, "pattern": NOT_BLANK},
            "description": {"type": ["string", "null"], "maxLength": 5000},
            "visibility": {"type": ["string", "null"], "enum": ["public", "organisation", "private", "secret", null]},
            "join_policy": {"type": ["string", "null"], "enum": ["open", "request", "invitation", null]},
            "partners": {"type": ["boolean", "null"]}}},
        "CommunityPost": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "pattern": NOT_BLANK},
            "media_ids": {"type": "array", "maxItems": 10, "uniqueItems": true, "items": {"type": "integer", "minimum": 1, "maximum": i64::MAX}, "description": "uploads (POST /media) to attach, in order; with them the body may be empty"}}},
        "Invitation": {"type": "object", "required": ["username"], "properties": {
            "username": {"type": "string", "minLength": 1, "description": "name, or name@host for someone of another instance"}}},
        "RoleChange": {"type": "object", "required": ["role"], "properties": {
            "role": {"type": "string", "enum": ["owner", "moderator", "member"]}}},
        "Reason": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500}}},
        "PreviewBody": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "description": "Markdown"}}},
        "SiteUpdate": {"type": "object", "properties": {
            "name": {"type": ["string", "null"], "maxLength": 60, "pattern": NAME_LINE},
            "signup": {"type": ["string", "null"], "enum": ["open", "invite", "closed", null]}}},
        "OnboardingMove": {"oneOf": [
            {"type": "object", "required": ["step"], "properties": {
                "step": {"type": "string", "enum": ["profile", "people", "communities"]},
                "finished": {"type": ["boolean", "null"], "enum": [false, null]}}},
            {"type": "object", "required": ["finished"], "properties": {
                "step": {"type": "null"},
                "finished": {"type": "boolean", "enum": [true], "description": "true ends getting started (without step)"}}}]},
    });
    // The work apps' bodies, apart (one `json!` has a bounded depth).
    let apps = json!({
        "PollCreate": {"type": "object", "required": ["body", "options"], "properties": {
            "body": {"type": "string", "pattern": NOT_BLANK, "description": "The question (Markdown)"},
            "visibility": {"type": ["string", "null"], "enum": ["", "public", "organisation", "instance", "followers", null], "default": "public"},
            "community": {"type": ["string", "null"], "description": "The community it is asked in (its members ask)"},
            "options": {"type": "array", "minItems": 2, "maxItems": 20, "uniqueItems": true, "items": {"type": "string", "maxLength": 100, "pattern": NOT_BLANK},
                "description": "distinct, letter case and accents aside"},
            "multiple": {"type": "boolean", "default": false},
            "closes_at": {"anyOf": [{"type": "null"}, {"type": "string", "format": "date-time"}], "description": "more than 5 minutes and at most 366 days ahead; 7 days when absent"},
            "results": {"type": ["string", "null"], "enum": ["", "voted", "closed", null], "default": "voted"},
            "anonymous": {"type": "boolean", "default": false}}},
        "PollVote": {"type": "object", "required": ["choices"], "properties": {
            "choices": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "integer", "minimum": 1, "maximum": i64::MAX}, "description": "ids of the answers chosen"}}},
        "IdeaCreate": {"type": "object", "required": ["community", "title"], "properties": {
            "community": {"type": "string", "description": "The community it is submitted to (its members submit)"},
            "title": {"type": "string", "maxLength": 150, "pattern": NOT_BLANK},
            "body": {"type": "string", "description": "What it is about (Markdown; may be empty)"}}},
        "QuestionCreate": {"type": "object", "required": ["title"], "properties": {
            "title": {"type": "string", "maxLength": 150, "pattern": NOT_BLANK},
            "body": {"type": "string", "description": "Its details (Markdown; may be empty)"},
            "visibility": {"type": ["string", "null"], "enum": ["", "public", "organisation", "instance", "followers", null], "default": "public"},
            "community": {"type": ["string", "null"], "description": "The community it is asked in (its members ask)"}}},
        "AnswerAccept": {"type": "object", "properties": {
            "answer": {"type": ["integer", "null"], "minimum": 1, "maximum": i64::MAX, "description": "the answer accepted (a direct answer of the question); null accepts none"}}},
        "IdeaMove": {"anyOf": [
            {"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": ["new", "under_review", "accepted", "done"]},
                "reason": {"type": "string", "maxLength": 500}}},
            {"type": "object", "required": ["status", "reason"], "properties": {
                "status": {"type": "string", "enum": ["declined"]},
                "reason": {"type": "string", "maxLength": 500, "pattern": NOT_BLANK, "description": "Why (required to decline)"}}}]},
        "AppSwitch": {"type": "object", "required": ["enabled"], "properties": {
            "enabled": {"type": "boolean", "description": "on or off"}}},
        "CommunityAppSwitch": {"type": "object", "properties": {
            "enabled": {"type": ["boolean", "null"], "description": "on or off; null (or none) follows the site"}}},
        "Rsvp": {"type": "object", "required": ["answer"], "properties": {
            "answer": {"type": "string", "enum": ["going", "maybe", "declined"]}}},
    });
    let surveys = json!({
        "SurveyAnswers": {"type": "object", "required": ["answers"], "properties": {
            "answers": {"type": "array", "maxItems": 30, "items": {"type": "object", "required": ["question"], "properties": {
                "question": {"type": "integer", "minimum": 1, "maximum": i64::MAX},
                "choices": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": i64::MAX}},
                "scale": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
                "text": {"type": ["string", "null"], "maxLength": 2000}}}}}},
    });
    let question = json!({"type": "object", "required": ["kind", "prompt"], "properties": {
        "kind": {"type": "string", "enum": ["one", "several", "scale", "text"]},
        "prompt": {"type": "string", "maxLength": 300},
        "choices": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 150}},
        "correct": {"type": "array", "items": {"type": "integer", "minimum": 0}, "description": "a quiz's right choices, by position"},
        "explanation": {"type": "string", "maxLength": 1000, "description": "a quiz's, shown once answered"},
        "optional": {"type": "boolean", "default": false}}});
    let survey_create = json!({
        "SurveyCreate": {"type": "object", "required": ["title", "questions"], "properties": {
            "title": {"type": "string", "maxLength": 150, "pattern": NOT_BLANK},
            "body": {"type": "string", "description": "Its introduction (Markdown; may be empty)"},
            "visibility": {"type": ["string", "null"], "enum": ["", "public", "organisation", "instance", "followers", null], "default": "public"},
            "community": {"type": ["string", "null"], "description": "The community it is asked in (its members ask)"},
            "quiz": {"type": "boolean", "default": false},
            "leaderboard": {"type": ["boolean", "null"], "default": true},
            "anonymous": {"type": "boolean", "default": false},
            "closes_at": {"anyOf": [{"type": "null"}, {"type": "string", "format": "date-time"}], "description": "in the future, within a year; none: open until closed"},
            "questions": {"type": "array", "minItems": 1, "maxItems": 30, "items": question}}},
    });
    // An event's fields, for planning and changing one.
    let event = json!({
        "title": {"type": "string", "maxLength": 150, "pattern": NOT_BLANK},
        "starts_at": {"type": "string", "description": "RFC 3339, or a local time (2026-12-10T09:00) in time_zone"},
        "ends_at": {"type": ["string", "null"], "description": "the same way; an hour after the start when absent"},
        "time_zone": {"type": "string", "description": "a zone of the time zone database (Europe/Paris)"},
        "place": {"type": ["string", "null"], "maxLength": 200},
        "online_url": {"type": ["string", "null"], "maxLength": 2000, "description": "http or https"},
        "capacity": {"type": ["integer", "null"], "minimum": 1, "maximum": 100000},
        "waiting_list": {"type": ["boolean", "null"], "default": true}
    });
    let mut create = event.clone();
    if let Value::Object(fields) = &mut create {
        fields.insert(
            "body".into(),
            json!({"type": "string", "description": "Its description (Markdown; may be empty)"}),
        );
        fields.insert("visibility".into(), json!({"type": "string", "enum": ["public", "organisation", "instance", "followers"], "default": "public"}));
        fields.insert("community".into(), json!({"type": ["string", "null"], "description": "The community it is planned in (its members plan)"}));
    }
    let events = json!({
        "EventCreate": {"type": "object", "required": ["title", "starts_at", "time_zone"], "properties": create},
        "EventChange": {"type": "object", "required": ["title", "starts_at", "time_zone"], "properties": event},
    });
    for more in [posts, apps, surveys, survey_create, events] {
        if let (Value::Object(all), Value::Object(more)) = (&mut main, more) {
            all.extend(more);
        }
    }
    let zones = json!(chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .collect::<Vec<_>>());
    if let Value::Object(all) = &mut main {
        for (name, schema) in all.iter_mut() {
            if name == "Error" {
                continue;
            }
            finish(schema, &zones);
            // A body's fields are all named: another is refused
            // (web::api::read_json), except where a type takes in
            // another's fields and cannot tell.
            if !["PollCreate", "SurveyCreate", "EventCreate"].contains(&name.as_str()) {
                close(schema);
            }
        }
    }
    main
}

/// Says, in every body schema, what the API reads from every text: a time
/// zone is one of the time zone database's names, and no other text may
/// hold a NUL character.
fn finish(schema: &mut Value, zones: &Value) {
    let Value::Object(map) = schema else { return };
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            if name == "time_zone" {
                if let Value::Object(p) = prop {
                    p.insert("enum".into(), zones.clone());
                }
            }
        }
    }
    let is_text = match map.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_text
        && !["pattern", "enum", "format"]
            .iter()
            .any(|k| map.contains_key(*k))
    {
        map.insert("pattern".into(), json!(TEXT));
    }
    for (key, value) in map.iter_mut() {
        match (key.as_str(), value) {
            ("properties", Value::Object(props)) => {
                props.values_mut().for_each(|p| finish(p, zones))
            }
            ("items", item) => finish(item, zones),
            ("anyOf" | "oneOf" | "allOf", Value::Array(all)) => {
                all.iter_mut().for_each(|p| finish(p, zones))
            }
            _ => {}
        }
    }
}

/// No property but those named (in each branch of a choice).
fn close(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if map.contains_key("properties") {
        map.entry("additionalProperties").or_insert(json!(false));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(all)) = map.get_mut(key) {
            all.iter_mut().for_each(close);
        }
    }
}

fn error_response(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

pub fn document(config: &Config) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in ROUTES {
        let mut op = Map::new();
        op.insert("summary".into(), json!(r.summary));
        op.insert(
            "operationId".into(),
            json!(format!(
                "{}_{}",
                r.method,
                r.path.trim_matches('/').replace(['/', '{', '}', '.'], "_")
            )),
        );
        let mut params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(path_param)
            .collect();
        params.extend(query_params(r.method, r.path));
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if !r.body.is_empty() {
            op.insert(
                "requestBody".into(),
                // An invitation needs no e-mail address: it may come without a body.
                json!({"required": r.path != "/admin/invitations", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", r.body)}}}}),
            );
        } else if r.path == "/admin/instances/import" {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}}),
            );
        } else if r.method == "post"
            && (r.path == "/communities/{name}/documents"
                || r.path == "/documents/{id}/versions"
                || r.path == "/media")
        {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}}}}),
            );
        } else if (r.path == "/me/photo" || r.path == "/communities/{name}/picture")
            && r.method == "put"
        {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "image/webp": {"schema": {"type": "string", "format": "binary"}}}}),
            );
        }
        if r.auth {
            op.insert("security".into(), json!([{"bearer": []}]));
        } else {
            op.insert("security".into(), json!([]));
        }
        let mut responses = Map::new();
        responses.insert("2XX".into(), json!({"description": "Success"}));
        responses.insert(
            "4XX".into(),
            error_response("Invalid request, not allowed or not found"),
        );
        responses.insert("5XX".into(), error_response("Server error"));
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry
            .as_object_mut()
            .expect("path item is an object")
            .insert(r.method.to_string(), Value::Object(op));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{} API", config.instance_name),
            "version": env!("CARGO_PKG_VERSION"),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": format!("{}/api/v1", config.base())}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "A personal API token (settings page, or POST /auth/token)"}},
        },
    })
}
