//! The event log: what happened, recorded by the features in the
//! transaction of the change itself.
//!
//! A feature that changes something other instances must hear about calls
//! [`record`] with a typed [`Event`] inside its write transaction. Nothing
//! here knows about ActivityPub: the federation layer reads the log later
//! (`federation::outbox::expand`), matches every [`Event`] exhaustively, and
//! turns each into one activity and its deliveries. So a change and the news
//! of it are committed together or not at all, and a new kind of event does
//! not compile until the federation layer says what it becomes.
//!
//! The log is the `fed_events` table: a stable kind name, the acting
//! account, the object's id and one text detail. [`Event::encode`] and
//! [`Event::decode`] are the only places that know that shape.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::fed_events;
use crate::db::DbConn;

/// Something that happened, by whom, to what. Ids are `users.id` for
/// people and communities (a community is an account) and `content.id`
/// for posts, comments and document entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A post, comment or document entry appeared: written here by
    /// `author`, or received by a community of ours that redistributes it.
    Published { author: i64, content: i64 },
    /// It was edited (or pinned, by its community: then `by` is the
    /// community).
    Edited { by: i64, content: i64 },
    /// It was deleted by its author, a moderator or its community, with the
    /// moderator's reason when there is one.
    Deleted {
        by: i64,
        content: i64,
        reason: Option<String>,
    },
    /// A person reacted (`reaction` is a reaction kind such as `like`).
    Reacted {
        person: i64,
        content: i64,
        reaction: String,
    },
    /// A person withdrew a reaction.
    Unreacted {
        person: i64,
        content: i64,
        reaction: String,
    },
    /// A local person follows a remote person.
    Followed { follower: i64, followee: i64 },
    /// A local person stopped following a remote person (`follow_id`: the
    /// id of the Follow being undone, when known).
    Unfollowed {
        follower: i64,
        followee: i64,
        follow_id: Option<String>,
    },
    /// A local person accepted a remote follower's Follow `follow_id`.
    FollowAccepted {
        followee: i64,
        follower: i64,
        follow_id: String,
    },
    /// A local person's profile or a local community's public face changed.
    ProfileChanged { account: i64 },
    /// A local person's account was deleted.
    AccountDeleted { person: i64 },
    /// A local person asks to join a remote community.
    JoinRequested { person: i64, community: i64 },
    /// A local person leaves a remote community (`follow_id`: the join
    /// request being undone, when known).
    Left {
        person: i64,
        community: i64,
        follow_id: Option<String>,
    },
    /// A local community accepts a remote person's join request.
    MemberAccepted {
        community: i64,
        person: i64,
        follow_id: Option<String>,
    },
    /// A local community refuses or removes a remote person.
    MemberRefused {
        community: i64,
        person: i64,
        follow_id: Option<String>,
    },
    /// A local community invites a remote person.
    Invited { community: i64, person: i64 },
    /// A local community's settings changed.
    CommunityChanged { community: i64 },
    /// A local moderator of a remote community asks it to act; `request` is
    /// the request as JSON (see `communities::moderation`).
    ModerationRequested {
        moderator: i64,
        community: i64,
        request: String,
    },
    /// A local community gives a remote member a role.
    RoleGiven {
        community: i64,
        person: i64,
        role: String,
    },
    /// A local person deletes a document of a remote community.
    DocumentDeleted { person: i64, document: i64 },
    /// A local person endorses a skill of a person of another site (whose
    /// site keeps the endorsements).
    Endorsed {
        endorser: i64,
        person: i64,
        skill: String,
    },
    /// A local person withdraws that endorsement.
    Unendorsed {
        endorser: i64,
        person: i64,
        skill: String,
    },
    /// A local person chose answer `option` of a poll of another instance
    /// (one event per answer: each is sent as its own vote).
    Voted { person: i64, option: i64 },
    /// The counts or the state of a poll or an event of this site changed
    /// (a vote, a poll's closing, an answer to an event): its audience and
    /// those elsewhere who voted or answered hear of them.
    Counted { author: i64, content: i64 },
    /// A local person answered an event of another instance, or withdrew
    /// their answer (what they answer now is read when it is sent).
    Answered {
        person: i64,
        event: i64,
        /// The answer given before (`going`, `maybe`, `declined`; empty
        /// when none): what a withdrawal undoes.
        before: String,
    },
    /// A local person confirmed having read a must-read of a community of
    /// another instance, which keeps the tally.
    ReadConfirmed { person: i64, content: i64 },
    /// A local person responded to a survey or a quiz of another instance
    /// (`response`: their response, read when it is sent).
    Responded { person: i64, response: i64 },
}

/// One row of the log, read back.
#[derive(Debug, Clone)]
pub struct Logged {
    pub id: i64,
    pub event: Event,
    pub created_at: NaiveDateTime,
}

/// A log row as written (public only because [`record`]'s bound names it).
#[derive(Insertable)]
#[diesel(table_name = fed_events)]
pub struct Row {
    kind: &'static str,
    actor_id: i64,
    object_id: Option<i64>,
    extra: String,
    created_at: NaiveDateTime,
}

/// How many events this process has recorded (in transactions committed
/// or not): a request that recorded none has nothing for the delivery
/// worker, which is then left asleep.
static RECORDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The number of events this process has recorded so far (see
/// [`RECORDED`]); compare two readings to learn whether any was recorded in
/// between.
pub fn recorded() -> u64 {
    RECORDED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Records `event` with the caller's connection, inside the caller's write
/// transaction.
pub fn record(c: &mut DbConn, event: Event) -> QueryResult<()> {
    RECORDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (kind, actor_id, object_id, extra) = event.encode();
    diesel::insert_into(fed_events::table)
        .values(Row {
            kind,
            actor_id,
            object_id,
            extra,
            created_at: crate::db::now(),
        })
        .execute(c)?;
    Ok(())
}

fn opt(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl Event {
    /// The stored shape: kind name, acting account, object, detail.
    pub fn encode(self) -> (&'static str, i64, Option<i64>, String) {
        use Event::*;
        match self {
            Published { author, content } => ("post", author, Some(content), String::new()),
            Edited { by, content } => ("edit", by, Some(content), String::new()),
            Deleted {
                by,
                content,
                reason,
            } => ("delete", by, Some(content), reason.unwrap_or_default()),
            Reacted {
                person,
                content,
                reaction,
            } => ("react", person, Some(content), reaction),
            Unreacted {
                person,
                content,
                reaction,
            } => ("unreact", person, Some(content), reaction),
            Followed { follower, followee } => ("follow", follower, Some(followee), String::new()),
            Unfollowed {
                follower,
                followee,
                follow_id,
            } => (
                "unfollow",
                follower,
                Some(followee),
                follow_id.unwrap_or_default(),
            ),
            FollowAccepted {
                followee,
                follower,
                follow_id,
            } => ("accept", followee, Some(follower), follow_id),
            ProfileChanged { account } => ("profile", account, None, String::new()),
            AccountDeleted { person } => ("delete_account", person, None, String::new()),
            JoinRequested { person, community } => ("join", person, Some(community), String::new()),
            Left {
                person,
                community,
                follow_id,
            } => (
                "leave",
                person,
                Some(community),
                follow_id.unwrap_or_default(),
            ),
            MemberAccepted {
                community,
                person,
                follow_id,
            } => (
                "member_accept",
                community,
                Some(person),
                follow_id.unwrap_or_default(),
            ),
            MemberRefused {
                community,
                person,
                follow_id,
            } => (
                "member_reject",
                community,
                Some(person),
                follow_id.unwrap_or_default(),
            ),
            Invited { community, person } => ("invite", community, Some(person), String::new()),
            CommunityChanged { community } => ("community_update", community, None, String::new()),
            ModerationRequested {
                moderator,
                community,
                request,
            } => ("moderate", moderator, Some(community), request),
            RoleGiven {
                community,
                person,
                role,
            } => ("member_role", community, Some(person), role),
            DocumentDeleted { person, document } => {
                ("document_delete", person, Some(document), String::new())
            }
            Endorsed {
                endorser,
                person,
                skill,
            } => ("endorse", endorser, Some(person), skill),
            Unendorsed {
                endorser,
                person,
                skill,
            } => ("unendorse", endorser, Some(person), skill),
            Voted { person, option } => ("vote", person, Some(option), String::new()),
            Counted { author, content } => ("count", author, Some(content), String::new()),
            Answered {
                person,
                event,
                before,
            } => ("rsvp", person, Some(event), before),
            ReadConfirmed { person, content } => ("read", person, Some(content), String::new()),
            Responded { person, response } => ("respond", person, Some(response), String::new()),
        }
    }

    /// Reads a stored event back; `None` for a kind this version does not
    /// know or a row without the object its kind needs.
    pub fn decode(kind: &str, actor: i64, object: Option<i64>, extra: String) -> Option<Event> {
        use Event::*;
        Some(match kind {
            "profile" => ProfileChanged { account: actor },
            "delete_account" => AccountDeleted { person: actor },
            "community_update" => CommunityChanged { community: actor },
            _ => {
                let object = object?;
                match kind {
                    "post" => Published {
                        author: actor,
                        content: object,
                    },
                    "edit" => Edited {
                        by: actor,
                        content: object,
                    },
                    "delete" => Deleted {
                        by: actor,
                        content: object,
                        reason: opt(extra),
                    },
                    "react" => Reacted {
                        person: actor,
                        content: object,
                        reaction: extra,
                    },
                    "unreact" => Unreacted {
                        person: actor,
                        content: object,
                        reaction: extra,
                    },
                    "follow" => Followed {
                        follower: actor,
                        followee: object,
                    },
                    "unfollow" => Unfollowed {
                        follower: actor,
                        followee: object,
                        follow_id: opt(extra),
                    },
                    "accept" => FollowAccepted {
                        followee: actor,
                        follower: object,
                        follow_id: extra,
                    },
                    "join" => JoinRequested {
                        person: actor,
                        community: object,
                    },
                    "leave" => Left {
                        person: actor,
                        community: object,
                        follow_id: opt(extra),
                    },
                    "member_accept" => MemberAccepted {
                        community: actor,
                        person: object,
                        follow_id: opt(extra),
                    },
                    "member_reject" => MemberRefused {
                        community: actor,
                        person: object,
                        follow_id: opt(extra),
                    },
                    "invite" => Invited {
                        community: actor,
                        person: object,
                    },
                    "moderate" => ModerationRequested {
                        moderator: actor,
                        community: object,
                        request: extra,
                    },
                    "member_role" => RoleGiven {
                        community: actor,
                        person: object,
                        role: extra,
                    },
                    "document_delete" => DocumentDeleted {
                        person: actor,
                        document: object,
                    },
                    "endorse" => Endorsed {
                        endorser: actor,
                        person: object,
                        skill: extra,
                    },
                    "unendorse" => Unendorsed {
                        endorser: actor,
                        person: object,
                        skill: extra,
                    },
                    "vote" => Voted {
                        person: actor,
                        option: object,
                    },
                    // `poll_count`: as the first versions wrote it.
                    "count" | "poll_count" => Counted {
                        author: actor,
                        content: object,
                    },
                    "rsvp" => Answered {
                        person: actor,
                        event: object,
                        before: extra,
                    },
                    "read" => ReadConfirmed {
                        person: actor,
                        content: object,
                    },
                    "respond" => Responded {
                        person: actor,
                        response: object,
                    },
                    _ => return None,
                }
            }
        })
    }

    /// The account that acted (whose key signs what the event becomes,
    /// unless the federation layer decides that a community speaks).
    pub fn actor(&self) -> i64 {
        self.clone().encode().1
    }

    /// The post, comment or document entry the event is about, if any.
    pub fn content(&self) -> Option<i64> {
        use Event::*;
        match self {
            Published { content, .. }
            | Edited { content, .. }
            | Deleted { content, .. }
            | Reacted { content, .. }
            | Unreacted { content, .. }
            | Counted { content, .. } => Some(*content),
            _ => None,
        }
    }
}

/// Reads up to `limit` logged events, oldest first. Rows of an unknown kind
/// are returned as `Err(id)` so that the caller can drop them.
pub fn oldest(conn: &mut DbConn, limit: i64) -> crate::error::AppResult<Vec<Result<Logged, i64>>> {
    type Raw = (i64, String, i64, Option<i64>, String, NaiveDateTime);
    let rows: Vec<Raw> = fed_events::table
        .order(fed_events::id.asc())
        .limit(limit)
        .select((
            fed_events::id,
            fed_events::kind,
            fed_events::actor_id,
            fed_events::object_id,
            fed_events::extra,
            fed_events::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, actor, object, extra, created_at)| {
            match Event::decode(&kind, actor, object, extra) {
                Some(event) => Ok(Logged {
                    id,
                    event,
                    created_at,
                }),
                None => Err(id),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_back_as_itself() {
        let all = vec![
            Event::Published {
                author: 1,
                content: 2,
            },
            Event::Edited { by: 1, content: 2 },
            Event::Deleted {
                by: 1,
                content: 2,
                reason: None,
            },
            Event::Deleted {
                by: 1,
                content: 2,
                reason: Some("off topic".into()),
            },
            Event::Reacted {
                person: 1,
                content: 2,
                reaction: "thanks".into(),
            },
            Event::Unreacted {
                person: 1,
                content: 2,
                reaction: "like".into(),
            },
            Event::Followed {
                follower: 1,
                followee: 2,
            },
            Event::Unfollowed {
                follower: 1,
                followee: 2,
                follow_id: Some("https://a/f/1".into()),
            },
            Event::Unfollowed {
                follower: 1,
                followee: 2,
                follow_id: None,
            },
            Event::FollowAccepted {
                followee: 1,
                follower: 2,
                follow_id: "https://b/f/9".into(),
            },
            Event::ProfileChanged { account: 3 },
            Event::AccountDeleted { person: 3 },
            Event::JoinRequested {
                person: 1,
                community: 4,
            },
            Event::Left {
                person: 1,
                community: 4,
                follow_id: None,
            },
            Event::MemberAccepted {
                community: 4,
                person: 1,
                follow_id: Some("https://b/f/2".into()),
            },
            Event::MemberRefused {
                community: 4,
                person: 1,
                follow_id: None,
            },
            Event::Voted {
                person: 1,
                option: 7,
            },
            Event::Counted {
                author: 1,
                content: 2,
            },
            Event::Answered {
                person: 1,
                event: 2,
                before: "maybe".into(),
            },
            Event::ReadConfirmed {
                person: 1,
                content: 2,
            },
            Event::Responded {
                person: 1,
                response: 2,
            },
            Event::Invited {
                community: 4,
                person: 1,
            },
            Event::CommunityChanged { community: 4 },
            Event::ModerationRequested {
                moderator: 1,
                community: 4,
                request: "{\"action\":\"pin\"}".into(),
            },
            Event::RoleGiven {
                community: 4,
                person: 1,
                role: "moderator".into(),
            },
            Event::DocumentDeleted {
                person: 1,
                document: 5,
            },
            Event::Endorsed {
                endorser: 1,
                person: 2,
                skill: "soudure tig".into(),
            },
            Event::Unendorsed {
                endorser: 1,
                person: 2,
                skill: "rust".into(),
            },
        ];
        for e in all {
            let (kind, actor, object, extra) = e.clone().encode();
            assert_eq!(
                Event::decode(kind, actor, object, extra).as_ref(),
                Some(&e),
                "{kind}"
            );
        }
    }

    #[test]
    fn unknown_or_incomplete_rows_are_not_events() {
        assert_eq!(Event::decode("teleport", 1, Some(2), String::new()), None);
        assert_eq!(Event::decode("post", 1, None, String::new()), None);
    }
}
