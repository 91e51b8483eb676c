//! Multi-exchange flows as sans-IO state machines.
