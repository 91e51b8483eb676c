//! Conformance and end-to-end tests for kvcerts.
