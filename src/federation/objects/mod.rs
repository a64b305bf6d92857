//! Protocol documents and Ruche's rows, one file per object: what a
//! received actor ([`person`]), post or comment ([`note`]) or document
//! ([`document`]) becomes here, with the bounds on every field and the
//! checks of where it comes from.

pub mod document;
pub mod note;
pub mod person;
