//! ActivityPub: actors, objects, signatures, the inbox and durable delivery.
//! Everything that speaks the protocol lives here; services call in with
//! domain values and never see JSON-LD.
pub mod http;
pub mod signatures;
