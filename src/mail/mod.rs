//! The e-mail door: messages the features queued (`mails`) written in
//! their recipient's language and sent through SMTP (`lettre`, rustls).
//!
//! `compose` says how each kind of message reads, as a plain-text and an
//! HTML part from one outline; `worker` claims, writes, sends and retries.
//! Replies come back through `inbound` (a comment of the person replying),
//! handed over by `ruche mail receive` or by SMTP to `listener`.
//! With `mail.smtp_url` empty there is no worker and the features are told
//! not to queue anything: Ruche runs without e-mail, and the pages say so.

pub mod compose;
pub mod inbound;
pub mod listener;
pub mod worker;
