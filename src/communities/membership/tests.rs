use super::*;

fn code(r: AppResult<()>) -> &'static str {
    r.err().map(|e| e.code).unwrap_or("ok")
}

#[test]
fn the_rules_of_each_act() {
    let member = Some(("member", "member"));
    let moderator = Some(("member", "moderator"));
    let pending = Some(("pending", "member"));
    let banned = Some(("banned", "member"));
    let remove = Act::Remove(String::new());
    let ban = Act::Ban(String::new());
    type Case<'a> = (Act, bool, bool, Option<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (Act::Invite, false, false, None, "ok"),
        (
            Act::Invite,
            false,
            false,
            member,
            "community_already_member",
        ),
        (Act::Invite, false, false, banned, "community_banned"),
        (Act::Approve, false, false, pending, "ok"),
        (Act::Approve, false, false, member, "community_no_request"),
        (Act::Refuse, false, false, pending, "ok"),
        (Act::Refuse, false, false, member, "community_no_request"),
        (Act::Refuse, false, false, None, "community_not_member"),
        (remove.clone(), false, false, member, "ok"),
        (remove.clone(), false, false, None, "community_not_member"),
        (
            remove.clone(),
            false,
            true,
            member,
            "community_not_yourself",
        ),
        (
            remove.clone(),
            false,
            false,
            moderator,
            "community_owners_only",
        ),
        (remove, true, false, moderator, "ok"),
        (ban.clone(), false, false, None, "ok"),
        (
            ban.clone(),
            false,
            false,
            moderator,
            "community_owners_only",
        ),
        (ban, false, true, member, "community_not_yourself"),
        (Act::Unban, false, false, banned, "ok"),
        (Act::Unban, false, false, member, "community_not_banned"),
        (
            Act::Role("moderator"),
            false,
            false,
            member,
            "community_owners_only",
        ),
        (
            Act::Role("moderator"),
            true,
            false,
            pending,
            "community_not_member",
        ),
        (Act::Role("owner"), true, false, member, "ok"),
    ];
    for (act, owner, is_self, target, want) in cases {
        assert_eq!(
            code(check(&act, owner, is_self, target)),
            want,
            "{act:?} owner={owner} self={is_self} {target:?}"
        );
    }
}

#[test]
fn acts_are_read_with_their_reason_and_role() {
    assert_eq!(
        Act::parse("ban", " spam ", "").unwrap(),
        Act::Ban("spam".into())
    );
    assert_eq!(
        Act::parse("role", "", "moderator").unwrap(),
        Act::Role("moderator")
    );
    assert_eq!(
        Act::parse("role", "", "king").unwrap_err().code,
        "role_invalid"
    );
    assert_eq!(
        Act::parse("remove", &"x".repeat(MAX_REASON + 1), "")
            .unwrap_err()
            .code,
        "reason_too_long"
    );
    assert_eq!(Act::parse("promote", "", "").unwrap_err().code, "not_found");
}
