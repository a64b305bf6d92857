//! The audience rules as a table: viewer × visibility × relation → seen or
//! not, on a real SQLite database with the real migrations.

use diesel::prelude::*;

use super::*;
use crate::db::schema::{communities, community_members, content, follows, mentions, users};
use crate::db::{now, Db};

struct World {
    _dir: tempfile::TempDir,
    db: Db,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::open(&url, 1).unwrap();
        db.migrate().unwrap();
        World { _dir: dir, db }
    }

    fn conn(&self) -> crate::db::PooledConn {
        self.db.get().unwrap()
    }

    /// A person (`domain`: None here) or a community (`group`).
    fn account(&self, name: &str, domain: Option<&str>, group: bool) -> i64 {
        let mut conn = self.conn();
        diesel::insert_into(users::table)
            .values((
                users::username.eq(name),
                users::email.eq(format!("{name}@example.test")),
                users::password_hash.eq(""),
                users::created_at.eq(now()),
                users::domain.eq(domain),
                users::actor_type.eq(if group { "group" } else { "person" }),
            ))
            .returning(users::id)
            .get_result(&mut *conn)
            .unwrap()
    }

    fn community(&self, name: &str, domain: Option<&str>, v: &str, partners: bool) -> i64 {
        let id = self.account(name, domain, true);
        let mut conn = self.conn();
        diesel::insert_into(communities::table)
            .values((
                communities::actor_id.eq(id),
                communities::visibility.eq(v),
                communities::join_policy.eq("open"),
                communities::partners.eq(partners),
                communities::created_at.eq(now()),
            ))
            .execute(&mut *conn)
            .unwrap();
        id
    }

    fn member(&self, community: i64, person: i64, status: &str) {
        let mut conn = self.conn();
        diesel::insert_into(community_members::table)
            .values((
                community_members::community_id.eq(community),
                community_members::user_id.eq(person),
                community_members::role.eq("member"),
                community_members::status.eq(status),
                community_members::created_at.eq(now()),
                community_members::updated_at.eq(now()),
            ))
            .execute(&mut *conn)
            .unwrap();
    }

    fn follow(&self, follower: i64, followee: i64) {
        let mut conn = self.conn();
        diesel::insert_into(follows::table)
            .values((
                follows::follower_id.eq(follower),
                follows::followee_id.eq(followee),
                follows::accepted.eq(true),
                follows::created_at.eq(now()),
            ))
            .execute(&mut *conn)
            .unwrap();
    }

    fn post(&self, author: i64, v: &str, community: Option<i64>, root: Option<i64>) -> i64 {
        self.insert(author, v, community, root, root)
    }

    /// A comment in the thread of `root` answering `parent`.
    fn post_reply(&self, author: i64, v: &str, root: i64, parent: i64) -> i64 {
        self.insert(author, v, None, Some(root), Some(parent))
    }

    fn insert(
        &self,
        author: i64,
        v: &str,
        community: Option<i64>,
        root: Option<i64>,
        parent: Option<i64>,
    ) -> i64 {
        let mut conn = self.conn();
        diesel::insert_into(content::table)
            .values((
                content::kind.eq(if root.is_some() { "comment" } else { "post" }),
                content::author_id.eq(author),
                content::reply_to_id.eq(parent),
                content::root_id.eq(root),
                content::visibility.eq(v),
                content::community_id.eq(community),
                content::body.eq("x"),
                content::body_html.eq("<p>x</p>"),
                content::created_at.eq(now()),
            ))
            .returning(content::id)
            .get_result(&mut *conn)
            .unwrap()
    }

    fn mention(&self, post: i64, person: i64) {
        let mut conn = self.conn();
        diesel::insert_into(mentions::table)
            .values((mentions::content_id.eq(post), mentions::user_id.eq(person)))
            .execute(&mut *conn)
            .unwrap();
    }

    fn reads(&self, viewer: &Viewer, id: i64) -> bool {
        may_read(&mut self.conn(), viewer, id).unwrap()
    }
}

fn instance(domain: &str, trust: Decision) -> Viewer {
    Viewer::Instance(Instance {
        domain: domain.into(),
        trust,
    })
}

#[test]
fn posts_outside_communities() {
    let w = World::new();
    let ann = w.account("ann", None, false);
    let bob = w.account("bob", None, false); // follows ann
    let cid = w.account("cid", None, false); // mentioned
    let dan = w.account("dan", None, false); // nobody to ann
    let rem = w.account("rem", Some("beta.test"), false); // follows ann
    w.follow(bob, ann);
    w.follow(rem, ann);

    let member = instance("beta.test", Decision::Member);
    let partner = instance("beta.test", Decision::Partner);
    let stranger = instance("gamma.test", Decision::Member);
    let (b, c, d, a) = (
        Viewer::Person(bob),
        Viewer::Person(cid),
        Viewer::Person(dan),
        Viewer::Person(ann),
    );

    // visibility, then who sees it: ann, bob, cid, dan, member beta,
    // partner beta, member gamma (no follower there), nobody.
    let table: &[(&str, [bool; 8])] = &[
        ("public", [true, true, true, true, true, true, true, true]),
        (
            "organisation",
            [true, true, true, true, true, false, true, false],
        ),
        (
            "instance",
            [true, true, true, true, false, false, false, false],
        ),
        (
            "followers",
            [true, true, true, false, true, true, false, false],
        ),
        (
            "direct",
            [true, false, true, false, false, false, false, false],
        ),
    ];
    for (v, expected) in table {
        let p = w.post(ann, v, None, None);
        w.mention(p, cid);
        let seen = [
            w.reads(&a, p),
            w.reads(&b, p),
            w.reads(&c, p),
            w.reads(&d, p),
            w.reads(&member, p),
            w.reads(&partner, p),
            w.reads(&stranger, p),
            w.reads(&Viewer::Nobody, p),
        ];
        assert_eq!(&seen, expected, "visibility {v}");
    }
}

#[test]
fn a_direct_reply_is_seen_by_its_author_and_the_people_it_addresses_only() {
    let w = World::new();
    let ann = w.account("ann", None, false);
    let bob = w.account("bob", None, false);
    let rem = w.account("rem", Some("beta.test"), false);
    let post = w.post(ann, "public", None, None);
    let reply = w.post(rem, "direct", None, Some(post));
    w.mention(reply, ann);
    assert!(w.reads(&Viewer::Person(ann), reply));
    assert!(!w.reads(&Viewer::Person(bob), reply));
    assert!(w.reads(&Viewer::Person(bob), post));
    assert!(!w.reads(&instance("beta.test", Decision::Member), reply));
    assert!(!w.reads(&Viewer::Nobody, reply));
}

#[test]
fn community_posts_follow_their_community() {
    let w = World::new();
    let ann = w.account("ann", None, false); // member everywhere
    let bob = w.account("bob", None, false); // member of none, mentioned
    let rem = w.account("rem", Some("beta.test"), false);
    let inv = w.account("inv", Some("gamma.test"), false);

    // visibility, partners, beta's member status; then who sees a post:
    // ann, bob, beta as member, beta as partner, gamma (invited there),
    // nobody.
    let table: &[(&str, bool, Option<&str>, [bool; 6])] = &[
        (
            "public",
            false,
            None,
            [true, true, true, false, true, false],
        ),
        ("public", true, None, [true, true, true, true, true, false]),
        (
            "organisation",
            true,
            None,
            [true, true, true, false, true, false],
        ),
        (
            "private",
            false,
            Some("member"),
            [true, false, true, false, false, false],
        ),
        (
            "private",
            false,
            Some("pending"),
            [true, false, false, false, false, false],
        ),
        (
            "secret",
            true,
            Some("member"),
            [true, false, true, true, false, false],
        ),
        (
            "secret",
            false,
            None,
            [true, false, false, false, false, false],
        ),
    ];
    for (i, (v, partners, beta, expected)) in table.iter().enumerate() {
        let cm = w.community(&format!("c{i}"), None, v, *partners);
        w.member(cm, ann, "member");
        w.member(cm, inv, "invited");
        if let Some(status) = beta {
            w.member(cm, rem, status);
        }
        let p = w.post(ann, "community", Some(cm), None);
        w.mention(p, bob);
        let seen = [
            w.reads(&Viewer::Person(ann), p),
            w.reads(&Viewer::Person(bob), p),
            w.reads(&instance("beta.test", Decision::Member), p),
            w.reads(&instance("beta.test", Decision::Partner), p),
            w.reads(&instance("gamma.test", Decision::Member), p),
            w.reads(&Viewer::Nobody, p),
        ];
        assert_eq!(
            &seen, expected,
            "community {v}, partners {partners}, beta {beta:?}"
        );
    }
}

#[test]
fn an_instance_sees_a_community_as_its_members_allow() {
    let w = World::new();
    let rem = w.account("rem", Some("beta.test"), false);
    let secret = w.community("s", None, "secret", false);
    let private = w.community("p", None, "private", false);
    let beta = Instance {
        domain: "beta.test".into(),
        trust: Decision::Member,
    };
    let mut conn = w.conn();
    let c = &mut *conn;
    // Nobody from beta yet: a private community exists, a secret one not.
    assert!(instance_may_see_community(c, private, &beta, Need::Existence).unwrap());
    assert!(!instance_may_see_community(c, private, &beta, Need::Content).unwrap());
    assert!(!instance_may_see_community(c, secret, &beta, Need::Existence).unwrap());
    drop(conn);
    w.member(secret, rem, "invited");
    let mut conn = w.conn();
    let c = &mut *conn;
    assert!(instance_may_see_community(c, secret, &beta, Need::Existence).unwrap());
    assert!(!instance_may_see_community(c, secret, &beta, Need::Content).unwrap());
    // A blocked instance sees nothing, whatever its people are.
    let blocked = Instance {
        domain: "beta.test".into(),
        trust: Decision::Blocked {
            by: "beta.test".into(),
            reason: String::new(),
        },
    };
    assert!(!instance_may_see_community(c, secret, &blocked, Need::Existence).unwrap());
}

#[test]
fn deliveries_follow_the_audience() {
    let w = World::new();
    let ann = w.account("ann", None, false);
    let rem = w.account("rem", Some("beta.test"), false);
    let other = w.account("oth", Some("gamma.test"), false);
    w.follow(rem, ann);
    let rec = |id| recipients(&mut w.conn(), id).unwrap();

    let public = w.post(ann, "public", None, None);
    assert_eq!(rec(public).people, BTreeSet::from([rem]));
    assert!(!rec(public).members_only);
    let org = w.post(ann, "organisation", None, None);
    assert!(rec(org).members_only);
    let local = w.post(ann, "instance", None, None);
    w.mention(local, other);
    assert!(rec(local).people.is_empty(), "local posts never leave");
    let followers = w.post(ann, "followers", None, None);
    w.mention(followers, other);
    assert_eq!(rec(followers).people, BTreeSet::from([rem, other]));
    // A reply to a remote post reaches its author.
    let theirs = w.post(other, "public", None, None);
    let reply = w.post(ann, "public", None, Some(theirs));
    assert!(rec(reply).people.contains(&other));
    // An answer to a reply addressed to ann alone (stored `direct` under
    // ann's public post) goes back to its writer only, not to ann's
    // followers.
    let private = w.post(other, "direct", None, Some(public));
    let answer = w.post_reply(ann, "direct", public, private);
    assert_eq!(rec(answer).people, BTreeSet::from([other]));
    assert!(!rec(answer).members_only);
}

#[test]
fn the_narrowest_audience_wins_for_remote_replies() {
    use Visibility::*;
    let cases = [
        (Public, Public, false, Public),
        (Public, Direct, false, Direct),
        (Public, Followers, false, Direct),
        (Organisation, Followers, true, Direct),
        (Followers, Public, false, Followers),
        (Followers, Followers, true, Followers),
        (Followers, Followers, false, Direct),
        (Direct, Public, false, Direct),
        (Community, Direct, false, Community),
    ];
    for (parent, own, same, expected) in cases {
        assert_eq!(
            narrowest(parent, own, same),
            expected,
            "{parent:?} {own:?} {same}"
        );
    }
}

#[test]
fn trust_levels_open_communities() {
    use CommunityVisibility as V;
    let blocked = Decision::Blocked {
        by: "beta.test".into(),
        reason: String::new(),
    };
    let cases = [
        (V::Public, false, Decision::Member, true),
        (V::Public, false, Decision::Partner, false),
        (V::Public, true, Decision::Partner, true),
        (V::Organisation, true, Decision::Partner, false),
        (V::Public, false, Decision::Unknown, true),
        (V::Public, true, Decision::Unknown, false),
        (V::Private, false, Decision::Unknown, false),
        (V::Secret, true, blocked.clone(), false),
    ];
    for (v, partners, trust, expected) in cases {
        assert_eq!(
            community_open_to(v, partners, &trust),
            expected,
            "{v:?} partners={partners} {trust:?}"
        );
    }
    assert_eq!(Visibility::stored("something new"), Visibility::Direct);
    assert_eq!(
        CommunityVisibility::stored("?"),
        CommunityVisibility::Secret
    );
}

#[test]
fn a_guest_sees_their_communities_and_what_names_them_only() {
    let w = World::new();
    let ann = w.account("ann", None, false); // an employee
    let gus = w.account("gus", None, false); // a partner's guest
    {
        let mut conn = w.conn();
        diesel::insert_into(crate::db::schema::guests::table)
            .values((
                crate::db::schema::guests::user_id.eq(gus),
                crate::db::schema::guests::created_at.eq(now()),
                crate::db::schema::guests::expires_at.eq(now() + chrono::Duration::days(30)),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let theirs = w.community("theirs", None, "public", false);
    let other = w.community("other", None, "public", false);
    let private = w.community("private", None, "private", false);
    w.member(theirs, gus, "member");
    w.member(private, gus, "invited");
    // (post, seen by ann, seen by gus)
    let named = w.post(ann, "public", None, None);
    w.mention(named, gus);
    let followed = w.post(ann, "followers", None, None);
    w.follow(gus, ann);
    let table = [
        (w.post(ann, "community", Some(theirs), None), true, true),
        (w.post(ann, "community", Some(other), None), true, false),
        (w.post(ann, "public", None, None), true, false),
        (w.post(ann, "organisation", None, None), true, false),
        (w.post(ann, "instance", None, None), true, false),
        (named, true, true),
        (followed, true, true),
        (w.post(gus, "community", Some(theirs), None), true, true),
    ];
    for (i, (p, by_ann, by_gus)) in table.iter().enumerate() {
        assert_eq!(w.reads(&Viewer::Person(ann), *p), *by_ann, "row {i}, ann");
        assert_eq!(w.reads(&Viewer::Person(gus), *p), *by_gus, "row {i}, gus");
    }
    let mut conn = w.conn();
    let c = &mut *conn;
    assert!(confined(c, gus).unwrap() && !confined(c, ann).unwrap());
    let findable: Vec<i64> = communities::table
        .filter(communities_findable_by(gus))
        .select(communities::actor_id)
        .order(communities::actor_id)
        .load(c)
        .unwrap();
    assert_eq!(findable, vec![theirs, private], "a member, and invited");
    assert_eq!(
        communities::table
            .filter(communities_findable_by(ann))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
        3
    );
    assert!(may_see_person(c, gus, gus).unwrap());
    assert!(!may_see_person(c, gus, ann).unwrap());
    drop(conn);
    w.member(theirs, ann, "member");
    let mut conn = w.conn();
    let c = &mut *conn;
    assert!(may_see_person(c, gus, ann).unwrap());
    assert!(may_see_person(c, ann, gus).unwrap());
    use CommunityVisibility as V;
    assert!(!may_find_community(V::Public, None, true));
    assert!(may_find_community(V::Public, None, false));
    assert!(may_find_community(V::Secret, Some("invited"), true));
    assert!(!may_read_community(V::Public, Some("invited"), true));
    assert!(may_read_community(V::Public, None, false));
    assert!(may_read_community(V::Private, Some("member"), true));
}
