//! The delivery queue's own bookkeeping, on one instance's database.

mod common;

use common::*;
use diesel::prelude::*;
use ruche::db::schema::{deliveries, inbox_seen};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_delivered_rows_are_purged_and_failed_ones_kept() {
    let app = TestApp::start().await;
    let mut conn = app.db.get().unwrap();
    let now = ruche::db::now();
    let old = now - chrono::Duration::days(8);
    for (status, done) in [
        ("sent", old),
        ("cancelled", old),
        ("failed", old),
        ("sent", now),
    ] {
        diesel::insert_into(deliveries::table)
            .values((
                deliveries::domain.eq("beta.example"),
                deliveries::inbox.eq("https://beta.example/inbox"),
                deliveries::activity.eq("{}"),
                deliveries::status.eq(status),
                deliveries::next_attempt_at.eq(old),
                deliveries::created_at.eq(old),
                deliveries::done_at.eq(Some(done)),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    for (id, at) in [
        ("https://b/1", now - chrono::Duration::days(31)),
        ("https://b/2", now),
    ] {
        diesel::insert_into(inbox_seen::table)
            .values((
                inbox_seen::activity_id.eq(id),
                inbox_seen::received_at.eq(at),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(ruche::federation::delivery::purge(&mut conn).unwrap(), 3);
    let left: Vec<String> = deliveries::table
        .order(deliveries::id.asc())
        .select(deliveries::status)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(left, vec!["failed", "sent"]);
    let seen: i64 = inbox_seen::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(seen, 1);
}
