//! Conformance and end-to-end tests for kvcerts.
//!
//! - [`recording`] reads the Azure SDK test-proxy recordings of the real service
//!   (`shared/recordings`, or the directory named by `KVCERTS_RECORDINGS`).
//! - [`playback`] serves one recording from a loopback HTTP/1.1 (or HTTPS) server, for
//!   end-to-end tests of the clients.
//! - [`replay`], [`rebuild`] and [`keypaths`] replay a recording's scenario against another
//!   vault (the emulator fidelity test): version mapping and polling runs, request bodies
//!   rebuilt from what the service answered, and the JSON shape comparison.

#![warn(missing_docs)]

pub mod entry_request;
pub mod keypaths;
pub mod playback;
pub mod rebuild;
pub mod recording;
pub mod replay;
pub mod suite;

pub use playback::{PlaybackOptions, PlaybackServer, ServedRequest};
pub use recording::{default_recordings_dir, recordings_dir, Entry, RecordedBody, Recording, RecordingError};
