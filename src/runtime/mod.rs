//! Terminal set-up and restore, the event loop and the effect runner: the only module that wires the others.
