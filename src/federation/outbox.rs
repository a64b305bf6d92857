//! The transactional outbox. Features record what happened with
//! [`crate::events::record`] inside the transaction of the change; [`expand`] later turns
//! each event into one activity and one delivery row per target inbox
//! (shared inboxes first), with the audience computed from the data at that
//! moment and filtered by the trust gate. The event is deleted in the same
//! transaction that inserts its deliveries, so an event is expanded once.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use serde_json::Value;

use super::json::{self as apjson, Audience};
use super::protocol::note::Published;
use super::protocol::{SentObject, Verb};
use super::AS_PUBLIC;
use crate::accounts::User;
use crate::audience::{self, Recipients, Visibility};
use crate::config::Config;
use crate::content::ContentRow;
use crate::db::schema::{content, deliveries, fed_events, users};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};
use crate::net::trust::{self, Decision};
use crate::urls::Urls;

/// How often, at most, this process sends the counts of a poll (or an
/// event's answers) while votes keep coming (see [`expand`]): the last
/// counts leave at most this long after the last vote.
const POLL_COUNTS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// When this process last sent the counts of each poll (only those of the
/// last [`POLL_COUNTS_EVERY`] matter, and only they are kept).
static COUNTS_SENT: std::sync::Mutex<Option<HashMap<i64, std::time::Instant>>> =
    std::sync::Mutex::new(None);

/// Whether the counts of `poll` left this process within
/// [`POLL_COUNTS_EVERY`]; if not, they are about to, and that is noted.
fn counts_sent_lately(poll: i64) -> bool {
    let mut guard = COUNTS_SENT.lock().unwrap_or_else(|e| e.into_inner());
    let sent = guard.get_or_insert_with(HashMap::new);
    if sent
        .get(&poll)
        .is_some_and(|at| at.elapsed() < POLL_COUNTS_EVERY)
    {
        return true;
    }
    if sent.len() > 1000 {
        sent.retain(|_, at| at.elapsed() < POLL_COUNTS_EVERY);
    }
    sent.insert(poll, std::time::Instant::now());
    false
}

/// Turns up to `limit` pending events into deliveries; returns how many
/// deliveries were queued.
pub fn expand(conn: &mut DbConn, cfg: &Config, limit: i64) -> AppResult<usize> {
    // Reads only; the write lock is taken per event that has work.
    let events = events::oldest(conn, limit)?;
    let mut queued = 0;
    // The count events of each poll read in this round, and the polls
    // whose counts wait for a later round.
    let mut counts: HashMap<i64, Vec<i64>> = HashMap::new();
    for ev in events.iter().flatten() {
        if let Event::Counted { content, .. } = &ev.event {
            counts.entry(*content).or_default().push(ev.id);
        }
    }
    let mut waiting: BTreeSet<i64> = BTreeSet::new();
    for logged in events {
        let ev = match logged {
            Ok(ev) => ev,
            Err(id) => {
                tracing::warn!(event = id, "dropping an event of unknown kind");
                db::write(conn, |c| {
                    diesel::delete(fed_events::table.find(id)).execute(c)
                })?;
                continue;
            }
        };
        // New counts of a poll (or an event) are read when they are sent,
        // so one Update covers every vote before it. They leave at once
        // unless this process sent that poll's counts less than
        // `POLL_COUNTS_EVERY` ago; then the newest of its events read in
        // this round waits for a later round and the others go, in one
        // write: votes that keep coming make one Update a second, not one
        // per vote (2,000 votes at 100 a second made 133 Updates per
        // instance; 21 now). Only events read here are dropped: with
        // several processes, a vote committed after this read still has
        // its event.
        if let Event::Counted { content: poll, .. } = &ev.event {
            if waiting.contains(poll) {
                continue;
            }
            if counts_sent_lately(*poll) {
                let ids = counts.remove(poll).unwrap_or_default();
                let newest = ids.iter().copied().max().unwrap_or(ev.id);
                let older: Vec<i64> = ids.into_iter().filter(|id| *id < newest).collect();
                if !older.is_empty() {
                    db::write(conn, |c| {
                        diesel::delete(fed_events::table.filter(fed_events::id.eq_any(&older)))
                            .execute(c)
                    })?;
                }
                waiting.insert(*poll);
                continue;
            }
        }
        let built = match build(conn, cfg, ev.id, &ev.event) {
            Ok(b) => b,
            Err(e) if e.kind == crate::error::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let community = community_of(conn, &ev.event)?;
        let now = now();
        let rows: Vec<_> = match &built {
            Some((activity, signer, targets)) => targets
                .iter()
                .map(|(domain, inbox)| {
                    (
                        deliveries::actor_id.eq(Some(*signer)),
                        deliveries::domain.eq(domain.clone()),
                        deliveries::inbox.eq(inbox.clone()),
                        deliveries::activity.eq(activity.to_string()),
                        deliveries::status.eq("pending"),
                        deliveries::next_attempt_at.eq(now),
                        deliveries::created_at.eq(now),
                        deliveries::community_id.eq(community),
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        // The id of a Follow we send is kept, so that its Undo names it.
        let follow_id = match &built {
            Some((activity, _, _)) => activity["id"].as_str().map(str::to_string),
            None => None,
        };

        let n = rows.len();
        db::write(conn, |c| {
            // Another process may have expanded it meanwhile: then do nothing.
            let gone = diesel::delete(fed_events::table.find(ev.id)).execute(c)?;
            if gone == 0 {
                return Ok::<_, AppError>(());
            }
            // A multi-row INSERT does not compile through `DbConn` (diesel
            // writes it differently for each backend), so each backend runs
            // its own.
            if !rows.is_empty() {
                match c {
                    DbConn::Sqlite(c) => diesel::insert_into(deliveries::table)
                        .values(rows)
                        .execute(c)?,
                    DbConn::Pg(c) => diesel::insert_into(deliveries::table)
                        .values(rows)
                        .execute(c)?,
                };
            }
            match (&follow_id, &ev.event) {
                (Some(fid), Event::JoinRequested { person, community }) => {
                    crate::communities::membership::set_follow_id(c, *community, *person, fid)?;
                }
                (Some(fid), Event::Followed { follower, followee }) => {
                    crate::follows::set_activity_id(c, *follower, *followee, fid)?;
                }
                _ => {}
            }
            Ok(())
        })?;
        queued += n;
    }
    Ok(queued)
}

type Built = super::groups::Built;

/// The community an event's deliveries belong to, so that they can be
/// withdrawn when an instance loses its last member there.
fn community_of(conn: &mut DbConn, ev: &Event) -> AppResult<Option<i64>> {
    if let Event::CommunityChanged { community } = ev {
        return Ok(Some(*community));
    }
    let Some(oid) = ev.content() else {
        return Ok(None);
    };
    content::table
        .find(oid)
        .select(content::community_id)
        .first::<Option<i64>>(conn)
        .optional()
        .map(Option::flatten)
        .map_err(AppError::from)
}

/// The post a content row belongs to (itself for a post).
fn root_of(conn: &mut DbConn, row: &ContentRow) -> AppResult<ContentRow> {
    match row.root_id {
        Some(r) => Ok(content::table
            .find(r)
            .select(ContentRow::as_select())
            .first(conn)?),
        None => Ok(row.clone()),
    }
}

fn user(conn: &mut DbConn, id: i64) -> AppResult<User> {
    crate::accounts::find_by_id(conn, id)
}

fn ap_id_of(conn: &mut DbConn, cfg: &Config, u: &User) -> AppResult<String> {
    if u.is_local() {
        return Ok(Urls(cfg).person(&u.username));
    }
    let id: Option<String> = users::table.find(u.id).select(users::ap_id).first(conn)?;
    id.ok_or_else(|| AppError::internal("remote person without actor id"))
}

fn content_ap_id(cfg: &Config, row: &ContentRow) -> String {
    super::objects::note::address(cfg, row)
}

/// Inboxes of the recipients, one per instance where it offers a shared
/// inbox, keeping only instances the trust gate allows now.
fn targets(conn: &mut DbConn, cfg: &Config, r: &Recipients) -> AppResult<Vec<(String, String)>> {
    if r.people.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = r.people.iter().copied().collect();
    let rows: Vec<(Option<String>, String, String)> = users::table
        .filter(users::id.eq_any(&ids))
        .filter(users::domain.is_not_null())
        .filter(users::disabled.eq(false))
        .select((users::domain, users::inbox, users::shared_inbox))
        .load(conn)?;
    let mut domains: Vec<String> = rows.iter().filter_map(|(d, _, _)| d.clone()).collect();
    domains.sort();
    domains.dedup();
    let decisions: HashMap<String, bool> = trust::verdicts(conn, cfg, &domains)?
        .into_iter()
        .map(|(domain, v)| {
            let ok = v.allowed && (!r.members_only || v.decision == Decision::Member);
            (domain, ok)
        })
        .collect();
    let mut out: BTreeSet<(String, String)> = BTreeSet::new();
    for (domain, inbox, shared) in rows {
        let Some(domain) = domain else { continue };
        let ok = decisions.get(&domain).copied().unwrap_or(false);
        let inbox = if shared.is_empty() { inbox } else { shared };
        if ok && !inbox.is_empty() {
            out.insert((domain, inbox));
        }
    }
    Ok(out.into_iter().collect())
}

/// The Note of a local content row with its audience.
fn note_of(
    conn: &mut DbConn,
    cfg: &Config,
    row: &ContentRow,
    root: &ContentRow,
) -> AppResult<(Published, Audience)> {
    let author = user(conn, row.author_id)?;
    let links = super::objects::note::links(conn, cfg, row)?;
    let urls = Urls(cfg);
    let mut mention_ids: Vec<String> = links.mentions.iter().map(|(id, _)| id.clone()).collect();
    let in_reply_to = match row.reply_to_id {
        Some(p) => {
            let parent: ContentRow = content::table
                .find(p)
                .select(ContentRow::as_select())
                .first(conn)?;
            let pa = user(conn, parent.author_id)?;
            mention_ids.push(ap_id_of(conn, cfg, &pa)?);
            Some(content_ap_id(cfg, &parent))
        }
        None => None,
    };
    // A reply follows its thread's audience, unless it answers a reply
    // addressed to a few people (stored `Direct`): then it stays among them.
    let visibility = if row.visibility == Visibility::Direct {
        Visibility::Direct
    } else {
        root.visibility
    };
    mention_ids.sort();
    mention_ids.dedup();
    let mut audience = apjson::audience_for(cfg, visibility, &author.username, &mention_ids);
    if row.root_id.is_some() && visibility == Visibility::Followers {
        // The thread's audience is the post author's followers.
        let ra = user(conn, root.author_id)?;
        if ra.is_local() {
            audience.to.insert(0, urls.followers(&ra.username));
        }
    }
    let note = super::objects::note::publish(
        cfg,
        row,
        &urls.person(&author.username),
        in_reply_to,
        super::objects::note::Addressing {
            to: audience.to.clone(),
            cc: audience.cc.clone(),
            community: None,
        },
        &links,
    )?;
    Ok((note, audience))
}

fn build(conn: &mut DbConn, cfg: &Config, event_id: i64, ev: &Event) -> AppResult<Built> {
    let urls = Urls(cfg);
    let actor = user(conn, ev.actor())?;
    let activity_id = |kind: &str| urls.activity(event_id, kind);
    // Communities: content of a community goes through its Group, and
    // membership has its own activities.
    match ev {
        Event::Published { content: oid, .. }
        | Event::Edited { content: oid, .. }
        | Event::Deleted { content: oid, .. }
        | Event::Reacted { content: oid, .. }
        | Event::Unreacted { content: oid, .. }
        | Event::Counted { content: oid, .. } => {
            let row: ContentRow = content::table
                .find(oid)
                .select(ContentRow::as_select())
                .first(conn)?;
            if row.community_id.is_some() {
                return super::groups::build_content(conn, cfg, event_id, ev, &actor, &row);
            }
            if !actor.is_local() {
                return Ok(None);
            }
            match ev {
                Event::Reacted { reaction, .. } | Event::Unreacted { reaction, .. } => {
                    build_reaction(conn, cfg, event_id, ev, &actor, &row, reaction)
                }
                _ => build_post(conn, cfg, event_id, ev, &actor, &row),
            }
        }
        Event::Voted { option, .. } => build_vote(conn, cfg, event_id, &actor, *option),
        Event::Answered { event, before, .. } => {
            build_answer(conn, cfg, event_id, &actor, *event, before)
        }
        Event::ReadConfirmed { content: read, .. } => {
            build_read(conn, cfg, event_id, &actor, *read)
        }
        Event::Responded { response, .. } => build_response(conn, cfg, event_id, &actor, *response),
        Event::ProfileChanged { .. } if !actor.is_person() => super::groups::build_membership(
            conn,
            cfg,
            event_id,
            &Event::CommunityChanged {
                community: actor.id,
            },
            &actor,
        ),
        Event::ModerationRequested {
            community, request, ..
        } => {
            super::group_moderation::build_request(conn, cfg, event_id, &actor, *community, request)
        }
        Event::RoleGiven { person, role, .. } => {
            super::group_moderation::build_role(conn, cfg, event_id, &actor, *person, role)
        }
        Event::DocumentDeleted { document, .. } => {
            super::group_moderation::build_document_delete(conn, cfg, event_id, &actor, *document)
        }
        Event::JoinRequested { .. }
        | Event::Left { .. }
        | Event::MemberAccepted { .. }
        | Event::MemberRefused { .. }
        | Event::Invited { .. }
        | Event::CommunityChanged { .. } => {
            if !actor.is_local() {
                return Ok(None);
            }
            super::groups::build_membership(conn, cfg, event_id, ev, &actor)
        }
        Event::Followed { followee, .. } | Event::Unfollowed { followee, .. } => {
            if !actor.is_local() {
                return Ok(None);
            }
            let actor_id = urls.person(&actor.username);
            let target = user(conn, *followee)?;
            if target.is_local() {
                return Ok(None);
            }
            let target_ap = ap_id_of(conn, cfg, &target)?;
            let rec = Recipients {
                people: [target.id].into(),
                members_only: false,
            };
            let targets = personal_inbox(conn, cfg, &rec)?;
            let activity = match ev {
                Event::Unfollowed { follow_id, .. } => {
                    let follow_id = follow_id.clone().unwrap_or_else(|| activity_id("follow"));
                    let follow = apjson::follow_ref(&follow_id, &actor_id, &target_ap)?;
                    apjson::activity(&activity_id("undo"), Verb::Undo, &actor_id, follow, None)?
                }
                _ => apjson::activity(
                    &activity_id("follow"),
                    Verb::Follow,
                    &actor_id,
                    SentObject::id(&target_ap)?,
                    None,
                )?,
            };
            Ok(Some((apjson::document(activity)?, actor.id, targets)))
        }
        Event::Endorsed { person, skill, .. } | Event::Unendorsed { person, skill, .. } => {
            if !actor.is_local() {
                return Ok(None);
            }
            let target = user(conn, *person)?;
            if target.is_local() {
                return Ok(None);
            }
            let actor_id = urls.person(&actor.username);
            let target_ap = ap_id_of(conn, cfg, &target)?;
            let rec = Recipients {
                people: [target.id].into(),
                members_only: false,
            };
            let targets = personal_inbox(conn, cfg, &rec)?;
            // The endorsement is a `Like` of the person naming the skill;
            // its `Undo` repeats it (the receiver matches person and skill).
            let endorse =
                apjson::endorsement(&activity_id("endorse"), &actor_id, &target_ap, skill)?;
            let activity = if let Event::Endorsed { .. } = ev {
                endorse
            } else {
                apjson::activity(
                    &activity_id("undo"),
                    Verb::Undo,
                    &actor_id,
                    SentObject::Activity(Box::new(endorse)),
                    None,
                )?
            };
            Ok(Some((apjson::document(activity)?, actor.id, targets)))
        }
        Event::FollowAccepted {
            follower,
            follow_id,
            ..
        } => {
            if !actor.is_local() {
                return Ok(None);
            }
            let actor_id = urls.person(&actor.username);
            let follower = user(conn, *follower)?;
            let follower_ap = ap_id_of(conn, cfg, &follower)?;
            let rec = Recipients {
                people: [follower.id].into(),
                members_only: false,
            };
            let targets = personal_inbox(conn, cfg, &rec)?;
            let follow = apjson::follow_ref(follow_id, &follower_ap, &actor_id)?;
            let activity = apjson::activity(
                &activity_id("accept"),
                Verb::Accept,
                &actor_id,
                follow,
                None,
            )?;
            Ok(Some((apjson::document(activity)?, actor.id, targets)))
        }
        Event::ProfileChanged { .. } | Event::AccountDeleted { .. } => {
            if !actor.is_local() {
                return Ok(None);
            }
            let actor_id = urls.person(&actor.username);
            let rec = Recipients {
                people: audience::remote_followers(conn, actor.id)?
                    .into_iter()
                    .collect(),
                members_only: false,
            };
            let targets = targets(conn, cfg, &rec)?;
            if targets.is_empty() {
                return Ok(None);
            }
            let audience = Audience {
                to: vec![AS_PUBLIC.into()],
                cc: vec![urls.followers(&actor.username)],
            };
            let activity = if let Event::ProfileChanged { .. } = ev {
                let person = super::objects::person::published(conn, cfg, &actor)?;
                apjson::activity(
                    &activity_id("update"),
                    Verb::Update,
                    &actor_id,
                    SentObject::Actor(Box::new(person)),
                    Some(&audience),
                )?
            } else {
                apjson::activity(
                    &activity_id("delete"),
                    Verb::Delete,
                    &actor_id,
                    SentObject::id(&actor_id)?,
                    Some(&audience),
                )?
            };
            Ok(Some((apjson::document(activity)?, actor.id, targets)))
        }
    }
}

/// Create, Update or Delete of a local post or comment outside communities.
fn build_post(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    ev: &Event,
    actor: &User,
    row: &ContentRow,
) -> AppResult<Built> {
    if row.ap_id.is_some() {
        return Ok(None);
    }
    let deletion = matches!(ev, Event::Deleted { .. });
    if row.deleted_at.is_some() && !deletion {
        // Deleted since: its Delete follows, nothing else.
        return Ok(None);
    }
    let urls = Urls(cfg);
    let actor_id = urls.person(&actor.username);
    let mut rec = audience::recipients(conn, row.id)?;
    if deletion || matches!(ev, Event::Counted { .. } | Event::Edited { .. }) {
        // Those who voted in a poll (or answered an event) from elsewhere
        // see its new counts, and its deletion, too: while they may still
        // read it (a follower no more hears of changes).
        let mut took_part = crate::content::poll::remote_voters(conn, row.id)?;
        took_part.extend(crate::content::event::remote_attendees(conn, row.id)?);
        for person in took_part {
            if deletion || crate::content::get_visible(conn, person, row.id).is_ok() {
                rec.people.insert(person);
            }
        }
    }
    let root = root_of(conn, row)?;
    let targets = targets(conn, cfg, &rec)?;
    if targets.is_empty() {
        return Ok(None);
    }
    let activity = if let Event::Deleted { .. } = ev {
        let audience = Audience {
            to: vec![AS_PUBLIC.into()],
            cc: Vec::new(),
        };
        apjson::activity(
            &urls.activity(event_id, "delete"),
            Verb::Delete,
            &actor_id,
            apjson::gone(&urls.post(row.id), "Tombstone")?,
            Some(&audience),
        )?
    } else {
        let (note, audience) = note_of(conn, cfg, row, &root)?;
        let (kind, name) = if let Event::Published { .. } = ev {
            (Verb::Create, "create")
        } else {
            (Verb::Update, "update")
        };
        apjson::activity(
            &urls.activity(event_id, name),
            kind,
            &actor_id,
            SentObject::Note(Box::new(note)),
            Some(&audience),
        )?
    };
    Ok(Some((apjson::document(activity)?, actor.id, targets)))
}

/// A vote of a local person in a poll of another instance: a `Create` of
/// the Note that names the answer, sent to the poll's author only.
fn build_vote(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    actor: &User,
    option: i64,
) -> AppResult<Built> {
    use super::protocol::note::PublishedVote;
    let vote = crate::content::poll::sent_vote(conn, actor.id, option)?;
    let Some(to) = ToAuthor::of(conn, cfg, actor, &vote.poll)? else {
        return Ok(None);
    };
    let urls = Urls(cfg);
    let note = PublishedVote {
        id: apjson::own(&urls.activity(event_id, "vote"))?,
        kind: "Note",
        name: vote.answer,
        attributed_to: apjson::own(&to.actor_id)?,
        in_reply_to: apjson::own(&to.post_ap)?,
        to: vec![apjson::own(&to.author_ap)?],
    };
    to.create(event_id, urls, SentObject::Vote(Box::new(note)))
}

/// A local person's response to a survey of another instance, sent to its
/// author only: a `Note` answering the survey, its answers by position.
fn build_response(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    actor: &User,
    response: i64,
) -> AppResult<Built> {
    use super::protocol::note::PublishedResponse;
    let sent = match crate::content::survey::sent_response(conn, actor.id, response) {
        Ok(sent) => sent,
        // Gone with its survey meanwhile.
        Err(e) if e.code == "not_found" => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(to) = ToAuthor::of(conn, cfg, actor, &sent.survey)? else {
        return Ok(None);
    };
    let urls = Urls(cfg);
    let note = PublishedResponse {
        id: apjson::own(&urls.activity(event_id, "response"))?,
        kind: "Note",
        attributed_to: apjson::own(&to.actor_id)?,
        in_reply_to: apjson::own(&to.post_ap)?,
        to: vec![apjson::own(&to.author_ap)?],
        content: String::new(),
        answers: sent.answers,
    };
    to.create(event_id, urls, SentObject::Response(Box::new(note)))
}

/// Where a local person's answer to a post of another instance goes: to
/// the post's author alone (a vote, a survey's response, an answer to an
/// event), in a `Create` unless the verb says otherwise.
struct ToAuthor {
    actor: i64,
    /// The sender's and the author's ids, and the post's.
    actor_id: String,
    author_ap: String,
    post_ap: String,
    targets: Vec<(String, String)>,
}

impl ToAuthor {
    /// None when the post is ours, or its author has no inbox we may send
    /// to.
    fn of(
        conn: &mut DbConn,
        cfg: &Config,
        actor: &User,
        post: &ContentRow,
    ) -> AppResult<Option<ToAuthor>> {
        let author = user(conn, post.author_id)?;
        if author.is_local() || post.ap_id.is_none() {
            return Ok(None);
        }
        let rec = Recipients {
            people: [author.id].into(),
            members_only: false,
        };
        let targets = personal_inbox(conn, cfg, &rec)?;
        if targets.is_empty() {
            return Ok(None);
        }
        Ok(Some(ToAuthor {
            actor: actor.id,
            actor_id: Urls(cfg).person(&actor.username),
            author_ap: ap_id_of(conn, cfg, &author)?,
            post_ap: content_ap_id(cfg, post),
            targets,
        }))
    }

    /// The activity `verb` (named `name` in its id) of `object`, addressed
    /// to the author alone.
    fn send(
        self,
        event_id: i64,
        urls: Urls,
        verb: Verb,
        name: &str,
        object: SentObject,
    ) -> AppResult<Built> {
        let audience = Audience {
            to: vec![self.author_ap],
            cc: Vec::new(),
        };
        let activity = apjson::activity(
            &urls.activity(event_id, name),
            verb,
            &self.actor_id,
            object,
            Some(&audience),
        )?;
        Ok(Some((
            apjson::document(activity)?,
            self.actor,
            self.targets,
        )))
    }

    fn create(self, event_id: i64, urls: Urls, object: SentObject) -> AppResult<Built> {
        self.send(event_id, urls, Verb::Create, "create", object)
    }
}

/// A local person's answer to an event of another instance, sent to its
/// organiser: `Accept` (going), `TentativeAccept` (maybe) or `Reject`
/// (not going) of the event, as Friendica and Hubzilla send and read them,
/// and a withdrawn answer as the `Undo` of the answer given `before` (an
/// activity of that type, by that person, of that event). An event whose
/// instance reads answers as Mobilizon does (`joins`) gets a `Join` for
/// going and a `Leave` otherwise (Mobilizon has no "maybe").
fn build_answer(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    actor: &User,
    event: i64,
    before: &str,
) -> AppResult<Built> {
    use crate::content::event::Answer;
    let sent = crate::content::event::sent_answer(conn, actor.id, event)?;
    let Some(to) = ToAuthor::of(conn, cfg, actor, &sent.event)? else {
        return Ok(None);
    };
    let (verb, name) = match (sent.joins, sent.answer) {
        (true, Some(Answer::Going)) => (Verb::Join, "join"),
        (true, _) => (Verb::Leave, "leave"),
        (false, Some(Answer::Going)) => (Verb::Accept, "accept"),
        (false, Some(Answer::Maybe)) => (Verb::TentativeAccept, "tentative"),
        (false, Some(Answer::Declined)) => (Verb::Reject, "reject"),
        (false, None) => (Verb::Undo, "undo"),
    };
    let object = if verb == Verb::Undo {
        SentObject::Embedded(Box::new(super::protocol::activity::Embedded {
            id: None,
            kind: match Answer::parse(before) {
                Ok(Answer::Maybe) => Verb::TentativeAccept,
                Ok(Answer::Declined) => Verb::Reject,
                _ => Verb::Accept,
            },
            actor: apjson::own(&to.actor_id)?,
            object: apjson::own(&to.post_ap)?,
            target: None,
        }))
    } else {
        SentObject::Id(apjson::own(&to.post_ap)?)
    };
    to.send(event_id, Urls(cfg), verb, name, object)
}

/// A local person's confirmation that they read a must-read of a
/// community of another instance: a `Read` of the post, sent to the
/// community, which keeps the tally.
fn build_read(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    actor: &User,
    read: i64,
) -> AppResult<Built> {
    let Some((row, community)) =
        crate::content::must_read::sent_confirmation(conn, actor.id, read)?
    else {
        return Ok(None);
    };
    let group = user(conn, community)?;
    if group.is_local() {
        return Ok(None);
    }
    let urls = Urls(cfg);
    let actor_id = urls.person(&actor.username);
    let group_ap = ap_id_of(conn, cfg, &group)?;
    let rec = Recipients {
        people: [group.id].into(),
        members_only: false,
    };
    let targets = personal_inbox(conn, cfg, &rec)?;
    if targets.is_empty() {
        return Ok(None);
    }
    let audience = Audience {
        to: vec![group_ap],
        cc: Vec::new(),
    };
    let activity = apjson::activity(
        &urls.activity(event_id, "read"),
        Verb::Read,
        &actor_id,
        SentObject::Id(apjson::own(&content_ap_id(cfg, &row))?),
        Some(&audience),
    )?;
    Ok(Some((apjson::document(activity)?, actor.id, targets)))
}

/// A reaction to content outside communities, or its Undo.
fn build_reaction(
    conn: &mut DbConn,
    cfg: &Config,
    event_id: i64,
    ev: &Event,
    actor: &User,
    row: &ContentRow,
    reaction: &str,
) -> AppResult<Built> {
    let urls = Urls(cfg);
    let actor_id = urls.person(&actor.username);
    let mut rec = audience::recipients(conn, row.id)?;
    let author = user(conn, row.author_id)?;
    if !author.is_local() {
        rec.people.insert(author.id);
    }
    let targets = targets(conn, cfg, &rec)?;
    if targets.is_empty() {
        return Ok(None);
    }
    let object = content_ap_id(cfg, row);
    let react = apjson::reaction(
        &urls.activity(event_id, "react"),
        &actor_id,
        &object,
        reaction,
    )?;
    let activity = if let Event::Reacted { .. } = ev {
        react
    } else {
        apjson::activity(
            &urls.activity(event_id, "undo"),
            Verb::Undo,
            &actor_id,
            SentObject::Activity(Box::new(react)),
            None,
        )?
    };
    Ok(Some((apjson::document(activity)?, actor.id, targets)))
}

/// Like [`targets`], but the personal inbox (Follow, Accept go to the person).
fn personal_inbox(
    conn: &mut DbConn,
    cfg: &Config,
    r: &Recipients,
) -> AppResult<Vec<(String, String)>> {
    let ids: Vec<i64> = r.people.iter().copied().collect();
    let rows: Vec<(Option<String>, String)> = users::table
        .filter(users::id.eq_any(&ids))
        .select((users::domain, users::inbox))
        .load(conn)?;
    let mut out = Vec::new();
    for (domain, inbox) in rows {
        let Some(domain) = domain else { continue };
        if !inbox.is_empty() && trust::verdict(conn, cfg, &domain)?.allowed {
            out.push((domain, inbox));
        }
    }
    Ok(out)
}

/// The Note document of a local content row (for fetches).
pub fn note_document(
    conn: &mut DbConn,
    cfg: &Config,
    row: &ContentRow,
    root: &ContentRow,
) -> AppResult<Value> {
    let (note, _) = note_of(conn, cfg, row, root)?;
    apjson::document(note)
}
